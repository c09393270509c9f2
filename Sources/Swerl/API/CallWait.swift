import Synchronization

/// One `Runtime.call` waiting for its answer: the continuation, the call's
/// ref once the runtime gave it, and whether the task was cancelled. The
/// call ends once, by whichever comes first: the runtime's outcome (reply,
/// timeout, the server's exit, a stop), or a cancellation that
/// `cancelNotify` accepted (then the runtime's outcome never comes, and a
/// late reply is dropped as after a timeout).
final class CallWait: Sendable {
    private struct State {
        var continuation: CheckedContinuation<[UInt8], any Error>?
        var ref: UInt64 = 0
        var cancelled = false
    }

    private let state = Mutex(State())
    private let engine: Engine

    init(engine: Engine) { self.engine = engine }

    /// Called before the call is issued.
    func wait(with continuation: CheckedContinuation<[UInt8], any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// The call's ref, before anything can settle it.
    func issued(_ ref: UInt64) {
        state.withLock { $0.ref = ref }
    }

    /// Ends the wait with `outcome`, unless it has ended.
    func end(_ outcome: Result<[UInt8], any Error>) {
        state.withLock { state in
            let continuation = state.continuation
            state.continuation = nil
            return continuation
        }?.resume(with: outcome)
    }

    /// The task was cancelled: the call ends now with CancellationError if
    /// the runtime still can forget it (its ref is known and its outcome has
    /// not come). Also called once the call is issued, for a cancellation
    /// that came before its ref did.
    func cancel() {
        let ref = state.withLock { state -> UInt64 in
            state.cancelled = true
            return state.continuation == nil ? 0 : state.ref
        }
        if ref != 0 && engine.cancelNotify(ref) == 0 {
            end(.failure(CancellationError()))
        }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }
}
