// Savina's message-passing benchmarks with long-lived processes: thread
// ring, chameneos and big (pingpong and counting are CorePingPong and
// CoreCounting). Definitions: Comparison/PROTOCOL.md.
//
// Written as a C user would (the core path): swerl_behavior tables of
// @convention(c) functions, plain-struct state, Engine calls. A run's time
// starts once its processes exist, at the first kick (as the Erlang peer's
// does), and ends when a process fires the run's latch (its clock, so the
// main thread's wake-up is not measured).

import CSwerl
import Glibc
import Swerl
import Synchronization

// MARK: - Thread ring

enum SavinaThreadRing {
    struct Member {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        var next: UInt64 = 0
        /// Tokens this member received.
        var handled = 0
    }

    /// A token (8 bytes: hops left) goes on to the next member with one hop
    /// less; the member that gets 0 ends the run.
    static let member = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Member.self)
            let message = message!
            me.pointee.handled += 1
            guard message.pointee.len == 8 else {
                me.pointee.completion.pointee.failed(0, .message)
                return Int32(SWERL_CONTINUE)
            }
            var token = message.pointee.data!.loadUnaligned(as: UInt64.self)
            if token == 0 {
                me.pointee.completion.pointee.finish()
                return Int32(SWERL_CONTINUE)
            }
            token -= 1
            let code = withUnsafeBytes(of: &token) {
                me.pointee.engine.takeUnretainedValue().send(to: me.pointee.next, data: $0.baseAddress, count: 8)
            }
            if code != 0 { me.pointee.completion.pointee.failed(code, .send) }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    static func run(actors: Int, n: Int, schedulers: UInt32, options: Options) -> RunResult {
        guard actors >= 1 else { fail("threadring: actors must be at least 1") }
        let frame = RunFrame("threadring", schedulers: schedulers, options: options)
        let members = UnsafeMutablePointer<Member>.allocate(capacity: actors)
        members.initialize(repeating: Member(engine: .passUnretained(frame.engine), completion: frame.completion),
                           count: actors)
        let pids = UnsafeMutablePointer<UInt64>.allocate(capacity: actors)

        Savina.spawnAll(frame.engine, member, count: actors, states: members, into: pids)
        // No member has a message yet: their states are still the main thread's.
        for index in 0..<actors { members[index].next = pids[(index + 1) % actors] }
        let start = Clock.now()
        var token = UInt64(n)
        let code = withUnsafeBytes(of: &token) { frame.engine.send(to: pids[0], data: $0.baseAddress, count: 8) }
        if code != 0 { fail("threadring: send of the token: \(CoreRuntime.errorName(code))") }
        let done = frame.wait { "ring of \(actors), \(n) hops" }

        let handled = (0..<actors).reduce(0) { $0 + members[$1].handled }
        if handled != n + 1 { fail("threadring: \(handled) tokens handled, expected \(n + 1)") }
        frame.stop()
        members.deinitialize(count: actors)
        members.deallocate()
        pids.deallocate()
        let seconds = Clock.seconds(done - start)
        return RunResult(seconds: seconds, metric: seconds * 1e9 / Double(max(1, n)),
                         extras: [("ns_per_hop", seconds * 1e9 / Double(max(1, n)))])
    }
}

// MARK: - Chameneos

enum SavinaChameneos {
    // Message kinds.
    static let meet: UInt32 = 1       // creature -> mall: small = colour
    static let meetWith: UInt32 = 2   // mall -> first creature: small = partner's colour, value = partner
    static let change: UInt32 = 3     // first creature -> partner: small = the new colour
    static let leave: UInt32 = 4      // mall -> creature: no more meetings
    static let faded: UInt32 = 5      // creature -> mall: value = its meetings

    /// Savina's complement rule over red, yellow, blue (0, 1, 2): the same
    /// colour stays, two different ones give the third.
    @inline(__always)
    static func complement(_ a: UInt32, _ b: UInt32) -> UInt32 { a == b ? a : 3 - a - b }

    struct Mall {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        let creatures: Int
        var meetingsLeft: Int
        /// The creature waiting for a partner (0: none) and its colour.
        var waiting: UInt64 = 0
        var waitingColour: UInt32 = 0
        var faded = 0
        var sumMeetings = 0
    }

    struct Creature {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        let mall: UInt64
        var colour: UInt32
        var meetings = 0
    }

    static let mall = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Mall.self)
            let completion = me.pointee.completion
            guard let content = Savina.read(message!) else {
                completion.pointee.failed(0, .message)
                return Int32(SWERL_CONTINUE)
            }
            let engine = me.pointee.engine.takeUnretainedValue()
            let from = message!.pointee.from
            switch content.kind {
            case meet:
                if me.pointee.meetingsLeft == 0 {
                    _ = completion.post(engine, to: from, leave)
                } else if me.pointee.waiting == 0 {
                    me.pointee.waiting = from
                    me.pointee.waitingColour = content.small
                } else {
                    me.pointee.meetingsLeft -= 1
                    _ = completion.post(engine, to: me.pointee.waiting, meetWith, content.small, from)
                    me.pointee.waiting = 0
                }
            case faded:
                me.pointee.faded += 1
                me.pointee.sumMeetings += Int(content.value)
                if me.pointee.faded == me.pointee.creatures {
                    completion.pointee.finish()
                    return Int32(SWERL_STOP)
                }
            default:
                completion.pointee.failed(0, .message)
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    static let creature = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Creature.self)
            let completion = me.pointee.completion
            let engine = me.pointee.engine.takeUnretainedValue()
            guard let content = Savina.read(message!) else {
                // The kick: the first request for a meeting.
                _ = completion.post(engine, to: me.pointee.mall, meet, me.pointee.colour)
                return Int32(SWERL_CONTINUE)
            }
            switch content.kind {
            case meetWith:
                let colour = complement(me.pointee.colour, content.small)
                me.pointee.colour = colour
                me.pointee.meetings += 1
                if completion.post(engine, to: content.value, change, colour) {
                    _ = completion.post(engine, to: me.pointee.mall, meet, colour)
                }
            case change:
                me.pointee.colour = content.small
                me.pointee.meetings += 1
                _ = completion.post(engine, to: me.pointee.mall, meet, content.small)
            case leave:
                _ = completion.post(engine, to: me.pointee.mall, faded, 0, UInt64(me.pointee.meetings))
                return Int32(SWERL_STOP)
            default:
                completion.pointee.failed(0, .message)
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    static func run(creatures: Int, n: Int, schedulers: UInt32, options: Options) -> RunResult {
        guard creatures >= 2 else { fail("chameneos: creatures must be at least 2") }
        let frame = RunFrame("chameneos", schedulers: schedulers, options: options)
        let engine = Unmanaged.passUnretained(frame.engine)
        let mallState = UnsafeMutablePointer<Mall>.allocate(capacity: 1)
        mallState.initialize(to: Mall(engine: engine, completion: frame.completion, creatures: creatures,
                                      meetingsLeft: n))
        let creatureStates = UnsafeMutablePointer<Creature>.allocate(capacity: creatures)
        let pids = UnsafeMutablePointer<UInt64>.allocate(capacity: creatures)

        let mallPid = CoreRuntime.spawn(frame.engine, mall, UnsafeMutableRawPointer(mallState))
        for index in 0..<creatures {
            (creatureStates + index).initialize(to: Creature(engine: engine, completion: frame.completion, mall: mallPid,
                                                             colour: UInt32(index % 3)))
        }
        Savina.spawnAll(frame.engine, creature, count: creatures, states: creatureStates, into: pids)
        let start = Clock.now()
        for index in 0..<creatures { CoreRuntime.kick(frame.engine, pids[index]) }
        let done = frame.wait { "\(creatures) creatures, \(n) meetings" }

        let sum = mallState.pointee.sumMeetings
        let perCreature = (0..<creatures).reduce(0) { $0 + creatureStates[$1].meetings }
        if sum != 2 * n || perCreature != 2 * n || mallState.pointee.meetingsLeft != 0 {
            fail("chameneos: the creatures reported \(sum) meetings (counted \(perCreature)), expected \(2 * n)")
        }
        frame.stop()
        mallState.deinitialize(count: 1)
        mallState.deallocate()
        creatureStates.deinitialize(count: creatures)
        creatureStates.deallocate()
        pids.deallocate()
        let seconds = Clock.seconds(done - start)
        return RunResult(seconds: seconds, metric: seconds * 1e9 / Double(max(1, n)),
                         extras: [("ns_per_meeting", seconds * 1e9 / Double(max(1, n)))])
    }
}

// MARK: - Big

enum SavinaBig {
    static let ping: UInt32 = 1
    static let pong: UInt32 = 2
    static let finished: UInt32 = 3

    struct Worker {
        let engine: Unmanaged<Engine>
        let completion: UnsafePointer<Completion>
        /// Every worker's pid (filled in before the kicks).
        let pids: UnsafePointer<UInt64>
        let workers: Int
        let index: Int
        let sink: UInt64
        let n: Int
        /// xorshift64 state.
        var random: UInt64
        var pongs = 0
        var answered = 0
    }

    struct Sink {
        let completion: UnsafePointer<Completion>
        let workers: Int
        var finished = 0
    }

    /// A ping to a random other worker.
    @inline(__always)
    static func sendPing(_ me: UnsafeMutablePointer<Worker>) {
        var x = me.pointee.random
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        me.pointee.random = x
        var target = Int(x % UInt64(me.pointee.workers - 1))
        if target >= me.pointee.index { target += 1 }
        _ = me.pointee.completion.post(me.pointee.engine.takeUnretainedValue(), to: me.pointee.pids[target], ping)
    }

    /// The kick (an empty message) starts the pings; every ping is answered
    /// with a pong; every pong starts the next ping until n are done.
    static let worker = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Worker.self)
            guard let content = Savina.read(message!) else {
                if me.pointee.n == 0 {
                    _ = me.pointee.completion.post(me.pointee.engine.takeUnretainedValue(), to: me.pointee.sink, finished)
                } else {
                    sendPing(me)
                }
                return Int32(SWERL_CONTINUE)
            }
            switch content.kind {
            case ping:
                me.pointee.answered += 1
                _ = me.pointee.completion.post(me.pointee.engine.takeUnretainedValue(), to: message!.pointee.from, pong)
            case pong:
                me.pointee.pongs += 1
                if me.pointee.pongs == me.pointee.n {
                    _ = me.pointee.completion.post(me.pointee.engine.takeUnretainedValue(), to: me.pointee.sink, finished)
                } else {
                    sendPing(me)
                }
            default:
                me.pointee.completion.pointee.failed(0, .message)
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    static let sink = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Sink.self)
            guard let content = Savina.read(message!), content.kind == finished else {
                me.pointee.completion.pointee.failed(0, .message)
                return Int32(SWERL_CONTINUE)
            }
            me.pointee.finished += 1
            if me.pointee.finished == me.pointee.workers { me.pointee.completion.pointee.finish() }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    static func run(workers: Int, n: Int, schedulers: UInt32, options: Options) -> RunResult {
        guard workers >= 2 else { fail("big: workers must be at least 2") }
        let frame = RunFrame("big", schedulers: schedulers, options: options)
        let sinkState = UnsafeMutablePointer<Sink>.allocate(capacity: 1)
        sinkState.initialize(to: Sink(completion: frame.completion, workers: workers))
        let states = UnsafeMutablePointer<Worker>.allocate(capacity: workers)
        let pids = UnsafeMutablePointer<UInt64>.allocate(capacity: workers)

        let sinkPid = CoreRuntime.spawn(frame.engine, sink, UnsafeMutableRawPointer(sinkState))
        for index in 0..<workers {
            (states + index).initialize(to: Worker(
                engine: .passUnretained(frame.engine), completion: frame.completion, pids: UnsafePointer(pids),
                workers: workers, index: index, sink: sinkPid, n: n,
                random: 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1)))
        }
        Savina.spawnAll(frame.engine, worker, count: workers, states: states, into: pids)
        let start = Clock.now()
        for index in 0..<workers { CoreRuntime.kick(frame.engine, pids[index]) }
        let done = frame.wait { "\(workers) workers, \(n) pings each" }

        var answered = 0
        for index in 0..<workers {
            if states[index].pongs != n { fail("big: worker \(index) got \(states[index].pongs) pongs of \(n)") }
            answered += states[index].answered
        }
        if answered != workers * n { fail("big: \(answered) pings answered, expected \(workers * n)") }
        frame.stop()
        sinkState.deinitialize(count: 1)
        sinkState.deallocate()
        states.deinitialize(count: workers)
        states.deallocate()
        pids.deallocate()
        let seconds = Clock.seconds(done - start)
        let pings = Double(max(1, workers * n))
        return RunResult(seconds: seconds, metric: seconds * 1e9 / pings, extras: [("ns_per_ping", seconds * 1e9 / pings)])
    }
}
