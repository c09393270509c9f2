// Crash reports (Erlang's proc_lib crash report): a process that exits
// abnormally of its own doing, outside a supervisor (which reports its
// children itself), is reported through the log hook. At most `perSecond`
// reports a second, so a crash storm cannot flood the hook (or whatever
// buffers behind it); the reports left out are counted and said in one line
// when reporting resumes.

import CSwerl
import Synchronization

final class CrashReports: @unchecked Sendable {
    unowned(unsafe) var engine: Engine! = nil
    static let perSecond = 100

    private struct Window {
        var start: UInt64 = 0
        var reported = 0
        var leftOut = 0
    }
    private let window = Lock(Window())

    /// Who else hears of each crash, unthrottled (the observer's event
    /// ring, bounded itself); nil: nobody.
    let listener = Lock<(@Sendable (UInt64, String?, Int32, [UInt8]) -> Void)?>(nil)

    func report(pid: UInt64, reason: Int32, detail: [UInt8]) {
        if let listener = listener.withLock({ $0 }) { listener(pid, engine.registry.name(of: pid), reason, detail) }
        guard engine.logCallback != nil else { return }
        let (allowed, leftOut) = window.withLock { window -> (Bool, Int) in
            // Read under the lock: a clock read before it may be older than
            // the window another thread just opened.
            let now = monotonicNanos()
            if now - window.start >= 1_000_000_000 {
                let leftOut = window.leftOut
                window = Window(start: now, reported: 1, leftOut: 0)
                return (true, leftOut)
            }
            guard window.reported < Self.perSecond else {
                window.leftOut += 1
                return (false, 0)
            }
            window.reported += 1
            return (true, 0)
        }
        if leftOut > 0 {
            engine.report(level: SWERL_LOG_ERROR, "crash report: \(leftOut) more crash reports were left out "
                + "(at most \(Self.perSecond) a second)")
        }
        guard allowed else { return }
        let name = engine.registry.name(of: pid).map { " ('\($0)')" } ?? ""
        let text = detail.withUnsafeBytes { ErrorDetail.excerpt($0, limit: 4096) }
        engine.report(level: SWERL_LOG_ERROR, "crash report: process \(Pids.format(pid))\(name) exited with reason "
            + "\(Reason.name(reason))\(text.isEmpty ? "" : ": " + text)")
    }
}
