// A scheduler: one run queue, one timer heap, one libuv loop. A Worker (a
// thread) runs it; normally the same worker for the runtime's whole life,
// but the TurnMonitor may hand a scheduler to another worker when its worker
// is stuck in a handler (see Worker). Everything marked "holder only" is
// touched by the worker holding the scheduler, never while that worker runs
// user code.
//
// The run queue has two parts. The local FIFO is touched only by the holder
// (no atomics): processes made runnable by processes running here go there,
// which keeps communicating processes on one scheduler. The injection queue
// (an InboundQueue) takes processes made runnable from other threads.
//
// Sleeping: when both are empty the holder spins briefly (a wake-up across
// threads costs ~30-50 us here), then sets `sleeping` and blocks in uv_run
// until a uv_async_t wake or its uv_timer_t. A sender wakes it only if
// `sleeping` is set: `sleeping` is stored and the injection queue checked
// with sequentially consistent operations on both sides (Dekker), so a push
// is never missed.
//
// Stealing: an idle scheduler asks the busiest one for work by setting its
// `stealRequest`; the busy one hands over half its local queue at its next
// chores. No thread ever touches another's local queue. An idle scheduler
// asks as it goes to sleep; a queue that grows later is seen by the turn
// monitor only if its turns are long (seen at two of its ticks): it asks on
// behalf of a sleeping scheduler, answered when that turn ends. Short turns
// are never shared so: on two cores a move costs more than they do.

import CLibUV
import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

final class Scheduler: @unchecked Sendable {
    let index: Int
    unowned(unsafe) let engine: Engine

    // --- shared -----------------------------------------------------------
    let injection = Atomic<UInt>(0)
    let sleeping = Atomic<Bool>(false)
    /// While sleeping: when it wakes by itself (its earliest timer; .max:
    /// never). A timer added from another thread wakes it only if earlier.
    let sleepUntil = Atomic<UInt64>(.max)
    let stealRequest = Atomic<Int>(-1)
    /// Set by the turn monitor during a long turn: the holder answers the
    /// steal request as soon as the turn ends, handing over even one
    /// process (see askToShare).
    let shareAfterTurn = Atomic<Bool>(false)
    /// Local queue length, published for thieves (relaxed).
    let publishedLoad = Atomic<Int>(0)
    /// Timers added from other threads, merged into `heap` by the holder.
    let foreignTimers = Lock<[TimerEntry]>([])
    let hasForeignTimers = Atomic<Bool>(false)
    /// When it was made, and how long it has waited for work since (its
    /// holder adds each wait): busy = wall - idle, Erlang's
    /// scheduler_wall_time. Measured per wait, not per turn, so a loaded
    /// scheduler reads no clock for it.
    let startNanos = monotonicNanos()
    let idleNanos = Atomic<UInt64>(0)
    /// When the wait in progress began (0: none), so a long sleep counts
    /// as idle while it lasts.
    let idleSince = Atomic<UInt64>(0)

    /// Busy and wall time since it was made (reads from any thread).
    func usage() -> (busy: UInt64, wall: UInt64) {
        let now = monotonicNanos()
        let since = idleSince.load(ordering: .acquiring)
        var idle = idleNanos.load(ordering: .acquiring)
        if since != 0 && now > since { idle &+= now - since }
        let wall = now &- startNanos
        return (wall > idle ? wall - idle : 0, wall)
    }
    /// The worker running this scheduler: set at start, then changed only by
    /// the TurnMonitor's thread (which alone reads it afterwards).
    var owner: Worker? = nil

    // --- holder only --------------------------------------------------------
    private var localFirst: ProcessPointer? = nil
    private var localLast: ProcessPointer? = nil
    private var localCount = 0
    var heap = TimerHeap()

    let loop: UnsafeMutablePointer<uv_loop_t>
    let wake: UnsafeMutablePointer<uv_async_t>
    let timer: UnsafeMutablePointer<uv_timer_t>
    /// The sockets on this loop (the loop's data points to it).
    private(set) var sockets: LoopSockets! = nil

    /// How long an idle scheduler spins before it sleeps.
    static let spinNanos: UInt64 = 40_000
    /// How often a busy scheduler looks at its sockets, at most.
    static let socketPollNanos: UInt64 = 100_000
    private var lastSocketPoll: UInt64 = 0

    init(index: Int, engine: Engine) {
        self.index = index
        self.engine = engine
        loop = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        timer = .allocate(capacity: 1)
        uv_loop_init(loop)
        uv_async_init(loop, wake, { _ in })
        uv_timer_init(loop, timer)
        sockets = LoopSockets(scheduler: self)
        loop.pointee.data = Unmanaged.passUnretained(sockets).toOpaque()
    }

    deinit {
        uv_close(UnsafeMutableRawPointer(wake).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_close(UnsafeMutableRawPointer(timer).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_run(loop, UV_RUN_DEFAULT)
        uv_loop_close(loop)
        loop.deallocate()
        wake.deallocate()
        timer.deallocate()
    }

    func wakeUp() {
        uv_async_send(wake)
    }

    // MARK: Run queue

    /// Makes `process` runnable on this scheduler (holder only).
    @inline(__always)
    func pushLocal(_ process: ProcessPointer) {
        process.pointee.runLink.store(0, ordering: .relaxed)
        if let last = localLast {
            last.pointee.runLink.store(UInt(bitPattern: process), ordering: .relaxed)
        } else {
            localFirst = process
        }
        localLast = process
        localCount += 1
    }

    /// Makes `process` runnable here from another thread.
    func pushRemote(_ process: ProcessPointer) {
        _ = InboundQueue.push(injection, UnsafeMutableRawPointer(process))
        // sequentiallyConsistent: the Dekker pair with idle()'s store of `sleeping`.
        if sleeping.load(ordering: .sequentiallyConsistent) { wakeUp() }
    }

    /// The next runnable process (holder only).
    @inline(__always)
    func nextProcess() -> ProcessPointer? {
        if localFirst == nil { takeInjected() }
        guard let process = localFirst else { return nil }
        localFirst = ProcessPointer(bitPattern: process.pointee.runLink.load(ordering: .relaxed))
        if localFirst == nil { localLast = nil }
        localCount -= 1
        return process
    }

    private func takeInjected() {
        guard let chain = InboundQueue.takeAll(injection, leave: 0) else { return }
        var cursor: UnsafeMutableRawPointer? = chain.first
        while let raw = cursor {
            cursor = UnsafeMutableRawPointer(bitPattern: InboundQueue.link(raw).pointee.load(ordering: .relaxed))
            pushLocal(raw.assumingMemoryBound(to: ProcessBlock.self))
        }
    }

    // MARK: Idle, timers, stealing (holder only)

    func periodicChores() {
        // Processes made runnable from other threads join the back of the
        // local queue here too, not only once it runs dry: processes that
        // keep each other busy on this scheduler (a restart loop, a sender
        // that sends to itself) would otherwise starve them for good.
        takeInjected()
        publishedLoad.store(localCount, ordering: .relaxed)
        answerStealRequest()
        if hasForeignTimers.load(ordering: .relaxed) { mergeForeignTimers() }
        if !heap.isEmpty { fireDueTimers(now: monotonicNanos()) }
        // Sockets are polled while the scheduler is busy too (BEAM's
        // check_io between reductions), at most every socketPollNanos: a
        // poll is a system call (~1-2 us), and every 64 turns it made a busy
        // scheduler's ping-pong 1.5x slower with one idle socket open.
        sockets.runCommands()
        if !sockets.isEmpty {
            let now = monotonicNanos()
            if now &- lastSocketPoll >= Self.socketPollNanos {
                lastSocketPoll = now
                uv_run(loop, UV_RUN_NOWAIT)
            }
        }
    }

    func idle() {
        publishedLoad.store(0, ordering: .relaxed)
        stealRequest.store(-1, ordering: .relaxed)  // an idle scheduler has nothing to hand over
        if hasForeignTimers.load(ordering: .acquiring) { mergeForeignTimers() }
        sockets.runCommands()
        if localFirst != nil { return }
        if !heap.isEmpty {
            fireDueTimers(now: monotonicNanos())
            if localFirst != nil { return }
        }
        let spinStart = monotonicNanos()
        idleSince.store(spinStart, ordering: .releasing)
        defer {
            idleNanos.add(monotonicNanos() &- spinStart, ordering: .releasing)
            idleSince.store(0, ordering: .releasing)
        }
        while monotonicNanos() - spinStart < Self.spinNanos {
            if InboundQueue.hasNodes(injection) || hasForeignTimers.load(ordering: .relaxed)
                || sockets.hasCommands.load(ordering: .relaxed) { return }
            if engine.schedulersShouldExit.load(ordering: .relaxed) { return }
            // Sockets are looked at while spinning too: a request that comes
            // meanwhile is read now, not after a wake-up from epoll.
            if !sockets.isEmpty {
                uv_run(loop, UV_RUN_NOWAIT)
                if localFirst != nil { return }
            }
            for _ in 0..<32 { swerlrt_cpu_relax() }
        }
        askForWork()
        if NodePool.settle() { engine.spreadSettling(from: self) }
        // Published before `sleeping` (whose store releases it): a thread
        // adding a timer that sees us asleep sees when we will wake.
        sleepUntil.store(heap.nextDeadline ?? .max, ordering: .relaxed)
        sleeping.store(true, ordering: .sequentiallyConsistent)
        if injection.load(ordering: .sequentiallyConsistent) != 0
            || hasForeignTimers.load(ordering: .sequentiallyConsistent)
            || sockets.hasCommands.load(ordering: .sequentiallyConsistent)
            || engine.schedulersShouldExit.load(ordering: .sequentiallyConsistent)
        {
            sleeping.store(false, ordering: .relaxed)
            return
        }
        if let deadline = heap.nextDeadline {
            let now = monotonicNanos()
            guard deadline > now else {
                sleeping.store(false, ordering: .relaxed)
                return
            }
            // The callback stops the loop: a timer that expires before uv_run
            // polls would otherwise fire in its pre-poll phase and leave the
            // poll waiting forever.
            uv_update_time(loop)
            uv_timer_start(timer, { handle in uv_stop(handle!.pointee.loop) }, Deadline.millisLeft(until: deadline, now: now), 0)
        } else {
            uv_timer_stop(timer)
        }
        uv_run(loop, UV_RUN_ONCE)
        sockets.runCommands()
        // sequentiallyConsistent: the Dekker pair with the turn monitor's
        // decision to sleep until a scheduler is busy again.
        sleeping.store(false, ordering: .sequentiallyConsistent)
        engine.turnMonitor.schedulerWokeUp()
    }

    /// Adds a timer from a thread that does not hold this scheduler. A
    /// sleeping scheduler is woken only if the timer is due before it wakes
    /// by itself (then it merges the timer): a call's timeout armed from
    /// outside would otherwise cost a cross-thread wake-up per call.
    func addForeignTimer(_ entry: TimerEntry) {
        foreignTimers.withLock { $0.append(entry) }
        hasForeignTimers.store(true, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent)
            && entry.deadline < sleepUntil.load(ordering: .relaxed) { wakeUp() }
    }

    private func mergeForeignTimers() {
        hasForeignTimers.store(false, ordering: .sequentiallyConsistent)
        let entries = foreignTimers.withLock { pending -> [TimerEntry] in
            let taken = pending
            pending.removeAll()
            return taken
        }
        for entry in entries { heap.insert(entry) }
    }

    private func fireDueTimers(now: UInt64) {
        while let entry = heap.popDue(now: now) {
            engine.fire(entry)
        }
    }

    private func askForWork() {
        var busiest: Scheduler? = nil
        var busiestLoad = 1
        for other in engine.schedulers where other !== self {
            let load = other.publishedLoad.load(ordering: .relaxed)
            if load > busiestLoad {
                busiest = other
                busiestLoad = load
            }
        }
        guard let busiest else { return }
        _ = busiest.stealRequest.compareExchange(expected: -1, desired: index, ordering: .relaxed)
    }

    /// From the turn monitor, while this scheduler's holder is in a long
    /// turn and `sleeper` sleeps: the processes queued behind the turn go
    /// to `sleeper` once it ends. A sleeping scheduler asks for work only as
    /// it goes idle, so without this a queue that grew later (processes
    /// spawned by processes, each computing for milliseconds) ran on one
    /// core while the other slept.
    func askToShare(with sleeper: Scheduler) {
        _ = stealRequest.compareExchange(expected: -1, desired: sleeper.index, ordering: .relaxed)
        shareAfterTurn.store(true, ordering: .releasing)
    }

    /// After a turn the monitor found long (holder only).
    func shareAfterLongTurn() {
        shareAfterTurn.store(false, ordering: .relaxed)
        answerStealRequest(atLeastOne: true)
    }

    private func answerStealRequest(atLeastOne: Bool = false) {
        let thief = stealRequest.load(ordering: .relaxed)
        guard thief >= 0 else { return }
        stealRequest.store(-1, ordering: .relaxed)
        // Half the queue; behind a long turn even a single process, which
        // would otherwise wait for the next one.
        let share = atLeastOne ? (localCount + 1) / 2 : localCount / 2
        guard share > 0 else { return }
        let target = engine.schedulers[thief]
        for _ in 0..<share {
            guard let process = nextProcess() else { break }
            target.pushRemote(process)
        }
    }
}
