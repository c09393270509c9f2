// Spawn N idle processes, from inside one process and from the main thread.
//
// The children are what a C user would write: a swerl_behavior whose handle
// returns SWERL_CONTINUE. Their init counts (one relaxed atomic add) so the
// main thread learns when the last one has actually started; a spawn that
// only returned a pid would hide the work the runtime defers to the INIT
// signal. Per-spawn time is therefore "first spawn call .. last init ran".

import CSwerl
import Glibc
import Swerl
import Synchronization

enum CoreSpawn {
    struct StartCounter: ~Copyable {
        let started = Atomic<Int>(0)
        let target: Int
        let latch: Unmanaged<Latch>
    }

    static let idle = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { _, arg, _ in
            let counter = arg!.assumingMemoryBound(to: StartCounter.self)
            if counter.pointee.started.add(1, ordering: .relaxed).newValue == counter.pointee.target {
                counter.pointee.latch.takeUnretainedValue().signal()
            }
            return 0
        },
        handle: { _, _, _ in Int32(SWERL_CONTINUE) },
        terminate: nil
    )

    /// The process that spawns the children, all in one callback.
    struct Spawner: ~Copyable {
        let engine: Unmanaged<Engine>
        let count: Int
        let counter: UnsafeMutablePointer<StartCounter>
        let spawned = Atomic<Int>(0)
        let loopEnd = Atomic<UInt64>(0)
        let lastChild = Atomic<UInt64>(0)
        let error = Atomic<Int32>(0)
    }

    static let spawner = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, _, state in
            let me = state!.assumingMemoryBound(to: Spawner.self)
            let engine = me.pointee.engine.takeUnretainedValue()
            let arg = UnsafeMutableRawPointer(me.pointee.counter)
            var child: UInt64 = 0
            for index in 0..<me.pointee.count {
                let (code, pid) = engine.spawn(behavior: idle, arg: arg, flags: 0, name: nil,
                                               mailboxLimit: 0, overflow: 0, monitorRef: nil)
                if code != 0 {
                    me.pointee.error.store(code, ordering: .relaxed)
                    me.pointee.spawned.store(index, ordering: .relaxed)
                    me.pointee.counter.pointee.latch.takeUnretainedValue().signal()
                    return Int32(SWERL_CONTINUE)
                }
                child = pid
            }
            me.pointee.loopEnd.store(Clock.now(), ordering: .relaxed)
            me.pointee.lastChild.store(child, ordering: .relaxed)
            me.pointee.spawned.store(me.pointee.count, ordering: .releasing)
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    struct Outcome {
        var result: RunResult
        var rssBytesPerProcess: Double
        var accountedBytesPerProcess: Double
    }

    /// One run: a fresh runtime (one scheduler per CPU), n idle processes,
    /// memory read while they are all alive, then a clean stop.
    static func run(n: Int, fromProcess: Bool, options: Options) -> Outcome {
        let label = fromProcess ? "spawn.process" : "spawn.main"
        Memory.trim()
        let rssBefore = Memory.residentBytes()
        let engine = CoreRuntime.start(schedulers: UInt32(options.spawnSchedulers))
        let latch = Latch()
        let counter = UnsafeMutablePointer<StartCounter>.allocate(capacity: 1)
        counter.initialize(to: StartCounter(target: n, latch: .passUnretained(latch)))
        var spawnerState: UnsafeMutablePointer<Spawner>? = nil
        let progress = { "children started \(counter.pointee.started.load(ordering: .relaxed)) of \(n)"
            + (spawnerState.map { ", spawned \($0.pointee.spawned.load(ordering: .relaxed))" } ?? "") }

        let start: UInt64
        var loopEnd: UInt64
        var lastChild: UInt64
        if fromProcess {
            let state = UnsafeMutablePointer<Spawner>.allocate(capacity: 1)
            state.initialize(to: Spawner(engine: .passUnretained(engine), count: n, counter: counter))
            spawnerState = state
            let pid = CoreRuntime.spawn(engine, spawner, UnsafeMutableRawPointer(state))
            start = Clock.now()
            CoreRuntime.kick(engine, pid)
            _ = CoreRuntime.wait(latch, label, timeoutSeconds: options.timeoutSeconds, engine: engine, progress: progress)
            let code = state.pointee.error.load(ordering: .relaxed)
            if code != 0 {
                fail("\(label): spawn #\(state.pointee.spawned.load(ordering: .relaxed)) returned \(CoreRuntime.errorName(code))")
            }
            // The last child can start before the spawner's callback returns.
            while state.pointee.spawned.load(ordering: .acquiring) != n {
                if Clock.seconds(Clock.now() - start) > options.timeoutSeconds {
                    fail("\(label): spawner never finished its loop; \(progress())")
                }
                sched_yield()
            }
            loopEnd = state.pointee.loopEnd.load(ordering: .relaxed)
            lastChild = state.pointee.lastChild.load(ordering: .relaxed)
        } else {
            start = Clock.now()
            lastChild = 0
            Watchdog.shared.guarding("\(label): spawn loop on the main thread", seconds: options.timeoutSeconds,
                                     diagnose: CoreRuntime.diagnosis(engine)) {
                let arg = UnsafeMutableRawPointer(counter)
                for index in 0..<n {
                    let (code, pid) = engine.spawn(behavior: idle, arg: arg, flags: 0, name: nil,
                                                   mailboxLimit: 0, overflow: 0, monitorRef: nil)
                    if code != 0 { fail("\(label): spawn #\(index) returned \(CoreRuntime.errorName(code))") }
                    lastChild = pid
                }
            }
            loopEnd = Clock.now()
        }
        let done = CoreRuntime.wait(latch, label, timeoutSeconds: options.timeoutSeconds, engine: engine,
                                    progress: progress)
        loopEnd = min(loopEnd, done)

        Memory.trim()  // as before the spawns: count what the processes hold, not malloc's caches
        let rssAfter = Memory.residentBytes()
        let (infoCode, info) = engine.processInfo(lastChild)
        if infoCode != 0 { fail("\(label): processInfo of an idle child: \(CoreRuntime.errorName(infoCode))") }
        let stats = engine.stats()
        let expected = UInt64(n + (fromProcess ? 1 : 0))
        if stats.processes != expected || stats.spawned != expected {
            fail("\(label): expected \(expected) live processes, \(CoreRuntime.describe(stats))")
        }

        let stopSeconds = CoreRuntime.stop(engine, label, timeoutSeconds: options.timeoutSeconds)
        spawnerState?.deinitialize(count: 1)
        spawnerState?.deallocate()
        counter.deinitialize(count: 1)
        counter.deallocate()
        withExtendedLifetime(latch) {}

        let seconds = Clock.seconds(done - start)
        let rssPerProcess = Double(rssAfter - rssBefore) / Double(n)
        return Outcome(
            result: RunResult(seconds: seconds, metric: seconds * 1e6 / Double(n), extras: [
                ("spawn-calls-us", Clock.seconds(loopEnd - start) * 1e6 / Double(n)),
                ("rss-B/proc", rssPerProcess),
                ("info.memory-B", Double(info.memory)),
                ("stop-s", stopSeconds),
            ]),
            rssBytesPerProcess: rssPerProcess,
            accountedBytesPerProcess: Double(info.memory))
    }
}
