import Distributed

/// The process a distributed actor lives in: it answers the CALLs that
/// carry invocations by running them on the actor, one at a time.
/// Spawned by the system, it holds its actor weakly (the actor lives as
/// long as the program's references to it, and its deinit stops this
/// process); as a supervisor's child it makes and owns its actor, which
/// lives and dies with the process.
struct ActorHost: AsyncBehavior {
    let system: SwerlActorSystem
    private weak var weakActor: (any DistributedActor)?
    /// The weakly held actor's ID (for the system's table of its processes).
    private let weakID: SwerlActorID?
    private var ownedActor: (any DistributedActor)?
    private let make: (@Sendable (SwerlActorSystem) -> any DistributedActor)?
    private let name: String?

    init<Act: DistributedActor>(system: SwerlActorSystem, weakly actor: Act) where Act.ID == SwerlActorID {
        self.system = system
        self.weakActor = actor
        self.weakID = actor.id
        self.make = nil
        self.name = nil
    }

    init(system: SwerlActorSystem, name: String, make: @escaping @Sendable (SwerlActorSystem) -> any DistributedActor) {
        self.system = system
        self.make = make
        self.name = name
        self.weakID = nil
    }

    mutating func start(_ context: Context) throws {
        guard let make, let name else { return }
        // The name first: taken, the start fails and the supervisor says so.
        try system.runtime.register(context.pid, as: name)
        let placement = Placement(name: name, hostedHere: true)
        let system = self.system
        let made = Placement.$current.withValue(placement) { make(system) }
        guard placement.actor != nil, made.id as? SwerlActorID == placement.id else {
            throw ExitReason.error("the actor of \"\(name)\" was not made with this actor system")
        }
        ownedActor = made
    }

    /// What `resignID` sends: the weakly held actor may be gone.
    static let resigned = Term.atom("$swerl_actor_resigned")

    mutating func handle(_ message: Message, _ context: Context) async throws -> Next {
        guard message.kind == .call else {
            return message.isTerm && message.term == Self.resigned && weakActor == nil && ownedActor == nil
                ? .stop : .continue
        }
        guard let term = message.term, let call = Invocation.parse(term) else {
            try context.reply(to: message, with: Invocation.failure(
                SwerlActorSystem.RemoteError(type: "", message: "not a distributed call")))
            return .continue
        }
        guard let actor = ownedActor ?? weakActor else {
            try context.reply(to: message, with: Invocation.failure(
                SwerlActorSystem.RemoteError(type: "", message: "the actor is gone")))
            return .stop
        }
        // A thunk's mangled name begins with its actor type's: a target of
        // another type would run with the wrong `self`.
        guard let typeName = _mangledTypeName(type(of: actor)), call.target.hasPrefix("$s" + typeName) else {
            try context.reply(to: message, with: Invocation.failure(SwerlActorSystem.RemoteError(
                type: "", message: "\(type(of: actor)) has no distributed method \(call.target)")))
            return .continue
        }
        let handler = SwerlResultHandler()
        do {
            try await execute(call, on: actor, handler)
        } catch {
            handler.reply = Invocation.failure(error)  // not the method's error: the call itself failed
        }
        if let reason = handler.exit { return .exit(reason) }
        try context.reply(to: message, with: handler.reply)
        return .continue
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) {
        if let weakID { system.hostEnded(weakID, context.pid) }
    }

    private func execute(_ call: (target: String, generics: [String], arguments: [Term]),
                         on actor: some DistributedActor, _ handler: SwerlResultHandler) async throws {
        var decoder = SwerlInvocationDecoder(generics: call.generics, arguments: call.arguments[...])
        let system = self.system
        try await TermCoding.$userInfo.withValue(system.codingInfo) {
            try await system.executeDistributedTarget(on: actor, target: RemoteCallTarget(call.target),
                                                      invocationDecoder: &decoder, handler: handler)
        }
    }
}

extension ChildSpec {
    /// A supervised distributed actor: at every (re)start the child's
    /// process makes a fresh actor with `make` and registers as `actorName`,
    /// so `SwerlActorID(name: actorName)` reaches whichever instance is
    /// alive, on this node or from another.
    ///
    /// - Parameters:
    ///   - id: The child's id, unique in its supervisor; 1 to 255 bytes.
    ///   - restart: When it is restarted.
    ///   - shutdown: How it is stopped.
    ///   - significant: Whether its exit counts for `autoShutdown`; not with `permanent`.
    ///   - actorName: The name its process registers under: the actor's ID.
    ///   - system: The actor system the actor belongs to.
    ///   - make: Makes the actor with the system it is given, in the child's
    ///     process, at every (re)start.
    public init<Act: DistributedActor>(id: String, restart: Restart = .permanent,
                                       shutdown: Shutdown = .timeout(.seconds(5)), significant: Bool = false,
                                       actorName: String, in system: SwerlActorSystem,
                                       make: @escaping @Sendable (SwerlActorSystem) -> Act)
        where Act.ID == SwerlActorID
    {
        self.init(id: id, restart: restart, shutdown: shutdown, significant: significant) {
            ActorHost(system: system, name: actorName, make: make)
        }
    }
}
