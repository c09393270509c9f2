// Savina's fork-join benchmarks: throughput (fjthrput), creation
// (fjcreate) and the recursive fib. Definitions: Comparison/PROTOCOL.md.
//
// Written as a C user would (the core path): swerl_behavior tables of
// @convention(c) functions, plain-struct state, Engine calls. The driver is
// a process, and it sends (fjthrput) or spawns (fjcreate) at most
// `--batch`-ish messages or processes per callback, then sends itself a
// message to go on, the way a BEAM process is preempted after its
// reductions: the others get turns in between and the mailboxes stay short.
// fjthrput's time starts once its actors exist (at the driver's kick, as the
// Erlang peer's does); fjcreate's and fib's include their spawns, which are
// what they measure.

import CSwerl
import Glibc
import Swerl
import Synchronization

private let work: UInt32 = 1      // driver -> worker
private let done: UInt32 = 2      // worker -> driver: value = the result's bits (fjcreate), or its count
private let more: UInt32 = 3      // driver -> itself: go on
private let request: UInt32 = 4   // fib: parent -> child: value = k
private let answer: UInt32 = 5    // fib: child -> parent: value = fib(k)

// MARK: - Fork-join throughput

enum SavinaForkJoinThroughput {
    struct Actor {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        let driver: UInt64
        let n: Int
        let theta: Double
        var processed = 0
        var sum = 0.0
    }

    struct Driver {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        let actors: UnsafePointer<UInt64>
        let count: Int
        let n: Int
        /// Rounds (one message to every actor) per callback.
        let roundsPerTurn: Int
        var round = 0
        var finished = 0
    }

    static let actor = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Actor.self)
            guard let r = Savina.compute(me.pointee.theta) else {
                me.pointee.completion.pointee.failed(0, .computation)
                return Int32(SWERL_CONTINUE)
            }
            me.pointee.sum += r
            me.pointee.processed += 1
            if me.pointee.processed == me.pointee.n {
                _ = me.pointee.completion.post(me.pointee.engine.takeUnretainedValue(), to: me.pointee.driver, done)
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    /// The kick and each `more` send the next rounds; `done` counts actors.
    static let driver = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { ctx, message, state in
            let me = state!.assumingMemoryBound(to: Driver.self)
            let completion = me.pointee.completion
            if let content = Savina.read(message!), content.kind == done {
                me.pointee.finished += 1
                if me.pointee.finished == me.pointee.count { completion.pointee.finish() }
                return Int32(SWERL_CONTINUE)
            }
            let engine = me.pointee.engine.takeUnretainedValue()
            let end = min(me.pointee.n, me.pointee.round + me.pointee.roundsPerTurn)
            for _ in me.pointee.round..<end {
                for index in 0..<me.pointee.count {
                    guard completion.post(engine, to: me.pointee.actors[index], work) else { return Int32(SWERL_CONTINUE) }
                }
            }
            me.pointee.round = end
            if end < me.pointee.n {
                _ = completion.post(engine, to: Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0, more)
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    static func run(actors: Int, n: Int, schedulers: UInt32, options: Options) -> RunResult {
        guard actors >= 1, n >= 1 else { fail("fjthrput: actors and n must be at least 1") }
        let frame = RunFrame("fjthrput", schedulers: schedulers, options: options)
        let engine = Unmanaged.passUnretained(frame.engine)
        let pids = UnsafeMutablePointer<UInt64>.allocate(capacity: actors)
        let driverState = UnsafeMutablePointer<Driver>.allocate(capacity: 1)
        driverState.initialize(to: Driver(engine: engine, completion: frame.completion, actors: UnsafePointer(pids),
                                          count: actors, n: n, roundsPerTurn: max(1, options.senderBatch / actors)))
        let states = UnsafeMutablePointer<Actor>.allocate(capacity: actors)

        let driverPid = CoreRuntime.spawn(frame.engine, driver, UnsafeMutableRawPointer(driverState))
        states.initialize(repeating: Actor(engine: engine, completion: frame.completion, driver: driverPid, n: n,
                                           theta: Savina.theta), count: actors)
        Savina.spawnAll(frame.engine, actor, count: actors, states: states, into: pids)
        let start = Clock.now()
        CoreRuntime.kick(frame.engine, driverPid)
        let end = frame.wait { "\(actors) actors, \(n) messages each" }

        for index in 0..<actors {
            if states[index].processed != n || !Savina.sumMatches(states[index].sum, count: n) {
                fail("fjthrput: actor \(index) processed \(states[index].processed) of \(n) (sum \(states[index].sum))")
            }
        }
        frame.stop()
        driverState.deinitialize(count: 1)
        driverState.deallocate()
        states.deinitialize(count: actors)
        states.deallocate()
        pids.deallocate()
        let seconds = Clock.seconds(end - start)
        let messages = Double(actors * n)
        return RunResult(seconds: seconds, metric: seconds * 1e9 / messages,
                         extras: [("ns_per_message", seconds * 1e9 / messages)])
    }
}

// MARK: - Fork-join creation

enum SavinaForkJoinCreate {
    /// What every worker gets as its state (read only).
    struct Shared {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        let theta: Double
    }

    struct Driver {
        let shared: UnsafeMutablePointer<Shared>
        let n: Int
        let perTurn: Int
        var spawned = 0
        var finished = 0
        var sum = 0.0
    }

    /// One message: compute, answer the sender (the driver), exit.
    static let worker = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let shared = state!.assumingMemoryBound(to: Shared.self)
            guard let r = Savina.compute(shared.pointee.theta) else {
                shared.pointee.completion.pointee.failed(0, .computation)
                return Int32(SWERL_STOP)
            }
            _ = shared.pointee.completion.post(shared.pointee.engine.takeUnretainedValue(), to: message!.pointee.from,
                                               done, 0, r.bitPattern)
            return Int32(SWERL_STOP)
        },
        terminate: nil
    )

    static let driver = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { ctx, message, state in
            let me = state!.assumingMemoryBound(to: Driver.self)
            let shared = me.pointee.shared
            let completion = shared.pointee.completion
            if let content = Savina.read(message!), content.kind == done {
                me.pointee.sum += Double(bitPattern: content.value)
                me.pointee.finished += 1
                if me.pointee.finished == me.pointee.n { completion.pointee.finish() }
                return Int32(SWERL_CONTINUE)
            }
            let engine = shared.pointee.engine.takeUnretainedValue()
            let end = min(me.pointee.n, me.pointee.spawned + me.pointee.perTurn)
            for _ in me.pointee.spawned..<end {
                let (code, pid) = engine.spawn(behavior: worker, arg: UnsafeMutableRawPointer(shared), flags: 0,
                                               name: nil, mailboxLimit: 0, overflow: 0, monitorRef: nil)
                if code != 0 {
                    completion.pointee.failed(code, .spawn)
                    return Int32(SWERL_CONTINUE)
                }
                guard completion.post(engine, to: pid, work) else { return Int32(SWERL_CONTINUE) }
            }
            me.pointee.spawned = end
            if end < me.pointee.n {
                _ = completion.post(engine, to: Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0, more)
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    static func run(n: Int, schedulers: UInt32, options: Options) -> RunResult {
        guard n >= 1 else { fail("fjcreate: n must be at least 1") }
        let frame = RunFrame("fjcreate", schedulers: schedulers, options: options)
        let shared = UnsafeMutablePointer<Shared>.allocate(capacity: 1)
        shared.initialize(to: Shared(engine: .passUnretained(frame.engine), completion: frame.completion,
                                     theta: Savina.theta))
        let driverState = UnsafeMutablePointer<Driver>.allocate(capacity: 1)
        driverState.initialize(to: Driver(shared: shared, n: n, perTurn: max(1, options.senderBatch)))

        let start = Clock.now()
        let driverPid = CoreRuntime.spawn(frame.engine, driver, UnsafeMutableRawPointer(driverState))
        CoreRuntime.kick(frame.engine, driverPid)
        let end = frame.wait { "\(n) workers" }

        let finished = driverState.pointee.finished
        if finished != n || !Savina.sumMatches(driverState.pointee.sum, count: n) {
            fail("fjcreate: \(finished) of \(n) workers answered (sum \(driverState.pointee.sum))")
        }
        frame.stop()
        let stats = frame.engine.stats()
        if stats.spawned != UInt64(n + 1) { fail("fjcreate: \(stats.spawned) processes spawned, expected \(n + 1)") }
        driverState.deinitialize(count: 1)
        driverState.deallocate()
        shared.deinitialize(count: 1)
        shared.deallocate()
        let seconds = Clock.seconds(end - start)
        return RunResult(seconds: seconds, metric: seconds * 1e6 / Double(n),
                         extras: [("us_per_worker", seconds * 1e6 / Double(n))])
    }
}

// MARK: - Fib

enum SavinaFib {
    struct Shared {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        /// The root's answer (written once, before the latch fires).
        var result: UInt64 = 0
    }

    /// One fib process's state, allocated by its init, freed by terminate.
    struct Node {
        let shared: UnsafeMutablePointer<Shared>
        var parent: UInt64 = 0
        var pending = 0
        var sum: UInt64 = 0
    }

    /// The answer goes to the parent; the root's (asked by the main
    /// thread, so from 0) ends the run.
    @inline(__always)
    static func reply(_ me: UnsafeMutablePointer<Node>, _ value: UInt64) {
        let shared = me.pointee.shared
        if me.pointee.parent == 0 {
            shared.pointee.result = value
            shared.pointee.completion.pointee.finish()
        } else {
            _ = shared.pointee.completion.post(shared.pointee.engine.takeUnretainedValue(), to: me.pointee.parent,
                                               answer, 0, value)
        }
    }

    /// Spawns a child (inside a node's handle) and asks it for fib(k).
    @inline(__always)
    static func ask(_ shared: UnsafeMutablePointer<Shared>, _ k: UInt64) -> Bool {
        let completion = shared.pointee.completion
        let engine = shared.pointee.engine.takeUnretainedValue()
        let (code, pid) = engine.spawn(behavior: node, arg: UnsafeMutableRawPointer(shared), flags: 0,
                                       name: nil, mailboxLimit: 0, overflow: 0, monitorRef: nil)
        if code != 0 {
            completion.pointee.failed(code, .spawn)
            return false
        }
        return completion.post(engine, to: pid, request, 0, k)
    }

    static let node = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { _, arg, state in
            let me = UnsafeMutablePointer<Node>.allocate(capacity: 1)
            me.initialize(to: Node(shared: arg!.assumingMemoryBound(to: Shared.self)))
            state!.pointee = UnsafeMutableRawPointer(me)
            return 0
        },
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Node.self)
            let shared = me.pointee.shared
            let completion = shared.pointee.completion
            guard let content = Savina.read(message!) else {
                completion.pointee.failed(0, .message)
                return Int32(SWERL_STOP)
            }
            if content.kind == answer {
                me.pointee.sum &+= content.value
                me.pointee.pending -= 1
                if me.pointee.pending > 0 { return Int32(SWERL_CONTINUE) }
                reply(me, me.pointee.sum)
                return Int32(SWERL_STOP)
            }
            // The request: value = k.
            me.pointee.parent = message!.pointee.from
            let k = content.value
            if k <= 2 {
                reply(me, 1)
                return Int32(SWERL_STOP)
            }
            me.pointee.pending = 2
            return ask(shared, k - 1) && ask(shared, k - 2) ? Int32(SWERL_CONTINUE) : Int32(SWERL_STOP)
        },
        terminate: { _, _, state in
            let me = state!.assumingMemoryBound(to: Node.self)
            me.deinitialize(count: 1)
            me.deallocate()
        }
    )

    /// fib(1) = fib(2) = 1.
    static func expected(_ n: Int) -> UInt64 {
        var (a, b): (UInt64, UInt64) = (1, 1)
        for _ in 2..<max(2, n) { (a, b) = (b, a &+ b) }
        return b
    }

    static func run(n: Int, schedulers: UInt32, options: Options) -> RunResult {
        guard n >= 1 else { fail("fib: n must be at least 1") }
        let frame = RunFrame("fib", schedulers: schedulers, options: options)
        let shared = UnsafeMutablePointer<Shared>.allocate(capacity: 1)
        shared.initialize(to: Shared(engine: .passUnretained(frame.engine), completion: frame.completion))

        let start = Clock.now()
        let root = CoreRuntime.spawn(frame.engine, node, UnsafeMutableRawPointer(shared))
        var message = SavinaMessage(kind: request, small: 0, value: UInt64(n))
        let code = withUnsafeBytes(of: &message) { frame.engine.send(to: root, data: $0.baseAddress, count: $0.count) }
        if code != 0 { fail("fib: the request to the root: \(CoreRuntime.errorName(code))") }
        let end = frame.wait { "fib(\(n))" }

        let want = expected(n)
        if shared.pointee.result != want { fail("fib: fib(\(n)) came out \(shared.pointee.result), expected \(want)") }
        frame.stop()
        // Every call of the recursion was one process: 2 fib(n) - 1 of them.
        let processes = 2 * Int(want) - 1
        let spawned = frame.engine.stats().spawned
        if spawned != UInt64(processes) { fail("fib: \(spawned) processes spawned, expected \(processes)") }
        shared.deinitialize(count: 1)
        shared.deallocate()
        let seconds = Clock.seconds(end - start)
        return RunResult(seconds: seconds, metric: seconds * 1e9 / Double(processes),
                         extras: [("processes", Double(processes)), ("ns_per_process", seconds * 1e9 / Double(processes))])
    }
}
