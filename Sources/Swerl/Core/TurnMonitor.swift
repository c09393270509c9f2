// The turn monitor: one thread per runtime that watches for turns that do
// not end (a handler that sleeps, waits for I/O or loops), as BEAM's
// long_schedule system monitor does, and routes around them.
//
// Every `tick` it reads each scheduler worker's turn counter and running pid
// (see Worker). A turn seen unchanged for `takeoverNanos` has its scheduler
// (run queue, timers, loop) handed to a spare worker, so nothing else waits
// behind it (see Worker for the hand-over protocol); one seen for the
// long-turn limit is reported through the log hook, and again when it ends.
// When every scheduler sleeps, nothing can get stuck: the monitor sleeps too
// until a scheduler wakes up.
//
// Spares: workers waiting for a scheduler to run, created when a takeover
// needs one (at most SWERL_TAKEOVER_THREADS_MAX beyond the schedulers), and
// ended after `spareIdleNanos` without one. A worker that lost its scheduler
// becomes a spare once its handler returns.

import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

final class TurnMonitor: @unchecked Sendable {
    unowned(unsafe) let engine: Engine

    static let tick: UInt64 = 5_000_000
    /// A handler waiting in the kernel (sleep, I/O, a lock) this long has
    /// its scheduler taken over: it will not use the CPU meanwhile.
    static let takeoverNanos: UInt64 = 10_000_000
    /// A handler computing this long too (a loop that does not return): a
    /// legitimately heavy callback rarely runs this long, and taking its
    /// scheduler over sooner would only add a thread competing for the CPUs.
    static let spinTakeoverNanos: UInt64 = 100_000_000
    static let spareIdleNanos: UInt64 = 10_000_000_000
    static let maxExtraThreads = Int(SWERL_TAKEOVER_THREADS_MAX)

    /// Turns longer than this are reported (0: never).
    let longTurnNanos = Atomic<UInt64>(100_000_000)

    private struct Control {
        var stopping = false
        /// Sleeping until a scheduler wakes up.
        var idle = false
        var woken = false
    }
    private let control = ConditionLock(Control())
    /// Mirrors control.idle for schedulers' cheap check (Dekker with `sleeping`).
    private let idleFlag = Atomic<Bool>(false)

    private struct Spares {
        var parked: [ObjectIdentifier: Worker] = [:]
        var assignments: [ObjectIdentifier: Scheduler] = [:]
        /// Scheduler workers beyond one per scheduler.
        var extraThreads = 0
        var exit = false
    }
    private let spares = ConditionLock(Spares())

    /// What the monitor knows of one worker's current turn.
    private struct Watch {
        var turns: UInt64
        var pid: UInt64
        var since: UInt64
        /// The thread's CPU time when the turn was first seen.
        var cpuSince: UInt64?
        var reported = false
        var tookOver = false
        /// A sleeping scheduler was offered the processes queued behind it.
        var shared = false
    }
    private var watches: [ObjectIdentifier: Watch] = [:]
    /// Per scheduler worker: its turn count and CPU time at the last tick.
    private var lastTick: [ObjectIdentifier: (turns: UInt64, cpu: UInt64, at: UInt64)] = [:]
    /// At most this many turns in a tick of a busy thread: turns of 100 us
    /// or more, long enough that running some on another core pays for the
    /// move and the wake-ups across cores it brings.
    static let fewTurnsPerTick: UInt64 = 50
    /// When the turns watched now began (pid -> monotonic ns), for others
    /// to read (a stop that names what it could not stop).
    private let turnStarts = Lock<[UInt64: UInt64]>([:])

    private var thread = pthread_t()
    private var started = false

    init(engine: Engine) {
        self.engine = engine
    }

    // MARK: Thread

    func start() {
        let me = Unmanaged.passRetained(self).toOpaque()
        _ = Unmanaged.passRetained(engine)
        let status = pthread_create(&thread, nil, { raw in
            let monitor = Unmanaged<TurnMonitor>.fromOpaque(raw!).takeRetainedValue()
            let engine = Unmanaged.passUnretained(monitor.engine)
            monitor.main()
            engine.release()
            return nil
        }, me)
        precondition(status == 0, "swerl: cannot create the turn monitor thread (\(status))")
        started = true
    }

    /// Set on the monitor's thread: a runtime thread, where nothing may wait
    /// for the runtime to stop.
    static var isMonitorThread: Bool { swerlrt_on_monitor_thread() != 0 }

    private func main() {
        // No thread hooks here: they are for threads that run callbacks.
        swerlrt_set_monitor_thread(1)
        while waitForNextTick() {
            check(now: monotonicNanos())
            engine.reapFinishedWorkers()
        }
        swerlrt_set_monitor_thread(0)
    }

    func stopAndWakeSpares() {
        control.update { $0.stopping = true }
        spares.update(wakingAll: true) { $0.exit = true }
    }

    func join() {
        if started { pthread_join(thread, nil) }
        started = false
    }

    /// Sleeps one tick, or, when there is nothing to watch, until a
    /// scheduler wakes up. false: the runtime is stopping.
    private func waitForNextTick() -> Bool {
        if nothingToWatch() {
            idleFlag.store(true, ordering: .sequentiallyConsistent)
            // Checked again after publishing the flag (Dekker with Scheduler.idle).
            if nothingToWatch() {
                let running = control.wait(until: { $0.stopping || $0.woken }, deadline: nil) { state, _ -> Bool in
                    state.woken = false
                    return !state.stopping
                }
                idleFlag.store(false, ordering: .relaxed)
                return running
            }
            idleFlag.store(false, ordering: .relaxed)
        }
        let deadline = monotonicNanos() + Self.tick
        return control.wait(until: { $0.stopping }, deadline: deadline) { state, _ in !state.stopping }
    }

    /// Every scheduler sleeps, and no turn goes on (a worker whose scheduler
    /// was taken over may still be in its long turn, to report when it ends).
    private func nothingToWatch() -> Bool {
        engine.schedulers.allSatisfy { $0.sleeping.load(ordering: .sequentiallyConsistent) }
            && engine.countingWorkers.allSatisfy {
                $0.kind == .blocking || $0.runningPid.load(ordering: .relaxed) == 0
            }
    }

    /// Called by a scheduler that leaves its sleep.
    @inline(__always)
    func schedulerWokeUp() {
        if idleFlag.load(ordering: .sequentiallyConsistent) {
            control.update { $0.woken = true }
        }
    }

    // MARK: Watching turns

    private func check(now: UInt64) {
        let holders = Dictionary(engine.schedulers.compactMap { scheduler in
            scheduler.owner.map { (ObjectIdentifier($0), scheduler) }
        }, uniquingKeysWith: { first, _ in first })
        var seen = Set<ObjectIdentifier>()
        // Scheduler workers, and the groups' (reported, never taken over:
        // a group's thread is the program's).
        for worker in engine.countingWorkers where worker.kind != .blocking {
            let key = ObjectIdentifier(worker)
            seen.insert(key)
            let pid = worker.runningPid.load(ordering: .relaxed)
            let turns = worker.turns.load(ordering: .relaxed)
            if let scheduler = holders[key] { watchPace(worker, key, turns: turns, now: now, scheduler) }
            guard var watch = watches[key], pid != 0, watch.turns == turns, watch.pid == pid else {
                if let ended = watches[key], ended.reported { reportEnd(ended, now: now) }
                watches[key] = pid == 0 ? nil : Watch(turns: turns, pid: pid, since: now, cpuSince: worker.cpuNanos())
                continue
            }
            let elapsed = now - watch.since
            // A turn seen at two ticks (5 ms at least): what waits behind it
            // may run on a sleeping core meanwhile.
            if !watch.shared, let scheduler = holders[key] {
                watch.shared = true
                offerShare(scheduler)
            }
            let limit = longTurnNanos.load(ordering: .relaxed)
            if !watch.reported && limit != 0 && elapsed >= limit {
                watch.reported = true
                reportLong(watch, elapsed: elapsed, scheduler: holders[key], group: worker.group)
            }
            if !watch.tookOver && elapsed >= Self.takeoverNanos, isStuck(worker, watch, elapsed: elapsed) {
                if let scheduler = holders[key] {
                    watch.tookOver = takeOver(scheduler, from: worker)
                } else if let driver = worker.driver {
                    driver.group.markStuck(driver)  // another thread may drive meanwhile
                    watch.tookOver = true
                }
            }
            watches[key] = watch
        }
        watches = watches.filter { seen.contains($0.key) }
        lastTick = lastTick.filter { seen.contains($0.key) }
        let starts = Dictionary(watches.values.map { ($0.pid, $0.since) }, uniquingKeysWith: min)
        turnStarts.withLock { $0 = starts }
    }

    /// A scheduler's pace over the last tick: busy all along with few
    /// turns (long ones, 100 us or more on average), it shares its queue
    /// with a sleeping scheduler. Turns of microseconds never are: on two
    /// cores a move and the wake-ups across cores it brings cost more.
    private func watchPace(_ worker: Worker, _ key: ObjectIdentifier, turns: UInt64, now: UInt64,
                           _ scheduler: Scheduler) {
        guard let cpu = worker.cpuNanos() else { return }
        defer { lastTick[key] = (turns, cpu, now) }
        guard let last = lastTick[key], now > last.at else { return }
        let ran = turns &- last.turns
        let wall = now - last.at
        // Busy: on a CPU three quarters of the time at least.
        if ran > 0 && ran <= Self.fewTurnsPerTick * max(1, wall / Self.tick) && (cpu &- last.cpu) * 4 >= wall * 3 {
            offerShare(scheduler)
        }
    }

    /// Asks `scheduler` to hand half its queue to a sleeping scheduler, if
    /// one sleeps (Scheduler.askToShare).
    private func offerShare(_ scheduler: Scheduler) {
        if let sleeper = engine.schedulers.first(where: { $0 !== scheduler && $0.sleeping.load(ordering: .relaxed) }) {
            scheduler.askToShare(with: sleeper)
        }
    }

    /// When the turn `pid` is in now began, as far as the monitor has seen it.
    func turnStart(of pid: UInt64) -> UInt64? {
        turnStarts.withLock { $0[pid] }
    }

    /// Whether a long turn is stuck in the handler: it waits in the kernel
    /// (sleep, I/O, a lock: after takeoverNanos), or it computes (its thread
    /// on a CPU a quarter of the time at least: after spinTakeoverNanos). A
    /// thread the OS merely preempted on a busy machine is not stuck: another
    /// thread would not run sooner, and each one costs memory.
    private func isStuck(_ worker: Worker, _ watch: Watch, elapsed: UInt64) -> Bool {
        if worker.isWaiting() ?? true { return true }
        guard elapsed >= Self.spinTakeoverNanos else { return false }
        guard let start = watch.cpuSince, let cpu = worker.cpuNanos() else { return true }
        return cpu - min(cpu, start) >= elapsed / 4
    }

    private func describe(_ pid: UInt64) -> String {
        "process \(Pids.format(pid))" + (engine.registry.name(of: pid).map { " ('\($0)')" } ?? "")
    }

    private func reportLong(_ watch: Watch, elapsed: UInt64, scheduler: Scheduler?, group: TurnGroup?) {
        let place = scheduler.map { " on scheduler \($0.index); the other processes there run on another thread "
            + "meanwhile" } ?? group.map { " in turn group '\($0.name)'; the group's other processes wait for it" }
            ?? ""
        engine.report(level: SWERL_LOG_WARNING, "long turn: \(describe(watch.pid)) has been in one turn of its "
            + "handler for \(millis(elapsed)) ms\(place). A handler that blocks (sleep, I/O, a long loop) belongs "
            + "in a blocking process (SWERL_SPAWN_BLOCKING)")
    }

    private func reportEnd(_ watch: Watch, now: UInt64) {
        engine.report(level: SWERL_LOG_WARNING,
                      "long turn: \(describe(watch.pid)) returned after about \(millis(now - watch.since)) ms")
    }

    // MARK: Takeover

    /// Hands `scheduler` to a spare if its holder is in user code now (the
    /// protocol of Worker). true: done.
    private func takeOver(_ scheduler: Scheduler, from holder: Worker) -> Bool {
        guard holder.detachRequest.load(ordering: .acquiring) == Worker.Detach.none else { return false }
        let available = spares.withLock { $0.parked.count > 0 || $0.extraThreads < Self.maxExtraThreads }
        guard available else { return false }
        holder.detachRequest.store(Worker.Detach.asked, ordering: .sequentiallyConsistent)
        var fenced = true
        if engine.asymmetricFence {
            fenced = swerlrt_heavy_fence() == 0  // without it the holder's side is unfenced: keep out
        } else {
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        }
        guard fenced, holder.inUserCode.load(ordering: .sequentiallyConsistent) else {
            holder.detachRequest.store(Worker.Detach.kept, ordering: .releasing)
            return false
        }
        holder.detachRequest.store(Worker.Detach.taken, ordering: .releasing)
        give(scheduler)
        return true
    }

    /// Gives a scheduler nobody holds to a parked spare, or a new worker.
    private func give(_ scheduler: Scheduler) {
        let parked = spares.update(wakingAll: true) { state -> Worker? in
            if let (key, worker) = state.parked.first {
                state.parked[key] = nil
                state.assignments[key] = scheduler
                return worker
            }
            state.extraThreads += 1
            return nil
        }
        if let parked {
            scheduler.owner = parked
            return
        }
        let worker = engine.makeWorker(kind: .scheduler, holding: scheduler)
        scheduler.owner = worker
        worker.start()
    }

    /// A scheduler worker without a scheduler waits here for one. nil: the
    /// runtime is stopping, or no scheduler came for a while (the thread ends).
    func parkSpare(_ worker: Worker) -> Scheduler? {
        let key = ObjectIdentifier(worker)
        spares.withLock { $0.parked[key] = worker }
        return spares.wait(until: { $0.assignments[key] != nil || $0.exit },
                           deadline: monotonicNanos() + Self.spareIdleNanos) { state, _ -> Scheduler? in
            if let scheduler = state.assignments.removeValue(forKey: key) { return scheduler }
            state.parked[key] = nil
            state.extraThreads -= 1
            return nil
        }
    }
}

extension Engine {
    package func setLongTurn(millis: UInt32) -> Int32 {
        if isStopped { return Code.stopped }
        turnMonitor.longTurnNanos.store(UInt64(millis) * 1_000_000, ordering: .relaxed)
        return Code.ok
    }
}
