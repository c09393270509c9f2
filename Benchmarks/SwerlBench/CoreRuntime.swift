// Starting, watching and stopping an Engine the way libswerl's C exports do
// (swerl_runtime_start / swerl_runtime_stop), with a timeout on every wait.

import CSwerl
import Glibc
import Swerl
import Synchronization

enum CoreRuntime {
    /// swerl_runtime_start with `schedulers` threads (0: one per CPU).
    static func start(schedulers: UInt32) -> Engine {
        var config = swerl_config()
        config.size = UInt32(MemoryLayout<swerl_config>.size)
        config.schedulers = schedulers
        let valid = Engine.validate(config)
        if valid != 0 { fail("Engine.validate: \(errorName(valid))") }
        let engine = Engine(config: config)
        engine.start()
        startedSchedulers.store(engine.stats().schedulers, ordering: .relaxed)
        if observed.load(ordering: .relaxed) { observerLoad.withLock { $0 = ObserverLoad(engine: engine) } }
        return engine
    }

    /// Whether the runtimes started next serve an observer page that a
    /// client reads while they run (the observer.* rows).
    static let observed = Atomic<Bool>(false)
    private static let observerLoad = Mutex<ObserverLoad?>(nil)

    /// The scheduler count of the last runtime started (the protocol's
    /// RESULT line reports what the runtime actually used).
    static let startedSchedulers = Atomic<UInt32>(0)

    /// swerl_runtime_stop under the watchdog; the seconds it took.
    @discardableResult
    static func stop(_ engine: Engine, _ label: String, timeoutSeconds: Double) -> Double {
        if let load = observerLoad.withLock({ load -> ObserverLoad? in defer { load = nil }; return load }) {
            load.stop()
            if load.answered.load(ordering: .relaxed) == 0 || load.streamed.load(ordering: .relaxed) == 0 {
                fail("\(label): the observer page was not read while the run went on")
            }
        }
        let start = Clock.now()
        let code = Watchdog.shared.guarding("\(label): Engine.stop", seconds: timeoutSeconds,
                                            diagnose: diagnosis(engine)) {
            engine.stop(timeoutMillis: UInt32(min(timeoutSeconds, 3600) * 1000))
        }
        let seconds = Clock.seconds(Clock.now() - start)
        if code != 0 { fail("\(label): Engine.stop returned \(errorName(code))\n\(diagnosis(engine)())") }
        let stats = engine.stats()
        if stats.processes != 0 || stats.exited != stats.spawned {
            fail("\(label): after stop \(describe(stats))")
        }
        return seconds
    }

    /// Waits for `latch`; a timeout prints what was stuck and exits.
    static func wait(_ latch: Latch, _ label: String, timeoutSeconds: Double, engine: Engine,
                     progress: () -> String) -> UInt64 {
        if let firedAt = latch.wait(seconds: timeoutSeconds) { return firedAt }
        printError("\nswerl-bench: STUCK: \(label): no completion after \(timeoutSeconds) s\n  \(progress())\n  \(diagnosis(engine)())\n")
        fflush(nil)
        _exit(3)
    }

    static func diagnosis(_ engine: Engine) -> @Sendable () -> String {
        { "runtime: \(describe(engine.stats()))" }
    }

    static func describe(_ stats: swerl_stats) -> String {
        "schedulers=\(stats.schedulers) processes=\(stats.processes) spawned=\(stats.spawned) "
            + "exited=\(stats.exited) messages_sent=\(stats.messages_sent) dead_letters=\(stats.dead_letters)"
    }

    static func errorName(_ code: Int32) -> String {
        let names: [Int32: String] = [
            0: "OK", -1: "EINVAL", -2: "ENOPROC", -3: "ETIMEDOUT", -4: "ENAMETAKEN", -5: "EHASNAME",
            -6: "ENONAME", -7: "EFULL", -8: "ETOOBIG", -9: "ENOMEM", -10: "ESTOPPED", -11: "ECTX",
            -12: "EREF", -13: "ECALLSELF", -14: "EEXITED", -15: "ELIMIT", -16: "EINPROC", -17: "ENOTSUP",
        ]
        return names[code] ?? "error \(code)"
    }

    /// swerl_spawn with default options; fails the benchmark on error.
    static func spawn(_ engine: Engine, _ behavior: swerl_behavior, _ arg: UnsafeMutableRawPointer?) -> UInt64 {
        let (code, pid) = engine.spawn(behavior: behavior, arg: arg, flags: 0, name: nil,
                                       mailboxLimit: 0, overflow: 0, monitorRef: nil)
        if code != 0 { fail("spawn: \(errorName(code))") }
        return pid
    }

    /// swerl_send of an empty message; fails the benchmark on error.
    static func kick(_ engine: Engine, _ pid: UInt64) {
        let code = engine.send(to: pid, data: nil, count: 0)
        if code != 0 { fail("send to \(pid): \(errorName(code))") }
    }
}
