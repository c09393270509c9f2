import Distributed
import Synchronization

/// A `DistributedActorSystem` whose actors are Swerl processes: each
/// `distributed actor` lives in a process registered under its ID's name,
/// every call on a reference is a call to that process (a gen_server call,
/// its arguments and result as Erlang terms), and the process may be a
/// supervisor's child, restarted under the same name with OTP's strategies.
/// A reference reaches its actor on this runtime or on another node of the
/// cluster (`Runtime.startNode`) alike.
///
///     distributed actor Counter {
///         typealias ActorSystem = SwerlActorSystem
///         var total = 0
///         distributed func add(_ n: Int) -> Int { total += n; return total }
///     }
///     let system = SwerlActorSystem(runtime: runtime)
///     let tree = try runtime.startSupervisor(Supervisor.Spec(children: [
///         ChildSpec(id: "counter", actorName: "counter", in: system) { Counter(actorSystem: $0) },
///     ]))
///     let counter = try Counter.resolve(id: SwerlActorID(name: "counter"), using: system)
///     let total = try await counter.add(2)   // a call to the "counter" process
///
/// References are always proxies (`resolve` returns nil): a call goes
/// through the process even on this runtime, so it reaches whichever
/// instance the name stands for now, as an Erlang call to a registered
/// name does. A distributed method runs in its process's turn (one call at
/// a time, as handle_call); a thrown `ExitReason` makes the process exit
/// with it (the caller gets `serverExited`, a supervisor restarts the
/// actor); any other thrown error goes back to the caller.
public final class SwerlActorSystem: DistributedActorSystem, Sendable {
    /// An actor is known by the name its process is registered under.
    public typealias ActorID = SwerlActorID
    /// Records a call's generic types and arguments as Erlang terms.
    public typealias InvocationEncoder = SwerlInvocationEncoder
    /// Hands a received call's generic types and arguments to the target.
    public typealias InvocationDecoder = SwerlInvocationDecoder
    /// Turns the target's result or thrown error into the call's reply.
    public typealias ResultHandler = SwerlResultHandler
    /// Arguments and results cross as `TermCoding` terms: they must be `Codable`.
    public typealias SerializationRequirement = any Codable

    /// An error a remote distributed method threw, when this program cannot
    /// rebuild it (its type is not `Decodable` here), or a call that could
    /// not be made (an unknown target, arguments of the wrong types).
    public struct RemoteError: Error, Sendable, CustomStringConvertible {
        /// The thrown error's type (a mangled name), or "" for a failed call.
        public let type: String
        /// The error's text.
        public let message: String
        /// The error's text (`message`).
        public var description: String { message }
    }

    /// The runtime whose processes host this system's actors.
    public let runtime: Runtime
    /// How long a distributed call waits for its reply (nil: for ever).
    public let callTimeout: Duration?
    /// The processes of actors this system spawned itself (not a
    /// supervisor's): told when their actor is deinitialized.
    private let hosts = Mutex<[SwerlActorID: Pid]>([:])
    private static let sequence = Atomic<UInt64>(0)

    /// A system on `runtime`; `callTimeout` bounds each distributed call.
    ///
    /// - Parameters:
    ///   - runtime: The runtime whose processes host the actors.
    ///   - callTimeout: How long a distributed call waits for its reply; nil: for ever.
    public init(runtime: Runtime, callTimeout: Duration? = .seconds(5)) {
        self.runtime = runtime
        self.callTimeout = callTimeout
    }

    /// What encoders and decoders of distributed calls offer as userInfo.
    var codingInfo: [CodingUserInfoKey: any Sendable] { [.actorSystemKey: self] }

    /// Makes an actor registered as `name`: `make` runs here, and the actor
    /// it creates with this system gets the ID `name` on this node.
    ///
    /// - Parameters:
    ///   - name: The name the actor's process is registered under.
    ///   - make: Makes the actor with this system (as its `actorSystem`).
    /// - Returns: The actor, its process started.
    /// - Throws: What `make` throws; `SwerlError` `nameTaken` (or another
    ///   spawn failure: `processLimit`, `outOfMemory`, `stopped`,
    ///   `invalidArgument` for a bad name) when its process cannot be
    ///   started under that name; the actor is then dropped.
    public func makeActor<Act: DistributedActor>(named name: String, _ make: () throws -> Act) throws -> Act
        where Act.ID == SwerlActorID
    {
        let placement = Placement(name: name, hostedHere: false)
        let actor = try Placement.$current.withValue(placement) { try make() }
        if let failure = placement.failure { throw failure }
        return actor
    }

    /// The pid of the process an actor of this runtime lives in (nil:
    /// none now, or the ID is another node's).
    ///
    /// - Parameter id: The actor's ID.
    /// - Returns: The pid of the process registered under the ID's name, or nil.
    /// - Throws: `SwerlError` `stopped` after the runtime's stop,
    ///   `invalidArgument` for a name that cannot be one.
    public func pid(of id: SwerlActorID) throws(SwerlError) -> Pid? {
        isLocal(id) ? try runtime.pid(named: id.name) : nil
    }

    func isLocal(_ id: SwerlActorID) -> Bool { id.node == nil || id.node == runtime.nodeName }

    // MARK: - DistributedActorSystem

    /// Gives a new actor its ID. The first actor made inside `makeActor`,
    /// or inside a supervised child's start, gets the name asked for; any
    /// other gets a fresh name, `swerl_actor.<n>`, unique in this program.
    /// The node is this runtime's node name (nil when it is not a node).
    ///
    /// - Parameter actorType: The actor's type (not used).
    /// - Returns: The ID, whose name the actor's process will register under.
    public func assignID<Act>(_ actorType: Act.Type) -> SwerlActorID
        where Act: DistributedActor, Act.ID == SwerlActorID
    {
        if let placement = Placement.current, let name = placement.takeName() {
            let id = SwerlActorID(name: name, node: runtime.nodeName)
            placement.id = id
            return id
        }
        let name = "swerl_actor.\(Self.sequence.add(1, ordering: .relaxed).newValue)"
        return SwerlActorID(name: name, node: runtime.nodeName)
    }

    /// Gives an initialized actor its process. A supervised child's actor
    /// is hosted by the child's process, which made it. Any other actor
    /// gets a process this system spawns, registered under the ID's name,
    /// which holds the actor weakly and ends after it is deinitialized. If
    /// the spawn fails, `makeActor` throws the error; outside `makeActor`
    /// the error is dropped and calls to the actor fail.
    ///
    /// - Parameter actor: The actor, fully initialized.
    public func actorReady<Act>(_ actor: Act) where Act: DistributedActor, Act.ID == SwerlActorID {
        let placement = Placement.current.flatMap { $0.id == actor.id ? $0 : nil }
        if let placement, placement.hostedHere {
            placement.actor = actor  // the supervised process making it hosts it
            return
        }
        do {
            let pid = try runtime.spawn(async: ActorHost(system: self, weakly: actor),
                                        options: SpawnOptions(name: actor.id.name))
            hosts.withLock { $0[actor.id] = pid }
        } catch {
            placement?.failure = error
        }
    }

    /// The actor is deinitialized: its process is told to check and end.
    /// (A message, not an exit: an actor that failed to start under a name
    /// in use resigns that name's ID too, and the process holding the name
    /// must live on.) Nothing happens for an ID without a process this
    /// system spawned, such as a supervised child's.
    ///
    /// - Parameter id: The deinitialized actor's ID.
    public func resignID(_ id: SwerlActorID) {
        guard let pid = hosts.withLock({ $0[id] }) else { return }
        _ = try? runtime.send(term: ActorHost.resigned, to: pid)
    }

    /// An unsupervised actor's process ends.
    func hostEnded(_ id: SwerlActorID, _ pid: Pid) {
        hosts.withLock { if $0[id] == pid { $0[id] = nil } }
    }

    /// Always nil: every reference is a proxy whose calls go to the process
    /// registered under the ID's name (see the type's documentation).
    ///
    /// - Parameters:
    ///   - id: The actor's ID.
    ///   - actorType: The actor's type (not used).
    /// - Returns: nil.
    /// - Throws: Nothing; it never throws.
    public func resolve<Act>(id: SwerlActorID, as actorType: Act.Type) throws -> Act?
        where Act: DistributedActor, Act.ID == SwerlActorID
    {
        nil
    }

    /// A new, empty encoder for one call, tied to this system (an actor ID
    /// passed as an argument without a node gets this runtime's node name).
    ///
    /// - Returns: The encoder.
    public func makeInvocationEncoder() -> SwerlInvocationEncoder { SwerlInvocationEncoder(system: self) }

    /// A distributed call: a CALL to the actor's process with the
    /// invocation as a term, its reply decoded as a `Res`.
    ///
    /// - Parameters:
    ///   - actor: The reference called; its ID names the process and node.
    ///   - target: The distributed method, by its mangled name.
    ///   - invocation: The call's recorded generic types and arguments.
    ///   - throwing: The method's error type (not used: a thrown error is
    ///     rebuilt from the type name its reply carries).
    ///   - returning: The type the reply's value is decoded as.
    /// - Returns: The method's result.
    /// - Throws: `SwerlError` (`noProcess`: no actor under that name;
    ///   `timedOut` after `callTimeout`; `serverExited` with the exit
    ///   reason, `noConnection` when the node cannot be reached;
    ///   `invalidArgument` when the ID names another node and this runtime
    ///   is not a node; else as `Runtime.call`), `CancellationError`;
    ///   the method's own error when its type is `Decodable` and in this
    ///   program, else `RemoteError` (also when the actor could not run the
    ///   call: an unknown target, arguments of the wrong types, the actor
    ///   gone; or when the reply has no value); `TermCoding.DecodingFailure`
    ///   when the value is not a `Res`; `ExternalTermFormat.DecodeError`
    ///   when the reply is not a term.
    public func remoteCall<Act, Err, Res>(on actor: Act, target: RemoteCallTarget,
                                          invocation: inout SwerlInvocationEncoder,
                                          throwing: Err.Type, returning: Res.Type) async throws -> Res
        where Act: DistributedActor, Act.ID == SwerlActorID, Err: Error, Res: Codable
    {
        guard let value = try await invoke(actor.id, target, invocation) else {
            throw RemoteError(type: "", message: "\(target) returned nothing, a \(Res.self) expected")
        }
        return try TermCoding.$userInfo.withValue(codingInfo) { try TermCoding.value(Res.self, from: value) }
    }

    /// The same for a method that returns nothing.
    ///
    /// - Parameters:
    ///   - actor: The reference called; its ID names the process and node.
    ///   - target: The distributed method, by its mangled name.
    ///   - invocation: The call's recorded generic types and arguments.
    ///   - throwing: The method's error type (not used: a thrown error is
    ///     rebuilt from the type name its reply carries).
    /// - Throws: As `remoteCall(on:target:invocation:throwing:returning:)`,
    ///   except the errors about the result: a value in the reply is ignored.
    public func remoteCallVoid<Act, Err>(on actor: Act, target: RemoteCallTarget,
                                         invocation: inout SwerlInvocationEncoder,
                                         throwing: Err.Type) async throws
        where Act: DistributedActor, Act.ID == SwerlActorID, Err: Error
    {
        _ = try await invoke(actor.id, target, invocation)
    }

    private func invoke(_ id: SwerlActorID, _ target: RemoteCallTarget,
                        _ invocation: SwerlInvocationEncoder) async throws -> Term? {
        let request = ExternalTermFormat.encode(Invocation.request(
            target: target.identifier, generics: invocation.generics, arguments: invocation.arguments))
        let reply: [UInt8]
        if isLocal(id) {
            guard let pid = try runtime.pid(named: id.name) else {
                throw SwerlError(.noProcess, detail: "no distributed actor is registered as \"\(id.name)\"")
            }
            reply = try await runtime.call(pid, request, timeout: callTimeout, term: true)
        } else {
            reply = try await runtime.call(id.name, on: id.node!, request, timeout: callTimeout, term: true)
        }
        return try Invocation.value(of: try ExternalTermFormat.decode(reply))
    }
}

/// Where the actor being made goes: the name it gets, and whether the
/// process making it hosts it (a supervised child) or the system spawns
/// one. Read by `assignID` and `actorReady`, which the actor's initializer
/// calls synchronously on the thread that runs it.
final class Placement: @unchecked Sendable {
    @TaskLocal static var current: Placement?

    private var name: String?
    let hostedHere: Bool
    /// The ID given out (the first actor made; actors it makes in its own
    /// initializer get names of their own).
    var id: SwerlActorID?
    var actor: (any DistributedActor)?
    var failure: (any Error)?

    init(name: String, hostedHere: Bool) {
        self.name = name
        self.hostedHere = hostedHere
    }

    func takeName() -> String? {
        defer { name = nil }
        return name
    }
}
