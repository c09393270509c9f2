// The runtime's memory ceiling through the Swift API (the C suite's
// test_overload.c covers bounded mailboxes and 10x floods).

import Swerl
import Testing

@Suite("Memory ceiling", .timeLimit(.minutes(1)))
struct OverloadTests {
    @Test("maxMemory: a send over the ceiling throws memoryLimit and is counted; memory returns once handled")
    func memoryCeiling() async throws {
        let ceiling = 64 << 10
        let runtime = try Runtime(schedulers: 2, maxMemory: ceiling)
        defer { try? runtime.stop() }
        let gate = Flag()
        let parked = Flag()
        let handled = Box(0)
        let consumer = try runtime.spawn(Probe(onHandle: { _, _ in
            if !gate.isRaised {
                parked.raise()
                _ = gate.block()
            }
            handled.update { $0 += 1 }
            return .continue
        }))
        try runtime.send("hold", to: consumer)
        #expect(await waitUntil { parked.isRaised })
        let payload = [UInt8](repeating: 7, count: 1000)
        var accepted = 0
        var refusal: SwerlError?
        while refusal == nil {
            do {
                try runtime.send(payload, to: consumer)
                accepted += 1
            } catch {
                refusal = error
            }
        }
        #expect(refusal == SwerlError(.memoryLimit))
        #expect(refusal?.name == "EMEMLIMIT")
        // Sends from outside are charged exactly: payload + 64 bytes each.
        #expect(accepted == (ceiling - (4 + 64)) / (1000 + 64))
        let statistics = runtime.statistics
        #expect(statistics.messagesRejected == 1)
        #expect(statistics.memoryUsed == UInt64(accepted * 1064 + 68))
        gate.raise()
        #expect(await waitUntil { handled.value == accepted + 1 })
        #expect(await waitUntil { runtime.statistics.memoryUsed == 0 })
        try runtime.send(payload, to: consumer)
    }

    @Test("maxMemory 0 (the default) is no ceiling; a negative one is invalid")
    func noCeiling() throws {
        #expect(throws: SwerlError(.invalidArgument)) { try Runtime(maxMemory: -1) }
        let runtime = try Runtime(schedulers: 1)
        defer { try? runtime.stop() }
        #expect(runtime.statistics.memoryUsed == 0)
        #expect(runtime.statistics.messagesRejected == 0)
    }
}
