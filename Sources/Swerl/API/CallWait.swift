import CSwerlSupport
import Synchronization

/// One `Runtime.call` waiting for its answer. The call ends once, by
/// whichever comes first: the runtime's outcome (reply, timeout, the
/// server's exit, a stop), or a cancellation that `cancelNotify` accepted
/// (then the runtime's outcome never comes, and a late reply is dropped as
/// after a timeout).
///
/// A lone caller (no other `Runtime.call` of this process in flight) first
/// waits for the outcome spinning, for a few tens of microseconds: a round
/// trip to a busy runtime is shorter than putting the task to sleep and
/// waking it up again (a thread parked, then woken by the reply).
final class CallWait: Sendable {
    private struct State {
        var continuation: CheckedContinuation<[UInt8], any Error>?
        var outcome: Result<[UInt8], any Error>?
        var ref: UInt64 = 0
        var cancelled = false
    }

    private let state = Mutex(State())
    /// Set once the outcome is in `state`: what the spin reads.
    private let settled = Atomic<Bool>(false)
    private let engine: Engine

    /// Calls of this process in flight: a caller spins only when alone.
    private static let inFlight = Atomic<Int>(0)
    /// How long a lone caller spins for its outcome.
    private static let spinNanos: UInt64 = 50_000

    init(engine: Engine) { self.engine = engine }

    /// The call's ref, before anything can settle it.
    func issued(_ ref: UInt64) {
        state.withLock { $0.ref = ref }
    }

    /// The outcome: resumes the waiting task, or keeps it for `result()`.
    func end(_ outcome: Result<[UInt8], any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<[UInt8], any Error>? in
            guard state.outcome == nil, !settled.load(ordering: .relaxed) else { return nil }
            if let continuation = state.continuation {
                state.continuation = nil
                settled.store(true, ordering: .releasing)
                return continuation
            }
            state.outcome = outcome
            settled.store(true, ordering: .releasing)
            return nil
        }
        continuation?.resume(with: outcome)
    }

    /// Waits for the outcome (spinning first when this is the only call in
    /// flight) and returns it.
    nonisolated(nonsending) func result() async throws -> [UInt8] {
        if Self.inFlight.add(1, ordering: .relaxed).newValue == 1 {
            let start = monotonicNanos()
            while !settled.load(ordering: .acquiring) && monotonicNanos() &- start < Self.spinNanos {
                for _ in 0..<16 { swerlrt_cpu_relax() }
            }
        }
        defer { Self.inFlight.subtract(1, ordering: .relaxed) }
        if settled.load(ordering: .acquiring), let outcome = state.withLock({ $0.outcome }) {
            return try outcome.get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<[UInt8], any Error>? in
                if let outcome = state.outcome { return outcome }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// The task was cancelled: the call ends now with CancellationError if
    /// the runtime still can forget it (its ref is known and its outcome has
    /// not come). Also called once the call is issued, for a cancellation
    /// that came before its ref did.
    func cancel() {
        let ref = state.withLock { state -> UInt64 in
            state.cancelled = true
            return settled.load(ordering: .relaxed) ? 0 : state.ref
        }
        if ref != 0 && engine.cancelNotify(ref) == 0 {
            end(.failure(CancellationError()))
        }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }
}
