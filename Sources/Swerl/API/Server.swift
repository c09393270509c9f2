/// A typed server, as OTP's gen_server: it declares its request and reply
/// types, and its callers get typed calls (`ServerRef.call`) and casts; a
/// request of the wrong type is a compile error. Requests and replies travel
/// as Erlang terms (`TermCoding`), so an Elixir `GenServer.call` reaches it
/// too, and gets its reply as a term.
///
///     struct Counter: Server {
///         enum Request: Codable { case add(Int), get }
///         var total = 0
///         mutating func handleCall(_ request: Request, _ context: Context) throws -> Int {
///             switch request {
///             case .add(let n): total += n
///             case .get: break
///             }
///             return total
///         }
///     }
///     let counter = try runtime.spawn(server: Counter())
///     let total = try await counter.call(.add(2), on: runtime)
public protocol Server {
    /// What calls and casts carry, as a term.
    associatedtype Request: Codable
    /// What a call answers, as a term.
    associatedtype Reply: Codable

    /// Runs first, in the new process.
    ///
    /// - Parameter context: The new process's context, valid during the call.
    /// - Throws: `IgnoreStart` to exit `normal` at once; any other error
    ///   ends the process before any message, as `Behavior.start`.
    mutating func start(_ context: Context) throws
    /// A call: its answer. A thrown error is a crash (the caller gets
    /// `serverExited` with the error as the reason's detail).
    ///
    /// - Parameters:
    ///   - request: The decoded request.
    ///   - context: The process's context, valid during the call.
    /// - Returns: The answer, sent back as a term.
    /// - Throws: Any error: the server exits (an `ExitReason` with that
    ///   reason, else a crash) and the caller gets `serverExited`.
    mutating func handleCall(_ request: Request, _ context: Context) throws -> Reply
    /// A cast (`ServerRef.cast`, Elixir's `GenServer.cast`): no answer.
    ///
    /// - Parameters:
    ///   - request: The decoded request.
    ///   - context: The process's context, valid during the call.
    /// - Returns: Whether to go on: `.continue`, `.stop` or `.exit`.
    /// - Throws: Any error: the server exits (an `ExitReason` with that
    ///   reason, else a crash).
    mutating func handleCast(_ request: Request, _ context: Context) throws -> Next
    /// Any other message (Erlang's handle_info).
    ///
    /// - Parameters:
    ///   - message: The message, borrowed for the duration of the call.
    ///   - context: The process's context, valid during the call.
    /// - Returns: What to do with the message, and whether to go on.
    /// - Throws: Any error: the server exits (an `ExitReason` with that
    ///   reason, else a crash).
    mutating func handleInfo(_ message: Message, _ context: Context) throws -> Next
    /// Runs last, whatever the reason (unless `start` failed).
    ///
    /// - Parameters:
    ///   - reason: Why the server exits.
    ///   - context: The process's context, valid during the call.
    mutating func terminate(_ reason: ExitReason, _ context: Context)
}

extension Server {
    /// Does nothing: a server needs no `start` of its own.
    ///
    /// - Parameter context: The new process's context.
    /// - Throws: Nothing; a server's own `start` may.
    public mutating func start(_ context: Context) throws {}
    /// Ignores the cast.
    ///
    /// - Parameters:
    ///   - request: The decoded request.
    ///   - context: The process's context.
    /// - Returns: `.continue`.
    /// - Throws: Nothing; a server's own `handleCast` may.
    public mutating func handleCast(_ request: Request, _ context: Context) throws -> Next { .continue }
    /// Drops the message.
    ///
    /// - Parameters:
    ///   - message: The message.
    ///   - context: The process's context.
    /// - Returns: `.continue`.
    /// - Throws: Nothing; a server's own `handleInfo` may.
    public mutating func handleInfo(_ message: Message, _ context: Context) throws -> Next { .continue }
    /// Does nothing: a server needs no `terminate` of its own.
    ///
    /// - Parameters:
    ///   - reason: Why the server exits.
    ///   - context: The process's context.
    public mutating func terminate(_ reason: ExitReason, _ context: Context) {}
}

/// A running `Server`: its pid, and the types its calls take and return.
public struct ServerRef<S: Server>: Hashable, Sendable {
    /// The server process.
    public let pid: Pid

    /// A typed handle for `pid`, which must run an `S`: nothing checks it.
    ///
    /// - Parameter pid: The server process.
    public init(pid: Pid) { self.pid = pid }

    /// Calls the server and waits for its typed reply (without blocking a
    /// thread; cancellation ends the wait, as `Runtime.call`).
    ///
    /// - Parameters:
    ///   - request: The request, sent as a term.
    ///   - runtime: The server's runtime.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The decoded reply.
    /// - Throws: as `Runtime.call`; what the request's `encode(to:)` throws;
    ///   `TermCoding.DecodingFailure` or `ExternalTermFormat.DecodeError`
    ///   if the reply is not an `S.Reply`.
    nonisolated(nonsending)
    public func call(_ request: S.Request, on runtime: Runtime, timeout: Duration? = .seconds(5)) async throws
        -> S.Reply
    {
        try await runtime.call(pid, value: request, as: S.Reply.self, timeout: timeout)
    }

    /// Casts `request` (OTP's `{'$gen_cast', Request}`): no answer; false
    /// if the server is no longer alive.
    ///
    /// - Parameters:
    ///   - request: The request, sent as a term.
    ///   - runtime: The server's runtime.
    /// - Returns: false when the server is not alive, else true.
    /// - Throws: What the request's `encode(to:)` throws; a `SwerlError` as
    ///   `Runtime.send(term:to:)`.
    @discardableResult
    public func cast(_ request: S.Request, on runtime: Runtime) throws -> Bool {
        try runtime.send(term: .tuple([.atom("$gen_cast"), TermCoding.term(of: request)]), to: pid)
    }

    /// The same from inside a process.
    ///
    /// - Parameters:
    ///   - request: The request, sent as a term.
    ///   - context: The calling process's context; the server sees it as `from`.
    /// - Returns: false when the server is not alive, else true.
    /// - Throws: What the request's `encode(to:)` throws; a `SwerlError` as
    ///   `Context.send(term:to:)`.
    @discardableResult
    public func cast(_ request: S.Request, from context: Context) throws -> Bool {
        try context.send(term: .tuple([.atom("$gen_cast"), TermCoding.term(of: request)]), to: pid)
    }
}

extension Runtime {
    /// Spawns `server` (moved into the process, as `spawn` does).
    ///
    /// - Parameters:
    ///   - server: The server's callbacks and state.
    ///   - options: As for `spawn(_:options:)`.
    /// - Returns: A typed handle for calls and casts.
    /// - Throws: As `spawn(_:options:)`.
    public func spawn<S: Server>(server: sending S, options: SpawnOptions = SpawnOptions()) throws(SwerlError)
        -> ServerRef<S>
    {
        ServerRef(pid: try spawn(ServerBehavior(server: server), options: options))
    }
}

extension Context {
    /// Spawns `server` from this process (`link` and `monitor` as `spawn`;
    /// the monitor's ref is not returned).
    ///
    /// - Parameters:
    ///   - server: The server's callbacks and state.
    ///   - options: As for `spawn(_:options:)`.
    /// - Returns: A typed handle for calls and casts.
    /// - Throws: As `spawn(_:options:)`.
    public func spawn<S: Server>(server: sending S, options: SpawnOptions = SpawnOptions()) throws(SwerlError)
        -> ServerRef<S>
    {
        ServerRef(pid: try spawn(ServerBehavior(server: server), options: options).pid)
    }
}

extension ChildSpec {
    /// A supervised `Server`: `start` makes a fresh one at every (re)start.
    ///
    /// - Parameters:
    ///   - id: The child's id, unique in its supervisor; 1 to 255 bytes.
    ///   - restart: When it is restarted.
    ///   - shutdown: How it is stopped.
    ///   - significant: Whether its exit counts for `autoShutdown`.
    ///   - start: Makes the server, at every (re)start.
    public init<S: Server & SendableMetatype>(id: String, restart: Restart = .permanent, shutdown: Shutdown = .timeout(.seconds(5)),
                           significant: Bool = false, server start: @escaping @Sendable () -> S) {
        self.init(id: id, restart: restart, shutdown: shutdown, significant: significant) {
            ServerBehavior(server: start())
        }
    }
}

/// A `Server` as a `Behavior`: CALLs decoded into `handleCall`, the reply
/// encoded back as a term; `{'$gen_cast', Request}` into `handleCast`; the
/// rest to `handleInfo`. A request that is not an `S.Request` is a crash
/// that says so (as a gen_server crashes on a request no clause matches).
struct ServerBehavior<S: Server>: Behavior {
    var server: S

    mutating func start(_ context: Context) throws { try server.start(context) }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .call:
            let request = try message.decode(S.Request.self)
            let reply = try server.handleCall(request, context)
            try context.reply(to: message, value: reply)
            return .continue
        case .message where message.isTerm:
            if case .tuple(let elements)? = message.term, elements.count == 2, elements[0] == .atom("$gen_cast") {
                return try server.handleCast(try TermCoding.value(S.Request.self, from: elements[1]), context)
            }
            return try server.handleInfo(message, context)
        default:
            return try server.handleInfo(message, context)
        }
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) { server.terminate(reason, context) }
}
