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
    public var runtime: Runtime {
        get throws(SwerlError) { Runtime(attachedTo: try checked().engine) }
    }

    /// Sends a copy of `bytes`; the receiver sees this process as `from`.
    /// As Erlang's `!`, a send to a process that is no longer alive is no
    /// error: it returns false (a dead letter is counted), so a server never
    /// crashes because a client died. Only misuse throws.
    @discardableResult
    public func send(_ bytes: some MessagePayload, to pid: Pid) throws(SwerlError) -> Bool {
        let engine = try checked().engine
        let result = bytes.withPayloadBytes { engine.send(to: pid.rawValue, data: $0.baseAddress, count: $0.count) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// Spawns a process; `link` and `monitor` tie it to this one atomically.
    /// With `monitor`, the monitor's ref is returned too. The behaviour is
    /// `sending`, as for `Runtime.spawn`.
    @discardableResult
    public func spawn(_ behavior: sending some Behavior, options: SpawnOptions = SpawnOptions()) throws(SwerlError)
        -> (pid: Pid, monitor: Ref?)
    {
        let engine = try checked().engine
        return try Runtime.spawn(on: engine, behavior, options: options)
    }

    /// Links with `pid` (OTP-15, OTP-17).
    public func link(_ pid: Pid) throws(SwerlError) { try SwerlError.check(Engine.link(pointer, pid.rawValue)) }

    /// Removes a link (OTP-21); a link that is not there is no error.
    public func unlink(_ pid: Pid) throws(SwerlError) { try SwerlError.check(Engine.unlink(pointer, pid.rawValue)) }

    /// Turns exit signals into EXIT messages; returns the previous setting.
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
    @discardableResult
    public func setBlocking(_ on: Bool) throws(SwerlError) -> Bool {
        let result = Engine.setBlocking(pointer, on)
        try SwerlError.check(result)
        return result == 1
    }

    /// Monitors `pid`: one DOWN message when it exits (noproc if it is not alive).
    public func monitor(_ pid: Pid) throws(SwerlError) -> Ref {
        let (result, ref) = Engine.monitor(pointer, pid.rawValue)
        try SwerlError.check(result)
        return Ref(rawValue: ref)
    }

    /// Removes a monitor; `flush` also drops a DOWN already queued. Returns
    /// whether the monitor was still active.
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
    /// - Throws: `contextOutsideCallback`, `invalidArgument` (negative, or 49
    ///   days or more).
    public func setReceiveTimeout(_ timeout: Duration?) throws(SwerlError) {
        try SwerlError.check(Engine.setReceiveTimeout(pointer, millis: try timeout.runtimeMilliseconds("setReceiveTimeout")))
    }

    @available(*, deprecated, renamed: "setReceiveTimeout(_:)")
    public func setReceiveTimeout(milliseconds: UInt32?) throws(SwerlError) {
        try SwerlError.check(Engine.setReceiveTimeout(pointer, millis: milliseconds ?? SWERL_INFINITY))
    }

    /// Sends an exit signal (exit/2) from this process.
    public func exit(_ pid: Pid, reason: ExitReason) throws(SwerlError) {
        let engine = try checked().engine
        let result = reason.detail.withPayloadBytes { engine.exit(pid.rawValue, reason: reason.code, detail: $0) }
        try SwerlError.check(result)
    }

    /// Answers a CALL message (now, or keep its `ref` and use `Runtime.reply`).
    /// As OTP's `gen_server:reply`, answering a caller that gave up (timed
    /// out, or exited) is no error: it returns false.
    @discardableResult
    public func reply(to call: Message, with bytes: some MessagePayload) throws(SwerlError) -> Bool {
        guard call.kind == .call, let ref = call.ref else {
            throw SwerlError(.invalidArgument, detail: "reply(to:): the message is not a CALL")
        }
        let engine = try checked().engine
        return try SwerlError.answered(bytes.withPayloadBytes { engine.reply(ref.rawValue, data: $0) })
    }

    /// Calls `pid` and blocks until the answer: allowed in a blocking process
    /// only (`SpawnOptions.blocking`, `setBlocking`), as Elixir code calls a
    /// server from its own `handle_call`; elsewhere `insideProcess`.
    public func callBlocking(_ pid: Pid, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        throws(SwerlError) -> [UInt8]
    {
        try Runtime.callBlocking(on: checked().engine, pid, request,
                                 timeoutMilliseconds: try timeout.runtimeMilliseconds("callBlocking"))
    }

    @available(*, deprecated, renamed: "callBlocking(_:_:timeout:)")
    public func callBlocking(_ pid: Pid, _ request: some MessagePayload, timeoutMilliseconds: UInt32)
        throws(SwerlError) -> [UInt8]
    {
        try Runtime.callBlocking(on: checked().engine, pid, request, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Sends a call to `pid` without waiting (gen_server:send_request): the
    /// answer arrives as a `.reply` message with the returned ref (a
    /// timeout, the server's exit: `message.error`). `Runtime.call` is the
    /// form that waits for it.
    ///
    /// - Throws: `noProcess`, `callingSelf`, `messageTooBig`,
    ///   `memoryLimit`, `contextOutsideCallback`, `invalidArgument`.
    public func sendRequest(_ pid: Pid, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        throws(SwerlError) -> Ref
    {
        try call(pid, request, milliseconds: try timeout.runtimeMilliseconds("sendRequest"))
    }

    @available(*, deprecated, renamed: "sendRequest(_:_:timeout:)")
    public func call(_ pid: Pid, _ request: some MessagePayload, timeout: Duration? = .seconds(5))
        throws(SwerlError) -> Ref
    {
        try sendRequest(pid, request, timeout: timeout)
    }

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
        case reject = 0, dropOldest = 1, kill = 2
    }

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
