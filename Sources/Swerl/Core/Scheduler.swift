// A scheduler: one thread, one libuv loop, one run queue.
//
// The run queue has two parts. The local FIFO is touched only by this thread
// (no atomics): processes made runnable by processes running here go there,
// which keeps communicating processes on one scheduler. The injection queue
// (an InboundQueue) takes processes made runnable from other threads.
//
// Sleeping: when both are empty the scheduler spins briefly (a wake-up
// across threads costs ~30-50 us here), then sets `sleeping` and blocks in
// uv_run until a uv_async_t wake or its uv_timer_t. A sender wakes it only
// if `sleeping` is set: `sleeping` is stored and the injection queue checked
// with sequentially consistent operations on both sides (Dekker), so a push
// is never missed.
//
// Stealing: an idle scheduler asks the busiest one for work by setting its
// `stealRequest`; the busy one hands over half its local queue at its next
// turn. No thread ever touches another's local queue.

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
    let stealRequest = Atomic<Int>(-1)
    /// Local queue length, published for thieves (relaxed).
    let publishedLoad = Atomic<Int>(0)
    /// Timers added from other threads, merged into `heap` by this thread.
    let foreignTimers = Lock<[TimerEntry]>([])
    let hasForeignTimers = Atomic<Bool>(false)
    /// Messages sent from this thread (owner stores, anyone loads).
    let messagesSent = Atomic<UInt64>(0)
    /// This thread's credit against the memory ceiling (MemoryBudget; owner
    /// stores, anyone loads).
    let memoryCredit = Atomic<Int>(0)

    // --- owner only -------------------------------------------------------
    private var localFirst: ProcessPointer? = nil
    private var localLast: ProcessPointer? = nil
    private var localCount = 0
    var heap = TimerHeap()
    /// Callback contexts, rotated per callback so a ctx kept past its
    /// callback does not match the current one.
    let contexts: UnsafeMutablePointer<CallbackContext>
    private var contextCursor = 0
    static let contextRing = 64
    /// Counts callbacks, to make each one's ctx token unique.
    private var callbackCount: UInt = 0

    let loop: UnsafeMutablePointer<uv_loop_t>
    let wake: UnsafeMutablePointer<uv_async_t>
    let timer: UnsafeMutablePointer<uv_timer_t>
    private var thread = pthread_t()

    /// Work a process may do in one turn before others get a chance, counted
    /// like BEAM's reductions: one per callback plus one per message it sent
    /// (so a sender cannot flood a receiver that handles one per unit).
    static let turnBudget = 4000
    /// How long an idle scheduler spins before it sleeps.
    static let spinNanos: UInt64 = 40_000

    init(index: Int, engine: Engine) {
        self.index = index
        self.engine = engine
        contexts = .allocate(capacity: Self.contextRing)
        loop = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        timer = .allocate(capacity: 1)
        uv_loop_init(loop)
        uv_async_init(loop, wake, { _ in })
        uv_timer_init(loop, timer)
        let unmanagedEngine = Unmanaged.passUnretained(engine)
        for slot in 0..<Self.contextRing {
            (contexts + slot).initialize(to: CallbackContext(process: nil, engine: unmanagedEngine,
                                                             scheduler: nil, previous: nil, previousToken: 0))
        }
    }

    deinit {
        uv_close(UnsafeMutableRawPointer(wake).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_close(UnsafeMutableRawPointer(timer).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_run(loop, UV_RUN_DEFAULT)
        uv_loop_close(loop)
        loop.deallocate()
        wake.deallocate()
        timer.deallocate()
        contexts.deinitialize(count: Self.contextRing)
        contexts.deallocate()
    }

    // MARK: Thread

    func start() {
        for slot in 0..<Self.contextRing {
            contexts[slot].scheduler = Unmanaged.passUnretained(self)
        }
        let me = Unmanaged.passRetained(self).toOpaque()
        // The thread keeps the runtime alive while it runs, so the runtime is
        // never freed under a scheduler, whoever lets go of it last.
        _ = Unmanaged.passRetained(engine)
        let status = pthread_create(&thread, nil, { raw in
            let scheduler = Unmanaged<Scheduler>.fromOpaque(raw!).takeRetainedValue()
            scheduler.run()
            Unmanaged.passUnretained(scheduler.engine).release()
            return nil
        }, me)
        precondition(status == 0, "swerl: cannot create a scheduler thread (\(status))")
    }

    func join() {
        pthread_join(thread, nil)
    }

    /// Counts a message sent from this scheduler's thread (no RMW: one writer).
    @inline(__always)
    func countSent() {
        messagesSent.store(messagesSent.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    func wakeUp() {
        uv_async_send(wake)
    }

    private func run() {
        swerlrt_set_scheduler(Unmanaged.passUnretained(self).toOpaque())
        let pool = NodePool.makePool(depot: engine.nodeDepot)
        swerlrt_set_pool(pool)
        defer {
            swerlrt_set_pool(nil)
            NodePool.destroyPool(pool)
        }
        engine.config.on_thread_start?(engine.config.thread_user)
        var turns = 0
        while true {
            if let process = nextProcess() {
                runTurn(process)
                turns &+= 1
                if turns & 63 == 0 { periodicChores() }
                continue
            }
            if engine.schedulersShouldExit.load(ordering: .acquiring) { break }
            idle()
        }
        engine.config.on_thread_stop?(engine.config.thread_user)
        swerlrt_set_scheduler(nil)
    }

    // MARK: Run queue

    /// Makes `process` runnable on this scheduler (this thread only).
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

    @inline(__always)
    private func nextProcess() -> ProcessPointer? {
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

    // MARK: Idle, timers, stealing

    private func periodicChores() {
        // Processes made runnable from other threads join the back of the
        // local queue here too, not only once it runs dry: processes that
        // keep each other busy on this scheduler (a restart loop, a sender
        // that sends to itself) would otherwise starve them for good.
        takeInjected()
        publishedLoad.store(localCount, ordering: .relaxed)
        answerStealRequest()
        if hasForeignTimers.load(ordering: .relaxed) { mergeForeignTimers() }
        if !heap.isEmpty { fireDueTimers(now: monotonicNanos()) }
    }

    private func idle() {
        publishedLoad.store(0, ordering: .relaxed)
        stealRequest.store(-1, ordering: .relaxed)  // an idle scheduler has nothing to hand over
        if hasForeignTimers.load(ordering: .acquiring) { mergeForeignTimers() }
        if !heap.isEmpty {
            fireDueTimers(now: monotonicNanos())
            if localFirst != nil { return }
        }
        let spinStart = monotonicNanos()
        while monotonicNanos() - spinStart < Self.spinNanos {
            if InboundQueue.hasNodes(injection) || hasForeignTimers.load(ordering: .relaxed) { return }
            if engine.schedulersShouldExit.load(ordering: .relaxed) { return }
            for _ in 0..<32 { swerlrt_cpu_relax() }
        }
        askForWork()
        sleeping.store(true, ordering: .sequentiallyConsistent)
        if injection.load(ordering: .sequentiallyConsistent) != 0
            || hasForeignTimers.load(ordering: .sequentiallyConsistent)
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
            uv_timer_start(timer, { handle in uv_stop(handle!.pointee.loop) }, (deadline - now + 999_999) / 1_000_000, 0)
        } else {
            uv_timer_stop(timer)
        }
        uv_run(loop, UV_RUN_ONCE)
        sleeping.store(false, ordering: .relaxed)
    }

    /// Adds a timer to this scheduler's heap (its own thread) or hands it
    /// over (other threads).
    func addTimer(_ entry: TimerEntry) {
        if isCurrentThread {
            heap.insert(entry)
            return
        }
        foreignTimers.withLock { $0.append(entry) }
        hasForeignTimers.store(true, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) { wakeUp() }
    }

    var isCurrentThread: Bool {
        swerlrt_get_scheduler() == Unmanaged.passUnretained(self).toOpaque()
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

    private func answerStealRequest() {
        let thief = stealRequest.load(ordering: .relaxed)
        guard thief >= 0 else { return }
        stealRequest.store(-1, ordering: .relaxed)
        let share = localCount / 2
        guard share > 0 else { return }
        let target = engine.schedulers[thief]
        for _ in 0..<share {
            guard let process = nextProcess() else { break }
            target.pushRemote(process)
        }
    }

    // MARK: Contexts

    /// Enters a callback context for `process`. Contexts nest (a supervisor
    /// starting a child runs the child's init inside its own callback), so a
    /// slot still in use is skipped and the previous context is restored on
    /// leaving.
    @inline(__always)
    func enterContext(_ process: ProcessPointer) -> UnsafeMutablePointer<CallbackContext> {
        repeat {
            contextCursor = (contextCursor + 1) & (Self.contextRing - 1)
        } while contexts[contextCursor].process != nil
        let context = contexts + contextCursor
        context.pointee.process = process
        context.pointee.previous = swerlrt_get_ctx()
        context.pointee.previousToken = swerlrt_get_token()
        swerlrt_set_ctx(UnsafeMutableRawPointer(context))
        return context
    }

    /// The `swerl_ctx *` for the next callback in `context`: a fresh token
    /// (scheduler index in the high bits, a callback count below), so a ctx
    /// kept from an earlier callback no longer validates.
    @inline(__always)
    func callbackToken(_ context: UnsafeMutablePointer<CallbackContext>) -> OpaquePointer {
        callbackCount &+= 1
        let token = (UInt(index + 1) << 44) | (callbackCount & ((1 << 44) - 1))
        swerlrt_set_token(token)
        return OpaquePointer(bitPattern: token)!
    }

    @inline(__always)
    func leaveContext(_ context: UnsafeMutablePointer<CallbackContext>) {
        context.pointee.process = nil
        swerlrt_set_ctx(context.pointee.previous)
        swerlrt_set_token(context.pointee.previousToken)
        context.pointee.previous = nil
    }
}
