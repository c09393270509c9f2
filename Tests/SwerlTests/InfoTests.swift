// OTP-37, OTP-38: process introspection.

import Swerl
import Testing

@Suite("Process info (OTP-37, OTP-38)", .timeLimit(.minutes(1)))
struct InfoTests {
    @Test("OTP-37: info of a process that is not alive is nil")
    func infoOfDeadIsNil() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            #expect(runtime.info(agent.pid) != nil)
            let watch = try await watch(agent.pid, on: runtime)
            try await agent.finish(with: .stop)
            #expect(await watch.reason() == .normal)
            #expect(runtime.info(agent.pid) == nil)
            #expect(runtime.info(Pid(rawValue: 0)) == nil)
            #expect(try !runtime.processes.contains(agent.pid))
        }
    }

    @Test("OTP-37: a pid that was never issued is not alive: info is nil, send, exit and register fail")
    func neverIssuedPidIsNotAlive() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)  // the first slots of the table now exist
            // Slot 100, generation 0: spawn never hands out generation 0.
            let forged = Pid(rawValue: 100)
            #expect(forged != agent.pid)
            #expect(runtime.info(forged) == nil, "info of a never-issued pid: \(String(describing: runtime.info(forged)))")
            #expect(throws: SwerlError(.noProcess)) { try runtime.send("hello?", to: forged) }
            #expect(throws: SwerlError(.noProcess)) { try runtime.exit(forged, reason: .kill) }
            #expect(throws: SwerlError(.noProcess)) { try runtime.register(forged, as: "forged") }
            #expect(try runtime.pid(named: "forged") == nil)
            #expect(throws: SwerlError(.noProcess)) { try runtime.sendAfter(.milliseconds(1), "x", to: forged) }
            await #expect(throws: SwerlError(.noProcess)) { try await runtime.guardedCall(forged, "x", timeout: .milliseconds(2000)) }
            let ref = try await agent.monitor(forged)
            #expect(await agent.down(ref)?.reason == .noProcess)
            await #expect(throws: SwerlError(.noProcess)) { try await agent.link(forged) }
        }
    }

    @Test("OTP-37: info is ordered after the caller's own sends: the queue length counts a message once send returns")
    func infoOrderedAfterSends() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            // Keep the agent busy so nothing is taken from its mailbox meanwhile.
            let entered = Flag()
            let release = Flag()
            let job = Task { try await agent.run { _ in
                entered.raise()
                _ = release.block()
            } }
            #expect(await waitUntil { entered.isRaised })
            for index in 1...3 {
                try runtime.send("m\(index)", to: agent.pid)
                #expect(runtime.info(agent.pid)?.messageQueueLength == index)
            }
            release.raise()
            try await job.value
            #expect(await agent.inbox.waitForCount(3) { $0.kind == .message })
            #expect(await waitUntil { agent.queueLength == 0 })
        }
    }

    @Test("OTP-37: info right after spawn reflects the spawn: trap_exit, the link and the monitor")
    func infoOrderedAfterSpawn() async throws {
        try await withRuntime { runtime in
            let parent = try Agent.spawn(runtime)
            // Inside the parent's callback the child cannot have run yet: it
            // starts on the parent's scheduler thread once the callback returns.
            let seen = try await parent.run { context -> (links: Int, monitoredBy: Int, trapsExits: Bool)? in
                let child = try context.spawn(Probe(onHandle: { message, _ in message.kind == .exit ? .stop : .continue }),
                                              options: SpawnOptions(link: true, monitor: true, trapExits: true))
                guard let info = try context.runtime.info(child.pid) else { return nil }
                return (info.links, info.monitoredBy, info.trapsExits)
            }
            let info = try #require(seen)
            #expect(info.links == 1)
            #expect(info.monitoredBy == 1)
            #expect(info.trapsExits)
            #expect(runtime.info(parent.pid)?.links == 1)
            #expect(runtime.info(parent.pid)?.monitors == 1)
        }
    }

    @Test("OTP-38: message queue length counts the messages waiting, skipped ones included")
    func queueLength() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime, reaction: { _, _ in .skip })
            #expect(runtime.info(agent.pid)?.messageQueueLength == 0)
            for index in 0..<5 { try runtime.send("m\(index)", to: agent.pid) }
            #expect(await waitUntil { agent.queueLength == 5 })
            // Each skip is a callback too (Erlang's reductions).
            #expect(await waitUntil { (runtime.info(agent.pid)?.messagesHandled ?? 0) >= 5 })
            let handledBefore = try #require(runtime.info(agent.pid)?.messagesHandled)
            try await agent.react(nil)
            #expect(await agent.inbox.waitForCount(5) { $0.kind == .message })
            #expect(await waitUntil { agent.queueLength == 0 })
            #expect(await waitUntil { (runtime.info(agent.pid)?.messagesHandled ?? 0) >= handledBefore + 6 })
        }
    }

    @Test("OTP-38: links, monitors, monitored_by, trap_exit and the registered name are reported")
    func relations() async throws {
        try await withRuntime { runtime in
            let subject = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true, name: "info-subject"))
            let b = try Agent.spawn(runtime)
            let c = try Agent.spawn(runtime)
            let observer = try Agent.spawn(runtime)
            try await subject.link(b.pid)
            try await subject.link(c.pid)
            _ = try await subject.monitor(b.pid)
            _ = try await observer.monitor(subject.pid)
            #expect(await waitUntil { runtime.info(subject.pid)?.monitoredBy == 1 })
            let info = try #require(runtime.info(subject.pid))
            #expect(info.links == 2)
            #expect(info.monitors == 1)
            #expect(info.monitoredBy == 1)
            #expect(info.trapsExits)
            #expect(info.name == "info-subject")
            #expect(info.memory > 0)

            #expect(await waitUntil { runtime.info(b.pid)?.links == 1 && runtime.info(b.pid)?.monitoredBy == 1 })
            let plain = try #require(runtime.info(b.pid))
            #expect(plain.monitors == 0)
            #expect(!plain.trapsExits)
            #expect(plain.name == nil)

            #expect(Set(try runtime.processes).isSuperset(of: [subject.pid, b.pid, c.pid, observer.pid]))
        }
    }

    @Test("OTP-38: status is running inside a callback and waiting when idle")
    func status() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let inside = try await agent.run { context in try context.runtime.info(context.pid)?.status }
            #expect(inside == .running)
            #expect(await waitUntil { runtime.info(agent.pid)?.status == .waiting })
        }
    }
}
