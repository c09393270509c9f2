import Synchronization

// Supervisors' reports as values (OTP's supervisor reports): what the log
// hook gets as text, handed to whoever listens (the Swift API's
// supervisorEvents stream). Free when nobody listens: one atomic load.

/// One supervisor report.
package struct SupervisorReport: Sendable {
    package enum Kind: Sendable { case childTerminated, restarting, startError, shutdownError, maxIntensity }
    package let supervisor: UInt64
    package let kind: Kind
    package let child: String?
    package let childPid: UInt64
    package let reason: Int32
    package let detail: [UInt8]
}

final class SupervisorEvents: Sendable {
    private let listeners = Mutex<[UInt64: @Sendable (SupervisorReport) -> Void]>([:])
    private let count = Atomic<Int>(0)
    private let nextId = Atomic<UInt64>(1)

    var hasListeners: Bool { count.load(ordering: .relaxed) > 0 }

    func listen(_ listener: @escaping @Sendable (SupervisorReport) -> Void) -> UInt64 {
        let id = nextId.add(1, ordering: .relaxed).oldValue
        listeners.withLock { $0[id] = listener }
        count.add(1, ordering: .relaxed)
        return id
    }

    func stopListening(_ id: UInt64) {
        if listeners.withLock({ $0.removeValue(forKey: id) }) != nil { count.subtract(1, ordering: .relaxed) }
    }

    func emit(_ report: @autoclosure () -> SupervisorReport) {
        guard hasListeners else { return }
        let report = report()
        for listener in listeners.withLock({ Array($0.values) }) { listener(report) }
    }
}

extension Engine {
    package func listenToSupervisors(_ listener: @escaping @Sendable (SupervisorReport) -> Void) -> UInt64 {
        supervisorEvents.listen(listener)
    }

    package func stopListeningToSupervisors(_ id: UInt64) { supervisorEvents.stopListening(id) }
}
