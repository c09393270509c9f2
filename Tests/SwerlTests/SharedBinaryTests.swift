// Shared binaries through the Swift API: SharedBinary, sends by reference,
// Message.isShared / sharedBinary, and the memory ceiling's one charge.
// (The C suite covers swerl_binary_*.)

import Foundation
import Swerl
import Testing

/// Where a binary's bytes are: two messages that show the same address
/// carry the same binary.
private func address(of binary: SharedBinary) -> UInt {
    binary.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
}

/// The bytes 0, 1, 2, ... of `count`, as the tests' binaries hold.
private func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

/// What a receiver saw of a message: whether it was shared, where its
/// payload was, and the binary it kept.
private struct Sighting: Sendable {
    let isShared: Bool
    let payloadAddress: UInt
    let kept: SharedBinary

    init(_ message: Message) {
        isShared = message.isShared
        payloadAddress = UInt(bitPattern: message.payload.baseAddress)
        kept = message.sharedBinary
    }
}

/// A process that records every message it handles.
private func recorder(_ sightings: Box<[Sighting]>) -> Probe {
    Probe(onHandle: { message, _ in
        sightings.update { $0.append(Sighting(message)) }
        return .continue
    })
}

@Suite("Shared binaries", .timeLimit(.minutes(1)))
struct SharedBinaryTests {
    @Test("SharedBinary: every way to make one holds the same bytes, equal and hashed alike")
    func making() throws {
        let bytes = pattern(300)
        let fromArray = SharedBinary(bytes)
        let made = [
            SharedBinary(bytes[...]),
            SharedBinary(ContiguousArray(bytes)),
            SharedBinary(Data(bytes)),
            SharedBinary(bytes.lazy.map { $0 }.filter { _ in true }),  // not contiguous: the slow path
            bytes.withUnsafeBytes { SharedBinary(copying: $0) },
            SharedBinary(count: bytes.count) { $0.copyBytes(from: bytes) },
            SharedBinary(fromArray),
        ]
        for binary in made {
            #expect(binary.count == 300)
            #expect(binary.bytes == bytes)
            #expect(Array(binary) == bytes)
            #expect(binary == fromArray)
            #expect(binary.hashValue == fromArray.hashValue)
            #expect(address(of: binary) != address(of: fromArray))
        }
        #expect(fromArray[0] == bytes[0] && fromArray[299] == bytes[299])
        #expect(fromArray.reversed().first == bytes.last)
        #expect(SharedBinary(pattern(299)) != fromArray)
        var changed = bytes
        changed[150] &+= 1
        #expect(SharedBinary(changed) != fromArray)
        let empty = SharedBinary([UInt8]())
        #expect(empty.isEmpty && empty.count == 0 && empty.bytes == [])
        #expect(empty == SharedBinary(count: 0) { _ in })
        #expect("\(fromArray)" == "SharedBinary(300 bytes)")
        #expect(throws: Boom.self) { try SharedBinary(count: 8) { _ in throw Boom("not written") } }
    }

    @Test("fan-out: 1,000 receivers all see the one binary's bytes at its own address, none a copy")
    func fanOut() async throws {
        try await withRuntime { runtime in
            let sightings = Box<[Sighting]>([])
            let receivers = try (0..<1_000).map { _ in try runtime.spawn(recorder(sightings)) }
            let binary = SharedBinary(pattern(64 << 10))
            for pid in receivers { #expect(try runtime.send(binary, to: pid)) }
            try #require(await waitUntil { sightings.value.count == receivers.count })
            let seen = sightings.value
            let sentAt = address(of: binary)
            #expect(seen.filter { !$0.isShared }.count == 0)
            #expect(seen.filter { $0.payloadAddress != sentAt }.count == 0)
            // Each kept binary is the sent one (no copy), and reads right.
            #expect(seen.filter { address(of: $0.kept) != sentAt }.count == 0)
            #expect(seen.allSatisfy { $0.kept == binary })
        }
    }

    @Test("send(_:to:) with many pids: one shared binary from fanOutThreshold on, copies below, dead ones skipped")
    func fanOutOfBytes() async throws {
        try await withRuntime { runtime in
            let sightings = Box<[Sighting]>([])
            let dead = try runtime.spawn(Probe(onHandle: { _, _ in .stop }))
            try runtime.send([0], to: dead)
            _ = await runtime.waitForExit(dead)
            let receivers = try (0..<50).map { _ in try runtime.spawn(recorder(sightings)) } + [dead]
            let big = pattern(SharedBinary.fanOutThreshold)
            #expect(try runtime.send(big, to: receivers) == 50)
            try #require(await waitUntil { sightings.value.count == 50 })
            let shared = sightings.value
            #expect(shared.allSatisfy { $0.isShared && $0.kept.bytes == big })
            #expect(Set(shared.map(\.payloadAddress)).count == 1)  // one copy for all
            sightings.update { $0.removeAll() }
            // Below the threshold: a copy each, from a process too.
            let small = pattern(SharedBinary.fanOutThreshold - 1)
            let fanner = try runtime.spawn(Probe(onHandle: { _, context in
                _ = try context.send(small, to: receivers)
                return .continue
            }))
            try runtime.send([0], to: fanner)
            try #require(await waitUntil { sightings.value.count == 50 })
            let copied = sightings.value
            // Copies: not shared (their payload addresses may repeat, as a
            // handled message's node is reused for the next one).
            #expect(copied.allSatisfy { !$0.isShared && $0.kept.bytes == small })
        }
    }

    @Test("a receiver keeps the binary past its handler and past the sender's exit, and reads it right")
    func keptPastSender() async throws {
        try await withRuntime { runtime in
            let sightings = Box<[Sighting]>([])
            let receiver = try runtime.spawn(recorder(sightings))
            let sentAt = Box<UInt>(0)
            // The sender makes the binary in its handler, sends it from its
            // context and exits: its reference is gone with it.
            let sender = try runtime.spawn(Probe(onHandle: { _, context in
                let binary = SharedBinary(count: 100_000) { $0.copyBytes(from: pattern(100_000)) }
                sentAt.set(address(of: binary))
                try context.send(binary, to: receiver)
                return .stop
            }))
            let exit = try await watch(sender, on: runtime)
            try runtime.send("go", to: sender)
            #expect(await exit.reason() == .normal)
            try #require(await waitUntil { sightings.value.count == 1 })
            let kept = try #require(sightings.value.first)
            #expect(kept.isShared)
            #expect(kept.payloadAddress == sentAt.value)
            #expect(address(of: kept.kept) == sentAt.value)
            #expect(kept.kept.bytes == pattern(100_000))
        }
    }

    @Test("memory ceiling: N messages carrying one binary charge it once; it is refunded when the last reference goes")
    func chargedOnce() async throws {
        let runtime = try Runtime(schedulers: 2, maxMemory: 8 << 20)
        defer { try? runtime.stop() }
        let gate = Flag()
        let parked = Flag()
        let kept = Box<SharedBinary?>(nil)
        let handled = Box(0)
        let consumer = try runtime.spawn(Probe(onHandle: { message, _ in
            if !gate.isRaised {
                parked.raise()
                _ = gate.block()
            }
            if message.isShared { kept.set(message.sharedBinary) }
            handled.update { $0 += 1 }
            return .continue
        }))
        try runtime.send("hold", to: consumer)
        #expect(await waitUntil { parked.isRaised })
        let size = 1 << 20
        let messages = 100  // 100 MiB as copies: 12 times the ceiling
        var binary: SharedBinary? = SharedBinary(pattern(size))
        for _ in 0..<messages { try runtime.send(binary!, to: consumer) }
        // The binary once (its length + SWERL_BINARY_OVERHEAD, 32), each
        // message as 8 bytes + 64, the parked "hold" as 4 + 64.
        #expect(runtime.statistics.memoryUsed == UInt64(size + 32 + messages * (8 + 64) + 4 + 64))
        gate.raise()
        #expect(await waitUntil { handled.value == messages + 1 })
        // The messages are freed; the binary is held by the sender and the receiver.
        #expect(await waitUntil { runtime.statistics.memoryUsed == UInt64(size + 32) })
        binary = nil
        #expect(runtime.statistics.memoryUsed == UInt64(size + 32))
        #expect(kept.value?.bytes == pattern(size))
        kept.set(nil)
        #expect(runtime.statistics.memoryUsed == 0)
        #expect(runtime.statistics.messagesRejected == 0)
    }

    @Test("memory ceiling: a binary larger than the ceiling is refused (memoryLimit, counted) and nothing stays charged")
    func overTheCeiling() async throws {
        let runtime = try Runtime(schedulers: 2, maxMemory: 64 << 10)
        defer { try? runtime.stop() }
        let sightings = Box<[Sighting]>([])
        let receiver = try runtime.spawn(recorder(sightings))
        let large = SharedBinary(pattern(128 << 10))
        #expect(throws: SwerlError(.memoryLimit)) { try runtime.send(large, to: receiver) }
        #expect(runtime.statistics.messagesRejected == 1)
        #expect(runtime.statistics.memoryUsed == 0)
        // A binary that fits goes, and is refunded once handled and dropped.
        try runtime.send(SharedBinary(pattern(16 << 10)), to: receiver)
        try #require(await waitUntil { sightings.value.count == 1 })
        #expect(sightings.value[0].kept.count == 16 << 10)
        sightings.set([])
        #expect(await waitUntil { runtime.statistics.memoryUsed == 0 })
    }

    @Test("plain sends arrive unshared; sharedBinary copies them; MessagePayload sends copy a binary; a reply goes by reference to a process only")
    func plainSendsUnshared() async throws {
        try await withRuntime { runtime in
            let sightings = Box<[Sighting]>([])
            let receiver = try runtime.spawn(recorder(sightings))
            let binary = SharedBinary(pattern(1_000))
            try runtime.send(pattern(1_000), to: receiver)
            try runtime.send(binary.bytes[...], to: receiver)
            _ = try runtime.sendAfter(.zero, binary, to: receiver)  // a timer: the MessagePayload copy
            try #require(await waitUntil { sightings.value.count == 3 })
            for seen in sightings.value {
                #expect(!seen.isShared)
                #expect(seen.kept == binary)
                #expect(address(of: seen.kept) != address(of: binary))
                #expect(address(of: seen.kept) != seen.payloadAddress)
            }
            // A reply with a binary: a copy of its bytes for a task's call...
            let server = try runtime.spawn(Probe(onHandle: { message, context in
                if message.kind == .call { try context.reply(to: message, with: binary) }
                return .continue
            }))
            #expect(try await runtime.call(server, binary) == binary.bytes)
            // ...the binary itself for a process's sendRequest (swerl_reply_binary).
            let replies = Box<[Sighting]>([])
            let asker = try runtime.spawn(Probe(onHandle: { message, context in
                if message.kind == .reply {
                    replies.update { $0.append(Sighting(message)) }
                } else {
                    _ = try context.sendRequest(server, [1])
                }
                return .continue
            }))
            try runtime.send([0], to: asker)
            try #require(await waitUntil { replies.value.count == 1 })
            let reply = replies.value[0]
            #expect(reply.isShared)
            #expect(reply.payloadAddress == address(of: binary))
            #expect(address(of: reply.kept) == address(of: binary))
        }
    }

    @Test("sends by name; an empty binary arrives as an empty, unshared message")
    func namedAndEmpty() async throws {
        try await withRuntime { runtime in
            let sightings = Box<[Sighting]>([])
            let receiver = try runtime.spawn(recorder(sightings), options: SpawnOptions(name: "binaries"))
            let binary = SharedBinary(pattern(4_096))
            try runtime.send(binary, to: "binaries")
            try runtime.send(SharedBinary([UInt8]()), to: receiver)
            try #require(await waitUntil { sightings.value.count == 2 })
            let (named, empty) = (sightings.value[0], sightings.value[1])
            #expect(named.isShared && named.payloadAddress == address(of: binary))
            #expect(!empty.isShared && empty.kept.isEmpty)
        }
    }

    @Test("bad inputs: a dead pid is a dead letter (false), too big throws messageTooBig, no name throws")
    func badInputs() async throws {
        let runtime = try Runtime(schedulers: 2, maxMessageSize: 1_024, maxMemory: 1 << 20)
        defer { try? runtime.stop() }
        let dead = try runtime.spawn(Probe.exits())
        let exit = try await watch(dead, on: runtime)
        try runtime.send("stop", to: dead)
        #expect(await exit.reason() == .normal)
        let binary = SharedBinary(pattern(1_024))
        let deadLetters = runtime.statistics.deadLetters
        #expect(try runtime.send(binary, to: dead) == false)
        #expect(runtime.statistics.deadLetters == deadLetters + 1)
        #expect(runtime.statistics.memoryUsed == 0)

        let sightings = Box<[Sighting]>([])
        let receiver = try runtime.spawn(recorder(sightings))
        #expect(throws: SwerlError(.messageTooBig)) { try runtime.send(SharedBinary(pattern(1_025)), to: receiver) }
        #expect(throws: SwerlError(.nameNotRegistered)) { try runtime.send(binary, to: "nobody") }
        #expect(throws: SwerlError(.invalidArgument)) { try runtime.send(binary, to: "") }
        #expect(throws: SwerlError(.noProcess)) { try runtime.send(binary, to: Pid(rawValue: 0)) }
        #expect(runtime.statistics.memoryUsed == 0)
        // The largest allowed goes by reference.
        try runtime.send(binary, to: receiver)
        try #require(await waitUntil { sightings.value.count == 1 })
        #expect(sightings.value[0].isShared)
        #expect(binary.bytes == pattern(1_024))
    }

    @Test("an async handler (a turn group's batch) gets a shared message and keeps its binary across an await")
    func asyncKeeps() async throws {
        struct Keeper: AsyncBehavior {
            let seen: Box<[SharedBinary]>
            mutating func handle(_ message: Message, _ context: Context) async throws -> Next {
                await Task.yield()
                if message.isShared { seen.update { $0.append(message.sharedBinary) } }
                return .continue
            }
        }
        try await withRuntime { runtime in
            let seen = Box<[SharedBinary]>([])
            let keeper = try runtime.spawn(async: Keeper(seen: seen))
            let binary = SharedBinary(pattern(2_048))
            try runtime.send(binary, to: keeper)
            try #require(await waitUntil { seen.value.count == 1 })
            #expect(address(of: seen.value[0]) == address(of: binary))
            #expect(seen.value[0].bytes == pattern(2_048))
        }
    }
}
