import CSwerl

/// The C error codes, as Int32, for the runtime's internal results.
enum Code {
    static let ok: Int32 = 0
    static let invalid = Int32(SWERL_EINVAL)
    static let noProcess = Int32(SWERL_ENOPROC)
    static let timedOut = Int32(SWERL_ETIMEDOUT)
    static let nameTaken = Int32(SWERL_ENAMETAKEN)
    static let hasName = Int32(SWERL_EHASNAME)
    static let noName = Int32(SWERL_ENONAME)
    static let full = Int32(SWERL_EFULL)
    static let tooBig = Int32(SWERL_ETOOBIG)
    static let noMemory = Int32(SWERL_ENOMEM)
    static let stopped = Int32(SWERL_ESTOPPED)
    static let badContext = Int32(SWERL_ECTX)
    static let badRef = Int32(SWERL_EREF)
    static let callSelf = Int32(SWERL_ECALLSELF)
    static let exited = Int32(SWERL_EEXITED)
    static let limit = Int32(SWERL_ELIMIT)
    static let inProcess = Int32(SWERL_EINPROC)
    static let notSupported = Int32(SWERL_ENOTSUP)
    static let notSupervisor = Int32(SWERL_ENOTSUPERVISOR)
    static let duplicate = Int32(SWERL_EDUPLICATE)
    static let badSpec = Int32(SWERL_EBADSPEC)
    static let startFailed = Int32(SWERL_ESTART)
    static let notFound = Int32(SWERL_ENOTFOUND)
    static let present = Int32(SWERL_EPRESENT)
    static let started = Int32(SWERL_ESTARTED)
    static let running = Int32(SWERL_ERUNNING)
    static let restarting = Int32(SWERL_ERESTARTING)
    static let simple = Int32(SWERL_ESIMPLE)
    static let memoryLimit = Int32(SWERL_EMEMLIMIT)
    static let noSocket = Int32(SWERL_ENOSOCKET)
    static let notOwner = Int32(SWERL_ENOTOWNER)
    static let again = Int32(SWERL_EAGAIN)
    static let addressInUse = Int32(SWERL_EADDRINUSE)
    static let connectionRefused = Int32(SWERL_ECONNREFUSED)
    static let connectionReset = Int32(SWERL_ECONNRESET)
    static let frame = Int32(SWERL_EFRAME)
    static let network = Int32(SWERL_ENET)
}

enum Reason {
    static let normal = Int32(SWERL_REASON_NORMAL)
    static let shutdown = Int32(SWERL_REASON_SHUTDOWN)
    static let kill = Int32(SWERL_REASON_KILL)
    static let killed = Int32(SWERL_REASON_KILLED)
    static let noproc = Int32(SWERL_REASON_NOPROC)
    static let error = Int32(SWERL_REASON_ERROR)
    static let mailboxFull = Int32(SWERL_REASON_MAILBOX_FULL)

    /// Whether an exit with `reason` is abnormal (OTP: not normal and not an
    /// orderly shutdown).
    static func isAbnormal(_ reason: Int32) -> Bool { reason != normal && reason != shutdown }

    /// A reason as the reports print it: the header's name, or a user code.
    static func name(_ reason: Int32) -> String {
        switch reason {
        case normal: return "NORMAL"
        case shutdown: return "SHUTDOWN"
        case kill: return "KILL"
        case killed: return "KILLED"
        case noproc: return "NOPROC"
        case error: return "ERROR"
        case mailboxFull: return "MAILBOX_FULL"
        case Int32(SWERL_REASON_NOCONNECTION): return "NOCONNECTION"
        default: return reason >= Int32(SWERL_REASON_USER) ? "\(reason) (user)" : "\(reason)"
        }
    }
}
