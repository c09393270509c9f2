// Supervisor restart storms (issue 3's performance requirement), written as a
// C user would: a one_for_one supervisor started with a swerl_supervisor_spec
// of permanent workers whose behaviour is a table of @convention(c)
// functions.
//
// Each worker drives its own crash, with no outside driver: its init sends
// the worker an empty message, and its handle returns -1 (a crash) on it. The
// supervisor gets the EXIT (it traps exits), restarts the worker (the
// restart runs the new incarnation's init nested in the supervisor's
// callback), and that init queues the next crash. So every restart leads to
// the next one, and the supervisor does nothing but restart.
//
// Counting: every init adds one to a shared counter. Apart from the
// children's first starts, every init is a restart, so "n restarts done" is
// "children + n inits ran", signalled by the init that gets there (its
// clock: the wake-up of the main thread is not measured). The window opens
// at the first crash (the first handle call, which takes the time once).
// Restarts all run on the supervisor's thread, so the counter is not
// contended; the crash side only reads the first-crash time.
//
// The intensity is never reached: UInt32.max - 1 restarts in a 1 ms period
// (the window keeps only the restarts of the last period, so it stays small).
//
// After the window: which_children must list every child as running with
// restart counts that add up to swerl_stats.restarts, every restart must
// have spawned a process, and nothing may escalate; then Engine.stop runs
// while the sustained storm still goes on (a runtime stopped mid-storm), its
// time printed as stop-s. refused-in-stop counts restarts the supervisor
// attempted during the stop that the stopping runtime refused to spawn.

import CSwerl
import Glibc
import Swerl
import Synchronization

enum CoreSupervisor {
    /// What every worker of one storm shares.
    struct Storm: ~Copyable {
        let engine: Unmanaged<Engine>
        /// Crashes per worker (its first `crashLimit` incarnations crash);
        /// 0: crash forever.
        let crashLimit: Int
        /// Sustained storm: signal when this many inits have run.
        let initTarget: Int
        /// Short storm: signal when this many workers are done crashing.
        let finishTarget: Int
        let inits = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        /// CLOCK_MONOTONIC of the first crash (0: none yet).
        let firstCrash = Atomic<UInt64>(0)
        /// Crashes on another thread than the incarnation's init (which
        /// ran on the supervisor's): whether the workers ever left the
        /// supervisor's scheduler.
        let crashedElsewhere = Atomic<Int>(0)
        let error = Atomic<Int32>(0)
        let latch: Unmanaged<Latch>
    }

    /// One worker's argument, given to its init at every (re)start.
    struct Worker: ~Copyable {
        let storm: UnsafePointer<Storm>
        /// Incarnations started (each runs after the previous one exited).
        let starts = Atomic<Int>(0)
        /// pthread_self() of the thread the current incarnation's init ran on.
        let initThread = Atomic<UInt>(0)
    }

    static let worker = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, _ in
            // *state stays `arg`: the handle gets the Worker too.
            let me = arg!.assumingMemoryBound(to: Worker.self)
            let storm = me.pointee.storm
            me.pointee.initThread.store(pthread_self(), ordering: .relaxed)
            let starts = me.pointee.starts.load(ordering: .relaxed) + 1
            me.pointee.starts.store(starts, ordering: .relaxed)
            let inits = storm.pointee.inits.add(1, ordering: .relaxed).newValue
            if inits == storm.pointee.initTarget { storm.pointee.latch.takeUnretainedValue().signal() }
            let limit = storm.pointee.crashLimit
            if limit != 0 && starts > limit {
                // Done crashing: stay idle.
                if starts == limit + 1,
                   storm.pointee.finished.add(1, ordering: .relaxed).newValue == storm.pointee.finishTarget {
                    storm.pointee.latch.takeUnretainedValue().signal()
                }
                return 0
            }
            let code = storm.pointee.engine.takeUnretainedValue().send(
                to: Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0, data: nil, count: 0)
            if code != 0 {
                storm.pointee.error.store(code, ordering: .relaxed)
                storm.pointee.latch.takeUnretainedValue().signal()
            }
            return 0
        },
        handle: { _, _, state in
            let me = state!.assumingMemoryBound(to: Worker.self)
            let storm = me.pointee.storm
            if me.pointee.initThread.load(ordering: .relaxed) != pthread_self() {
                storm.pointee.crashedElsewhere.add(1, ordering: .relaxed)
            }
            if storm.pointee.firstCrash.load(ordering: .relaxed) == 0 {
                _ = storm.pointee.firstCrash.compareExchange(expected: 0, desired: Clock.now(), ordering: .relaxed)
            }
            return -1
        },
        terminate: nil
    )

    enum Kind {
        /// Crash forever; the run ends after n restarts.
        case sustained(restarts: Int)
        /// Every worker crashes `crashes` times, then stays up.
        case short(crashes: Int)
    }

    /// One storm: a fresh runtime, a supervisor with `children` workers,
    /// the storm, a consistency check through which_children, then
    /// Engine.stop while the storm still runs (sustained) or after it.
    static func run(label: String, children: Int, kind: Kind, schedulers: UInt32, options: Options) -> RunResult {
        let engine = CoreRuntime.start(schedulers: schedulers)
        let latch = Latch()
        let crashLimit: Int
        let initTarget: Int
        let expectedRestarts: Int
        switch kind {
        case .sustained(let restarts):
            crashLimit = 0
            initTarget = children + restarts
            expectedRestarts = restarts
        case .short(let crashes):
            crashLimit = crashes
            initTarget = -1
            expectedRestarts = children * crashes
        }
        let storm = UnsafeMutablePointer<Storm>.allocate(capacity: 1)
        storm.initialize(to: Storm(engine: .passUnretained(engine), crashLimit: crashLimit, initTarget: initTarget,
                                   finishTarget: children, latch: .passUnretained(latch)))
        let workers = UnsafeMutablePointer<Worker>.allocate(capacity: children)
        for index in 0..<children { (workers + index).initialize(to: Worker(storm: UnsafePointer(storm))) }
        let progress = {
            "inits \(storm.pointee.inits.load(ordering: .relaxed)) (children \(children), target "
                + "\(initTarget >= 0 ? String(initTarget) : "-")), finished \(storm.pointee.finished.load(ordering: .relaxed)), "
                + "restarts \(engine.stats().restarts), escalations \(engine.stats().escalations)"
        }

        // The spec: ids and the behaviour are copied by the supervisor.
        let ids = (0..<children).map { strdup("w\($0)")! }
        defer { for id in ids { free(id) } }
        let supervisorPid: UInt64 = withUnsafePointer(to: worker) { behavior in
            var specs = [swerl_child_spec](repeating: swerl_child_spec(), count: children)
            for index in 0..<children {
                var child = defaultChildSpec()
                child.id = UnsafePointer(ids[index])
                child.behavior = behavior
                child.arg = UnsafeMutableRawPointer(workers + index)
                child.restart = UInt32(SWERL_PERMANENT)
                specs[index] = child
            }
            return specs.withUnsafeBufferPointer { buffer in
                var spec = swerl_supervisor_spec()
                spec.size = UInt32(MemoryLayout<swerl_supervisor_spec>.size)
                spec.strategy = UInt32(SWERL_ONE_FOR_ONE)
                spec.intensity = UInt32.max - 1
                spec.period_ms = 1
                spec.auto_shutdown = UInt32(SWERL_AUTO_SHUTDOWN_NEVER)
                spec.children = buffer.baseAddress
                spec.n_children = children
                let (code, pid, detail) = Watchdog.shared.guarding(
                    "\(label): startSupervisor with \(children) children", seconds: options.timeoutSeconds,
                    diagnose: CoreRuntime.diagnosis(engine)
                ) { engine.startSupervisor(&spec, name: nil) }
                if code != 0 {
                    fail("\(label): startSupervisor: \(CoreRuntime.errorName(code)) \(String(decoding: detail, as: UTF8.self))")
                }
                return pid
            }
        }

        let done = CoreRuntime.wait(latch, label, timeoutSeconds: options.timeoutSeconds, engine: engine,
                                    progress: progress)
        let code = storm.pointee.error.load(ordering: .relaxed)
        if code != 0 { fail("\(label): a worker's send to itself returned \(CoreRuntime.errorName(code))") }
        let firstCrash = storm.pointee.firstCrash.load(ordering: .relaxed)
        if firstCrash == 0 || firstCrash > done { fail("\(label): no crash before the end of the storm; \(progress())") }
        let inits = storm.pointee.inits.load(ordering: .relaxed)
        let elsewhere = storm.pointee.crashedElsewhere.load(ordering: .relaxed)

        // Consistency: every worker is listed as running (one whose EXIT is
        // still queued keeps its old pid, as in OTP), and the per-child
        // restart counts add up to the runtime's counter.
        let before = engine.stats()
        let (whichCode, infos) = Watchdog.shared.guarding(
            "\(label): which_children during the storm", seconds: options.timeoutSeconds,
            diagnose: CoreRuntime.diagnosis(engine)
        ) { engine.supervisorWhichChildren(supervisorPid) }
        let after = engine.stats()
        if whichCode != 0 { fail("\(label): which_children: \(CoreRuntime.errorName(whichCode))") }
        if infos.count != children { fail("\(label): which_children listed \(infos.count) of \(children) children") }
        let counted = infos.reduce(UInt64(0)) { $0 + $1.restarts }
        if counted < before.restarts || counted > after.restarts {
            fail("\(label): which_children counts \(counted) restarts, stats \(before.restarts)..\(after.restarts)")
        }
        if let stuck = infos.first(where: { $0.state != UInt32(SWERL_CHILD_RUNNING) }) {
            fail("\(label): a child in state \(stuck.state) (not running) after the storm")
        }
        // Every restart was a new process (the supervisor, the first starts,
        // the restarts); countRestart comes just before the spawn, so one
        // restart may be counted and not yet spawned.
        let base = UInt64(1 + children)
        if before.spawned > base + before.restarts || after.spawned + 1 < base + before.restarts {
            fail("\(label): spawned \(before.spawned)..\(after.spawned) for \(before.restarts)..\(after.restarts) "
                 + "restarts of \(children) children")
        }
        if after.escalations != 0 { fail("\(label): the supervisor gave up (\(after.escalations) escalations)") }
        if case .short = kind {
            // The storm is over: exactly children x crashes restarts, no more.
            if after.restarts != UInt64(expectedRestarts) || inits != children + expectedRestarts {
                fail("\(label): \(after.restarts) restarts and \(inits) inits, expected \(expectedRestarts) and "
                     + "\(children + expectedRestarts)")
            }
        }

        let stopSeconds = CoreRuntime.stop(engine, label, timeoutSeconds: options.timeoutSeconds)
        let final = engine.stats()
        if final.escalations != 0 { fail("\(label): the supervisor gave up during stop") }
        // Restarts the supervisor counted during Engine.stop whose spawn the
        // stopping runtime refused (ESTOPPED; each is retried, and counted,
        // until the supervisor handles its own SHUTDOWN).
        let refused = Int(final.restarts) - (Int(final.spawned) - 1 - children)
        for index in 0..<children { (workers + index).deinitialize(count: 1) }
        workers.deallocate()
        storm.deinitialize(count: 1)
        storm.deallocate()
        withExtendedLifetime(latch) {}

        let seconds = Clock.seconds(done - firstCrash)
        return RunResult(seconds: seconds, metric: Double(expectedRestarts) / seconds, extras: [
            ("off-thread-%", 100 * Double(elsewhere) / Double(max(1, inits - children))),
            ("stop-s", stopSeconds), ("refused-in-stop", Double(refused)), ("restarts-total", Double(final.restarts)),
        ])
    }

    /// swerl_child_spec_init's defaults (the C export lives in libswerl,
    /// which the benchmark does not link): a permanent worker, 5000 ms shutdown.
    private static func defaultChildSpec() -> swerl_child_spec {
        var spec = swerl_child_spec()
        spec.size = UInt32(MemoryLayout<swerl_child_spec>.size)
        spec.restart = UInt32(SWERL_PERMANENT)
        spec.shutdown_ms = 5000
        spec.type = UInt32(SWERL_WORKER)
        return spec
    }
}
