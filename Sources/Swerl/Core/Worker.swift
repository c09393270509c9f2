// A worker: one thread that runs process turns. Schedulers and threads are
// apart, as Go's Ps and Ms are: a Scheduler is a run queue, a timer heap and
// a libuv loop; a Worker is the thread running one. Scheduler i is run by
// worker i until a handler blocks; then the TurnMonitor hands the scheduler,
// with its queue, timers and loop, to a spare worker, while the blocked one
// keeps the handler. When that handler returns, its worker ends the turn
// without the scheduler and becomes a spare itself. Workers of the
// blocking pool hold no scheduler at all, nor does the worker of a turn
// group, whose thread is not ours: the program's thread that drives the
// group acts as it while it does (TurnGroup).
//
// Handing a scheduler over safely. Its holder touches the scheduler's
// holder-only state (local queue, heap, loop) without atomics, but never
// while it runs user code (a handler): it sets `inUserCode` before each
// callback and clears it after, and a runtime call a handler makes that
// must touch the scheduler (making a process runnable here, adding a timer)
// clears it for the time of that call. After clearing it the holder reads
// `detachRequest`; the monitor sets `detachRequest`, then reads `inUserCode`
// and takes the scheduler only if it is set. That is Dekker's pattern, and
// each side needs a fence between its store and its load. The holder's side
// runs on every message, the monitor's a few times a second at most, so the
// fence is asymmetric: a compiler barrier for the holder, membarrier(2) (a
// barrier on every CPU running one of our threads) for the monitor. Where
// membarrier is missing, both sides use full fences.

import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

final class Worker: @unchecked Sendable {
    enum Kind { case scheduler, blocking, group }

    /// detachRequest values.
    enum Detach {
        static let none: UInt8 = 0
        /// The monitor wants the scheduler; its decision follows.
        static let asked: UInt8 = 1
        /// The scheduler was handed to another worker.
        static let taken: UInt8 = 2
        /// The holder was in runtime code: it keeps the scheduler.
        static let kept: UInt8 = 3
    }

    unowned(unsafe) let engine: Engine
    let kind: Kind
    /// Unique among the runtime's live workers (the high bits of ctx tokens).
    let id: UInt
    /// Whether membarrier makes the holder's side of the fence a compiler barrier.
    let asymmetricFence: Bool
    /// A turn group's worker: the `lastScheduler` of its processes.
    let groupHome: UInt32
    /// A turn group's worker: its driver (which owns the worker).
    unowned(unsafe) var driver: GroupDriver? = nil
    var group: TurnGroup? { driver?.group }

    // --- published: the owner stores, others load -------------------------
    /// Messages sent from this thread (one writer: no RMW).
    let messagesSent = Atomic<UInt64>(0)
    /// This thread's credit against the memory ceiling (MemoryBudget).
    let memoryCredit = Atomic<Int>(0)
    /// Turns started; with `runningPid`, how the monitor sees a long turn.
    let turns = Atomic<UInt64>(0)
    /// The process in a turn here now (0 between turns).
    let runningPid = Atomic<UInt64>(0)
    let inUserCode = Atomic<Bool>(false)
    let detachRequest = Atomic<UInt8>(Detach.none)
    /// Set as the thread's last act: it can be joined at once.
    let finished = Atomic<Bool>(false)
    /// The thread's kernel id and CPU-time clock, for the monitor to tell a
    /// handler that blocks or spins from a thread the OS merely preempted.
    let threadId = Atomic<Int32>(0)
    let cpuClock = Atomic<Int32>(0)

    // --- the owner's own ------------------------------------------------------
    /// The scheduler this worker runs, if any.
    private(set) var held: Unmanaged<Scheduler>?
    /// Callback contexts, rotated per callback so a ctx kept past its
    /// callback does not match the current one.
    let contexts: UnsafeMutablePointer<CallbackContext>
    private var contextCursor = 0
    static let contextRing = 64
    /// Counts callbacks, to make each one's ctx token unique.
    private var callbackCount: UInt = 0

    private var thread = pthread_t()
    /// Work left for the end of the current turn, on this thread (the
    /// distribution layer's output, written once per turn: see
    /// Engine.flushAfterTurn).
    var afterTurn: [() -> Void] = []

    /// Work a process may do in one turn before others get a chance, counted
    /// like BEAM's reductions: one per callback plus one per message it sent
    /// (so a sender cannot flood a receiver that handles one per unit).
    static let turnBudget = 4000

    init(engine: Engine, kind: Kind, id: UInt, holding scheduler: Scheduler?, groupHome: UInt32 = 0) {
        self.engine = engine
        self.kind = kind
        self.id = id
        self.groupHome = groupHome
        asymmetricFence = engine.asymmetricFence
        held = scheduler.map { Unmanaged.passUnretained($0) }
        contexts = .allocate(capacity: Self.contextRing)
        let unmanagedEngine = Unmanaged.passUnretained(engine)
        for slot in 0..<Self.contextRing {
            (contexts + slot).initialize(to: CallbackContext(process: nil, engine: unmanagedEngine,
                                                             worker: nil, previous: nil, previousToken: 0))
        }
    }

    deinit {
        contexts.deinitialize(count: Self.contextRing)
        contexts.deallocate()
    }

    /// The worker of the calling thread, if it is one of `engine`'s.
    @inline(__always)
    static func current(of engine: Engine) -> Worker? {
        guard let raw = swerlrt_get_worker() else { return nil }
        let worker = Unmanaged<Worker>.fromOpaque(raw).takeUnretainedValue()
        return worker.engine === engine ? worker : nil
    }

    // MARK: Thread

    func start() {
        bindContexts()
        let me = Unmanaged.passRetained(self).toOpaque()
        // The thread keeps the runtime alive while it runs, so the runtime is
        // never freed under a worker, whoever lets go of it last.
        _ = Unmanaged.passRetained(engine)
        let status = pthread_create(&thread, nil, { raw in
            let worker = Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue()
            let engine = Unmanaged.passUnretained(worker.engine)
            worker.main()
            engine.release()
            return nil
        }, me)
        precondition(status == 0, "swerl: cannot create a runtime thread (\(status))")
    }

    /// Points the callback contexts at this worker (before its first turn).
    func bindContexts() {
        for slot in 0..<Self.contextRing {
            contexts[slot].worker = Unmanaged.passUnretained(self)
        }
    }

    func join() {
        pthread_join(thread, nil)
    }

    private func main() {
        swerlrt_set_worker(Unmanaged.passUnretained(self).toOpaque())
        var clock = clockid_t()
        if pthread_getcpuclockid(pthread_self(), &clock) == 0 { cpuClock.store(clock, ordering: .relaxed) }
        threadId.store(swerlrt_gettid(), ordering: .releasing)
        let pool = NodePool.makePool(depot: engine.nodeDepot)
        swerlrt_set_pool(pool)
        engine.config.on_thread_start?(engine.config.thread_user)
        switch kind {
        case .scheduler:
            while true {
                if held != nil { runScheduler() }
                if engine.schedulersShouldExit.load(ordering: .acquiring) { break }
                // Lost the scheduler to a takeover: wait to be given one,
                // holding no spare nodes meanwhile (they would pin the
                // arena's chunks for as long as this thread is parked).
                NodePool.giveBack(pool)
                guard let next = engine.turnMonitor.parkSpare(self) else { break }
                held = Unmanaged.passUnretained(next)
            }
        case .blocking:
            engine.blockingPool.serve(self)
        case .group:
            preconditionFailure("a turn group's worker has no thread of its own")
        }
        engine.config.on_thread_stop?(engine.config.thread_user)
        engine.retire(self)
        swerlrt_set_pool(nil)
        NodePool.destroyPool(pool)
        swerlrt_set_worker(nil)
        finished.store(true, ordering: .releasing)
    }

    /// Runs the held scheduler until the runtime stops or the scheduler is
    /// taken over.
    private func runScheduler() {
        var count = 0
        while let scheduler = held {
            if let process = scheduler._withUnsafeGuaranteedRef({ $0.nextProcess() }) {
                runTurn(process)
                if !afterTurn.isEmpty { runAfterTurn() }
                if let still = held, still._withUnsafeGuaranteedRef({ $0.shareAfterTurn.load(ordering: .acquiring) }) {
                    still._withUnsafeGuaranteedRef { $0.shareAfterLongTurn() }
                }
                count &+= 1
                if count & 63 == 0, let still = held { still._withUnsafeGuaranteedRef { $0.periodicChores() } }
                continue
            }
            if engine.schedulersShouldExit.load(ordering: .acquiring) {
                scheduler._withUnsafeGuaranteedRef { $0.sockets.closeAll() }
                return
            }
            scheduler._withUnsafeGuaranteedRef { $0.idle() }
        }
    }

    func runAfterTurn() {
        let work = afterTurn
        afterTurn.removeAll(keepingCapacity: true)
        for item in work { item() }
    }

    /// A group driver's worker: the thread that drives now is the one the
    /// monitor looks at (its kernel id and CPU clock).
    func adoptCallingThread() {
        let tid = swerlrt_gettid()
        if threadId.load(ordering: .relaxed) != tid {
            var clock = clockid_t()
            if pthread_getcpuclockid(pthread_self(), &clock) == 0 { cpuClock.store(clock, ordering: .relaxed) }
            threadId.store(tid, ordering: .releasing)
        }
    }

    /// Whether a process whose `lastScheduler` is `home` has its turns run by
    /// this worker's kind.
    @inline(__always)
    func runsHere(_ home: UInt32) -> Bool {
        switch kind {
        case .scheduler: return ProcessBlock.isSchedulerHome(home)
        case .blocking: return home == ProcessBlock.blockingHome
        case .group: return home == groupHome
        }
    }

    /// CPU time this worker's thread has used (any thread may ask), or nil.
    func cpuNanos() -> UInt64? {
        guard threadId.load(ordering: .acquiring) != 0 else { return nil }
        var time = timespec()
        guard clock_gettime(cpuClock.load(ordering: .relaxed), &time) == 0 else { return nil }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Whether the thread waits in the kernel now (sleep, I/O, a lock), not
    /// running or ready to run; nil when it cannot be told.
    func isWaiting() -> Bool? {
        let tid = threadId.load(ordering: .acquiring)
        guard tid != 0 else { return nil }
        let state = swerlrt_thread_is_waiting(tid)
        return state < 0 ? nil : state == 1
    }

    /// Counts a message sent from this thread (no RMW: one writer).
    @inline(__always)
    func countSent() {
        messagesSent.store(messagesSent.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    // MARK: User code and the held scheduler

    @inline(__always)
    private func enterUserCode() {
        // releasing: what this thread did to the scheduler happens-before a
        // monitor that sees the flag and hands the scheduler on.
        inUserCode.store(true, ordering: .releasing)
    }

    @inline(__always)
    private func leaveUserCode() {
        inUserCode.store(false, ordering: .relaxed)
        if asymmetricFence {
            swerlrt_compiler_fence()
        } else {
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        }
        if detachRequest.load(ordering: .acquiring) != Detach.none { resolveDetach() }
    }

    /// The monitor asked for the scheduler: wait for its decision.
    @inline(never)
    private func resolveDetach() {
        var request = detachRequest.load(ordering: .acquiring)
        while request == Detach.asked {
            _ = sched_yield()
            request = detachRequest.load(ordering: .acquiring)
        }
        if request == Detach.taken { held = nil }
        detachRequest.store(Detach.none, ordering: .releasing)
    }

    /// Before a callback (user code), during which the scheduler may be
    /// handed over. Returns whether the thread was in user code already (a
    /// callback nested in another, as a supervisor starting a child).
    @inline(__always)
    func beginUserCode() -> Bool {
        let outer = inUserCode.load(ordering: .relaxed)
        if !outer { enterUserCode() }
        return outer
    }

    /// After the callback: back to runtime code (with the scheduler, if still
    /// held), or back to the outer callback.
    @inline(__always)
    func endUserCode(_ outer: Bool) {
        leaveUserCode()
        if outer && held != nil { enterUserCode() }
    }

    /// Makes `process` (whose token the caller took) runnable: on the held
    /// scheduler, else at its home. From a handler's runtime call it leaves
    /// user code for the time of the push (see the protocol above).
    @inline(__always)
    func makeRunnable(_ process: ProcessPointer) {
        let fromUserCode = inUserCode.load(ordering: .relaxed)
        if fromUserCode { leaveUserCode() }
        if let scheduler = held {
            scheduler._withUnsafeGuaranteedRef { $0.pushLocal(process) }
            if fromUserCode { enterUserCode() }
        } else {
            engine.pushHome(process)
        }
    }

    /// Adds a timer: to the held scheduler's heap, or another's.
    func addTimer(_ entry: TimerEntry) {
        let fromUserCode = inUserCode.load(ordering: .relaxed)
        if fromUserCode { leaveUserCode() }
        if let scheduler = held {
            scheduler._withUnsafeGuaranteedRef { $0.heap.insert(entry) }
            if fromUserCode { enterUserCode() }
        } else {
            engine.addForeignTimer(entry)
        }
    }

    /// Runs `body` now if this worker holds scheduler `index` (leaving user
    /// code for the time of it, as makeRunnable does); false otherwise.
    func runHolding(_ index: Int, _ body: () -> Void) -> Bool {
        let fromUserCode = inUserCode.load(ordering: .relaxed)
        if fromUserCode { leaveUserCode() }
        guard let scheduler = held, scheduler._withUnsafeGuaranteedRef({ $0.index }) == index else {
            if fromUserCode && held != nil { enterUserCode() }
            return false
        }
        body()
        if fromUserCode && held != nil { enterUserCode() }
        return true
    }

    /// The index of the held scheduler, if any (a spawn's home).
    var schedulerIndex: Int? { held?._withUnsafeGuaranteedRef { $0.index } }

    /// Whether this worker holds a scheduler.
    var holdsScheduler: Bool { held != nil }

    /// Takes a scheduler over (the monitor gave it to this spare).
    func adopt(_ scheduler: Scheduler) {
        held = Unmanaged.passUnretained(scheduler)
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
    /// (worker id in the high bits, a callback count below), so a ctx kept
    /// from an earlier callback no longer validates.
    @inline(__always)
    func callbackToken(_ context: UnsafeMutablePointer<CallbackContext>) -> OpaquePointer {
        callbackCount &+= 1
        let token = ((id & 0xFFFFF) << 44) | (callbackCount & ((1 << 44) - 1))
        swerlrt_set_token(token)
        return OpaquePointer(bitPattern: token)!
    }

    @inline(__always)
    func leaveContext(_ context: UnsafeMutablePointer<CallbackContext>) {
        context.pointee.process = nil
        context.pointee.batch = nil
        swerlrt_set_ctx(context.pointee.previous)
        swerlrt_set_token(context.pointee.previousToken)
        context.pointee.previous = nil
    }
}
