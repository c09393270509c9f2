import CSwerl

/// What a running process can do. Valid only during the callback that
/// received it: used afterwards, every operation throws
/// `contextOutsideCallback`.
public struct Context: @unchecked Sendable {
    let raw: OpaquePointer?

    init(_ raw: OpaquePointer?) { self.raw = raw }

    private var pointer: UnsafeRawPointer? { UnsafeRawPointer(raw) }

    func checked() throws(SwerlError) -> ContextPointer {
        guard let context = CallbackContexts.validate(pointer) else { throw SwerlError.failure(Engine.badContext()) }
        return context
    }

    /// The calling process.
    public var pid: Pid { Pid(rawValue: Engine.contextPid(pointer) ?? 0) }

    /// The runtime the process belongs to.
    ///
    /// - Throws: `contextOutsideCallback`.
    public var runtime: Runtime {
        get throws(SwerlError) { Runtime(attachedTo: try checked().engine) }
    }

    /// Sends a copy of `bytes`; the receiver sees this process as `from`.
    /// As Erlang's `!`, a send to a process that is no longer alive is no
    /// error: it returns false (a dead letter is counted), so a server never
    /// crashes because a client died. Only misuse throws.
    ///
    /// - Parameters:
    ///   - bytes: The message; copied before the call returns.
    ///   - pid: The receiver, local or (on a node) remote.
    /// - Returns: false when the receiver is not alive, else true.
    /// - Throws: `contextOutsideCallback`, and as `Runtime.send(_:to:)`:
    ///   `messageTooBig`, `mailboxFull`, `memoryLimit`, `outOfMemory`,
    ///   `noProcess` (another runtime's pid), `stopped`.
    @discardableResult
    public func send(_ bytes: some MessagePayload, to pid: Pid) throws(SwerlError) -> Bool {
        let engine = try checked().engine
        let result = bytes.withPayloadBytes { engine.send(to: pid.rawValue, data: $0.baseAddress, count: $0.count) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// Sends `bytes` to every pid of `pids` from this process, one shared
    /// binary from `SharedBinary.fanOutThreshold` on (`Runtime.send(_:to:)`
    /// with a sequence of pids).
    ///
    /// - Parameters:
    ///   - bytes: The message.
    ///   - pids: The receivers.
    /// - Returns: How many receivers were alive.
    /// - Throws: `contextOutsideCallback`, and the first error of a send, as
    ///   `send(_:to:)`.
    @discardableResult
    public func send<P: MessagePayload>(_ bytes: P, to pids: some Sequence<Pid>) throws(SwerlError) -> Int {
        try SharedBinary.fanOut(bytes, to: pids,
                                copying: { payload, pid throws(SwerlError) in try send(payload, to: pid) },
                                sharing: { binary, pid throws(SwerlError) in try send(binary, to: pid) })
    }

    /// Sends `binary` by reference (`Runtime.send(_:to:)` with a binary);
    /// the receiver sees this process as `from`. A dead receiver is no
    /// error, as for bytes.
    ///
    /// - Parameters:
    ///   - binary: The message; the caller keeps its reference.
    ///   - pid: The receiver, local or (on a node) remote.
    /// - Returns: false when the receiver is not alive, else true.
    /// - Throws: `contextOutsideCallback`, and as `Runtime.send(_:to:)` with
    ///   a binary: `messageTooBig`, `mailboxFull`, `memoryLimit`,
    ///   `outOfMemory`, `noProcess` (another runtime's pid), `stopped`.
    @discardableResult
    public func send(_ binary: SharedBinary, to pid: Pid) throws(SwerlError) -> Bool {
        let engine = try checked().engine
        let result = binary.withBinary { engine.send(to: pid.rawValue, binary: $0) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// Spawns a process; `link` and `monitor` tie it to this one atomically.
    /// With `monitor`, the monitor's ref is returned too. The behaviour is
    /// `sending`, as for `Runtime.spawn`.
    ///
    /// - Parameters:
    ///   - behavior: The new process's callbacks and state.
    ///   - options: Link, monitor, a name, a bounded mailbox and the rest.
    /// - Returns: The new pid, and the monitor's ref with `options.monitor`.
    /// - Throws: `contextOutsideCallback`, and as `Runtime.spawn`:
    ///   `invalidArgument`, `nameTaken`, `processLimit`, `outOfMemory`,
    ///   `stopped`.
    @discardableResult
    public func spawn(_ behavior: sending some Behavior, options: SpawnOptions = SpawnOptions()) throws(SwerlError)
        -> (pid: Pid, monitor: Ref?)
    {
        let engine = try checked().engine
        return try Runtime.spawn(on: engine, behavior, options: options)
    }

    /// Links with `pid` (OTP-15, OTP-17). Linking twice, or to this process
    /// itself, does nothing. If `pid` is not alive, a process that traps
    /// exits gets an `.exit` message with `noProcess`; any other throws.
    ///
    /// - Parameter pid: The process to link with, local or remote.
    /// - Throws: `noProcess` (not alive, and this process does not trap
    ///   exits), `outOfMemory`, `contextOutsideCallback`.
    public func link(_ pid: Pid) throws(SwerlError) { try SwerlError.check(Engine.link(pointer, pid.rawValue)) }

    /// Removes a link (OTP-21); a link that is not there is no error. An
    /// `.exit` from `pid` may be waiting in the mailbox already.
    ///
    /// - Parameter pid: The linked process.
    /// - Throws: `contextOutsideCallback`.
    public func unlink(_ pid: Pid) throws(SwerlError) { try SwerlError.check(Engine.unlink(pointer, pid.rawValue)) }

    /// Turns exit signals into EXIT messages; returns the previous setting.
    ///
    /// - Parameter on: true to trap exits, false to die of them again.
    /// - Returns: Whether the process trapped exits before.
    /// - Throws: `contextOutsideCallback`.
    @discardableResult
    public func trapExits(_ on: Bool) throws(SwerlError) -> Bool {
        let result = Engine.trapExit(pointer, on)
        try SwerlError.check(result)
        return result == 1
    }

    /// Makes this process a blocking one, whose callbacks run from its next
    /// turn on a pool of threads where blocking is allowed (sleeping, I/O,
    /// `callBlocking`), or a scheduled one again; returns the previous
    /// setting. A supervised child calls it in its `start`.
    ///
    /// - Parameter on: true for the blocking pool, false for the schedulers.
    /// - Returns: Whether the process was a blocking one before.
    /// - Throws: `contextOutsideCallback`.
    @discardableResult
    public func setBlocking(_ on: Bool) throws(SwerlError) -> Bool {
        let result = Engine.setBlocking(pointer, on)
        try SwerlError.check(result)
        return result == 1
    }

    /// Monitors `pid`: one DOWN message when it exits (noproc if it is not alive).
    /// Each call makes a monitor of its own.
    ///
    /// - Parameter pid: The process to watch, local or remote.
    /// - Returns: The monitor's ref, which its `.down` message carries.
    /// - Throws: `outOfMemory`, `contextOutsideCallback`; never for a dead pid.
    public func monitor(_ pid: Pid) throws(SwerlError) -> Ref {
        let (result, ref) = Engine.monitor(pointer, pid.rawValue)
        try SwerlError.check(result)
        return Ref(rawValue: ref)
    }

    /// Removes a monitor; `flush` also drops a DOWN already queued. Returns
    /// whether the monitor was still active.
    ///
    /// - Parameters:
    ///   - ref: The ref `monitor(_:)` returned.
    ///   - flush: Also remove a `.down` for it from the mailbox.
    /// - Returns: true if the monitor was active, false if it had fired or
    ///   was unknown.
    /// - Throws: `contextOutsideCallback`.
    @discardableResult
    public func demonitor(_ ref: Ref, flush: Bool = false) throws(SwerlError) -> Bool {
        let result = Engine.demonitor(pointer, ref.rawValue, flush: flush, info: true)
        try SwerlError.check(result)
        return result == 1
    }

    /// A TIMEOUT message if nothing is accepted within `timeout` after this
    /// callback (`receive ... after`); zero polls (TIMEOUT at once unless a
    /// message waits); nil clears it.
    ///
    /// - Parameter timeout: How long to wait for a message; nil: for ever.
    /// - Throws: `contextOutsideCallback`, `invalidArgument` (negative, or 49
    ///   days or more).
    public func setReceiveTimeout(_ timeout: Duration?) throws(SwerlError) {
        try SwerlError.check(Engine.setReceiveTimeout(pointer, millis: try timeout.runtimeMilliseconds("setReceiveTimeout")))
    }

    /// Sets the receive timeout in milliseconds. Deprecated: use
    /// `setReceiveTimeout(_:)`.
    ///
    /// - Parameter milliseconds: How long to wait for a message; nil: for ever.
    /// - Throws: `contextOutsideCallback`.
    @available(*, deprecated, renamed: "setReceiveTimeout(_:)")
    public func setReceiveTimeout(milliseconds: UInt32?) throws(SwerlError) {
        try SwerlError.check(Engine.setReceiveTimeout(pointer, millis: milliseconds ?? SWERL_INFINITY))
    }

    /// Sends an exit signal (exit/2) from this process.
    ///
    /// - Parameters:
    ///   - pid: The process to signal, local or remote.
    ///   - reason: The exit reason; its detail is copied.
    /// - Throws: `contextOutsideCallback`, and as `Runtime.exit(_:reason:)`:
    ///   `noProcess`, `messageTooBig`, `outOfMemory`, `stopped`.
    public func exit(_ pid: Pid, reason: ExitReason) throws(SwerlError) {
        let engine = try checked().engine
        let result = reason.detail.withPayloadBytes { engine.exit(pid.rawValue, reason: reason.code, detail: $0) }
        try SwerlError.check(result)
    }

    /// Answers a CALL message (now, or keep its `ref` and use `Runtime.reply`).
    /// As OTP's `gen_server:reply`, answering a caller that gave up (timed
    /// out, or exited) is no error: it returns false.
    ///
    /// - Parameters:
    ///   - call: The `.call` message to answer.
    ///   - bytes: The answer; copied before the call returns.
    /// - Returns: false when nobody waits for the answer any more, else true.
    /// - Throws: `invalidArgument` (the message is not a `.call`),
    ///   `contextOutsideCallback`, `messageTooBig`, `stopped`.
    @discardableResult
    public func reply(to call: Message, with bytes: some MessagePayload) throws(SwerlError) -> Bool {
        guard call.kind == .call, let ref = call.ref else {
            throw SwerlError(.invalidArgument, detail: "reply(to:): the message is not a CALL")
        }
        let engine = try checked().engine
        return try SwerlError.answered(bytes.withPayloadBytes { engine.reply(ref.rawValue, data: $0) })
    }

    /// Answers a call with a shared binary: a caller waiting in a process
    /// (`sendRequest`) gets the binary itself, without a copy
    /// (`Message.sharedBinary`); any other caller a copy of its bytes.
    ///
    /// - Parameters:
    ///   - call: The `.call` message to answer.
    ///   - binary: The answer, by reference.
    /// - Returns: false when nobody waits for the answer any more, else true.
    /// - Throws: `invalidArgument` (the message is not a `.call`),
    ///   `contextOutsideCallback`, `messageTooBig`, `stopped`.
    @discardableResult
    public func reply(to call: Message, with binary: SharedBinary) throws(SwerlError) -> Bool {
        guard call.kind == .call, let ref = call.ref else {
            throw SwerlError(.invalidArgument, detail: "reply(to:): the message is not a CALL")
        }
        let engine = try checked().engine
        return try SwerlError.answered(binary.withBinary { engine.reply(ref.rawValue, binary: $0) })
    }

    /// Calls `pid` and blocks until the answer: allowed in a blocking process
    /// only (`SpawnOptions.blocking`, `setBlocking`), as Elixir code calls a
    /// server from its own `handle_call`; elsewhere `insideProcess`.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request; copied before the call returns.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The server's answer.
    /// - Throws: `contextOutsideCallback`, `insideProcess`, `callingSelf`,
    ///   and as `Runtime.callBlocking(_:_:timeout:)`: `timedOut`,
    ///   `noProcess`, `serverExited`, `messageTooBig`, `memoryLimit`,
    ///   `outOfMemory`, `invalidArgument`, `stopped`.
    public func callBlocking(_ pid: Pid, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        throws(SwerlError) -> [UInt8]
    {
        try Runtime.callBlocking(on: checked().engine, pid, request,
                                 timeoutMilliseconds: try timeout.runtimeMilliseconds("callBlocking"))
    }

    /// Calls `pid` and blocks, the timeout in milliseconds. Deprecated: use
    /// `callBlocking(_:_:timeout:)`.
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
        try Runtime.callBlocking(on: checked().engine, pid, request, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Sends a call to `pid` without waiting (gen_server:send_request): the
    /// answer arrives as a `.reply` message with the returned ref (a
    /// timeout, the server's exit: `message.error`). `Runtime.call` is the
    /// form that waits for it. A server that is not alive is no error here:
    /// the `.reply` says `noProcess`.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request; copied before the call returns.
    ///   - timeout: The deadline; nil: none. Exactly one `.reply` comes.
    /// - Returns: The call's ref, which the `.reply` carries.
    /// - Throws: `callingSelf`, `messageTooBig`, `memoryLimit`,
    ///   `outOfMemory`, `contextOutsideCallback`, `invalidArgument` (a
    ///   negative timeout, or one of 49 days or more), `stopped`.
    public func sendRequest(_ pid: Pid, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        throws(SwerlError) -> Ref
    {
        try call(pid, request, milliseconds: try timeout.runtimeMilliseconds("sendRequest"))
    }

    /// Sends a call without waiting. Deprecated: use `sendRequest(_:_:timeout:)`.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request; copied before the call returns.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The call's ref, which the `.reply` carries.
    /// - Throws: As `sendRequest(_:_:timeout:)`.
    @available(*, deprecated, renamed: "sendRequest(_:_:timeout:)")
    public func call(_ pid: Pid, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        throws(SwerlError) -> Ref
    {
        try sendRequest(pid, request, timeout: timeout)
    }

    /// Sends a call without waiting, the timeout in milliseconds. Deprecated:
    /// use `sendRequest(_:_:timeout:)`.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request; copied before the call returns.
    ///   - timeoutMilliseconds: The deadline; `SWERL_INFINITY`: none.
    /// - Returns: The call's ref, which the `.reply` carries.
    /// - Throws: As `sendRequest(_:_:timeout:)`, but no `invalidArgument`.
    @available(*, deprecated, renamed: "sendRequest(_:_:timeout:)")
    public func call(_ pid: Pid, _ request: some MessagePayload, timeoutMilliseconds: UInt32)
        throws(SwerlError) -> Ref
    {
        try call(pid, request, milliseconds: timeoutMilliseconds)
    }

    private func call(_ pid: Pid, _ request: some MessagePayload, milliseconds: UInt32) throws(SwerlError) -> Ref {
        let (result, ref) = request.withPayloadBytes {
            Engine.callAsync(pointer, pid.rawValue, request: $0, timeoutMillis: milliseconds)
        }
        try SwerlError.check(result)
        return Ref(rawValue: ref)
    }
}

/// How to spawn a process.
public struct SpawnOptions: Sendable {
    /// Link to the spawning process (spawn_link). Only inside a process.
    public var link: Bool
    /// Monitor from the spawning process (spawn_monitor). Only inside a process.
    public var monitor: Bool
    /// Exit signals come as `.exit` messages from the start.
    public var trapExits: Bool
    /// Runs on the blocking pool, where its handlers may block (sleep, I/O,
    /// `callBlocking`) without stopping a scheduler.
    public var blocking: Bool
    /// Registered atomically with the spawn.
    public var name: String?
    /// 0: unbounded.
    public var mailboxLimit: UInt32
    /// What a full bounded mailbox does with one more message.
    public var overflow: Overflow

    /// Refuse the send (`mailboxFull`), drop the oldest message, or kill the receiver.
    public enum Overflow: UInt32, Sendable {
        /// `reject`: the sender gets `mailboxFull`; `dropOldest`: the oldest
        /// waiting message goes (counted); `kill`: the receiver is killed
        /// with `ExitReason.mailboxFull`.
        case reject = 0, dropOldest = 1, kill = 2
    }

    /// Options for a spawn; the defaults are a plain `spawn`.
    ///
    /// - Parameters:
    ///   - link: Link to the spawning process. Only inside a process.
    ///   - monitor: Monitor from the spawning process. Only inside a process.
    ///   - trapExits: Trap exits from the start.
    ///   - blocking: Run on the blocking pool.
    ///   - name: A name registered atomically with the spawn; 1 to 255 bytes.
    ///   - mailboxLimit: Messages waiting at most; 0: unbounded.
    ///   - overflow: What a full bounded mailbox does.
    public init(link: Bool = false, monitor: Bool = false, trapExits: Bool = false, blocking: Bool = false,
                name: String? = nil, mailboxLimit: UInt32 = 0, overflow: Overflow = .reject) {
        self.link = link
        self.monitor = monitor
        self.trapExits = trapExits
        self.blocking = blocking
        self.name = name
        self.mailboxLimit = mailboxLimit
        self.overflow = overflow
    }
}
