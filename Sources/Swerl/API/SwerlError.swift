import CSwerl
import CSwerlSupport

/// An error from the runtime; its code maps 1:1 to the C `SWERL_E*` codes,
/// and its detail says what went wrong (the C `swerl_last_error_detail`).
public struct SwerlError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An error code. A struct rather than an enum, so codes can be added.
    public struct Code: RawRepresentable, Hashable, Sendable {
        /// The C `SWERL_E*` value (negative).
        public let rawValue: Int32
        /// The code of a C result; a code this version does not know is kept as is.
        ///
        /// - Parameter rawValue: A negative `SWERL_E*` value.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// A bad argument (EINVAL): the detail names it.
        public static let invalidArgument = Code(rawValue: Int32(SWERL_EINVAL))
        /// No such process (ENOPROC): not alive, or never was.
        public static let noProcess = Code(rawValue: Int32(SWERL_ENOPROC))
        /// Timed out (ETIMEDOUT): a call's deadline, or a stop's.
        public static let timedOut = Code(rawValue: Int32(SWERL_ETIMEDOUT))
        /// The name is registered already (ENAMETAKEN).
        public static let nameTaken = Code(rawValue: Int32(SWERL_ENAMETAKEN))
        /// The process has a registered name already (EHASNAME).
        public static let alreadyNamed = Code(rawValue: Int32(SWERL_EHASNAME))
        /// No process is registered under the name (ENONAME).
        public static let nameNotRegistered = Code(rawValue: Int32(SWERL_ENONAME))
        /// A bounded mailbox refused the message (EFULL, overflow `reject`).
        public static let mailboxFull = Code(rawValue: Int32(SWERL_EFULL))
        /// The message is larger than the runtime's `maxMessageSize` (ETOOBIG).
        public static let messageTooBig = Code(rawValue: Int32(SWERL_ETOOBIG))
        /// Out of memory (ENOMEM).
        public static let outOfMemory = Code(rawValue: Int32(SWERL_ENOMEM))
        /// The runtime has stopped (ESTOPPED).
        public static let stopped = Code(rawValue: Int32(SWERL_ESTOPPED))
        /// A `Context` used outside the callback that got it (ECTX).
        public static let contextOutsideCallback = Code(rawValue: Int32(SWERL_ECTX))
        /// An unknown or expired reference (EREF): a timer that fired, a call already answered.
        public static let unknownReference = Code(rawValue: Int32(SWERL_EREF))
        /// A process called itself (ECALLSELF): the call could never be answered.
        public static let callingSelf = Code(rawValue: Int32(SWERL_ECALLSELF))
        /// The server exited before replying (EEXITED); `exitReason` says why when known.
        public static let serverExited = Code(rawValue: Int32(SWERL_EEXITED))
        /// The runtime's `maxProcesses` is reached (ELIMIT).
        public static let processLimit = Code(rawValue: Int32(SWERL_ELIMIT))
        /// Not allowed inside a process callback (EINPROC): it would block a scheduler thread.
        public static let insideProcess = Code(rawValue: Int32(SWERL_EINPROC))
        /// Not supported (ENOTSUP).
        public static let notSupported = Code(rawValue: Int32(SWERL_ENOTSUP))
        /// The process is not a supervisor (ENOTSUPERVISOR).
        public static let notSupervisor = Code(rawValue: Int32(SWERL_ENOTSUPERVISOR))
        /// A child with this id exists already (EDUPLICATE).
        public static let duplicateChild = Code(rawValue: Int32(SWERL_EDUPLICATE))
        /// An invalid supervisor or child spec (EBADSPEC): the detail says which field.
        public static let badSpec = Code(rawValue: Int32(SWERL_EBADSPEC))
        /// A child failed to start (ESTART): the detail carries its reason.
        public static let startFailed = Code(rawValue: Int32(SWERL_ESTART))
        /// No child with this id (ENOTFOUND).
        public static let childNotFound = Code(rawValue: Int32(SWERL_ENOTFOUND))
        /// The child's spec is there but not running (EPRESENT).
        public static let childPresent = Code(rawValue: Int32(SWERL_EPRESENT))
        /// The child is running already (ESTARTED).
        public static let childStarted = Code(rawValue: Int32(SWERL_ESTARTED))
        /// The child is running: terminate it first (ERUNNING).
        public static let childRunning = Code(rawValue: Int32(SWERL_ERUNNING))
        /// The child is being restarted (ERESTARTING).
        public static let childRestarting = Code(rawValue: Int32(SWERL_ERESTARTING))
        /// Not allowed on a simple_one_for_one supervisor (ESIMPLE).
        public static let simpleOneForOne = Code(rawValue: Int32(SWERL_ESIMPLE))
        /// The runtime's memory ceiling (`Runtime.setMaxMemory(_:)`) is reached.
        public static let memoryLimit = Code(rawValue: Int32(SWERL_EMEMLIMIT))
        /// Sockets: the socket is closed (or never was one).
        public static let noSocket = Code(rawValue: Int32(SWERL_ENOSOCKET))
        /// Sockets: another process owns the socket.
        public static let notOwner = Code(rawValue: Int32(SWERL_ENOTOWNER))
        /// Sockets: the send queue is full; a writable message follows.
        public static let sendQueueFull = Code(rawValue: Int32(SWERL_EAGAIN))
        /// Sockets: the address is in use (EADDRINUSE).
        public static let addressInUse = Code(rawValue: Int32(SWERL_EADDRINUSE))
        /// Sockets: the connection was refused (ECONNREFUSED).
        public static let connectionRefused = Code(rawValue: Int32(SWERL_ECONNREFUSED))
        /// Sockets: the peer reset the connection (ECONNRESET).
        public static let connectionReset = Code(rawValue: Int32(SWERL_ECONNRESET))
        /// Sockets: a frame or line longer than the socket's limit.
        public static let frameTooLong = Code(rawValue: Int32(SWERL_EFRAME))
        /// Sockets: another network error (the detail says which).
        public static let network = Code(rawValue: Int32(SWERL_ENET))
    }

    /// What kind of failure: the C code's Swift name.
    public let code: Code
    /// What went wrong, in words ("" when the code says it all): which
    /// argument, which limit and how to raise it, why a server died.
    public let detail: String
    /// `serverExited`: why the server exited (its reason and detail), when
    /// the runtime knows it (`Runtime.call`, `callBlocking`); else nil.
    public let exitReason: ExitReason?

    /// An error of your own making, as the runtime makes them.
    ///
    /// - Parameters:
    ///   - code: What kind of failure.
    ///   - detail: What went wrong, in words; "" when the code says it all.
    ///   - exitReason: For `serverExited`, why the server exited.
    public init(_ code: Code, detail: String = "", exitReason: ExitReason? = nil) {
        self.code = code
        self.detail = detail
        self.exitReason = exitReason
    }

    /// Errors are equal when their codes are: the detail only tells more.
    ///
    /// - Parameters:
    ///   - lhs: An error.
    ///   - rhs: Another error.
    /// - Returns: Whether their codes are equal.
    public static func == (lhs: SwerlError, rhs: SwerlError) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only, as `==` compares.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// The C name of the code, e.g. `ENOPROC`.
    public var name: String { String(cString: swerlrt_err_name(code.rawValue)) }

    /// The code's text, then the detail: "no such process: <0.4.1> is not alive".
    public var description: String {
        let text = String(cString: swerlrt_strerror(code.rawValue))
        return detail.isEmpty ? text : "\(text): \(detail)"
    }

    /// Throws for a negative C result, with the words the runtime gave it.
    @inline(__always)
    static func check(_ result: Int32) throws(SwerlError) {
        if result < 0 { throw failure(result) }
    }

    /// A send's result: false when the receiver is not alive (Erlang's `!`
    /// succeeds then); misuse (another runtime's pid included) throws.
    static func delivered(_ result: Int32, to pid: Pid, on engine: Engine) throws(SwerlError) -> Bool {
        if result == Code.noProcess.rawValue && engine.owns(pid.rawValue) { return false }
        try check(result)
        return true
    }

    /// A reply's result: false when the caller gave up (OTP's
    /// `gen_server:reply` succeeds then).
    static func answered(_ result: Int32) throws(SwerlError) -> Bool {
        if result == Code.unknownReference.rawValue { return false }
        try check(result)
        return true
    }

    /// How an async call ended, when not with a reply: for a server that
    /// exited, its exit reason and detail say why.
    static func callOutcome(_ code: Int32, exitReason: Int32, detail: UnsafeRawBufferPointer) -> SwerlError {
        guard code == Code.serverExited.rawValue else { return SwerlError(Code(rawValue: code)) }
        let reason = ExitReason(code: exitReason, detail: Array(detail))
        return SwerlError(.serverExited, detail: reason.description, exitReason: reason)
    }

    /// The error of a negative result, detail included.
    @inline(never)
    static func failure(_ result: Int32) -> SwerlError {
        ErrorDetail.failed()
        return SwerlError(Code(rawValue: result), detail: ErrorDetail.current)
    }
}
