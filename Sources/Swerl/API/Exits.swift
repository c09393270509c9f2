import Synchronization

/// A process's end, as `Runtime.exits(of:)` reports it.
public struct ProcessExit: Sendable, Hashable {
    public let pid: Pid
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

/// What a supervisor reports, as OTP's supervisor reports: a child that
/// crashed, a restart, a start that failed (and is retried), a child that
/// did not stop cleanly, the restart intensity reached (the supervisor
/// gives up).
public struct SupervisorEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A child exited abnormally (`reason`).
        case childTerminated
        /// The supervisor restarts the child (after its exit).
        case restarting
        /// A restart's start failed (`reason`); it is tried again.
        case startError
        /// A child being stopped exited with another reason than asked.
        case shutdownError
        /// Too many restarts in the period: the supervisor shuts down.
        case maxIntensityReached
    }

    public let supervisor: Pid
    public let kind: Kind
    /// The child's id (nil for `maxIntensityReached`; empty for
    /// simple_one_for_one children).
    public let child: String?
    /// The child's pid when the report names one.
    public let childPid: Pid?
    /// For a termination or a failed start: why.
    public let reason: ExitReason?
}

extension Runtime {
    /// Every supervisor's reports as they happen, until the iteration ends
    /// (the runtime's logger gets them as text too).
    ///
    ///     for await event in runtime.supervisorEvents() where event.kind == .restarting {
    ///         metrics.restarts.increment()
    ///     }
    public func supervisorEvents() -> AsyncStream<SupervisorEvent> {
        let (stream, continuation) = AsyncStream<SupervisorEvent>.makeStream()
        let engine = self.engine
        let id = engine.listenToSupervisors { report in
            let kind: SupervisorEvent.Kind
            switch report.kind {
            case .childTerminated: kind = .childTerminated
            case .restarting: kind = .restarting
            case .startError: kind = .startError
            case .shutdownError: kind = .shutdownError
            case .maxIntensity: kind = .maxIntensityReached
            }
            let hasReason = report.kind == .childTerminated || report.kind == .startError || report.kind == .shutdownError
            continuation.yield(SupervisorEvent(
                supervisor: Pid(rawValue: report.supervisor), kind: kind, child: report.child,
                childPid: report.childPid == 0 ? nil : Pid(rawValue: report.childPid),
                reason: hasReason ? ExitReason(code: report.reason, detail: report.detail) : nil))
        }
        continuation.onTermination = { _ in engine.stopListeningToSupervisors(id) }
        return stream
    }
}
