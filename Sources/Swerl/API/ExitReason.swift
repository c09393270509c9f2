import CSwerl

/// Why a process exited: a code plus optional detail bytes (a message, a
/// traceback). `normal` is the only reason linked processes survive.
public struct ExitReason: Hashable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let detail: [UInt8]

    public init(code: Int32, detail: [UInt8] = []) {
        self.code = code
        self.detail = detail
    }

    public static let normal = ExitReason(code: Int32(SWERL_REASON_NORMAL))
    public static let shutdown = ExitReason(code: Int32(SWERL_REASON_SHUTDOWN))
    /// Sent with `exit(_:reason:)`: untrappable, the receiver exits `killed`.
    public static let kill = ExitReason(code: Int32(SWERL_REASON_KILL))
    public static let killed = ExitReason(code: Int32(SWERL_REASON_KILLED))
    public static let noProcess = ExitReason(code: Int32(SWERL_REASON_NOPROC))
    public static let mailboxFull = ExitReason(code: Int32(SWERL_REASON_MAILBOX_FULL))
    /// The connection to the other node of a link or monitor went down.
    public static let noConnection = ExitReason(code: Int32(SWERL_REASON_NOCONNECTION))

    /// A crash, with a human-readable explanation.
    public static func error(_ why: String) -> ExitReason {
        ExitReason(code: Int32(SWERL_REASON_ERROR), detail: Array(why.utf8))
    }

    /// A user-defined reason: `SWERL_REASON_USER + offset`.
    public static func custom(_ offset: Int32, detail: [UInt8] = []) -> ExitReason {
        ExitReason(code: Int32(SWERL_REASON_USER) + offset, detail: detail)
    }

    public var isNormal: Bool { code == Int32(SWERL_REASON_NORMAL) }
    public var isError: Bool { code == Int32(SWERL_REASON_ERROR) }

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
