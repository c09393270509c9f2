// Ping-pong and counting on one scheduler, written as a C user would:
// swerl_behavior tables of @convention(c) functions whose state is a plain
// struct, sending with the Engine call behind swerl_send.
//
// Progress counters are atomics written with relaxed load/store pairs (plain
// moves on x86) so a stuck run can say how far it got without slowing the
// hot path down with read-modify-writes.

import CSwerl
import Glibc
import Swerl
import Synchronization

// MARK: - Ping-pong

enum CorePingPong {
    struct Ping: ~Copyable {
        let engine: Unmanaged<Engine>
        let peer: UInt64
        /// What every ping carries (sent as a fresh copy each time); nil
        /// with count 0: an empty message.
        let payload: UnsafeRawBufferPointer
        /// Shared mode: the payload as one shared binary, sent at the kick;
        /// from then on each side re-sends the binary it received, as BEAM
        /// re-sends a refc binary. nil: copies each way.
        let binary: SharedBinaryPointer?
        /// Round trips still to start.
        let remaining: Atomic<Int>
        /// Pongs whose payload did not have the ping's size, or (shared
        /// mode) came as a copy.
        let wrongSize = Atomic<Int>(0)
        let error = Atomic<Int32>(0)
        let latch: Unmanaged<Latch>
    }

    struct Pong: ~Copyable {
        let engine: Unmanaged<Engine>
        let handled = Atomic<Int>(0)
        let error = Atomic<Int32>(0)
        let latch: Unmanaged<Latch>
    }

    /// Every message (the kick from main, then each pong) starts the next
    /// round trip; when none remain, the run is over. `ping` sends a copy
    /// of its payload each time; `sharedPing` its binary at the kick, then
    /// the binary each pong brings back.
    static let ping = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in pingTurn(message!, state!, shared: false) },
        terminate: nil
    )

    static let sharedPing = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in pingTurn(message!, state!, shared: true) },
        terminate: nil
    )

    /// Sends every message back to its sender: `pong` a copy of its bytes,
    /// `sharedPong` the binary it carries (`resend`).
    static let pong = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in pongTurn(message!, state!, shared: false) },
        terminate: nil
    )

    static let sharedPong = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in pongTurn(message!, state!, shared: true) },
        terminate: nil
    )

    /// One turn of the ping; `shared` is a constant at each call, so each
    /// behaviour gets its own code (the copying one as it always was).
    @inline(__always)
    static func pingTurn(_ message: UnsafePointer<swerl_message>, _ state: UnsafeMutableRawPointer,
                         shared: Bool) -> Int32 {
        let me = state.assumingMemoryBound(to: Ping.self)
        let payload = me.pointee.payload
        if message.pointee.from != 0
            && (message.pointee.len != payload.count || (shared && isShared(message) != (payload.count > 0))) {
            me.pointee.wrongSize.store(me.pointee.wrongSize.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        }
        let remaining = me.pointee.remaining.load(ordering: .relaxed)
        if remaining == 0 {
            me.pointee.latch.takeUnretainedValue().signal()
            return Int32(SWERL_CONTINUE)
        }
        me.pointee.remaining.store(remaining - 1, ordering: .relaxed)
        let engine = me.pointee.engine.takeUnretainedValue()
        let code: Int32
        if shared, let binary = me.pointee.binary {
            code = message.pointee.from == 0 ? engine.send(to: me.pointee.peer, binary: binary)
                : resend(message, to: me.pointee.peer, on: engine)
        } else {
            code = engine.send(to: me.pointee.peer, data: payload.baseAddress, count: payload.count)
        }
        if code != 0 {
            me.pointee.error.store(code, ordering: .relaxed)
            me.pointee.latch.takeUnretainedValue().signal()
        }
        return Int32(SWERL_CONTINUE)
    }

    @inline(__always)
    static func pongTurn(_ message: UnsafePointer<swerl_message>, _ state: UnsafeMutableRawPointer,
                         shared: Bool) -> Int32 {
        let me = state.assumingMemoryBound(to: Pong.self)
        let engine = me.pointee.engine.takeUnretainedValue()
        let code = shared ? resend(message, to: message.pointee.from, on: engine)
            : engine.send(to: message.pointee.from, data: message.pointee.data, count: message.pointee.len)
        me.pointee.handled.store(me.pointee.handled.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        if code != 0 {
            me.pointee.error.store(code, ordering: .relaxed)
            me.pointee.latch.takeUnretainedValue().signal()
        }
        return Int32(SWERL_CONTINUE)
    }

    @inline(__always)
    static func isShared(_ message: UnsafePointer<swerl_message>) -> Bool {
        message.pointee.flags & SWERL_MESSAGE_SHARED != 0
    }

    /// Sends what `message` carries to `to`, as it came: its shared binary
    /// by reference, as a C user does (swerl_binary_keep, swerl_send_binary,
    /// swerl_binary_release), or a copy of its bytes (swerl_send).
    @inline(__always)
    static func resend(_ message: UnsafePointer<swerl_message>, to: UInt64, on engine: Engine) -> Int32 {
        guard isShared(message) else { return engine.send(to: to, data: message.pointee.data, count: message.pointee.len) }
        guard let binary = SharedBinaries.keep(shared: message.pointee.data, count: message.pointee.len) else {
            return Int32(SWERL_EINVAL)
        }
        defer { SharedBinaries.release(binary) }
        return engine.send(to: to, binary: binary)
    }

    /// `payload` bytes each way (8 in the table's row; the protocol's
    /// pingpong_payload varies it), on `schedulers` threads (1 in the table).
    /// `shared`: the payload travels as one shared binary that each side
    /// re-sends (BEAM's refc binaries); else a copy each way.
    static func run(n: Int, payload: Int = 8, shared: Bool = false, schedulers: UInt32 = 1,
                    label: String = "pingpong.core", options: Options) -> RunResult {
        let engine = CoreRuntime.start(schedulers: schedulers)
        let latch = Latch()
        let ball = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, payload), alignment: 8)
        for index in 0..<payload { ball[index] = UInt8(truncatingIfNeeded: index) }
        defer { ball.deallocate() }
        let binary = shared ? SharedBinaries.copy(UnsafeRawBufferPointer(rebasing: ball[0..<payload])) : nil
        if shared && binary == nil { fail("\(label): no memory for a binary of \(payload) bytes") }
        defer { binary.map(SharedBinaries.release) }
        let pongState = UnsafeMutablePointer<Pong>.allocate(capacity: 1)
        pongState.initialize(to: Pong(engine: .passUnretained(engine), latch: .passUnretained(latch)))
        let pongPid = CoreRuntime.spawn(engine, shared ? sharedPong : pong, UnsafeMutableRawPointer(pongState))
        let pingState = UnsafeMutablePointer<Ping>.allocate(capacity: 1)
        pingState.initialize(to: Ping(engine: .passUnretained(engine), peer: pongPid,
                                      payload: UnsafeRawBufferPointer(start: payload == 0 ? nil : ball.baseAddress,
                                                                      count: payload),
                                      binary: binary, remaining: Atomic(n), latch: .passUnretained(latch)))
        let pingPid = CoreRuntime.spawn(engine, shared ? sharedPing : ping, UnsafeMutableRawPointer(pingState))

        let start = Clock.now()
        CoreRuntime.kick(engine, pingPid)
        let done = CoreRuntime.wait(latch, label, timeoutSeconds: options.timeoutSeconds, engine: engine) {
            "round trips left \(pingState.pointee.remaining.load(ordering: .relaxed)) of \(n), "
                + "pong handled \(pongState.pointee.handled.load(ordering: .relaxed))"
        }
        for code in [pingState.pointee.error.load(ordering: .relaxed), pongState.pointee.error.load(ordering: .relaxed)]
            where code != 0 { fail("\(label): send returned \(CoreRuntime.errorName(code))") }
        let handled = pongState.pointee.handled.load(ordering: .relaxed)
        if handled != n { fail("\(label): pong handled \(handled) of \(n)") }
        let wrongSize = pingState.pointee.wrongSize.load(ordering: .relaxed)
        if wrongSize != 0 {
            fail("\(label): \(wrongSize) pongs did not carry \(payload) bytes \(shared ? "shared" : "copied")")
        }
        CoreRuntime.stop(engine, label, timeoutSeconds: options.timeoutSeconds)
        pingState.deinitialize(count: 1)
        pingState.deallocate()
        pongState.deinitialize(count: 1)
        pongState.deallocate()
        withExtendedLifetime(latch) {}

        let seconds = Clock.seconds(done - start)
        return RunResult(seconds: seconds, metric: seconds * 1e9 / Double(n))
    }
}

// MARK: - Counting

enum CoreCounting {
    enum Sender { case process, flowControlled, mainThread }

    struct Counter: ~Copyable {
        let target: Int
        /// Flow control: acknowledge every `ackEvery` messages (0: never).
        let ackEvery: Int
        let engine: Unmanaged<Engine>
        let received = Atomic<Int>(0)
        /// Messages until the next acknowledgement (flow control only).
        var untilAck: Int
        /// Messages that did not carry the next sequence number (FIFO check).
        let disorder = Atomic<Int>(0)
        /// Savina's ending: the count is not the end; an empty message (the
        /// "get") is answered with the count, 8 bytes, and the producer checks it.
        let answersGet: Bool
        let latch: Unmanaged<Latch>
    }

    /// Counts; checks that the 8-byte sequence numbers arrive in order.
    static let counter = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Counter.self)
            let message = message!
            let count = me.pointee.received.load(ordering: .relaxed)
            if me.pointee.answersGet && message.pointee.len == 0 {
                var answer = UInt64(count)
                _ = withUnsafeBytes(of: &answer) {
                    me.pointee.engine.takeUnretainedValue().send(to: message.pointee.from, data: $0.baseAddress, count: 8)
                }
                return Int32(SWERL_CONTINUE)
            }
            if message.pointee.len != 8 || message.pointee.data!.loadUnaligned(as: UInt64.self) != UInt64(count) {
                me.pointee.disorder.store(me.pointee.disorder.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            }
            me.pointee.received.store(count + 1, ordering: .relaxed)
            if count + 1 == me.pointee.target && !me.pointee.answersGet {
                me.pointee.latch.takeUnretainedValue().signal()
            } else if me.pointee.ackEvery != 0 {
                me.pointee.untilAck -= 1
                if me.pointee.untilAck == 0 {
                    me.pointee.untilAck = me.pointee.ackEvery
                    _ = me.pointee.engine.takeUnretainedValue().send(to: message.pointee.from, data: nil, count: 0)
                }
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    struct Producer: ~Copyable {
        let engine: Unmanaged<Engine>
        let counter: UInt64
        let total: Int
        /// Messages sent per callback (no flow control) or per credit.
        let batch: Int
        let flowControlled: Bool
        /// Savina's ending: a "get" after the last message; the run ends
        /// when the counter's answer arrives (recorded in `answer`).
        let sendsGet: Bool
        let answer = Atomic<Int>(-1)
        /// The counter's state, read once: how many of the messages were
        /// still waiting when the last one was sent (the mailbox's backlog).
        let counterState: UnsafeMutablePointer<Counter>
        let backlogAtEnd = Atomic<Int>(0)
        let sent = Atomic<Int>(0)
        let error = Atomic<Int32>(0)
        let latch: Unmanaged<Latch>
    }

    /// Without flow control: sends `batch` messages, then a message to
    /// itself to continue later (like a BEAM process running out of
    /// reductions), so the counter gets turns in between.
    /// With flow control: sends `batch` messages at the kick, then
    /// `batch / 2` per acknowledgement, never more than `batch` in flight.
    static let producer = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { ctx, message, state in
            let me = state!.assumingMemoryBound(to: Producer.self)
            let engine = me.pointee.engine.takeUnretainedValue()
            let counter = me.pointee.counter
            if message!.pointee.len == 8 {
                // The counter's answer to the get.
                me.pointee.answer.store(Int(message!.pointee.data!.loadUnaligned(as: UInt64.self)), ordering: .relaxed)
                me.pointee.latch.takeUnretainedValue().signal()
                return Int32(SWERL_CONTINUE)
            }
            var next = me.pointee.sent.load(ordering: .relaxed)
            let flow = me.pointee.flowControlled
            let quota = flow && message!.pointee.from != 0 ? me.pointee.batch / 2 : me.pointee.batch
            let end = min(me.pointee.total, next + quota)
            while next < end {
                var value = UInt64(next)
                let code = withUnsafeBytes(of: &value) { engine.send(to: counter, data: $0.baseAddress, count: 8) }
                if code != 0 {
                    me.pointee.error.store(code, ordering: .relaxed)
                    me.pointee.latch.takeUnretainedValue().signal()
                    return Int32(SWERL_STOP)
                }
                next += 1
            }
            me.pointee.sent.store(end, ordering: .relaxed)
            if end == me.pointee.total {
                let received = me.pointee.counterState.pointee.received.load(ordering: .relaxed)
                me.pointee.backlogAtEnd.store(end - received, ordering: .relaxed)
                if me.pointee.sendsGet {
                    let code = engine.send(to: counter, data: nil, count: 0)
                    if code != 0 {
                        me.pointee.error.store(code, ordering: .relaxed)
                        me.pointee.latch.takeUnretainedValue().signal()
                        return Int32(SWERL_STOP)
                    }
                }
            }
            if !flow && end < me.pointee.total {
                let code = engine.send(to: Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0, data: nil, count: 0)
                if code != 0 {
                    me.pointee.error.store(code, ordering: .relaxed)
                    me.pointee.latch.takeUnretainedValue().signal()
                    return Int32(SWERL_STOP)
                }
            }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    /// With `savinaGet` (a process sender only), the producer ends with a
    /// "get" that the counter answers with its count (Savina's counting, for
    /// the protocol); the run ends when the answer arrives and checks it.
    /// `burst`: the producer sends all `n` in one turn (a mailbox `n` deep,
    /// then drained), and the run reports the resident memory before the
    /// burst and after the drain.
    static func run(n: Int, sender: Sender, schedulers: UInt32 = 1, savinaGet: Bool = false, burst: Bool = false,
                    options: Options) -> RunResult {
        let label: String
        switch sender {
        case .process: label = savinaGet ? "counting" : "counting.core"
        case .flowControlled: label = "counting.core-flow"
        case .mainThread: label = "counting.main"
        }
        precondition(!savinaGet || sender != .mainThread, "the get needs a producer process")
        let batch = burst ? n : max(2, options.senderBatch)
        let engine = CoreRuntime.start(schedulers: schedulers)
        let latch = Latch()
        let counterState = UnsafeMutablePointer<Counter>.allocate(capacity: 1)
        let ackEvery = sender == .flowControlled ? batch / 2 : 0
        counterState.initialize(to: Counter(target: n, ackEvery: ackEvery, engine: .passUnretained(engine),
                                            untilAck: ackEvery, answersGet: savinaGet, latch: .passUnretained(latch)))
        let counterPid = CoreRuntime.spawn(engine, counter, UnsafeMutableRawPointer(counterState))
        var producerState: UnsafeMutablePointer<Producer>? = nil
        let progress = {
            "counter received \(counterState.pointee.received.load(ordering: .relaxed)) of \(n)"
                + (producerState.map { ", producer sent \($0.pointee.sent.load(ordering: .relaxed))" } ?? "")
        }

        let start: UInt64
        var rssBefore = 0
        var sendEnd: UInt64 = 0
        var backlog = 0
        if sender == .mainThread {
            start = Clock.now()
            Watchdog.shared.guarding("\(label): send loop on the main thread", seconds: options.timeoutSeconds,
                                     diagnose: CoreRuntime.diagnosis(engine)) {
                for index in 0..<n {
                    var value = UInt64(index)
                    let code = withUnsafeBytes(of: &value) { engine.send(to: counterPid, data: $0.baseAddress, count: 8) }
                    if code != 0 { fail("\(label): send #\(index) returned \(CoreRuntime.errorName(code))") }
                }
            }
            sendEnd = Clock.now()
            backlog = n - counterState.pointee.received.load(ordering: .relaxed)
        } else {
            let state = UnsafeMutablePointer<Producer>.allocate(capacity: 1)
            state.initialize(to: Producer(engine: .passUnretained(engine), counter: counterPid, total: n, batch: batch,
                                          flowControlled: sender == .flowControlled, sendsGet: savinaGet,
                                          counterState: counterState,
                                          latch: .passUnretained(latch)))
            producerState = state
            let producerPid = CoreRuntime.spawn(engine, producer, UnsafeMutableRawPointer(state))
            rssBefore = Memory.residentBytes()
            start = Clock.now()
            CoreRuntime.kick(engine, producerPid)
        }
        let done = CoreRuntime.wait(latch, label, timeoutSeconds: options.timeoutSeconds, engine: engine,
                                    progress: progress)
        // The memory a burst took is given back when the runtime idles
        // after the drain: waited for (1 s at most), outside the timing.
        var rssAfter = Memory.residentBytes()
        if burst {
            for _ in 0..<100 where Double(rssAfter) > Double(rssBefore) * 1.1 {
                usleep(10_000)
                rssAfter = Memory.residentBytes()
            }
        }
        if let code = producerState?.pointee.error.load(ordering: .relaxed), code != 0 {
            fail("\(label): send returned \(CoreRuntime.errorName(code))")
        }
        if let producerState { backlog = producerState.pointee.backlogAtEnd.load(ordering: .relaxed) }
        if savinaGet, let answer = producerState?.pointee.answer.load(ordering: .relaxed), answer != n {
            fail("\(label): the counter answered \(answer), expected \(n)")
        }
        let received = counterState.pointee.received.load(ordering: .relaxed)
        let disorder = counterState.pointee.disorder.load(ordering: .relaxed)
        if received != n || disorder != 0 { fail("\(label): received \(received) of \(n), \(disorder) out of order") }
        CoreRuntime.stop(engine, label, timeoutSeconds: options.timeoutSeconds)
        producerState?.deinitialize(count: 1)
        producerState?.deallocate()
        counterState.deinitialize(count: 1)
        counterState.deallocate()
        withExtendedLifetime(latch) {}

        let seconds = Clock.seconds(done - start)
        var extras: [(String, Double)] = [("backlog-at-last-send", Double(backlog))]
        if burst {
            extras.append(("rss-before-MiB", Double(rssBefore) / 1_048_576))
            extras.append(("rss-after-drain-idle-MiB", Double(rssAfter) / 1_048_576))
        }
        if sender == .mainThread {
            extras.append(("send-loop-Mmsg/s", Double(n) / Clock.seconds(sendEnd - start) / 1e6))
        }
        return RunResult(seconds: seconds, metric: Double(n) / seconds / 1e6, extras: extras)
    }
}
