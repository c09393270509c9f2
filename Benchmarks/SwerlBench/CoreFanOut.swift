// Fan-out (the protocol's `fanout`): one process sends one binary to each of
// many receivers, each answers with an empty ack when it has it; a round
// ends when every ack is in, then the next starts. The binary is one shared
// binary (swerl_send_binary: every message carries a reference, as BEAM's !
// does with a refc binary), or, with `copied`, a fresh copy per receiver
// (swerl_send). Written as a C user would, as CorePingPong is.

import CSwerl
import Glibc
import Swerl
import Synchronization

enum CoreFanOut {
    struct Sender: ~Copyable {
        let engine: Unmanaged<Engine>
        let receivers: UnsafeBufferPointer<UInt64>
        /// What every round sends: the binary, or (copied) its bytes.
        let binary: SharedBinaryPointer
        let copied: Bool
        /// Acks still to come this round; rounds still to start.
        var acksLeft = 0
        let roundsLeft: Atomic<Int>
        /// Acks saying the receiver's message was not `size` bytes sent the
        /// way asked (a 1-byte ack).
        let wrong = Atomic<Int>(0)
        let error = Atomic<Int32>(0)
        let latch: Unmanaged<Latch>
    }

    /// What every receiver reads (shared by all: written before they start).
    struct Receiver: ~Copyable {
        let engine: Unmanaged<Engine>
        let size: Int
        let shared: Bool
        let error = Atomic<Int32>(0)
    }

    /// The kick (from main) starts the first round, the last ack of a round
    /// the next; when none remain, the run is over.
    static let sender = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Sender.self)
            let message = message!
            if message.pointee.from != 0 {
                if message.pointee.len != 0 {
                    me.pointee.wrong.store(me.pointee.wrong.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
                }
                me.pointee.acksLeft -= 1
                if me.pointee.acksLeft > 0 { return Int32(SWERL_CONTINUE) }
            }
            let rounds = me.pointee.roundsLeft.load(ordering: .relaxed)
            if rounds == 0 {
                me.pointee.latch.takeUnretainedValue().signal()
                return Int32(SWERL_CONTINUE)
            }
            me.pointee.roundsLeft.store(rounds - 1, ordering: .relaxed)
            me.pointee.acksLeft = me.pointee.receivers.count
            let engine = me.pointee.engine.takeUnretainedValue()
            let binary = me.pointee.binary
            let bytes = SharedBinaries.bytes(binary)
            for pid in me.pointee.receivers {
                let code = me.pointee.copied ? engine.send(to: pid, data: bytes.baseAddress, count: bytes.count)
                    : engine.send(to: pid, binary: binary)
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

    /// Acks every message to its sender: empty when it was `size` bytes,
    /// shared or copied as asked; one byte otherwise.
    static let receiver = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: nil,
        handle: { _, message, state in
            let me = state!.assumingMemoryBound(to: Receiver.self)
            let message = message!
            let right = message.pointee.len == me.pointee.size
                && CorePingPong.isShared(message) == (me.pointee.shared && me.pointee.size > 0)
            var nack: UInt8 = 1
            let code = me.pointee.engine.takeUnretainedValue().send(to: message.pointee.from, data: &nack,
                                                                     count: right ? 0 : 1)
            if code != 0 { me.pointee.error.store(code, ordering: .relaxed) }
            return Int32(SWERL_CONTINUE)
        },
        terminate: nil
    )

    /// `rounds` rounds of `size` bytes to each of `receivers` processes, on
    /// `schedulers` threads. The metric: microseconds per round.
    static func run(size: Int, receivers: Int, rounds: Int, copied: Bool = false, schedulers: UInt32 = 1,
                    label: String = "fanout", options: Options) -> RunResult {
        precondition(receivers > 0 && rounds > 0, "\(label): receivers and rounds must be positive")
        let engine = CoreRuntime.start(schedulers: schedulers)
        let latch = Latch()
        guard let binary = SharedBinaries.allocate(length: size) else { fail("\(label): no memory for \(size) bytes") }
        defer { SharedBinaries.release(binary) }
        memset(SharedBinaries.data(binary), 7, size)
        let receiverState = UnsafeMutablePointer<Receiver>.allocate(capacity: 1)
        receiverState.initialize(to: Receiver(engine: .passUnretained(engine), size: size, shared: !copied))
        let pids = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: receivers)
        for index in 0..<receivers { pids[index] = CoreRuntime.spawn(engine, receiver, receiverState) }
        let senderState = UnsafeMutablePointer<Sender>.allocate(capacity: 1)
        senderState.initialize(to: Sender(engine: .passUnretained(engine), receivers: UnsafeBufferPointer(pids),
                                          binary: binary, copied: copied, roundsLeft: Atomic(rounds),
                                          latch: .passUnretained(latch)))
        let senderPid = CoreRuntime.spawn(engine, sender, senderState)

        let start = Clock.now()
        CoreRuntime.kick(engine, senderPid)
        let done = CoreRuntime.wait(latch, label, timeoutSeconds: options.timeoutSeconds, engine: engine) {
            "rounds left \(senderState.pointee.roundsLeft.load(ordering: .relaxed)) of \(rounds)"
        }
        for code in [senderState.pointee.error.load(ordering: .relaxed), receiverState.pointee.error.load(ordering: .relaxed)]
            where code != 0 { fail("\(label): send returned \(CoreRuntime.errorName(code))") }
        let wrong = senderState.pointee.wrong.load(ordering: .relaxed)
        if wrong != 0 { fail("\(label): \(wrong) receivers did not get \(size) bytes \(copied ? "copied" : "shared")") }
        if senderState.pointee.roundsLeft.load(ordering: .relaxed) != 0 { fail("\(label): rounds left at the end") }
        CoreRuntime.stop(engine, label, timeoutSeconds: options.timeoutSeconds)
        senderState.deinitialize(count: 1)
        senderState.deallocate()
        receiverState.deinitialize(count: 1)
        receiverState.deallocate()
        pids.deallocate()
        withExtendedLifetime(latch) {}

        let seconds = Clock.seconds(done - start)
        return RunResult(seconds: seconds, metric: seconds * 1e6 / Double(rounds),
                         extras: [("receives/s", Double(rounds * receivers) / seconds)])
    }
}
