// OTP-7..10: signal ordering and the release of names before notifications.

import Swerl
import Testing

@Suite("Ordering (OTP-7..10)", .timeLimit(.minutes(1)))
struct OrderingTests {
    @Test("OTP-7: messages from each of several concurrent sender processes arrive in the order sent")
    func perSenderOrderAcrossProcesses() async throws {
        try await withRuntime { runtime in
            let receiver = try Agent.spawn(runtime)
            let perSender = 2000
            var senders: [Pid] = []
            for _ in 0..<4 {
                let target = receiver.pid
                senders.append(try runtime.spawn(Probe(onHandle: { _, context in
                    for index in 0..<perSender { try context.send("\(index)", to: target) }
                    return .stop
                })))
            }
            for sender in senders { try runtime.send("go", to: sender) }
            #expect(await receiver.inbox.waitForCount(4 * perSender) { $0.kind == .message })
            let events = receiver.inbox.all
            for sender in senders {
                let sequence = events.filter { $0.from == sender }.map { Int($0.text) ?? -1 }
                #expect(sequence == Array(0..<perSender), "sender \(sender) out of order")
            }
        }
    }

    @Test("OTP-7: messages from each of several concurrent outside threads arrive in the order sent")
    func perSenderOrderAcrossThreads() async throws {
        try await withRuntime { runtime in
            let receiver = try Agent.spawn(runtime)
            let perSender = 2000
            let pid = receiver.pid
            try await withThrowingTaskGroup(of: Void.self) { group in
                for thread in 0..<4 {
                    group.addTask {
                        for index in 0..<perSender { try runtime.send("\(thread):\(index)", to: pid) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await receiver.inbox.waitForCount(4 * perSender) { $0.kind == .message })
            let texts = receiver.inbox.texts
            for thread in 0..<4 {
                let sequence = texts.filter { $0.hasPrefix("\(thread):") }.map { Int($0.dropFirst(2)) ?? -1 }
                #expect(sequence == Array(0..<perSender), "thread \(thread) out of order")
            }
        }
    }

    @Test("OTP-8: messages a linked process sent before dying arrive before its EXIT")
    func messagesBeforeExit() async throws {
        try await withRuntime { runtime in
            let receiver = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            let target = receiver.pid
            for round in 0..<20 {
                let sender = Probe(onHandle: { _, context in
                    for index in 0..<100 { try context.send("\(round):\(index)", to: target) }
                    return .exit(.custom(8))
                })
                // Half spawned by the receiver (same scheduler), half from outside (any scheduler).
                let pid: Pid
                if round.isMultiple(of: 2) {
                    pid = try await receiver.run { try $0.spawn(sender, options: SpawnOptions(link: true)).pid }
                } else {
                    pid = try runtime.spawn(sender)
                    try await receiver.link(pid)
                }
                try runtime.send("go", to: pid)
                let exit = try #require(await receiver.inbox.first { $0.isExit(from: pid) })
                #expect(exit.reason == .custom(8))
                let fromSender = receiver.inbox.all.filter { $0.from == pid }
                #expect(fromSender.count == 101)
                #expect(fromSender.last?.kind == .exit)
                #expect(fromSender.dropLast().map(\.text) == (0..<100).map { "\(round):\($0)" })
            }
        }
    }

    @Test("OTP-8: messages a monitored process sent before dying arrive before its DOWN")
    func messagesBeforeDown() async throws {
        try await withRuntime { runtime in
            let receiver = try Agent.spawn(runtime)
            let target = receiver.pid
            for round in 0..<20 {
                let pid = try runtime.spawn(Probe(onHandle: { _, context in
                    for index in 0..<100 { try context.send("\(round):\(index)", to: target) }
                    throw Boom("after sending")
                }))
                let ref = try await receiver.monitor(pid)
                try runtime.send("go", to: pid)
                let down = try #require(await receiver.down(ref))
                #expect(down.reason?.isError == true)
                let fromSender = receiver.inbox.all.filter { $0.from == pid }
                #expect(fromSender.count == 101)
                #expect(fromSender.last?.kind == .down)
                #expect(fromSender.dropLast().map(\.text) == (0..<100).map { "\(round):\($0)" })
            }
        }
    }

    @Test("OTP-8: a message sent from terminate arrives before the DOWN")
    func terminateMessageBeforeDown() async throws {
        try await withRuntime { runtime in
            let receiver = try Agent.spawn(runtime)
            let target = receiver.pid
            let pid = try runtime.spawn(Probe(onHandle: { _, _ in .exit(.shutdown) },
                                              onTerminate: { _, context in _ = try? context.send("bye", to: target) }))
            let ref = try await receiver.monitor(pid)
            try runtime.send("go", to: pid)
            #expect(await receiver.down(ref) != nil)
            let fromSender = receiver.inbox.all.filter { $0.from == pid }
            #expect(fromSender.map(\.kind) == [.message, .down])
            #expect(fromSender.first?.text == "bye")
        }
    }

    @Test("OTP-8: a message sent before exit/2 arrives before the EXIT it causes")
    func messageBeforeExitSignal() async throws {
        try await withRuntime { runtime in
            let receiver = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            let sender = try Agent.spawn(runtime)
            let target = receiver.pid
            for round in 0..<20 {
                try await sender.run { context in
                    try context.send("m\(round)", to: target)
                    try context.exit(target, reason: .custom(Int32(round)))
                }
            }
            #expect(await receiver.inbox.waitForCount(40) { $0.from == sender.pid })
            let seen = receiver.inbox.all.filter { $0.from == sender.pid }
            for round in 0..<20 {
                #expect(seen[2 * round].isMessage("m\(round)"))
                #expect(seen[2 * round + 1].kind == .exit && seen[2 * round + 1].reason == .custom(Int32(round)))
            }
        }
    }

    @Test("OTP-9: messages, trapped EXITs and DOWNs join the end of the mailbox, in arrival order")
    func arrivalOrder() async throws {
        try await withRuntime { runtime in
            // Skips everything until told otherwise, so the mailbox keeps its order.
            let receiver = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true),
                                           reaction: { _, _ in .skip })
            let linked = try await receiver.spawnChild(options: SpawnOptions(link: true)).agent
            let monitored = try await receiver.spawnChild(options: SpawnOptions(monitor: true))
            let monitorRef = try #require(monitored.monitor)

            try runtime.send("a", to: receiver.pid)
            #expect(await waitUntil { receiver.queueLength == 1 })
            try await linked.finish(with: .exit(.custom(1)))
            #expect(await waitUntil { receiver.queueLength == 2 })
            try runtime.send("b", to: receiver.pid)
            #expect(await waitUntil { receiver.queueLength == 3 })
            try await monitored.agent.finish(with: .exit(.custom(2)))
            #expect(await waitUntil { receiver.queueLength == 4 })
            try runtime.send("c", to: receiver.pid)
            #expect(await waitUntil { receiver.queueLength == 5 })

            try await receiver.react(nil)
            #expect(await waitUntil { receiver.inbox.all.count == 5 })
            let seen = receiver.inbox.all
            #expect(seen.count == 5, "\(seen)")
            #expect(seen[0].isMessage("a"))
            #expect(seen[1].isExit(from: linked.pid) && seen[1].reason == .custom(1))
            #expect(seen[2].isMessage("b"))
            #expect(seen[3].isDown(monitorRef) && seen[3].reason == .custom(2))
            #expect(seen[4].isMessage("c"))
        }
    }

    @Test("OTP-10: the name is released before DOWN: whereis inside the DOWN handler returns nil")
    func nameReleasedBeforeDown() async throws {
        try await withRuntime { runtime in
            for round in 0..<20 {
                let name = "otp10-down-\(round)"
                let lookups = Box<[Pid?]>([])
                let observer = try Agent.spawn(runtime, reaction: { event, context in
                    if event.kind == .down { lookups.update { $0.append(try? context.runtime.pid(named: name)) } }
                    return .continue
                })
                let named = try Agent.spawn(runtime, options: SpawnOptions(name: name))
                let ref = try await observer.monitor(named.pid)
                try await named.finish(with: round.isMultiple(of: 2) ? .stop : .exit(.custom(10)))
                #expect(await observer.down(ref) != nil)
                #expect(lookups.value.count == 1)
                #expect(lookups.value.first == .some(nil), "whereis(\(name)) in the DOWN handler gave \(lookups.value)")
            }
        }
    }

    @Test("OTP-10: the name is released before the link EXIT: whereis inside the EXIT handler returns nil")
    func nameReleasedBeforeExit() async throws {
        try await withRuntime { runtime in
            for round in 0..<20 {
                let name = "otp10-exit-\(round)"
                let lookups = Box<[Pid?]>([])
                let partner = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true), reaction: { event, context in
                    if event.kind == .exit { lookups.update { $0.append(try? context.runtime.pid(named: name)) } }
                    return .continue
                })
                let named = try Agent.spawn(runtime, options: SpawnOptions(name: name))
                try await partner.link(named.pid)
                try await named.finish(with: .exit(.custom(10)))
                #expect(await partner.inbox.first { $0.isExit(from: named.pid) } != nil)
                #expect(lookups.value.first == .some(nil), "whereis(\(name)) in the EXIT handler gave \(lookups.value)")
            }
        }
    }
}
