import Synchronization

/// A process's end, as `Runtime.exits(of:)` reports it.
public struct ProcessExit: Sendable, Hashable {
    /// The process that ended.
    public let pid: Pid
    /// Why: its exit reason and detail, or `noProcess` if it was not alive.
    public let reason: ExitReason
}

extension Runtime {
    /// The exits of `pids`, as they happen, then the end of the sequence:
    /// monitors owned by no process (swerl_watch_exit). A process that is
    /// not alive (it exited before, or never was) is reported at once with
    /// `noProcess`: no exit is missed however early it comes. Ending the
    /// iteration (or cancelling its task) removes the monitors left.
    ///
    ///     for await exit in runtime.exits(of: workers) {
    ///         print("\(exit.pid) ended: \(exit.reason)")
    ///     }
    ///
    /// - Parameter pids: The processes to watch; empty: the sequence ends at once.
    /// - Returns: One `ProcessExit` per pid, in the order they end. On a
    ///   stopped runtime, each is `noProcess` at once.
    public func exits(of pids: [Pid]) -> AsyncStream<ProcessExit> {
        let (stream, continuation) = AsyncStream<ProcessExit>.makeStream()
        let engine = self.engine
        let left = Mutex(pids.count)
        // The watches' refs; nil once the iteration has ended (a watch made
        // after that is removed at once).
        let refs = Mutex<[UInt64]?>([])
        continuation.onTermination = { _ in
            for ref in refs.withLock({ refs in defer { refs = nil }; return refs ?? [] }) {
                _ = engine.cancelNotify(ref)
            }
        }
        if pids.isEmpty { continuation.finish() }
        for pid in pids {
            let report: @Sendable (Int32, [UInt8]) -> Void = { code, detail in
                continuation.yield(ProcessExit(pid: pid, reason: ExitReason(code: code, detail: detail)))
                if left.withLock({ $0 -= 1; return $0 }) == 0 { continuation.finish() }
            }
            let (code, ref) = engine.watchExit(pid.rawValue, cancellable: true) { code, detail in
                report(code, Array(detail))
            }
            if code == 0 {
                let ended = refs.withLock { refs -> Bool in
                    refs?.append(ref)
                    return refs == nil
                }
                if ended { _ = engine.cancelNotify(ref) }
            } else {  // a stopped runtime: nothing will come
                report(ExitReason.noProcess.code, [])
            }
        }
        return stream
    }
}
