// OTP-34..36: send_after timers and cancel_timer.

import Swerl
import Testing

@Suite("Timers (OTP-34..36)", .timeLimit(.minutes(1)))
struct TimerTests {
    @Test("OTP-34: sendAfter delivers the message after at least T ms, from no process, carrying the timer ref")
    func sendAfterDelivers() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let start = ContinuousClock.now
            let ref = try runtime.sendAfter(.milliseconds(100), "ring", to: agent.pid)
            let event = try #require(await agent.inbox.first { $0.isMessage("ring") })
            #expect(event.at - start >= .milliseconds(100))
            #expect(event.from == nil)
            #expect(event.ref == ref)
        }
    }

    @Test("OTP-34: several timers each fire no earlier than their own delay")
    func severalTimers() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let pid = agent.pid
            // Set from inside a process as well as from outside.
            let start = try await agent.run { context in
                let now = ContinuousClock.now
                let runtime = try context.runtime
                try runtime.sendAfter(.milliseconds(150), "150", to: pid)
                try runtime.sendAfter(.milliseconds(0), "0", to: pid)
                return now
            }
            try runtime.sendAfter(.milliseconds(50), "50", to: pid)
            try runtime.sendAfter(.milliseconds(100), "100", to: pid)
            #expect(await agent.inbox.waitForCount(4) { $0.kind == .message })
            for event in agent.inbox.all {
                let delay = Int(event.text) ?? -1
                #expect(event.at - start >= .milliseconds(delay), "timer \(event.text) early")
            }
        }
    }

    @Test("OTP-34: a timer set at the end of a long callback still fires")
    func timerAfterLongCallback() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let started = try await agent.run { context in
                _ = blockUntil(seconds: 0.3) { false }  // 300 ms of work on the scheduler thread
                let now = ContinuousClock.now
                try context.runtime.sendAfter(.milliseconds(100), "ring", to: context.pid)
                return now
            }
            let ring = try #require(await agent.inbox.first { $0.isMessage("ring") },
                                    "a 100 ms timer did not fire within 10 s")
            #expect(ring.at - started >= .milliseconds(100))
        }
    }

    @Test("OTP-35: a timer is cancelled automatically when its target exits")
    func timerCancelledOnExit() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let ref = try runtime.sendAfter(.milliseconds(10_000), "never", to: agent.pid)
            let watch = try await watch(agent.pid, on: runtime)
            try await agent.finish(with: .stop)
            #expect(await watch.reason() == .normal)
            #expect(runtime.cancelTimer(ref) == nil)
        }
    }

    @Test("OTP-35: sendAfter to a pid that is not alive throws noProcess")
    func sendAfterToDead() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            let watch = try await watch(dead, on: runtime)
            try runtime.send("stop", to: dead)
            #expect(await watch.reason() == .normal)
            #expect(throws: SwerlError(.noProcess)) { try runtime.sendAfter(.milliseconds(10), "x", to: dead) }
        }
    }

    @Test("OTP-35: a timer whose target exited never reaches the process that reuses its slot")
    func timerNeverReachesReusedSlot() async throws {
        try await withRuntime { runtime in
            let old = try Agent.spawn(runtime)
            try runtime.sendAfter(.milliseconds(150), "for the old one", to: old.pid)
            let watch = try await watch(old.pid, on: runtime)
            try await old.finish(with: .stop)
            #expect(await watch.reason() == .normal)
            var heir: Agent?
            for _ in 0..<2000 where heir == nil {
                let candidate = try Agent.spawn(runtime)
                if slot(of: candidate.pid) == slot(of: old.pid) { heir = candidate }
                try await Task.sleep(for: .milliseconds(1))
            }
            let reused = try #require(heir, "no process reused slot \(slot(of: old.pid))")
            // A later timer of its own: the stale one, due earlier, would come first.
            try runtime.sendAfter(.milliseconds(400), "mine", to: reused.pid)
            #expect(await reused.inbox.first { $0.isMessage("mine") } != nil)
            #expect(reused.inbox.texts == ["mine"])
        }
    }

    @Test("OTP-36: cancelTimer of an active timer returns the time it had left")
    func cancelReturnsRemaining() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let start = ContinuousClock.now
            let ref = try runtime.sendAfter(.milliseconds(10_000), "later", to: agent.pid)
            let remaining = try #require(runtime.cancelTimer(ref))
            let elapsed = ContinuousClock.now - start
            #expect(remaining <= .seconds(10))
            // It had at least 10 s minus what passed here (less 1 ms of truncation).
            #expect(remaining > .seconds(10) - elapsed - .milliseconds(1))
        }
    }

    @Test("OTP-36: a cancelled timer never delivers; cancelling it again returns nil")
    func cancelledNeverDelivers() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let ref = try runtime.sendAfter(.milliseconds(50), "cancelled", to: agent.pid)
            #expect(runtime.cancelTimer(ref) != nil)
            #expect(runtime.cancelTimer(ref) == nil)
            try runtime.sendAfter(.milliseconds(300), "later", to: agent.pid)
            #expect(await agent.inbox.first { $0.isMessage("later") } != nil)
            #expect(agent.inbox.texts == ["later"])
        }
    }

    @Test("OTP-36: cancelTimer after the timer fired returns nil; the delivered message stays in the mailbox")
    func cancelAfterFiring() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime, reaction: { event, _ in event.isMessage("fired") ? .skip : .continue })
            let ref = try runtime.sendAfter(.milliseconds(20), "fired", to: agent.pid)
            #expect(await waitUntil { agent.queueLength == 1 })
            #expect(runtime.cancelTimer(ref) == nil)
            try await agent.react(nil)
            let event = try #require(await agent.inbox.first { $0.isMessage("fired") })
            #expect(event.ref == ref)
        }
    }

    @Test("OTP-36: cancelTimer of a ref that never was a timer returns nil")
    func cancelUnknown() async throws {
        try await withRuntime { runtime in
            #expect(runtime.cancelTimer(Ref(rawValue: 0)) == nil)
            #expect(runtime.cancelTimer(Ref(rawValue: 0x1234_5678)) == nil)
            let agent = try Agent.spawn(runtime)
            let other = try Agent.spawn(runtime)
            let monitor = try await agent.monitor(other.pid)
            #expect(runtime.cancelTimer(monitor) == nil)
            #expect(await other.isResponsive)
        }
    }
}
