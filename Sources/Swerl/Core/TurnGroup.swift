// A turn group: processes whose turns a thread of the program's runs, not
// a scheduler (swerl_group_*): Python's dispatcher, a GUI or game loop, an
// event loop. A group process is a process like any other (mailbox, links,
// monitors, timers, supervisors); only where its turns run differs. When
// one becomes runnable it is queued here, and the thread that drives the
// group takes it: either it runs the turn with the behaviour's callbacks
// (swerl_group_run, as a scheduler would), or it is handed the turn's
// messages as a batch and handles them itself (TurnBatch,
// swerl_group_next), which spares a foreign-function call per message.
//
// One FIFO of runnable processes under a mutex (a RunFIFO, as the blocking
// pool's): a push happens only when a process
// goes from idle to runnable, and the driving thread mostly pushes to
// itself. A thread that takes a turn acts as one of the group's drivers
// (GroupDriver: a Worker, a node pool, a batch) until it is done with it:
// its thread-local worker and pool are the driver's meanwhile, so any
// thread may drive. One turn at a time, as one scheduler runs one: a
// second thread takes a turn only while the turn monitor has found a
// running one stuck (waiting in the kernel, or computing for long, as it
// finds a scheduler's), so a handler that sleeps stalls the group no more
// than it stalls a scheduler, if the program has another thread waiting to
// drive. A thread that waits spins briefly first (a wake-up across threads
// costs tens of microseconds on a VM), then sleeps on the condition; an
// event loop that cannot block polls the group's eventfd.

import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

/// One thread's means to drive a group while it runs a turn of it.
final class GroupDriver: @unchecked Sendable {
    unowned(unsafe) let group: TurnGroup
    let worker: Worker
    let pool: UnsafeMutablePointer<UInt>
    let batch = TurnBatch()
    /// The turn monitor found its turn stuck (guarded by the group's lock).
    var stuck = false

    init(group: TurnGroup, workerId: UInt) {
        self.group = group
        worker = Worker(engine: group.engine, kind: .group, id: workerId, holding: nil, groupHome: group.home)
        worker.bindContexts()
        pool = NodePool.makePool(depot: group.engine.nodeDepot)
        worker.driver = self
    }

    deinit {
        NodePool.destroyPool(pool)
    }

    /// The driver whose batch `turn` is (every swerl_turn lives in one).
    private static let registry = Lock<[UnsafeMutablePointer<swerl_turn>: Unmanaged<GroupDriver>]>([:])

    static func owning(_ turn: UnsafeMutablePointer<swerl_turn>) -> GroupDriver? {
        registry.withLock { $0[turn]?.takeUnretainedValue() }
    }

    fileprivate func register() {
        Self.registry.withLock { $0[batch.turn] = Unmanaged.passUnretained(self) }
    }

    /// The runtime is going: its turns are no longer anyone's.
    func unregister() {
        _ = Self.registry.withLock { $0.removeValue(forKey: batch.turn) }
    }
}

package final class TurnGroup: @unchecked Sendable {
    unowned(unsafe) let engine: Engine
    let index: Int
    let name: String
    /// The `lastScheduler` of its processes.
    let home: UInt32
    /// Every driver made (as many as turns ever ran at once).
    private let drivers = Lock<[GroupDriver]>([])

    /// Turns with fewer messages than this are not handed out as batches:
    /// swerl_group_take runs them with the handle callback itself
    /// (swerl_group_set_batch_min).
    let batchMinimum = Atomic<UInt32>(1)

    /// How long a thread about to wait spins first.
    static let spinNanos: UInt64 = 50_000

    private struct State {
        var runnable = RunFIFO()
        /// Drivers in a turn; those of them found stuck.
        var active = 0
        var stuck = 0
        var free: [GroupDriver] = []
        var sleepers = 0
        /// swerl_group_wake calls not yet seen by a waiting thread.
        var wakeRequests = 0
        /// The eventfd, once asked for; whether it was signalled since the
        /// queue was last seen empty.
        var eventFd: Int32 = -1
        var fdSignalled = false
        var stopped = false

        /// Whether a waiting thread may take a turn now.
        var mayTake: Bool { !runnable.isEmpty && active < 1 + stuck }
    }
    private let state = ConditionLock(State())
    /// Queued processes, for the spinning thread to look at without the lock.
    private let queued = Atomic<Int>(0)
    private let wakeRequested = Atomic<Bool>(false)
    private let spinning = Atomic<Bool>(false)
    /// The depot's settlings every driver's pool has seen (settleIdlePools).
    private let poolsSettled = Atomic<UInt>(0)

    init(engine: Engine, index: Int, name: String) {
        self.engine = engine
        self.index = index
        self.name = name
        home = ProcessBlock.groupHomeBase | UInt32(index)
    }

    deinit {
        state.withLock { if $0.eventFd >= 0 { close($0.eventFd) } }
        for driver in drivers.withLock({ $0 }) { driver.unregister() }
    }

    /// The workers of its drivers (for the runtime's counts and the monitor).
    var workers: [Worker] { drivers.withLock { $0.map(\.worker) } }

    // MARK: The queue

    /// Queues a runnable process of this group (its token taken by the caller).
    func push(_ process: ProcessPointer) {
        var signal: Int32 = -1
        let wake = state.withLock { state -> Bool in
            state.runnable.push(process)
            queued.add(1, ordering: .relaxed)
            if state.eventFd >= 0 && !state.fdSignalled {
                state.fdSignalled = true
                signal = state.eventFd
            }
            // A thread spinning for work takes it: waking a sleeper as well
            // would make turns (and the GIL) hop between threads.
            return state.sleepers > 0 && state.mayTake && !spinning.load(ordering: .acquiring)
        }
        if wake { state.update { _ in } }
        if signal >= 0 { swerlrt_eventfd_signal(signal) }
    }

    enum Taken {
        case process(ProcessPointer, GroupDriver)
        /// Nothing within the timeout, or swerl_group_wake.
        case nothing
        case stopped
    }

    /// Waits up to `timeoutMillis` (SWERL_INFINITY: no limit) for a
    /// runnable process and the right to drive; the caller then runs its
    /// turn and calls `release`.
    func take(timeoutMillis: UInt32, draining: Bool = false) -> Taken {
        // No clock read for a poll (timeout 0): the common call of a busy driver.
        let deadline: UInt64? = timeoutMillis == SWERL_INFINITY ? nil : timeoutMillis == 0 ? 0
            : monotonicNanos() &+ UInt64(timeoutMillis) * 1_000_000
        if timeoutMillis > 0 {
            spinForWork(deadline: deadline)
            // About to sleep: idle, as a scheduler is before it sleeps. A
            // driver that waits sees `.nothing` only when its wait ends (with
            // no limit: never), and the group's last burst would stay in the
            // pools meanwhile.
            if queued.load(ordering: .relaxed) == 0 { settleAfterDraining() }
        }
        var sleeping = false
        let taken = state.wait(until: { state in
            if state.stopped || state.wakeRequests > 0 || state.mayTake { return true }
            if !sleeping && timeoutMillis > 0 {
                sleeping = true
                state.sleepers += 1
            }
            return false
        }, deadline: timeoutMillis == 0 ? 0 : deadline) { state, ready -> Taken in
            if sleeping { state.sleepers -= 1 }
            // A stopped runtime's group is driven no more, but for the exits
            // its stop (or the free after a timed-out stop) still waits for.
            if state.stopped && !(draining && state.mayTake) { return .stopped }
            if state.wakeRequests > 0 {
                state.wakeRequests -= 1
                if state.wakeRequests == 0 { wakeRequested.store(false, ordering: .relaxed) }
                return .nothing
            }
            guard ready, state.mayTake, let process = state.runnable.pop() else {
                if state.runnable.isEmpty && state.fdSignalled {
                    state.fdSignalled = false
                    swerlrt_eventfd_clear(state.eventFd)
                }
                return .nothing
            }
            queued.subtract(1, ordering: .relaxed)
            state.active += 1
            let driver = state.free.popLast() ?? makeDriver()
            return .process(process, driver)
        }
        if case .nothing = taken { settleAfterDraining() }
        return taken
    }

    /// A driving thread found no turn to take: as an idle scheduler does, it
    /// starts a settling if a pool handed a batch back since the last; and
    /// the group's idle pools give all their nodes back. A settling alone
    /// is not enough for them: one made mid-drain (by a scheduler) leaves a
    /// pool that takes the rest of the drain without handing a batch back,
    /// and what it keeps pins the last chunk (2 MiB).
    private func settleAfterDraining() {
        if engine.nodeDepot.settleIfDrained() { engine.spreadSettling(from: nil) }
        state.withLock { state in
            for driver in state.free { NodePool.giveBack(driver.pool) }
        }
    }

    private func makeDriver() -> GroupDriver {
        let driver = GroupDriver(group: self, workerId: engine.nextWorkerIdentifier())
        driver.register()
        drivers.withLock { $0.append(driver) }
        return driver
    }

    /// Spins (the lock not taken) while nothing is queued, for a short
    /// while; one thread at a time (the others sleep at once: two threads
    /// spinning for one turn on a small machine slow the turn's sender).
    private func spinForWork(deadline: UInt64?) {
        guard queued.load(ordering: .relaxed) == 0,
              spinning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        defer { spinning.store(false, ordering: .releasing) }
        let until = min(monotonicNanos() &+ Self.spinNanos, deadline ?? .max)
        var rounds = 0
        while queued.load(ordering: .relaxed) == 0 && !wakeRequested.load(ordering: .relaxed) {
            swerlrt_cpu_relax()
            rounds &+= 1
            if rounds & 63 == 0 {
                if engine.isStopped || monotonicNanos() >= until { return }
            }
        }
    }

    /// The driving thread is done with the turn it took. With `goingOn`
    /// it takes the next one itself at once, so no waiting thread is woken
    /// for it (turns would hop between threads, and so would the GIL).
    func release(_ driver: GroupDriver, goingOn: Bool = false) {
        let wake = state.withLock { state -> Bool in
            state.active -= 1
            if driver.stuck {
                driver.stuck = false
                state.stuck -= 1
            }
            state.free.append(driver)
            return !goingOn && state.sleepers > 0 && state.mayTake
        }
        if wake { state.update { _ in } }
    }

    /// The pools of the drivers no thread uses now give their nodes back to
    /// the arena if they have not seen the latest settling (NodePool.settle).
    func settleIdlePools() {
        // No lock while nothing is new: an idle driver may poll often.
        let settlings = engine.nodeDepot.settlings.load(ordering: .relaxed)
        guard poolsSettled.load(ordering: .relaxed) != settlings else { return }
        state.withLock { state in
            for driver in state.free { NodePool.settle(driver.pool) }
            // A driver in a turn (or a suspended batch) settles at a later call.
            // (The lock order state, then drivers, is makeDriver's too.)
            if state.free.count == drivers.withLock({ $0.count }) {
                poolsSettled.store(settlings, ordering: .relaxed)
            }
        }
    }

    /// A held turn goes off its thread (suspended): it no longer counts as
    /// the one running, so a thread may take another meanwhile.
    func letGo(_ driver: GroupDriver) {
        let wake = state.withLock { state -> Bool in
            state.active -= 1
            if driver.stuck {
                driver.stuck = false
                state.stuck -= 1
            }
            return state.sleepers > 0 && state.mayTake
        }
        if wake { state.update { _ in } }
    }

    /// A suspended turn comes back to a thread (it runs at once: its
    /// process is in its turn).
    func hold(_ driver: GroupDriver) {
        state.withLock { $0.active += 1 }
    }

    /// The turn monitor found `driver`'s turn stuck: another thread may
    /// take a turn meanwhile.
    func markStuck(_ driver: GroupDriver) {
        state.update(wakingAll: true) { state in
            guard !driver.stuck, state.active > 0 else { return }
            driver.stuck = true
            state.stuck += 1
        }
    }

    /// swerl_group_wake: one waiting (or the next) take returns nothing.
    func wake() {
        wakeRequested.store(true, ordering: .relaxed)
        state.update(wakingAll: true) { $0.wakeRequests += 1 }
    }

    /// The runtime stopped: every waiting thread returns ESTOPPED.
    func stop() {
        state.update(wakingAll: true) { $0.stopped = true }
    }

    /// The eventfd that is readable while turns wait (made on first use).
    func eventFd() -> Int32 {
        state.withLock { state -> Int32 in
            if state.eventFd < 0 {
                state.eventFd = swerlrt_eventfd()
                if state.eventFd >= 0 && !state.runnable.isEmpty {
                    state.fdSignalled = true
                    swerlrt_eventfd_signal(state.eventFd)
                }
            }
            return state.eventFd
        }
    }

    func suspendedPids() -> [UInt64] {
        drivers.withLock { $0.compactMap { $0.batch.suspended ? $0.batch.turn.pointee.pid : nil } }
    }

    var isIdle: Bool { state.withLock { $0.active == 0 && !$0.runnable.isEmpty } }

    // MARK: Driving

    /// The calling thread's worker and pool, while it acts as the group's.
    struct Borrowed {
        var worker: UnsafeMutableRawPointer?
        var pool: UnsafeMutableRawPointer?
    }

    func beginDriving(_ driver: GroupDriver) -> Borrowed {
        let saved = Borrowed(worker: swerlrt_get_worker(), pool: swerlrt_get_pool())
        swerlrt_set_worker(Unmanaged.passUnretained(driver.worker).toOpaque())
        swerlrt_set_pool(UnsafeMutableRawPointer(driver.pool))
        driver.worker.adoptCallingThread()
        return saved
    }

    func endDriving(_ driver: GroupDriver, _ saved: Borrowed) {
        if !driver.worker.afterTurn.isEmpty { driver.worker.runAfterTurn() }
        swerlrt_set_worker(saved.worker)
        swerlrt_set_pool(saved.pool)
    }

    /// swerl_group_run: up to `maxTurns` turns, their callbacks called here.
    /// Returns how many ran, or ESTOPPED.
    func run(maxTurns: UInt32, timeoutMillis: UInt32, draining: Bool = false) -> Int32 {
        var ran: Int32 = 0
        while UInt32(ran) < maxTurns {
            switch take(timeoutMillis: ran == 0 ? timeoutMillis : 0, draining: draining) {
            case .process(let process, let driver):
                let saved = beginDriving(driver)
                driver.worker.runTurn(process)
                endDriving(driver, saved)
                ran += 1
                release(driver, goingOn: UInt32(ran) < maxTurns)
            case .nothing:
                return ran
            case .stopped:
                return ran > 0 ? ran : Code.stopped
            }
        }
        return ran
    }
}

/// The runtime's groups: a fixed table, looked up without a lock (a
/// process's home names its group's index); groups live as long as the
/// runtime.
final class TurnGroups: @unchecked Sendable {
    static let capacity = 64
    private let slots: UnsafeMutablePointer<Atomic<UInt>>
    private let made = Lock<[TurnGroup]>([])

    init() {
        slots = .allocate(capacity: Self.capacity)
        for slot in 0..<Self.capacity { (slots + slot).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: Self.capacity)
        slots.deallocate()
    }

    @inline(__always)
    func group(at index: Int) -> TurnGroup? {
        guard index < Self.capacity, let raw = UnsafeRawPointer(bitPattern: slots[index].load(ordering: .acquiring))
        else { return nil }
        return Unmanaged<TurnGroup>.fromOpaque(raw).takeUnretainedValue()
    }

    var all: [TurnGroup] { made.withLock { $0 } }

    /// A new group, or nil when the table is full.
    func add(_ make: (Int) -> TurnGroup) -> TurnGroup? {
        made.withLock { list -> TurnGroup? in
            guard list.count < Self.capacity else { return nil }
            let group = make(list.count)
            list.append(group)
            slots[group.index].store(UInt(bitPattern: Unmanaged.passUnretained(group).toOpaque()), ordering: .releasing)
            return group
        }
    }
}

extension Engine {
    /// swerl_group_create.
    package func createGroup(name: String) -> (Int32, TurnGroup?) {
        if isStopped { return (Code.stopped, nil) }
        let made = groups.add { index in
            TurnGroup(engine: self, index: index, name: name)
        }
        guard let made else {
            return (ErrorDetail.failing(Code.limit, "swerl_group_create: this runtime has \(TurnGroups.capacity) "
                + "groups, the most it can have"), nil)
        }
        return (Code.ok, made)
    }

    /// While the runtime stops, the stopping thread runs the turns of groups
    /// nobody drives now, so their processes can exit (a program whose
    /// only thread drives its group and then stops the runtime).
    func driveIdleGroups() {
        for group in groups.all where group.isIdle {
            _ = group.run(maxTurns: 256, timeoutMillis: 0, draining: true)
        }
    }

    /// Pids of group turns set aside (swerl_turn_suspend): in their turn,
    /// but on no thread, so no kill reaches them until they are finished.
    func suspendedTurns() -> [UInt64] {
        groups.all.flatMap { $0.suspendedPids() }
    }
}

// MARK: - What the C exports call

extension TurnGroup {
    /// The group behind a `swerl_group *`.
    package static func from(_ raw: OpaquePointer) -> TurnGroup {
        Unmanaged<TurnGroup>.fromOpaque(UnsafeRawPointer(raw)).takeUnretainedValue()
    }

    package var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    package var runtime: Engine { engine }

    /// EINPROC when the calling thread runs turns already: inside a
    /// callback or a batch (its own group's included), or a runtime thread.
    private func refuseNested(_ function: String) -> Int32? {
        guard Engine.isOnRuntimeThread else { return nil }
        return ErrorDetail.failing(Code.inProcess, "\(function) inside a process callback, a batch or on a runtime "
            + "thread: drive a group from a thread of your own, between turns")
    }

    package func runTurns(max: UInt32, timeoutMillis: UInt32) -> Int32 {
        if let refusal = refuseNested("swerl_group_run") { return refusal }
        if engine.isStopped { return Code.stopped }
        return run(maxTurns: max, timeoutMillis: timeoutMillis)
    }

    package func next(done: UnsafeMutablePointer<swerl_turn>?, handled: UInt32, maxMessages: UInt32,
                      timeoutMillis: UInt32, out: UnsafeMutablePointer<UnsafeMutablePointer<swerl_turn>?>) -> Int32 {
        if let done {
            let finished = Self.finish(done, handled: handled, goingOn: true)
            if finished != Code.ok { return finished }
        }
        guard maxMessages >= 1 && maxMessages <= UInt32(TurnBatch.maxMessages) else {
            return ErrorDetail.failing(Code.invalid, "swerl_group_take: max_messages is \(maxMessages), not "
                + "1..\(TurnBatch.maxMessages)")
        }
        if let held = Self.heldDriver(), held.group === self {
            return ErrorDetail.failing(Code.invalid, "swerl_group_take: this thread holds a batch of this group: "
                + "finish it first (swerl_group_finish or swerl_group_next)")
        }
        if let refusal = refuseNested("swerl_group_take") { return refusal }
        if engine.isStopped { return Code.stopped }
        let (code, turn) = takeBatch(maxMessages: Int(maxMessages), timeoutMillis: timeoutMillis)
        out.pointee = turn
        return code
    }

    /// The driver whose batch the calling thread holds, if any.
    static func heldDriver() -> GroupDriver? {
        guard let raw = swerlrt_get_worker() else { return nil }
        let worker = Unmanaged<Worker>.fromOpaque(raw).takeUnretainedValue()
        guard worker.kind == .group, let driver = worker.driver, driver.batch.heldByCaller else { return nil }
        return driver
    }

    /// swerl_group_finish: the batch must be the one the calling thread holds.
    package static func finish(_ turn: UnsafeMutablePointer<swerl_turn>, handled: UInt32,
                               goingOn: Bool = false) -> Int32 {
        guard let driver = heldDriver() else {
            return ErrorDetail.failing(Code.invalid, "swerl_group_finish: this thread holds no batch")
        }
        return driver.group.finishBatch(driver, turn, handled: handled, goingOn: goingOn)
    }

    /// swerl_turn_suspend: the calling thread must hold `turn`.
    package static func suspend(_ turn: UnsafeMutablePointer<swerl_turn>) -> Int32 {
        guard let driver = heldDriver(), driver.batch.turn == turn else {
            return ErrorDetail.failing(Code.invalid, "swerl_turn_suspend: not a batch this thread holds")
        }
        driver.group.suspendBatch(driver)
        return Code.ok
    }

    /// swerl_turn_resume: `turn` must be suspended; the calling thread
    /// must hold no batch of the group.
    package static func resume(_ turn: UnsafeMutablePointer<swerl_turn>) -> Int32 {
        guard let driver = GroupDriver.owning(turn), driver.batch.suspended else {
            return ErrorDetail.failing(Code.invalid, "swerl_turn_resume: not a suspended batch")
        }
        if let held = heldDriver(), held.group === driver.group {
            return ErrorDetail.failing(Code.invalid, "swerl_turn_resume: this thread holds a batch of the group: "
                + "finish or suspend it first")
        }
        if Engine.isInsideAnyCallback {
            return ErrorDetail.failing(Code.inProcess, "swerl_turn_resume inside a process callback")
        }
        driver.group.resumeBatch(driver)
        return Code.ok
    }

    package func readinessFd() -> Int32 {
        let fd = eventFd()
        return fd >= 0 ? fd : ErrorDetail.failing(Code.noMemory, "swerl_group_fd: no eventfd (errno \(errno))")
    }

    package func wakeDriver() { wake() }

    package func setBatchMinimum(_ messages: UInt32) -> Int32 {
        guard messages >= 1 && messages <= UInt32(TurnBatch.maxMessages) + 1 else {
            return ErrorDetail.failing(Code.invalid, "swerl_group_set_batch_min: \(messages) is not "
                + "1..\(TurnBatch.maxMessages + 1)")
        }
        batchMinimum.store(messages, ordering: .relaxed)
        return Code.ok
    }
}
