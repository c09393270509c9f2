import Synchronization

// Supervisors' reports as values (OTP's supervisor reports): what the log
// hook gets as text, handed to whoever listens (runtime.supervisorEvents()).
// Free when nobody listens: one atomic load.

final class SupervisorEvents: Sendable {
    private let listeners = Mutex<[UInt64: @Sendable (SupervisorEvent) -> Void]>([:])
    private let count = Atomic<Int>(0)
    private let nextId = Atomic<UInt64>(1)

    var hasListeners: Bool { count.load(ordering: .relaxed) > 0 }

    func listen(_ listener: @escaping @Sendable (SupervisorEvent) -> Void) -> UInt64 {
        let id = nextId.add(1, ordering: .relaxed).oldValue
        listeners.withLock { $0[id] = listener }
        count.add(1, ordering: .relaxed)
        return id
    }

    func stopListening(_ id: UInt64) {
        if listeners.withLock({ $0.removeValue(forKey: id) }) != nil { count.subtract(1, ordering: .relaxed) }
    }

    func emit(_ report: @autoclosure () -> SupervisorEvent) {
        guard hasListeners else { return }
        let report = report()
        for listener in listeners.withLock({ Array($0.values) }) { listener(report) }
    }
}

/// What a supervisor reports, as OTP's supervisor reports: a child that
/// crashed, a restart, a start that failed (and is retried), a child that
/// did not stop cleanly, the restart intensity reached (the supervisor
/// gives up).
public struct SupervisorEvent: Sendable, Hashable {
    /// Which report it is.
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

    /// The supervisor that reports.
    public let supervisor: Pid
    /// Which report it is.
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
    ///
    /// - Returns: The reports from now on, of every supervisor of this
    ///   runtime; ending the iteration stops them.
    public func supervisorEvents() -> AsyncStream<SupervisorEvent> {
        let (stream, continuation) = AsyncStream<SupervisorEvent>.makeStream()
        let engine = self.engine
        let id = engine.supervisorEvents.listen { continuation.yield($0) }
        continuation.onTermination = { _ in engine.supervisorEvents.stopListening(id) }
        return stream
    }
}
