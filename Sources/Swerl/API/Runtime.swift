import CSwerl
import Glibc
import Logging

/// A Swerl runtime: scheduler threads running lightweight processes.
///
/// ```swift
/// let runtime = try Runtime()
/// let echo = try runtime.spawn(Handler { message, context in
///     if message.kind == .call { try context.reply(to: message, with: message.bytes) }
///     return .continue
/// })
/// let answer = try await runtime.call(echo, Array("hi".utf8))
/// ```
public final class Runtime: Sendable {
    let engine: Engine
    private let owned: Bool
    private let loggerBox: LoggerBox?

    /// Starts a runtime. `schedulers` 0: one per CPU. `maxMemory` caps the
    /// bytes messages may hold in all (0: no cap; see `setMaxMemory(_:)`).
    /// Crash reports, restarts, escalations and long turns go to `logger`.
    /// A turn longer than `longTurn` is reported (nil or zero: never);
    /// blocking processes run on at most `blockingThreads` threads.
    ///
    /// - Parameters:
    ///   - schedulers: Scheduler threads; 0: one per CPU (at most 1024).
    ///   - maxProcesses: Processes alive at once; 0: 4,194,304 (at most 16,777,215).
    ///   - maxMessageSize: The largest message, in bytes; 0: 64 MiB.
    ///   - maxMemory: The memory ceiling, in bytes; 0: none.
    ///   - longTurn: Turns longer than this are logged; nil or zero: never.
    ///   - blockingThreads: Threads of the blocking pool, at least 1.
    ///   - logger: Where reports go; nil: they are only counted.
    /// - Throws: `invalidArgument` for a negative count or size, no
    ///   blocking thread, more schedulers or processes than allowed, or a
    ///   `longTurn` of 49 days or more.
    public init(schedulers: Int = 0, maxProcesses: Int = 0, maxMessageSize: Int = 0, maxMemory: Int = 0,
                longTurn: Duration? = .milliseconds(100), blockingThreads: Int = 64,
                logger: Logger? = nil) throws(SwerlError) {
        let longTurnMilliseconds = try longTurn.map { d throws(SwerlError) in try d.runtimeMilliseconds("longTurn") } ?? 0
        var config = swerl_config()
        config.size = UInt32(MemoryLayout<swerl_config>.size)
        loggerBox = logger.map(LoggerBox.init)
        if let loggerBox {
            config.on_log = LoggerBox.callback
            config.log_user = Unmanaged.passUnretained(loggerBox).toOpaque()
        }
        guard schedulers >= 0, maxProcesses >= 0, maxMessageSize >= 0, maxMemory >= 0,
              maxProcesses <= Int(UInt32.max), blockingThreads > 0 else {
            throw SwerlError(.invalidArgument, detail: "Runtime: counts and sizes must not be negative, and "
                + "blockingThreads must be at least 1")
        }
        config.schedulers = UInt32(clamping: schedulers)
        config.max_processes = UInt32(maxProcesses)
        config.max_message_size = UInt64(maxMessageSize)
        try SwerlError.check(Engine.validate(config))
        engine = Engine(config: config)
        owned = true
        _ = engine.setMaxMemory(UInt64(maxMemory))
        _ = engine.setLongTurn(millis: longTurnMilliseconds)
        _ = engine.setBlockingThreads(UInt32(clamping: blockingThreads))
        engine.start()
    }

    /// Starts a runtime, the long-turn limit in milliseconds. Deprecated: use
    /// `init(schedulers:maxProcesses:maxMessageSize:maxMemory:longTurn:blockingThreads:logger:)`.
    ///
    /// - Parameters:
    ///   - schedulers: Scheduler threads; 0: one per CPU.
    ///   - maxProcesses: Processes alive at once; 0: the default.
    ///   - maxMessageSize: The largest message, in bytes; 0: 64 MiB.
    ///   - maxMemory: The memory ceiling, in bytes; 0: none.
    ///   - longTurnMilliseconds: Turns longer than this are logged; 0: never.
    ///   - blockingThreads: Threads of the blocking pool, at least 1.
    ///   - logger: Where reports go; nil: they are only counted.
    /// - Throws: `invalidArgument`, as the `longTurn:` form.
    @available(*, deprecated, renamed: "init(schedulers:maxProcesses:maxMessageSize:maxMemory:longTurn:blockingThreads:logger:)")
    public convenience init(schedulers: Int = 0, maxProcesses: Int = 0, maxMessageSize: Int = 0, maxMemory: Int = 0,
                            longTurnMilliseconds: UInt32, blockingThreads: Int = 64,
                            logger: Logger? = nil) throws(SwerlError) {
        try self.init(schedulers: schedulers, maxProcesses: maxProcesses, maxMessageSize: maxMessageSize,
                      maxMemory: maxMemory, longTurn: .milliseconds(Int64(longTurnMilliseconds)),
                      blockingThreads: blockingThreads, logger: logger)
    }

    init(attachedTo engine: Engine) {
        self.engine = engine
        owned = false
        loggerBox = nil
    }

    /// The last reference gone: the runtime stops on a thread of its own
    /// (SHUTDOWN, then KILL after 5 s), so dropping it never blocks the
    /// caller behind a slow handler. `stop` first to wait for the end.
    deinit {
        guard owned else { return }
        engine.stopInBackground(keepingAlive: loggerBox)
    }

    /// Sets the memory ceiling: the bytes messages and call requests may hold
    /// in all, each counted as its payload + 64 (0: none). Sends over it
    /// throw `memoryLimit` and are counted (`Statistics.messagesRejected`).
    ///
    /// - Parameter bytes: The ceiling in bytes; 0 removes it.
    /// - Throws: `invalidArgument` for a negative size, `stopped`.
    public func setMaxMemory(_ bytes: Int) throws(SwerlError) {
        guard bytes >= 0 else { throw SwerlError(.invalidArgument, detail: "setMaxMemory: a negative size") }
        try SwerlError.check(engine.setMaxMemory(UInt64(bytes)))
    }

    /// Stops every process (SHUTDOWN, then KILL after `timeout`; nil: wait
    /// for them forever) and the scheduler threads. The timeout is a
    /// deadline: a handler that does not return is not waited for.
    ///
    /// - Parameter timeout: How long processes get to exit before they are
    ///   killed; nil: no limit.
    /// - Throws: `timedOut` naming the process that would not return,
    ///   `stopped` if the runtime was stopped already, `insideProcess` from a
    ///   handler, `invalidArgument` for a negative timeout.
    public func stop(timeout: Duration? = .seconds(5)) throws(SwerlError) {
        try SwerlError.check(engine.stop(timeoutMillis: try timeout.runtimeMilliseconds("stop")))
    }

    /// Stops the runtime, the timeout in milliseconds. Deprecated: use `stop(timeout:)`.
    ///
    /// - Parameter timeoutMilliseconds: How long processes get to exit
    ///   before they are killed; `SWERL_INFINITY`: no limit.
    /// - Throws: As `stop(timeout:)`.
    @available(*, deprecated, renamed: "stop(timeout:)")
    public func stop(timeoutMilliseconds: UInt32) throws(SwerlError) {
        try SwerlError.check(engine.stop(timeoutMillis: timeoutMilliseconds))
    }

    /// Spawns a process from outside any process.
    ///
    /// The behaviour is `sending`: it moves into the process, whose handlers
    /// run on the runtime's threads, so the caller may not touch it (or a
    /// non-Sendable object it holds) afterwards: the compiler says so.
    ///
    /// - Parameters:
    ///   - behavior: The process's callbacks and state.
    ///   - options: A name, a bounded mailbox, trapping exits, the blocking
    ///     pool. `link` and `monitor` need a process: use `Context.spawn`.
    /// - Returns: The new process's pid; its `start` runs concurrently.
    /// - Throws: `invalidArgument` (a bad name; `link` or `monitor` from
    ///   outside a process), `nameTaken`, `processLimit`, `outOfMemory`,
    ///   `stopped`.
    @discardableResult
    public func spawn(_ behavior: sending some Behavior, options: SpawnOptions = SpawnOptions())
        throws(SwerlError) -> Pid
    {
        try Self.spawn(on: engine, behavior, options: options).pid
    }

    static func spawn(on engine: Engine, _ behavior: sending some Behavior, options: SpawnOptions)
        throws(SwerlError)
        -> (pid: Pid, monitor: Ref?)
    {
        var flags: UInt32 = 0
        if options.link { flags |= UInt32(SWERL_SPAWN_LINK) }
        if options.monitor { flags |= UInt32(SWERL_SPAWN_MONITOR) }
        if options.trapExits { flags |= UInt32(SWERL_SPAWN_TRAP_EXIT) }
        if options.blocking { flags |= UInt32(SWERL_SPAWN_BLOCKING) }
        let box = Unmanaged.passRetained(BehaviorBox.make(behavior))
        var monitorRef: UInt64 = 0
        let (result, pid) = engine.spawn(behavior: BehaviorBox.table, arg: box.toOpaque(), flags: flags,
                                         name: options.name, mailboxLimit: options.mailboxLimit,
                                         overflow: options.overflow.rawValue, monitorRef: &monitorRef)
        if result < 0 {
            box.release()
            throw SwerlError.failure(result)
        }
        return (Pid(rawValue: pid), options.monitor ? Ref(rawValue: monitorRef) : nil)
    }

    /// Sends a copy of `bytes` to `pid`. As Erlang's `!`, a send to a
    /// process that is no longer alive is no error: it returns false (and
    /// counts a dead letter). Only misuse throws (too big, a full bounded
    /// mailbox, the memory ceiling, another runtime's pid, a stopped runtime).
    ///
    /// - Parameters:
    ///   - bytes: The message; copied before the call returns.
    ///   - pid: The receiver, local or (on a node) remote.
    /// - Returns: false when the receiver is not alive, else true.
    /// - Throws: `messageTooBig`, `mailboxFull`, `memoryLimit`,
    ///   `outOfMemory`, `noProcess` (pid 0, another runtime's pid, a remote
    ///   pid when this runtime is not a node), `stopped`.
    @discardableResult
    public func send(_ bytes: some MessagePayload, to pid: Pid) throws(SwerlError) -> Bool {
        let result = bytes.withPayloadBytes { engine.send(to: pid.rawValue, data: $0.baseAddress, count: $0.count) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// Sends to a registered name, looked up once, at the call.
    ///
    /// - Parameters:
    ///   - bytes: The message; copied before the call returns.
    ///   - name: The receiver's registered name.
    /// - Throws: `nameNotRegistered` when no process has the name (Erlang's
    ///   badarg), `invalidArgument` for a name that cannot be one, and as
    ///   `send(_:to:)` with a pid.
    public func send(_ bytes: some MessagePayload, to name: String) throws(SwerlError) {
        let result = bytes.withPayloadBytes { engine.sendNamed(name, data: $0.baseAddress, count: $0.count) }
        try SwerlError.check(result)
    }

    /// Sends `binary` to `pid` by reference: the receiver's payload is the
    /// binary's own bytes (`Message.isShared`), however many processes it
    /// goes to. Delivery and errors as `send(_:to:)` with bytes; a remote
    /// pid gets a copy on the wire.
    ///
    /// - Parameters:
    ///   - binary: The message; the caller keeps its reference.
    ///   - pid: The receiver, local or (on a node) remote.
    /// - Returns: false when the receiver is not alive, else true.
    /// - Throws: `messageTooBig` (longer than `maxMessageSize`),
    ///   `mailboxFull`, `memoryLimit` (the binary, charged once per runtime,
    ///   or its message would pass the ceiling), `outOfMemory`, `noProcess`
    ///   (pid 0, another runtime's pid, a remote pid when this runtime is not
    ///   a node), `stopped`.
    @discardableResult
    public func send(_ binary: SharedBinary, to pid: Pid) throws(SwerlError) -> Bool {
        let result = binary.withBinary { engine.send(to: pid.rawValue, binary: $0) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// Sends `bytes` to every pid of `pids`: from
    /// `SharedBinary.fanOutThreshold` (64 KiB) on as one shared binary, so
    /// 1,000 receivers hold one copy; below it a copy each. A SharedBinary
    /// goes by reference whatever its size. Dead receivers are skipped, as
    /// `send(_:to:)` skips them.
    ///
    /// - Parameters:
    ///   - bytes: The message.
    ///   - pids: The receivers.
    /// - Returns: How many receivers were alive.
    /// - Throws: The first error of a send, as `send(_:to:)` (the sends
    ///   before it were made).
    @discardableResult
    public func send<P: MessagePayload>(_ bytes: P, to pids: some Sequence<Pid>) throws(SwerlError) -> Int {
        try SharedBinary.fanOut(bytes, to: pids,
                                copying: { payload, pid throws(SwerlError) in try send(payload, to: pid) },
                                sharing: { binary, pid throws(SwerlError) in try send(binary, to: pid) })
    }

    /// Sends `binary` by reference to a registered name, looked up once.
    ///
    /// - Parameters:
    ///   - binary: The message; the caller keeps its reference.
    ///   - name: The receiver's registered name.
    /// - Throws: `nameNotRegistered`, `invalidArgument` (a name that cannot
    ///   be one), and as `send(_:to:)` with a binary and a pid.
    public func send(_ binary: SharedBinary, to name: String) throws(SwerlError) {
        try SwerlError.check(binary.withBinary { engine.sendNamed(name, binary: $0) })
    }

    /// Sends an exit signal (exit/2) from outside any process. `kill` is
    /// untrappable; `normal` is ignored by a process that does not trap
    /// exits; a trapping process gets an `.exit` message.
    ///
    /// - Parameters:
    ///   - pid: The process to signal.
    ///   - reason: The exit reason; its detail is copied.
    /// - Throws: `noProcess` (not alive), `messageTooBig` (the detail),
    ///   `outOfMemory`, `stopped`.
    public func exit(_ pid: Pid, reason: ExitReason) throws(SwerlError) {
        let result = reason.detail.withPayloadBytes { engine.exit(pid.rawValue, reason: reason.code, detail: $0) }
        try SwerlError.check(result)
    }

    /// Registers `pid` as `name` (erlang:register, OTP-30): sends and calls
    /// by name reach it until it exits or is unregistered.
    ///
    /// - Parameters:
    ///   - pid: A live process of this runtime.
    ///   - name: 1 to 255 bytes of UTF-8.
    /// - Throws: `nameTaken`, `alreadyNamed` (the process has a name),
    ///   `noProcess` (not alive), `invalidArgument` (a bad name), `stopped`.
    public func register(_ pid: Pid, as name: String) throws(SwerlError) {
        try SwerlError.check(engine.register(name: name, pid: pid.rawValue))
    }

    /// Registers `pid` as `name`. Deprecated: use `register(_:as:)`.
    ///
    /// - Parameters:
    ///   - name: 1 to 255 bytes of UTF-8.
    ///   - pid: A live process of this runtime.
    /// - Throws: As `register(_:as:)`.
    @available(*, deprecated, renamed: "register(_:as:)")
    public func register(_ name: String, _ pid: Pid) throws(SwerlError) {
        try register(pid, as: name)
    }

    /// Removes a registration (erlang:unregister); the process lives on.
    ///
    /// - Parameter name: The registered name.
    /// - Throws: `nameNotRegistered`, `invalidArgument`, `stopped`.
    public func unregister(_ name: String) throws(SwerlError) {
        try SwerlError.check(engine.unregister(name: name))
    }

    /// The process registered as `name`, or nil (erlang:whereis, OTP-31).
    ///
    /// - Parameter name: The name to look up.
    /// - Returns: The pid, or nil when no process has the name.
    /// - Throws: `invalidArgument` for a name that cannot be one, `stopped`.
    public func pid(named name: String) throws(SwerlError) -> Pid? {
        let (code, pid) = engine.whereis(name)
        if code == Int32(SWERL_ENONAME) { return nil }
        try SwerlError.check(code)
        return Pid(rawValue: pid)
    }

    /// The process registered as `name`. Deprecated: use `pid(named:)`.
    ///
    /// - Parameter name: The name to look up.
    /// - Returns: The pid, or nil when no process has the name.
    /// - Throws: As `pid(named:)`.
    @available(*, deprecated, renamed: "pid(named:)")
    public func whereis(_ name: String) throws(SwerlError) -> Pid? { try pid(named: name) }

    /// Every registered name. Throws for a stopped runtime.
    ///
    /// - Throws: `stopped`.
    public var registeredNames: [String] {
        get throws(SwerlError) {
            let (code, names) = engine.registeredNames()
            try SwerlError.check(code)
            return names
        }
    }

    /// Delivers `bytes` to `pid` after `delay` (erlang:send_after); the
    /// timer ends with its target. Returns the timer's ref (`cancelTimer`).
    ///
    /// - Parameters:
    ///   - delay: At least this long; rounded up to whole milliseconds.
    ///   - bytes: The message; copied before the call returns.
    ///   - pid: The receiver, which sees `from` as 0 and `ref` as the timer.
    /// - Returns: The timer's ref.
    /// - Throws: `noProcess` if `pid` is not alive, `invalidArgument` for a
    ///   negative delay or one of 49 days or more, `messageTooBig`,
    ///   `outOfMemory`, `stopped`.
    @discardableResult
    public func sendAfter(_ delay: Duration, _ bytes: some MessagePayload, to pid: Pid) throws(SwerlError) -> Ref {
        let milliseconds = try delay.runtimeMilliseconds("sendAfter")
        let (result, ref) = bytes.withPayloadBytes { engine.sendAfter(to: pid.rawValue, millis: milliseconds, data: $0) }
        try SwerlError.check(result)
        return Ref(rawValue: ref)
    }

    /// Delivers `bytes` to `pid` after `milliseconds`. Deprecated: use
    /// `sendAfter(_:_:to:)`.
    ///
    /// - Parameters:
    ///   - milliseconds: The delay; `SWERL_INFINITY` is refused.
    ///   - bytes: The message; copied before the call returns.
    ///   - pid: The receiver.
    /// - Returns: The timer's ref.
    /// - Throws: `invalidArgument` for `SWERL_INFINITY`; else as
    ///   `sendAfter(_:_:to:)`.
    @available(*, deprecated, renamed: "sendAfter(_:_:to:)")
    @discardableResult
    public func sendAfter(milliseconds: UInt32, _ bytes: some MessagePayload, to pid: Pid) throws(SwerlError) -> Ref {
        guard let delay = Duration.runtime(milliseconds: milliseconds) else {
            throw SwerlError(.invalidArgument, detail: "sendAfter: a timer must fire (not SWERL_INFINITY)")
        }
        return try sendAfter(delay, bytes, to: pid)
    }

    /// Cancels a timer: the time it had left (whole milliseconds), or nil if
    /// it already fired, was cancelled, or its target exited. A message it
    /// already delivered stays in the mailbox.
    ///
    /// - Parameter ref: The ref `sendAfter` returned.
    /// - Returns: The time left, or nil (Erlang's false); also nil once the
    ///   runtime has stopped.
    @discardableResult
    public func cancelTimer(_ ref: Ref) -> Duration? {
        let (result, remaining) = engine.cancelTimer(ref.rawValue)
        return result == 0 ? .milliseconds(Int64(remaining)) : nil
    }

    /// Answers a call later, from anywhere (a deferred reply). As OTP's
    /// `gen_server:reply`, answering a caller that gave up (it timed out or
    /// exited) is no error: it returns false (a dead letter is counted).
    ///
    /// - Parameters:
    ///   - call: The ref of the `.call` message being answered.
    ///   - bytes: The answer; copied before the call returns.
    /// - Returns: false when nobody waits for the answer any more (an
    ///   unknown ref included), else true.
    /// - Throws: `messageTooBig`, `stopped`.
    @discardableResult
    public func reply(_ call: Ref, with bytes: some MessagePayload) throws(SwerlError) -> Bool {
        try SwerlError.answered(bytes.withPayloadBytes { engine.reply(call.rawValue, data: $0) })
    }

    /// Answers a call later, from anywhere, with a shared binary: a caller
    /// waiting in a process (`sendRequest`) gets the binary itself, any
    /// other caller a copy of its bytes.
    ///
    /// - Parameters:
    ///   - call: The ref of the `.call` message being answered.
    ///   - binary: The answer, by reference.
    /// - Returns: false when nobody waits for the answer any more (an
    ///   unknown ref included), else true.
    /// - Throws: `messageTooBig`, `stopped`.
    @discardableResult
    public func reply(_ call: Ref, with binary: SharedBinary) throws(SwerlError) -> Bool {
        try SwerlError.answered(binary.withBinary { engine.reply(call.rawValue, binary: $0) })
    }

    /// Sends `request` as a CALL and waits for the answer without blocking a
    /// thread. The timeout is a deadline (nil: none): a later answer is
    /// `timedOut`. Cancelling the task ends the wait at once with
    /// `CancellationError`, and the server's late answer is dropped.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request; copied before the call returns.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The server's answer.
    /// - Throws: `CancellationError`; a `SwerlError`: `timedOut`,
    ///   `noProcess` (not alive when called), `serverExited` (it exited
    ///   before answering: the detail and `exitReason` say why),
    ///   `callingSelf`, `messageTooBig`, `memoryLimit`, `stopped`,
    ///   `invalidArgument` (a negative timeout).
    nonisolated(nonsending)
    public func call(_ pid: Pid, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        async throws -> [UInt8]
    {
        try await call(pid, request, timeout: timeout, term: false)
    }

    /// Calls the process registered as `name` (gen_server:call with a
    /// registered name), as `call(_:_:timeout:)`.
    ///
    /// - Parameters:
    ///   - name: The server's registered name, looked up once.
    ///   - request: The request; copied before the call returns.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The server's answer.
    /// - Throws: `noProcess` when no process has the name, `invalidArgument`
    ///   for a name that cannot be one; else as
    ///   `call(_:_:timeout:)`.
    nonisolated(nonsending)
    public func call(_ name: String, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        async throws -> [UInt8]
    {
        guard let pid = try pid(named: name) else {
            throw SwerlError(.noProcess, detail: "call: no process is registered as \"\(name)\"")
        }
        return try await call(pid, request, timeout: timeout)
    }

    /// `call`, the request marked as an Erlang term or not.
    nonisolated(nonsending)
    func call(_ pid: Pid, _ request: some MessagePayload, timeout: Duration?, term: Bool) async throws -> [UInt8] {
        try await awaitCall(request, timeout: timeout) { engine, bytes, millis, announce, done in
            engine.callNotify(pid.rawValue, request: bytes, timeoutMillis: millis, cancellable: true, term: term,
                              beforeSettling: announce, done: done)
        }
    }

    /// Calls the process registered as `name` on `node` (GenServer.call({name,
    /// node}, ...)), as `call(_:_:timeout:)`: `noProcess` when nobody there
    /// has the name. `node` may be this node's own name.
    ///
    /// - Parameters:
    ///   - name: The server's registered name on `node`.
    ///   - node: The node's name, `name@host`.
    ///   - request: The request; copied before the call returns.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The server's answer.
    /// - Throws: as `call(_:_:timeout:)`; `invalidArgument` when this runtime
    ///   is not a node or `node` is not a node name.
    nonisolated(nonsending)
    public func call(_ name: String, on node: String, _ request: some MessagePayload,
                     timeout: Duration? = .seconds(5)) async throws -> [UInt8] {
        try await call(name, on: node, request, timeout: timeout, term: false)
    }

    nonisolated(nonsending)
    func call(_ name: String, on node: String, _ request: some MessagePayload, timeout: Duration?,
              term: Bool) async throws -> [UInt8] {
        try await awaitCall(request, timeout: timeout) { engine, bytes, millis, announce, done in
            engine.callNotify(name: name, node: node, request: bytes, timeoutMillis: millis, term: term,
                              beforeSettling: announce, done: done)
        }
    }

    /// A call issued by `issue` and awaited: cancellation ends it at once
    /// (CallWait), a lone caller spins for its reply first.
    nonisolated(nonsending)
    private func awaitCall(_ request: some MessagePayload, timeout: Duration?,
                           issue: (Engine, UnsafeRawBufferPointer, UInt32, (UInt64) -> Void,
                                   @escaping @Sendable (Int32, Int32, UnsafeRawBufferPointer) -> Void) -> (Int32, UInt64))
        async throws -> [UInt8]
    {
        let timeoutMillis = try timeout.runtimeMilliseconds("call")
        try Task.checkCancellation()
        let engine = self.engine
        let wait = CallWait(engine: engine)
        return try await withTaskCancellationHandler {
            let (code, _) = request.withPayloadBytes { bytes in
                issue(engine, bytes, timeoutMillis, { wait.issued($0) }) { code, exitReason, reply in
                    wait.end(code == 0 ? .success(Array(reply))
                                       : .failure(SwerlError.callOutcome(code, exitReason: exitReason, detail: reply)))
                }
            }
            if code != 0 { throw SwerlError.failure(code) }
            if wait.isCancelled { wait.cancel() }  // cancelled before the runtime gave the call's ref
            return try await wait.result()
        } onCancel: {
            wait.cancel()
        }
    }

    /// Calls `pid` and awaits the answer, the timeout in milliseconds.
    /// Deprecated: use `call(_:_:timeout:)`.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request; copied before the call returns.
    ///   - timeoutMilliseconds: The deadline; `SWERL_INFINITY`: none.
    /// - Returns: The server's answer.
    /// - Throws: As `call(_:_:timeout:)`.
    @available(*, deprecated, renamed: "call(_:_:timeout:)")
    public func call(_ pid: Pid, _ request: some MessagePayload, timeoutMilliseconds: UInt32)
        async throws -> [UInt8]
    {
        try await call(pid, request, timeout: Duration.runtime(milliseconds: timeoutMilliseconds))
    }

    /// Sends `request` as a CALL and blocks the calling thread until the
    /// answer (at most `timeout`; nil: no limit). From threads of your own,
    /// or inside a blocking process (`SpawnOptions.blocking`); inside any
    /// other process it throws `insideProcess`: use the async `call` or
    /// `Context.call`.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request; copied before the call returns.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The server's answer.
    /// - Throws: as the async `call` (but not `CancellationError`), and
    ///   `insideProcess`.
    public func callBlocking(_ pid: Pid, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        throws(SwerlError) -> [UInt8]
    {
        try Self.callBlocking(on: engine, pid, request, timeoutMilliseconds: try timeout.runtimeMilliseconds("call"))
    }

    /// Calls `pid` and blocks until the answer, the timeout in milliseconds.
    /// Deprecated: use `callBlocking(_:_:timeout:)`.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request; copied before the call returns.
    ///   - timeoutMilliseconds: The deadline; `SWERL_INFINITY`: none.
    /// - Returns: The server's answer.
    /// - Throws: As `callBlocking(_:_:timeout:)`.
    @available(*, deprecated, renamed: "callBlocking(_:_:timeout:)")
    public func callBlocking(_ pid: Pid, _ request: some MessagePayload, timeoutMilliseconds: UInt32)
        throws(SwerlError) -> [UInt8]
    {
        try Self.callBlocking(on: engine, pid, request, timeoutMilliseconds: timeoutMilliseconds)
    }

    static func callBlocking(on engine: Engine, _ pid: Pid, _ request: some MessagePayload,
                             timeoutMilliseconds: UInt32) throws(SwerlError) -> [UInt8] {
        let (code, data, count, exitReason) = request.withPayloadBytes {
            engine.call(pid.rawValue, request: $0, timeoutMillis: timeoutMilliseconds)
        }
        defer { free(data) }
        let bytes = UnsafeRawBufferPointer(start: data, count: count)
        if code == SwerlError.Code.serverExited.rawValue {
            ErrorDetail.failed()
            throw SwerlError(.serverExited, detail: ErrorDetail.current,
                             exitReason: ExitReason(code: exitReason, detail: Array(bytes)))
        }
        try SwerlError.check(code)
        return Array(bytes)
    }

    /// Waits until `pid` exits and returns its reason (`noProcess` if it is
    /// not alive, or once the runtime has stopped).
    ///
    /// - Parameter pid: The process to wait for.
    /// - Returns: Its exit reason and detail.
    public func waitForExit(_ pid: Pid) async -> ExitReason {
        let engine = self.engine
        return await withCheckedContinuation { continuation in
            let (code, _) = engine.watchExit(pid.rawValue) { code, detail in
                continuation.resume(returning: ExitReason(code: code, detail: Array(detail)))
            }
            if code != 0 { continuation.resume(returning: ExitReason(code: Int32(SWERL_REASON_NOPROC), detail: [])) }
        }
    }

    /// A snapshot of a live process, or nil. Read without stopping it.
    ///
    /// - Parameter pid: The process.
    /// - Returns: Its snapshot; nil when it is not alive or the runtime has
    ///   stopped.
    public func info(_ pid: Pid) -> ProcessSnapshot? {
        let (code, raw) = engine.processInfo(pid.rawValue)
        return code == 0 ? ProcessSnapshot(raw) : nil
    }

    /// Every live process. Throws for a stopped runtime.
    ///
    /// - Throws: `stopped`.
    public var processes: [Pid] {
        get throws(SwerlError) {
            let (code, pids) = engine.processes()
            try SwerlError.check(code)
            return pids.map(Pid.init(rawValue:))
        }
    }

    /// The runtime's counters now (swerl_runtime_stats).
    public var statistics: Statistics { Statistics(engine.stats()) }
}

/// A process's introspection snapshot (process_info). (Not `ProcessInfo`,
/// which Foundation has.)
public struct ProcessSnapshot: Sendable {
    /// Waiting for a message, queued to run, in a handler, or exiting.
    public enum Status: UInt32, Sendable { case waiting = 0, runnable, running, exiting }
    /// What the process is doing.
    public let status: Status
    /// Messages waiting in its mailbox.
    public let messageQueueLength: Int
    /// Messages its handler has taken so far.
    public let messagesHandled: UInt64
    /// Bytes it holds: its block, tables and queued messages.
    public let memory: Int
    /// Processes linked to it.
    public let links: Int
    /// Monitors it holds on others.
    public let monitors: Int
    /// Monitors held on it (pending calls to it included).
    public let monitoredBy: Int
    /// Whether exit signals come to it as `.exit` messages.
    public let trapsExits: Bool
    /// Its registered name, if any.
    public let name: String?

    init(_ raw: swerl_process_info) {
        status = Status(rawValue: raw.status) ?? .waiting
        messageQueueLength = Int(raw.message_queue_len)
        messagesHandled = raw.messages_handled
        memory = Int(raw.memory)
        links = Int(raw.links)
        monitors = Int(raw.monitors)
        monitoredBy = Int(raw.monitored_by)
        trapsExits = raw.trap_exit != 0
        var copy = raw
        let text = withUnsafeBytes(of: &copy.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        name = text.isEmpty ? nil : text
    }
}

/// The old name of `ProcessSnapshot`. Deprecated: it clashes with Foundation's.
@available(*, deprecated, renamed: "ProcessSnapshot")
public typealias ProcessInfo = ProcessSnapshot

/// Runtime counters.
public struct Statistics: Sendable {
    /// Scheduler threads.
    public let schedulers: Int
    /// Processes alive.
    public let processes: Int
    /// Processes spawned since the start.
    public let spawned: UInt64
    /// Processes that have exited.
    public let exited: UInt64
    /// Messages and signals sent.
    public let messagesSent: UInt64
    /// Messages to processes no longer alive, and replies nobody waited for.
    public let deadLetters: UInt64
    /// Messages dropped by bounded mailboxes (`dropOldest`) or undelivered at exit.
    public let messagesDropped: UInt64
    /// Sends refused by a bounded mailbox or the memory ceiling.
    public let messagesRejected: UInt64
    /// Bytes charged to the memory ceiling now (0 without one).
    public let memoryUsed: UInt64

    init(_ raw: swerl_stats) {
        schedulers = Int(raw.schedulers)
        processes = Int(raw.processes)
        spawned = raw.spawned
        exited = raw.exited
        messagesSent = raw.messages_sent
        deadLetters = raw.dead_letters
        messagesDropped = raw.messages_dropped
        messagesRejected = raw.messages_rejected
        memoryUsed = raw.memory_used
    }
}
