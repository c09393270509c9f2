// Swift Concurrency and time values: a cancelled call ends at once;
// every time value is a Duration.

import Swerl
import Testing

@Suite("Swift Concurrency and Durations", .timeLimit(.minutes(1)))
struct ConcurrencyTests {
    @Test("a call whose task is cancelled ends at once with CancellationError; the late reply is dropped")
    func cancelledCallEndsAtOnce() async throws {
        try await withRuntime { runtime in
            let pending = Box<[Ref]>([])
            let server = try runtime.spawn(Probe.silentServer(pending: pending))
            let start = ContinuousClock.now
            let call = Task { try await runtime.call(server, "wait", timeout: .seconds(30)) }
            #expect(await waitUntil { pending.value.count == 1 })
            call.cancel()
            let outcome = try await within("the cancelled call") { await call.result }
            #expect(throws: CancellationError.self) { try outcome.get() }
            #expect(ContinuousClock.now - start < .seconds(10), "the cancelled call waited for its timeout")
            // The server answers after all: nobody waits, and nothing breaks.
            let deadBefore = runtime.statistics.deadLetters
            #expect(try runtime.reply(try #require(pending.value.first), with: "too late") == false)
            #expect(runtime.statistics.deadLetters == deadBefore + 1)
            #expect(await waitUntil { runtime.info(server)?.monitoredBy == 0 }, "the call's monitor stayed")
        }
    }

    @Test("a call from a task cancelled before it starts sends nothing and throws CancellationError")
    func callFromCancelledTask() async throws {
        try await withRuntime { runtime in
            let calls = Inbox()
            let server = try runtime.spawn(Probe.echoServer(calls: calls))
            let gate = Flag()
            let call = Task {
                while !Task.isCancelled { await Task.yield() }
                gate.raise()
                return try await runtime.call(server, "never")
            }
            call.cancel()
            let outcome = try await within("the call") { await call.result }
            #expect(throws: CancellationError.self) { try outcome.get() }
            #expect(gate.block())
            // The server is still there and saw no CALL.
            #expect(try await runtime.guardedCall(server, "after") == Array("re: after".utf8))
            #expect(calls.all.map(\.text) == ["after"])
        }
    }

    @Test("calls cancelled while their servers answer: each ends once, with its reply or CancellationError")
    func cancellationRacesReplies() async throws {
        try await withRuntime { runtime in
            let server = try runtime.spawn(Probe.echoServer())
            let pending = Box<[Ref]>([])
            let silent = try runtime.spawn(Probe.silentServer(pending: pending))
            let finished = Flag()
            // Answers the silent server's calls as they come, cancelled or not.
            let replier = Task {
                while !finished.isRaised {
                    for ref in pending.update({ refs -> [Ref] in defer { refs = [] }; return refs }) {
                        _ = try runtime.reply(ref, with: "late")
                    }
                    await Task.yield()
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let target = index.isMultiple(of: 2) ? server : silent
                        let task = Task { try await runtime.call(target, "\(index)", timeout: .seconds(30)) }
                        if index.isMultiple(of: 3) { task.cancel() }
                        switch await task.result {
                        case .success(let reply):
                            #expect(reply == (target == server ? Array("re: \(index)".utf8) : Array("late".utf8)))
                        case .failure(let error):
                            #expect(error is CancellationError, "call \(index): \(error)")
                            #expect(index.isMultiple(of: 3), "call \(index) was not cancelled")
                        }
                    }
                }
                try await group.waitForAll()
            }
            finished.raise()
            try await replier.value
        }
    }

    @Test("Durations: sub-millisecond values are taken, a negative or too long one is invalidArgument")
    func durationsConvert() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            // A sub-millisecond delay is a timer of the next whole millisecond.
            _ = try runtime.sendAfter(.microseconds(1500), "soon", to: agent.pid)
            #expect(await agent.inbox.first { $0.isMessage("soon") } != nil)
            #expect(throws: SwerlError(.invalidArgument)) { try runtime.sendAfter(.milliseconds(-1), "x", to: agent.pid) }
            #expect(throws: SwerlError(.invalidArgument)) { try runtime.sendAfter(.seconds(50 * 86_400), "x", to: agent.pid) }
            await #expect(throws: SwerlError(.invalidArgument)) {
                _ = try await runtime.call(agent.pid, "x", timeout: .seconds(-1))
            }
            #expect(throws: SwerlError(.invalidArgument)) { _ = try Runtime(longTurn: .seconds(-3)) }
            let fired = try runtime.sendAfter(.zero, "now", to: agent.pid)
            #expect(await agent.inbox.first { $0.isMessage("now") } != nil)
            #expect(runtime.cancelTimer(fired) == nil)
        }
    }

    @Test("a receive timeout given as a Duration fires; nil clears it")
    func receiveTimeoutDuration() async throws {
        try await withRuntime { runtime in
            let timeouts = Inbox()
            let process = try runtime.spawn(Probe(onHandle: { message, context in
                timeouts.append(Event(message))
                if message.kind == .message && message.text == "arm" { try context.setReceiveTimeout(.milliseconds(20)) }
                if message.kind == .message && message.text == "disarm" { try context.setReceiveTimeout(nil) }
                return .continue
            }))
            try runtime.send("arm", to: process)
            #expect(await timeouts.first { $0.kind == .timeout } != nil)
            try runtime.send("arm", to: process)
            try runtime.send("disarm", to: process)
            // A timer for later than the 20 ms timeout: a timeout not cleared
            // would come before it (the runtime fires timers in order).
            try runtime.sendAfter(.milliseconds(200), "marker", to: process)
            #expect(await timeouts.first { $0.isMessage("marker") } != nil)
            #expect(timeouts.count(where: { $0.kind == .timeout }) == 1, "the cleared receive timeout fired")
        }
    }

    @Test("a supervisor whose child does not start: startFailed says which child and why")
    func supervisorStartSaysWhy() async throws {
        try await withRuntime { runtime in
            let spec = Supervisor.Spec(children: [
                ChildSpec(id: "fine") { Probe() },
                ChildSpec(id: "config") { Probe.failsToStart("no such file: settings.toml") },
            ])
            let error = #expect(throws: SwerlError.self) { _ = try runtime.startSupervisor(spec) }
            #expect(error?.code == .startFailed)
            #expect(error?.detail.contains("no such file: settings.toml") == true, "\(String(describing: error))")
        }
    }

    @Test("await runtime.stop() waits off the cooperative pool: more stops than pool threads, each behind a slow terminate, never starve the task that releases them")
    func asyncStopDoesNotHoldAPoolThread() async throws {
        let gate = Flag()
        let released = Box<[Bool]>([])
        let runtimes = try (0..<8).map { _ in try Runtime(schedulers: 1) }
        for runtime in runtimes {
            _ = try runtime.spawn(Probe(onTerminate: { _, _ in released.update { $0.append(gate.block()) } }))
        }
        let stops = runtimes.map { runtime in Task { try await runtime.stop(timeout: nil) } }
        await Task.yield()
        // A stop that blocked its pool thread would keep this task from
        // running until each terminate gave up waiting (10 s).
        gate.raise()
        for stop in stops { try await stop.value }
        #expect(released.value == Array(repeating: true, count: 8), "a terminate gave up waiting for the gate")
    }

    @Test("dropping the last reference to a runtime does not wait for a slow terminate")
    func deinitDoesNotBlock() async throws {
        let gate = Flag()
        let terminated = Flag()
        let released = Box<Bool?>(nil)
        do {
            let runtime = try Runtime(schedulers: 1)
            _ = try runtime.spawn(Probe(onTerminate: { _, _ in
                released.set(gate.block())
                terminated.raise()
            }))
        }  // deinit: the runtime stops on a thread of its own
        gate.raise()  // reached only if the deinit returned while the terminate waited
        #expect(await waitUntil { terminated.isRaised })
        #expect(released.value == true, "the deinit waited for the terminate (it gave up on the gate)")
    }
}

@Suite("Mailboxes: a task acting as a process", .timeLimit(.minutes(1)))
struct MailboxTests {
    @Test("a task reads its process's messages in order, as owned copies; others monitor it; close ends both")
    func mailboxReadsAndCloses() async throws {
        try await withRuntime { runtime in
            let mailbox = try runtime.openMailbox()
            let watcher = try Agent.spawn(runtime)
            let monitor = try await watcher.monitor(mailbox.pid)
            for index in 0..<100 { try runtime.send("m\(index)", to: mailbox.pid) }
            try runtime.send(value: ["a": 1], to: mailbox.pid)
            var texts: [String] = []
            var typed: [String: Int]? = nil
            for await message in mailbox {
                if message.isTerm { typed = try message.decode([String: Int].self); break }
                texts.append(message.text)
            }
            #expect(texts == (0..<100).map { "m\($0)" })
            #expect(typed == ["a": 1])
            mailbox.close()
            let down = try #require(await watcher.down(monitor))
            #expect(down.reason == .normal)
            // The sequence has ended: iterating again finds nothing.
            var after = 0
            for await _ in mailbox { after += 1 }
            #expect(after == 0)
        }
    }

    @Test("a mailbox whose process is killed ends its sequence; a trapping one gets EXIT messages")
    func mailboxEnds() async throws {
        try await withRuntime { runtime in
            let doomed = try runtime.openMailbox()
            try runtime.exit(doomed.pid, reason: .kill)
            var count = 0
            for await _ in doomed { count += 1 }
            #expect(count == 0)

            let trapping = try runtime.openMailbox(trapExits: true)
            try runtime.exit(trapping.pid, reason: .shutdown)
            var iterator = trapping.makeAsyncIterator()
            let exit = try #require(await iterator.next())
            #expect(exit.kind == .exit && exit.reason == .shutdown)
            trapping.close()
        }
    }

    @Test("cancelling the reading task ends the process")
    func cancelEnds() async throws {
        try await withRuntime { runtime in
            let mailbox = try runtime.openMailbox()
            let pid = mailbox.pid
            let reader = Task { for await _ in mailbox {} }
            #expect(runtime.info(pid) != nil)
            reader.cancel()
            await reader.value
            #expect(await waitUntil { runtime.info(pid) == nil })
        }
    }
}

@Suite("Exits as an AsyncSequence", .timeLimit(.minutes(1)))
struct ExitsTests {
    @Test("exits(of:) reports each exit once, a dead pid at once as noproc, then ends")
    func exitsOfProcesses() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            try runtime.send("go", to: dead)
            #expect(await waitUntil { runtime.info(dead) == nil })
            let first = try runtime.spawn(Probe.exits(with: .custom(7)))
            let second = try runtime.spawn(Probe.exits(with: .error("boom")))
            let stream = runtime.exits(of: [dead, first, second])
            try runtime.send("go", to: first)
            try runtime.send("go", to: second)
            var seen: [Pid: ExitReason] = [:]
            for await exit in stream { seen[exit.pid] = exit.reason }
            #expect(seen == [dead: .noProcess, first: .custom(7), second: .error("boom")])
        }
    }

    @Test("ending the iteration early removes the monitors left")
    func earlyEndRemovesMonitors() async throws {
        try await withRuntime { runtime in
            let quick = try runtime.spawn(Probe.exits())
            let slow = try runtime.spawn(Probe())
            do {
                let stream = runtime.exits(of: [quick, slow])
                #expect(await waitUntil { runtime.info(slow)?.monitoredBy == 1 })
                try runtime.send("go", to: quick)
                for await exit in stream {
                    #expect(exit.pid == quick)
                    break
                }
            }
            #expect(await waitUntil { runtime.info(slow)?.monitoredBy == 0 }, "the watch on the slow one stayed")
        }
    }
}

@Suite("Supervisor events as an AsyncSequence", .timeLimit(.minutes(1)))
struct SupervisorEventTests {
    @Test("a crash and its restart come as events, then the intensity reached")
    func crashRestartGiveUp() async throws {
        try await withRuntime { runtime in
            let events = runtime.supervisorEvents()
            let root = try await runtime.startSupervisor(Supervisor.Spec(intensity: 1, period: .seconds(60), children: [
                ChildSpec(id: "fragile") { Probe.exits(with: .error("broken")) },
            ]))
            let first = try #require(try await root.whichChildren()[0].pid)
            try runtime.send("crash", to: first)
            var iterator = events.makeAsyncIterator()
            let terminated = try #require(await iterator.next())
            #expect(terminated.kind == .childTerminated && terminated.child == "fragile")
            #expect(terminated.childPid == first && terminated.reason == .error("broken"))
            #expect(terminated.supervisor == root.pid)
            let restarting = try #require(await iterator.next())
            #expect(restarting.kind == .restarting && restarting.child == "fragile")
            // A second crash within the period: more than intensity 1.
            #expect(await waitUntil { (try? root.whichChildren())?.first?.pid.map { $0 != first } == true })
            let second = try #require(try await root.whichChildren()[0].pid)
            try runtime.send("crash", to: second)
            #expect(try #require(await iterator.next()).kind == .childTerminated)
            #expect(try #require(await iterator.next()).kind == .maxIntensityReached)
        }
    }
}
