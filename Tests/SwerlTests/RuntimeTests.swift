// The Swift API around the statements: Context validity, runtime stop,
// waitForExit.

import Swerl
import Testing

@Suite("Runtime and Context", .timeLimit(.minutes(1)))
struct RuntimeTests {
    @Test("Context used after its callback throws contextOutsideCallback")
    func contextOutsideCallback() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let other = try Agent.spawn(runtime)
            let saved = try await agent.run { context in context }
            let target = other.pid
            let outside = SwerlError(.contextOutsideCallback)
            #expect(throws: outside) { try saved.send("x", to: target) }
            #expect(throws: outside) { try saved.link(target) }
            #expect(throws: outside) { try saved.unlink(target) }
            #expect(throws: outside) { try saved.trapExits(true) }
            #expect(throws: outside) { try saved.monitor(target) }
            #expect(throws: outside) { try saved.demonitor(Ref(rawValue: 1)) }
            #expect(throws: outside) { try saved.setReceiveTimeout(.milliseconds(10)) }
            #expect(throws: outside) { try saved.exit(target, reason: .kill) }
            #expect(throws: outside) { try saved.spawn(Probe()) }
            #expect(throws: outside) { try saved.sendRequest(target, "x") }
            #expect(throws: outside) { _ = try saved.runtime }
            // Nothing happened to anyone.
            #expect(await other.isResponsive)
            #expect(other.inbox.all.isEmpty)
            #expect(runtime.info(agent.pid)?.links == 0)
            #expect(runtime.info(agent.pid)?.trapsExits == false)
        }
    }

    @Test("Context kept from start and used in a later callback of the same process throws contextOutsideCallback")
    func contextFromEarlierCallbackOfSameProcess() async throws {
        try await withRuntime { runtime in
            let saved = Box<Context?>(nil)
            let outcomes = Box<[String]>([])
            try runtime.spawn(Probe(onStart: { context in
                saved.set(context)
                try context.send("next", to: context.pid)
            }, onHandle: { _, _ in
                do {
                    _ = try saved.value?.runtime
                    outcomes.update { $0.append("accepted") }
                } catch let error as SwerlError {
                    outcomes.update { $0.append(error.name) }
                }
                return .continue
            }))
            #expect(await waitUntil { outcomes.value.count == 1 })
            #expect(outcomes.value == [SwerlError(.contextOutsideCallback).name],
                    "start's Context was accepted in the next callback")
        }
    }

    @Test("Context kept by one process never acts for another process's later callback")
    func contextFromAnotherProcess() async throws {
        try await withRuntime { runtime in
            let saved = Box<Context?>(nil)
            let accepted = Box<[Pid]>([])
            let handled = Box(0)
            let owner = try Agent.spawn(runtime)
            // The borrower starts on the owner's scheduler thread: it was spawned there.
            let borrower = try await owner.run { context in
                saved.set(context)
                return try context.spawn(Probe(onHandle: { _, _ in
                    if let stale = saved.value, (try? stale.runtime) != nil {
                        accepted.update { $0.append(stale.pid) }
                    }
                    handled.update { $0 += 1 }
                    return .continue
                })).pid
            }
            // One message per turn: each turn takes the next context of the thread's ring.
            for index in 1...200 {
                try runtime.send("turn", to: borrower)
                #expect(await waitUntil { handled.value == index })
            }
            #expect(accepted.value.isEmpty,
                    "the owner's stale Context was accepted \(accepted.value.count) times, acting as \(accepted.value.first.map(\.description) ?? "")")
        }
    }

    @Test("Runtime stop runs every terminate with shutdown; afterwards every operation throws stopped")
    func stopRunsTerminateAndRefusesAfterwards() async throws {
        let runtime = try Runtime(schedulers: 2)
        let terminated = Box<[ExitReason]>([])
        var pids: [Pid] = []
        for _ in 0..<10 {
            pids.append(try runtime.spawn(Probe(onTerminate: { reason, _ in terminated.update { $0.append(reason) } })))
        }
        let trapping = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
        try runtime.register(pids[0], as: "named")
        let named = pids[0]
        let waiter = Task { try await runtime.guardedWaitForExit(named) }
        #expect(await waitUntil { runtime.info(named)?.monitoredBy == 1 })
        try await runtime.stop()
        #expect(try await waiter.value == .shutdown)

        #expect(terminated.value.count == 10)
        #expect(terminated.value.allSatisfy { $0 == .shutdown })
        // A trapping process is told by an EXIT shutdown from no process, and may stop.
        let exit = try #require(trapping.inbox.all.first { $0.kind == .exit })
        #expect(exit.from == nil)
        #expect(exit.reason == .shutdown)
        #expect(trapping.control.terminated.value == .shutdown)

        let stopped = SwerlError(.stopped)
        #expect(throws: stopped) { try runtime.spawn(Probe()) }
        #expect(throws: stopped) { try runtime.send("x", to: pids[1]) }
        #expect(throws: stopped) { try runtime.send("x", to: "named") }
        #expect(throws: stopped) { try runtime.exit(pids[1], reason: .kill) }
        #expect(throws: stopped) { try runtime.register(pids[1], as: "late") }
        #expect(throws: stopped) { try runtime.sendAfter(.milliseconds(1), "x", to: pids[1]) }
        #expect(throws: stopped) { try runtime.reply(Ref(rawValue: 1), with: "x") }
        await #expect(throws: stopped) { try await runtime.guardedCall(pids[1], "x") }
        #expect(throws: stopped) { try runtime.stop() }
        // The core says "stopped", as C's ESTOPPED (1.1's Swift API said nothing).
        #expect(throws: stopped) { try runtime.pid(named: "named") }
        #expect(throws: stopped) { try runtime.registeredNames }
        #expect(throws: stopped) { try runtime.processes }
        #expect(runtime.info(pids[1]) == nil)
        #expect(runtime.statistics.processes == 0)
    }

    @Test("Runtime stop: a call still waiting for its answer fails with stopped")
    func stopCutsPendingCall() async throws {
        let runtime = try Runtime(schedulers: 2)
        let pending = Box<[Ref]>([])
        let server = try runtime.spawn(Probe.silentServer(pending: pending))
        let call = Task { try await runtime.guardedCall(server, "wait", timeout: nil) }
        #expect(await waitUntil { pending.value.count == 1 })
        try await runtime.stop()
        await #expect(throws: SwerlError(.stopped)) { try await call.value }
    }

    @Test("Runtime stop kills a trapping process that ignores the shutdown after the timeout; its terminate sees killed")
    func stopKillsStragglers() async throws {
        let runtime = try Runtime(schedulers: 2)
        let terminated = Box<ExitReason?>(nil)
        let seen = Inbox()
        try runtime.spawn(Probe(onHandle: { message, _ in
            seen.append(Event(message))
            return .continue
        }, onTerminate: { reason, _ in terminated.set(reason) }), options: SpawnOptions(trapExits: true))
        let start = ContinuousClock.now
        try await runtime.stop(timeout: .milliseconds(200))
        #expect(ContinuousClock.now - start >= .milliseconds(200))
        #expect(seen.all.first?.kind == .exit)
        #expect(seen.all.first?.reason == .shutdown)
        #expect(terminated.value == .killed)
    }

    @Test("Runtime stop inside a callback throws insideProcess")
    func stopInsideCallback() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let result = try await agent.run { context -> SwerlError? in
                do { try context.runtime.stop() } catch let error as SwerlError { return error }
                return nil
            }
            #expect(result == SwerlError(.insideProcess))
            #expect(await agent.isResponsive)
        }
    }

    @Test("waitForExit returns the exit reason to every waiter, and noProcess for a pid that is not alive")
    func waitForExit() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let waiters = (0..<3).map { _ in Task { try await runtime.guardedWaitForExit(agent.pid) } }
            #expect(await waitUntil { runtime.info(agent.pid)?.monitoredBy == 3 })
            let reason = ExitReason.custom(99, detail: Array("done".utf8))
            try await agent.finish(with: .exit(reason))
            for waiter in waiters { #expect(try await waiter.value == reason) }
            #expect(try await runtime.guardedWaitForExit(agent.pid) == .noProcess)
            #expect(try await runtime.guardedWaitForExit(Pid(rawValue: 0)) == .noProcess)
        }
    }
}
