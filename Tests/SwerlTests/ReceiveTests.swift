// OTP-11..14: selective receive (SKIP) and the receive timeout.

import Swerl
import Testing

@Suite("Receive (OTP-11..14)", .timeLimit(.minutes(1)))
struct ReceiveTests {
    @Test("OTP-11: selective receive takes the first matching message; skipped ones stay in their original order")
    func selectiveReceiveKeepsOrder() async throws {
        try await withRuntime { runtime in
            let gate = Flag()
            let accepted = Box<[String]>([])
            let acceptAll = Box(false)
            let pid = try runtime.spawn(Probe(onStart: { _ in _ = gate.block() }, onHandle: { message, _ in
                let text = message.text
                if text.hasPrefix("want") || acceptAll.value {
                    accepted.update { $0.append(text) }
                    if text == "want-all" { acceptAll.set(true) }
                    return .continue
                }
                return .skip
            }))
            for text in ["x1", "want1", "x2", "want2", "x3", "want-all"] { try runtime.send(text, to: pid) }
            gate.raise()  // everything is queued before the first offer
            #expect(await waitUntil { accepted.value.count == 6 })
            #expect(accepted.value == ["want1", "want2", "want-all", "x1", "x2", "x3"])
        }
    }

    @Test("OTP-11: after a message is accepted the next offer starts again from the oldest")
    func restartFromOldestAfterAccept() async throws {
        try await withRuntime { runtime in
            let gate = Flag()
            let offers = Box<[String]>([])
            let sawB = Box(false)
            let pid = try runtime.spawn(Probe(onStart: { _ in _ = gate.block() }, onHandle: { message, _ in
                let text = message.text
                if sawB.value || text == "B" {
                    sawB.set(true)
                    offers.update { $0.append("\(text)+") }
                    return .continue
                }
                offers.update { $0.append("\(text)-") }
                return .skip
            }))
            for text in ["A1", "B", "A2"] { try runtime.send(text, to: pid) }
            gate.raise()
            #expect(await waitUntil { offers.value.count == 4 })
            // Continuing after B would have offered A2 before A1.
            #expect(offers.value == ["A1-", "B+", "A1+", "A2+"])
        }
    }

    @Test("OTP-11: a message that never matches is offered again, first, after every accept")
    func skippedMessageOfferedAfterEveryAccept() async throws {
        try await withRuntime { runtime in
            let gate = Flag()
            let offers = Box<[String]>([])
            let pid = try runtime.spawn(Probe(onStart: { _ in _ = gate.block() }, onHandle: { message, _ in
                let text = message.text
                if text == "X" {
                    offers.update { $0.append("X-") }
                    return .skip
                }
                offers.update { $0.append("\(text)+") }
                return .continue
            }))
            for text in ["X", "Y1", "Y2", "Y3"] { try runtime.send(text, to: pid) }
            gate.raise()
            #expect(await waitUntil { offers.value.count >= 7 })
            #expect(offers.value == ["X-", "Y1+", "X-", "Y2+", "X-", "Y3+", "X-"])
            // X waits again once the handler has returned SKIP for it (while it
            // is being handled it is not waiting).
            #expect(await waitUntil { runtime.info(pid)?.messageQueueLength == 1 })
        }
    }

    @Test("OTP-12: without a receive timeout a process waits indefinitely: no TIMEOUT ever comes")
    func noTimeoutWithoutAfter() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            try runtime.sendAfter(.milliseconds(200), "tick", to: agent.pid)
            #expect(await agent.inbox.first { $0.isMessage("tick") } != nil)
            #expect(agent.inbox.all.map(\.kind) == [.message])
        }
    }

    @Test("OTP-13: after T ms without an accepted message, TIMEOUT comes, not before T")
    func timeoutAfterT() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let started = try await agent.run { context in
                let now = ContinuousClock.now
                try context.setReceiveTimeout(.milliseconds(100))
                return now
            }
            let timeout = try #require(await agent.inbox.first { $0.kind == .timeout })
            #expect(timeout.at - started >= .milliseconds(100))
            #expect(timeout.from == nil)
        }
    }

    @Test("OTP-13: a receive timeout set at the end of a long callback still fires")
    func timeoutAfterLongCallback() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let started = try await agent.run { context in
                _ = blockUntil(seconds: 0.3) { false }  // 300 ms of work on the scheduler thread
                let now = ContinuousClock.now
                try context.setReceiveTimeout(.milliseconds(100))
                return now
            }
            let timeout = try #require(await agent.inbox.first { $0.kind == .timeout },
                                       "no TIMEOUT within 10 s of a 100 ms receive timeout")
            #expect(timeout.at - started >= .milliseconds(100))
        }
    }

    @Test("OTP-13: a receive timeout set while handling the last of many queued messages still fires",
          arguments: [255, 256, 257, 512])
    func timeoutAfterManyQueuedMessages(_ count: Int) async throws {
        try await withRuntime { runtime in
            // All messages are queued before the first is offered; each handler
            // sets the timeout again, so it runs from the last one.
            let gate = Flag()
            let handled = Box(0)
            let timeouts = Box(0)
            let pid = try runtime.spawn(Probe(onStart: { _ in _ = gate.block() }, onHandle: { message, context in
                if message.kind == .timeout {
                    timeouts.update { $0 += 1 }
                } else {
                    handled.update { $0 += 1 }
                    try context.setReceiveTimeout(.milliseconds(50))
                }
                return .continue
            }))
            for index in 0..<count { try runtime.send("m\(index)", to: pid) }
            gate.raise()
            #expect(await waitUntil { handled.value == count })
            #expect(await waitUntil { timeouts.value == 1 }, "no TIMEOUT after \(count) queued messages")
        }
    }

    @Test("OTP-13: a receive timeout set in start applies before the first message")
    func timeoutFromStart() async throws {
        try await withRuntime { runtime in
            let started = Box<ContinuousClock.Instant?>(nil)
            let fired = Box<ContinuousClock.Instant?>(nil)
            try runtime.spawn(Probe(onStart: { context in
                started.set(.now)
                try context.setReceiveTimeout(.milliseconds(50))
            }, onHandle: { message, _ in
                if message.kind == .timeout { fired.set(.now) }
                return .continue
            }))
            #expect(await waitUntil { fired.value != nil })
            let start = try #require(started.value)
            let end = try #require(fired.value)
            #expect(end - start >= .milliseconds(50))
        }
    }

    @Test("OTP-13: after 0 with an empty mailbox is a poll: TIMEOUT comes at once")
    func timeoutZeroEmptyMailbox() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            try await agent.run { context in try context.setReceiveTimeout(.milliseconds(0)) }
            #expect(await agent.inbox.first { $0.kind == .timeout } != nil)
        }
    }

    @Test("OTP-13: after 0 with a message already waiting: the message is handled, no TIMEOUT")
    func timeoutZeroWithMessageWaiting() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            try await agent.run { context in
                try context.send("waiting", to: context.pid)
                try context.setReceiveTimeout(.milliseconds(0))
            }
            #expect(await agent.inbox.first { $0.isMessage("waiting") } != nil)
            try runtime.send("probe", to: agent.pid)
            #expect(await agent.inbox.first { $0.isMessage("probe") } != nil)
            #expect(agent.inbox.all.map(\.kind) == [.message, .message])
            #expect(agent.inbox.texts == ["waiting", "probe"])
        }
    }

    @Test("OTP-13: after 0 when the waiting messages do not match (skip): TIMEOUT comes")
    func timeoutZeroWithOnlySkippedMessages() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime, reaction: { event, _ in event.isMessage("ignored") ? .skip : .continue })
            try await agent.run { context in
                try context.send("ignored", to: context.pid)
                try context.setReceiveTimeout(.milliseconds(0))
            }
            #expect(await agent.inbox.first { $0.kind == .timeout } != nil)
            #expect(agent.queueLength == 1)
        }
    }

    @Test("OTP-13: after infinity (nil) means no timeout: it clears a pending one")
    func timeoutNilClears() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            try await agent.run { context in
                try context.setReceiveTimeout(.milliseconds(30))
                try context.setReceiveTimeout(nil)
            }
            // Were the 30 ms timeout still set, TIMEOUT would come before this.
            try runtime.sendAfter(.milliseconds(300), "tick", to: agent.pid)
            #expect(await agent.inbox.first { $0.isMessage("tick") } != nil)
            #expect(agent.inbox.all.map(\.kind) == [.message])
        }
    }

    @Test("OTP-13: accepting a message clears the receive timeout")
    func acceptClearsTimeout() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            try await agent.run { context in
                try context.setReceiveTimeout(.milliseconds(200))
                try context.send("accepted", to: context.pid)
            }
            #expect(await agent.inbox.first { $0.isMessage("accepted") } != nil)
            try runtime.sendAfter(.milliseconds(600), "tick", to: agent.pid)
            #expect(await agent.inbox.first { $0.isMessage("tick") } != nil)
            #expect(agent.inbox.all.map(\.text) == ["accepted", "tick"])
            #expect(agent.inbox.count { $0.kind == .timeout } == 0)
        }
    }

    @Test("OTP-13: a skipped message neither resets nor clears the receive timeout")
    func skipKeepsTimeout() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime, reaction: { event, _ in event.isMessage("ignored") ? .skip : .continue })
            let started = try await agent.run { context in
                let now = ContinuousClock.now
                try context.setReceiveTimeout(.milliseconds(100))
                try context.send("ignored", to: context.pid)
                return now
            }
            let timeout = try #require(await agent.inbox.first { $0.kind == .timeout })
            #expect(timeout.at - started >= .milliseconds(100))
            #expect(agent.queueLength == 1)
        }
    }

    @Test("OTP-13: setting the timeout again in the TIMEOUT handler repeats it, each after at least T")
    func timeoutRearmed() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime, reaction: { event, context in
                if event.kind == .timeout { try context.setReceiveTimeout(.milliseconds(20)) }
                return .continue
            })
            let started = try await agent.run { context in
                let now = ContinuousClock.now
                try context.setReceiveTimeout(.milliseconds(20))
                return now
            }
            #expect(await agent.inbox.waitForCount(3) { $0.kind == .timeout })
            let times = [started] + agent.inbox.all.filter { $0.kind == .timeout }.prefix(3).map(\.at)
            for index in 1..<times.count {
                #expect(times[index] - times[index - 1] >= .milliseconds(20))
            }
        }
    }

    @Test("OTP-14: receive after T with no clauses consumes no messages: after T they are all still there, in order")
    func sleepConsumesNothing() async throws {
        try await withRuntime { runtime in
            let sleeping = Box(true)
            let agent = try Agent.spawn(runtime, reaction: { event, _ in
                if event.kind == .timeout {
                    sleeping.set(false)
                    return .continue
                }
                return sleeping.value ? .skip : .continue
            })
            for text in ["m1", "m2", "m3"] { try runtime.send(text, to: agent.pid) }
            #expect(await waitUntil { agent.queueLength == 3 })
            let started = try await agent.run { context in
                let now = ContinuousClock.now
                try context.setReceiveTimeout(.milliseconds(100))
                return now
            }
            let timeout = try #require(await agent.inbox.first { $0.kind == .timeout })
            #expect(timeout.at - started >= .milliseconds(100))
            // The sleep is over: the next receive starts from the oldest message.
            let allThere = await agent.inbox.waitForCount(3) { $0.kind == .message }
            #expect(allThere, "after the TIMEOUT the skipped messages were not offered again; queue length \(String(describing: agent.queueLength))")
            #expect(agent.inbox.texts == ["m1", "m2", "m3"])
        }
    }
}
