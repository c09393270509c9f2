// The blocking pool: threads made for waiting, which run the turns of
// blocking processes (SWERL_SPAWN_BLOCKING, swerl_set_blocking), as
// BEAM's dirty schedulers and tokio's spawn_blocking do. A blocking process
// is a process like any other (mailbox, links, monitors, timers,
// supervisors); only where its turns run differs: never on a scheduler, so
// its handler may sleep, do blocking I/O or wait in swerl_call.
//
// One FIFO of runnable blocking processes under a mutex (waiting threads are
// the point here, so a condition variable is the right tool): a RunFIFO. Threads are
// started when a process is queued and none is idle, up to `maxThreads`,
// and end after `idleNanos` without work.

import Glibc
import Synchronization

final class BlockingPool: @unchecked Sendable {
    unowned(unsafe) let engine: Engine
    static let idleNanos: UInt64 = 10_000_000_000
    static let defaultMaxThreads = 64

    private struct State {
        var runnable = RunFIFO()
        var queued = 0
        var threads = 0
        var idle = 0
        var maxThreads = BlockingPool.defaultMaxThreads
        var stopping = false
    }
    private let state = ConditionLock(State())

    init(engine: Engine) {
        self.engine = engine
    }

    func setMaxThreads(_ count: Int) {
        state.withLock { $0.maxThreads = max(1, count) }
    }

    /// Queues a runnable blocking process (its token taken by the caller).
    func push(_ process: ProcessPointer) {
        let startThread = state.update { state -> Bool in
            state.runnable.push(process)
            state.queued += 1
            // Idle threads each take one process: start one more for each
            // process they cannot take.
            guard state.queued > state.idle && state.threads < state.maxThreads && !state.stopping else { return false }
            state.threads += 1
            return true
        }
        if startThread { engine.makeWorker(kind: .blocking, holding: nil).start() }
    }

    /// A pool thread's life: run queued turns; end when the runtime stops or
    /// after a while without work.
    func serve(_ worker: Worker) {
        while let process = next() {
            worker.runTurn(process)
        }
    }

    private func next() -> ProcessPointer? {
        state.withLock { $0.idle += 1 }
        let deadline = monotonicNanos() + Self.idleNanos
        return state.wait(until: { !$0.runnable.isEmpty || $0.stopping }, deadline: deadline) { state, _ -> ProcessPointer? in
            state.idle -= 1
            guard !state.stopping, let process = state.runnable.pop() else {
                state.threads -= 1
                return nil
            }
            state.queued -= 1
            return process
        }
    }

    func stop() {
        state.update(wakingAll: true) { $0.stopping = true }
    }
}

extension Engine {
    package func setBlockingThreads(_ count: UInt32) -> Int32 {
        if isStopped { return Code.stopped }
        guard count > 0 else { return ErrorDetail.failing(Code.invalid, "the blocking pool needs at least 1 thread") }
        blockingPool.setMaxThreads(Int(count))
        return Code.ok
    }
}
