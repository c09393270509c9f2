import CSwerl

/// A process whose handler may `await`: the process holds its turn while it
/// awaits (no other message reaches it, as a gen_server sits in
/// handle_call), and every other process goes on meanwhile. After an
/// `await` its `Context` works as before, and its `Message` is still valid
/// (the turn keeps it).
///
///     struct Fetcher: AsyncBehavior {
///         mutating func handle(_ message: Message, _ context: Context) async throws -> Next {
///             if message.kind == .call {
///                 let page = try await client.get(message.text)   // others run meanwhile
///                 try context.reply(to: message, with: page)
///             }
///             return .continue
///         }
///     }
///     let fetcher = try runtime.spawn(async: Fetcher())
///
/// It runs on the runtime's turn-group mechanism (swerl.h "Turn groups"),
/// as Python's `async def` handlers do: one thread of the runtime drives
/// the async processes, each step of a handler runs there with the
/// process's turn taken back, and the turn is set aside while the handler
/// awaits. A runtime's stop cancels the handlers still awaiting (their
/// processes exit with `shutdown`).
public protocol AsyncBehavior {
    /// Runs first, in the new process (synchronously).
    ///
    /// - Parameter context: The new process's context, valid during the call.
    /// - Throws: `IgnoreStart` to exit `normal` at once (a supervisor keeps
    ///   the spec with no pid); an `ExitReason` to exit with it; any other
    ///   error is a crash with its text as the detail. `terminate` does not
    ///   run then.
    mutating func start(_ context: Context) throws
    /// One message at a time; the next comes once this one returns.
    ///
    /// - Parameters:
    ///   - message: The message; valid until this call returns, awaits included.
    ///   - context: The process's context, valid until this call returns.
    /// - Returns: What to do with the message, and whether to go on.
    /// - Throws: An `ExitReason` to exit with it; any other error is a
    ///   crash with its text as the detail. `CancellationError` when the
    ///   runtime stops mid-await ends the process with `shutdown`.
    mutating func handle(_ message: Message, _ context: Context) async throws -> Next
    /// Runs last (synchronously).
    ///
    /// - Parameters:
    ///   - reason: Why the process exits.
    ///   - context: The process's context, valid during the call.
    mutating func terminate(_ reason: ExitReason, _ context: Context)
}

extension AsyncBehavior {
    /// Does nothing: a behaviour needs no `start` of its own.
    ///
    /// - Parameter context: The new process's context.
    /// - Throws: Nothing; a behaviour's own `start` may.
    public mutating func start(_ context: Context) throws {}
    /// Does nothing: a behaviour needs no `terminate` of its own.
    ///
    /// - Parameters:
    ///   - reason: Why the process exits.
    ///   - context: The process's context.
    public mutating func terminate(_ reason: ExitReason, _ context: Context) {}
}

extension Runtime {
    /// Spawns a process whose handler may await (`AsyncBehavior`). The
    /// behaviour moves into the process, as with `spawn`.
    ///
    /// - Parameters:
    ///   - behavior: The process's async callbacks and state.
    ///   - options: As for `spawn`, but not `blocking`.
    /// - Returns: The new process's pid.
    /// - Throws: as `spawn`; `invalidArgument` with `options.blocking` (an
    ///   async handler awaits instead of blocking).
    @discardableResult
    public func spawn(async behavior: sending some AsyncBehavior, options: SpawnOptions = SpawnOptions())
        throws(SwerlError) -> Pid
    {
        try AsyncTurns.spawn(on: engine, behavior, options: options).pid
    }
}

extension Context {
    /// Spawns an `AsyncBehavior` from this process (`link`, `monitor` as `spawn`).
    ///
    /// - Parameters:
    ///   - behavior: The process's async callbacks and state.
    ///   - options: As for `spawn`, but not `blocking`.
    /// - Returns: The new pid, and the monitor's ref with `options.monitor`.
    /// - Throws: as `Context.spawn(_:options:)`; `invalidArgument` with
    ///   `options.blocking`.
    @discardableResult
    public func spawn(async behavior: sending some AsyncBehavior, options: SpawnOptions = SpawnOptions())
        throws(SwerlError) -> (pid: Pid, monitor: Ref?)
    {
        try AsyncTurns.spawn(on: checked().engine, behavior, options: options)
    }
}
