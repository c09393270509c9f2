import CSwerl

/// Why a process exited: a code plus optional detail bytes (a message, a
/// traceback). `normal` is the only reason linked processes survive.
public struct ExitReason: Hashable, Sendable, CustomStringConvertible {
    /// The reason's code: `SWERL_REASON_*`, or a user reason from `custom`.
    public let code: Int32
    /// Why, in bytes (a message, a traceback); may be empty.
    public let detail: [UInt8]

    /// A reason from its parts.
    ///
    /// - Parameters:
    ///   - code: A `SWERL_REASON_*` code, or a user code of 256 and more.
    ///   - detail: Why, in bytes; may be empty.
    public init(code: Int32, detail: [UInt8] = []) {
        self.code = code
        self.detail = detail
    }

    /// A normal exit: linked processes survive it.
    public static let normal = ExitReason(code: Int32(SWERL_REASON_NORMAL))
    /// Asked to stop (by a supervisor, a runtime's stop).
    public static let shutdown = ExitReason(code: Int32(SWERL_REASON_SHUTDOWN))
    /// Sent with `exit(_:reason:)`: untrappable, the receiver exits `killed`.
    public static let kill = ExitReason(code: Int32(SWERL_REASON_KILL))
    /// Killed (`kill` sent, or a shutdown's time ran out).
    public static let killed = ExitReason(code: Int32(SWERL_REASON_KILLED))
    /// The process was not alive (a monitor or link set too late).
    public static let noProcess = ExitReason(code: Int32(SWERL_REASON_NOPROC))
    /// Killed by a bounded mailbox whose overflow is `kill`.
    public static let mailboxFull = ExitReason(code: Int32(SWERL_REASON_MAILBOX_FULL))
    /// The connection to the other node of a link or monitor went down.
    public static let noConnection = ExitReason(code: Int32(SWERL_REASON_NOCONNECTION))

    /// A crash, with a human-readable explanation.
    ///
    /// - Parameter why: The explanation, kept as UTF-8 detail bytes.
    /// - Returns: The reason `error` with that detail.
    public static func error(_ why: String) -> ExitReason {
        ExitReason(code: Int32(SWERL_REASON_ERROR), detail: Array(why.utf8))
    }

    /// A user-defined reason: `SWERL_REASON_USER + offset`.
    ///
    /// - Parameters:
    ///   - offset: The reason's number among the user's, from 0.
    ///   - detail: Why, in bytes; may be empty.
    /// - Returns: The reason with code 256 + `offset`.
    public static func custom(_ offset: Int32, detail: [UInt8] = []) -> ExitReason {
        ExitReason(code: Int32(SWERL_REASON_USER) + offset, detail: detail)
    }

    /// Whether it is `normal`.
    public var isNormal: Bool { code == Int32(SWERL_REASON_NORMAL) }
    /// Whether it is a crash (`error`).
    public var isError: Bool { code == Int32(SWERL_REASON_ERROR) }

    /// The reason's Erlang name (`normal`, `killed`, `reason(300)`), then
    /// its detail as text.
    public var description: String {
        let name: String
        switch code {
        case Int32(SWERL_REASON_NORMAL): name = "normal"
        case Int32(SWERL_REASON_SHUTDOWN): name = "shutdown"
        case Int32(SWERL_REASON_KILL): name = "kill"
        case Int32(SWERL_REASON_KILLED): name = "killed"
        case Int32(SWERL_REASON_NOPROC): name = "noproc"
        case Int32(SWERL_REASON_ERROR): name = "error"
        case Int32(SWERL_REASON_MAILBOX_FULL): name = "mailbox_full"
        case Int32(SWERL_REASON_NOCONNECTION): name = "noconnection"
        default: name = "reason(\(code))"
        }
        return detail.isEmpty ? name : "\(name): \(String(decoding: detail, as: UTF8.self))"
    }
}

/// A handler, `start` or distributed actor method may throw an `ExitReason`:
/// the process exits with that reason, as Erlang's `exit(Reason)` (any other
/// thrown error is a crash, reason `error` with the error's text).
extension ExitReason: Error {}
