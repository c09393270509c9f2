// Exit signals and monitors at scale (beyond Savina; Comparison/PROTOCOL.md):
// link_cascade (an abnormal exit running down a chain of n links) and
// monitors (one exit, n DOWN messages).
//
// Written as a C user would (the core path): swerl_behavior tables of
// @convention(c) functions, swerl_spawn with SWERL_SPAWN_LINK, swerl_monitor
// and swerl_exit through the Engine calls behind them. The end of the
// cascade is seen by a monitor owned by no process (Engine.watchExit, what
// the Swift API's Runtime.awaitExit uses), whose completion fires the latch.

import CSwerl
import Glibc
import Swerl
import Synchronization

// MARK: - Link cascade

enum CoreLinkCascade {
    /// The abnormal reason the first process is killed with.
    static let reason = Int32(SWERL_REASON_USER) + 7

    struct Chain: ~Copyable {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        let n: Int
        /// Processes started so far (the chain grows one init at a time).
        let built = Atomic<Int>(0)
        let last = Atomic<UInt64>(0)
        let builtLatch: Unmanaged<Latch>
        /// terminate callbacks that saw the cascade's reason.
        let diedOfCascade = Atomic<Int>(0)
    }

    /// swerl_spawn with SWERL_SPAWN_LINK from the calling link's init.
    static func spawnNext(_ chain: UnsafeMutablePointer<Chain>) -> Int32 {
        chain.pointee.engine.takeUnretainedValue().spawn(
            behavior: link, arg: UnsafeMutableRawPointer(chain), flags: UInt32(SWERL_SPAWN_LINK), name: nil,
            mailboxLimit: 0, overflow: 0, monitorRef: nil).0
    }

    /// Each init spawns the next link of the chain, linked to itself; the
    /// n-th records itself as the last. Nothing traps exits.
    static let link = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, _ in
            let chain = arg!.assumingMemoryBound(to: Chain.self)
            let index = chain.pointee.built.add(1, ordering: .relaxed).newValue
            if index < chain.pointee.n {
                let code = spawnNext(chain)
                if code != 0 {
                    chain.pointee.completion.pointee.failed(code, .spawn)
                    chain.pointee.builtLatch.takeUnretainedValue().signal()
                }
            } else {
                chain.pointee.last.store(Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0, ordering: .relaxed)
                chain.pointee.builtLatch.takeUnretainedValue().signal()
            }
            return 0
        },
        handle: { _, _, _ in Int32(SWERL_CONTINUE) },
        terminate: { _, reason, state in
            let chain = state!.assumingMemoryBound(to: Chain.self)
            if reason == CoreLinkCascade.reason { chain.pointee.diedOfCascade.add(1, ordering: .relaxed) }
        }
    )

    /// What the no-process monitor on the last link saw.
    final class Outcome: Sendable {
        let reason = Atomic<Int32>(-1)
    }

    static func run(n: Int, schedulers: UInt32, options: Options) -> RunResult {
        guard n >= 1 else { fail("link_cascade: n must be at least 1") }
        let label = "link_cascade"
        let frame = RunFrame(label, schedulers: schedulers, options: options)
        let builtLatch = Latch()
        let chain = UnsafeMutablePointer<Chain>.allocate(capacity: 1)
        chain.initialize(to: Chain(engine: .passUnretained(frame.engine), completion: frame.completion, n: n,
                                   builtLatch: .passUnretained(builtLatch)))
        let buildStart = Clock.now()
        let first = CoreRuntime.spawn(frame.engine, link, UnsafeMutableRawPointer(chain))
        let built = CoreRuntime.wait(builtLatch, "\(label): building the chain", timeoutSeconds: options.timeoutSeconds,
                                     engine: frame.engine) { "\(chain.pointee.built.load(ordering: .relaxed)) of \(n) started" }
        frame.completion.pointee.check(label)
        let last = chain.pointee.last.load(ordering: .relaxed)

        // The monitor goes into the last link's queue before the kill starts,
        // so it is in place before any exit signal can get there.
        let outcome = Outcome()
        let completion = frame.completion.pointee.latch.takeUnretainedValue()
        _ = frame.engine.watchExit(last) { reason, _ in
            outcome.reason.store(reason, ordering: .relaxed)
            completion.signal()
        }
        let start = Clock.now()
        let code = frame.engine.exit(first, reason: reason, detail: UnsafeRawBufferPointer(start: nil, count: 0))
        if code != 0 { fail("\(label): exit of the first link: \(CoreRuntime.errorName(code))") }
        let done = frame.wait { "\(chain.pointee.diedOfCascade.load(ordering: .relaxed)) of \(n) died" }

        let seen = outcome.reason.load(ordering: .relaxed)
        if seen != reason { fail("\(label): the last link exited with reason \(seen), expected \(reason)") }
        // Every terminate ran before its process's exit signal went on.
        let died = chain.pointee.diedOfCascade.load(ordering: .relaxed)
        if died != n { fail("\(label): \(died) of \(n) links died of the cascade") }
        frame.stop()
        chain.deinitialize(count: 1)
        chain.deallocate()
        withExtendedLifetime(builtLatch) {}
        let seconds = Clock.seconds(done - start)
        return RunResult(seconds: seconds, metric: seconds * 1e9 / Double(n), extras: [
            ("ns_per_process", seconds * 1e9 / Double(n)),
            ("build_s", Clock.seconds(built - buildStart)),
        ])
    }
}

// MARK: - Monitors

enum CoreMonitors {
    struct Watch: ~Copyable {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        let n: Int
        let target: UInt64
        let ready = Atomic<Int>(0)
        let readyLatch: Unmanaged<Latch>
        let downs = Atomic<Int>(0)
        /// DOWN messages not from the target or with another reason.
        let wrong = Atomic<Int>(0)
    }

    /// Exits (normally) on its first message.
    static let target = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, _, _ in Int32(SWERL_STOP) },
        terminate: nil
    )

    /// Monitors the target in its init; counts the DOWN.
    static let watcher = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, _ in
            let watch = arg!.assumingMemoryBound(to: Watch.self)
            let (code, _) = Engine.monitor(UnsafeRawPointer(ctx), watch.pointee.target)
            if code != 0 {
                watch.pointee.completion.pointee.failed(code, .monitor)
                watch.pointee.readyLatch.takeUnretainedValue().signal()
            } else if watch.pointee.ready.add(1, ordering: .relaxed).newValue == watch.pointee.n {
                watch.pointee.readyLatch.takeUnretainedValue().signal()
            }
            return 0
        },
        handle: { _, message, state in
            let watch = state!.assumingMemoryBound(to: Watch.self)
            let message = message!
            if message.pointee.kind != UInt32(SWERL_DOWN) || message.pointee.from != watch.pointee.target
                || message.pointee.reason != Int32(SWERL_REASON_NORMAL) {
                watch.pointee.wrong.add(1, ordering: .relaxed)
            }
            if watch.pointee.downs.add(1, ordering: .relaxed).newValue == watch.pointee.n {
                watch.pointee.completion.pointee.finish()
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    static func run(n: Int, schedulers: UInt32, options: Options) -> RunResult {
        guard n >= 1 else { fail("monitors: n must be at least 1") }
        let label = "monitors"
        let frame = RunFrame(label, schedulers: schedulers, options: options)
        let readyLatch = Latch()
        let targetPid = CoreRuntime.spawn(frame.engine, target, nil)
        let watch = UnsafeMutablePointer<Watch>.allocate(capacity: 1)
        watch.initialize(to: Watch(engine: .passUnretained(frame.engine), completion: frame.completion, n: n,
                                   target: targetPid, readyLatch: .passUnretained(readyLatch)))
        let setupStart = Clock.now()
        for _ in 0..<n { _ = CoreRuntime.spawn(frame.engine, watcher, UnsafeMutableRawPointer(watch)) }
        let ready = CoreRuntime.wait(readyLatch, "\(label): setting up the monitors", timeoutSeconds: options.timeoutSeconds,
                                     engine: frame.engine) { "\(watch.pointee.ready.load(ordering: .relaxed)) of \(n) monitoring" }
        frame.completion.pointee.check(label)

        let start = Clock.now()
        CoreRuntime.kick(frame.engine, targetPid)
        let done = frame.wait { "\(watch.pointee.downs.load(ordering: .relaxed)) of \(n) DOWN handled" }

        let wrong = watch.pointee.wrong.load(ordering: .relaxed)
        if wrong != 0 { fail("\(label): \(wrong) unexpected messages (not the target's normal DOWN)") }
        frame.stop()
        watch.deinitialize(count: 1)
        watch.deallocate()
        withExtendedLifetime(readyLatch) {}
        let seconds = Clock.seconds(done - start)
        return RunResult(seconds: seconds, metric: seconds * 1e9 / Double(n), extras: [
            ("ns_per_down", seconds * 1e9 / Double(n)),
            ("setup_s", Clock.seconds(ready - setupStart)),
        ])
    }
}
