// Issue 11 through the Swift API: a handler that blocks never freezes the
// runtime; call and stop timeouts are deadlines; sends to the dead and
// replies to the departed do not crash a server; errors say why; a runtime
// dropped inside another's callback does not hang.

import Glibc
import Swerl
import Synchronization
import Testing

/// Blocks its handler on `gate` at every message (a scheduler thread, or a
/// blocking-pool one): what a handler that sleeps or waits for I/O does.
private struct Blocker: Behavior {
    let gate: Flag
    let blocked: Box<Int>
    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        blocked.update { $0 += 1 }
        _ = gate.block(seconds: 30)
        blocked.update { $0 -= 1 }
        return .continue
    }
}

@Suite("Handlers that block (issue 11)", .timeLimit(.minutes(2)))
struct BlockingTests {
    @Test("a handler that blocks stops neither the calls nor the timers of the processes sharing its scheduler")
    func blockedSchedulerIsRoutedAround() async throws {
        let runtime = try Runtime(schedulers: 1)
        let gate = Flag()
        let blocked = Box(0)
        let sleeper = try runtime.spawn(Blocker(gate: gate, blocked: blocked))
        try runtime.send("block", to: sleeper)
        #expect(await waitUntil { blocked.value == 1 })
        let server = try runtime.spawn(Probe.echoServer())
        for index in 0..<200 {
            #expect(try await runtime.guardedCall(server, "n\(index)") == Array("re: n\(index)".utf8))
        }
        // A call that nobody answers times out while the sleeper still blocks:
        // its timer fired although the one scheduler is held by the sleeper.
        let silent = try runtime.spawn(Probe.silentServer(pending: Box([])))
        await #expect(throws: SwerlError(.timedOut)) {
            try await runtime.guardedCall(silent, "?", timeout: .milliseconds(100))
        }
        #expect(blocked.value == 1)
        gate.raise()
        #expect(await waitUntil { blocked.value == 0 })
        try await runtime.stop()
    }

    @Test("a reply that comes after the deadline is a timeout, and the reply is dropped")
    func lateReplyIsATimeout() async throws {
        let runtime = try Runtime(schedulers: 1)
        let answered = Box<Bool?>(nil)
        // The server answers 300 ms after the call: long after the 1 ms deadline.
        let server = try runtime.spawn(Probe(onHandle: { message, context in
            if message.kind == .call {
                usleep(300_000)
                answered.set(try context.reply(to: message, with: "late"))
            }
            return .continue
        }))
        await #expect(throws: SwerlError(.timedOut)) {
            try await runtime.guardedCall(server, "?", timeout: .milliseconds(1))
        }
        #expect(await waitUntil { answered.value != nil })
        #expect(answered.value == false)  // the caller had gone: quietly dropped
        try await runtime.stop()
    }

    @Test("stop's timeout is a deadline: a handler that never returns is named, not waited for")
    func stopWithAStuckHandler() async throws {
        var runtime: Runtime? = try Runtime(schedulers: 2)
        let gate = Flag()
        let blocked = Box(0)
        let stuck = try runtime!.spawn(Blocker(gate: gate, blocked: blocked), options: SpawnOptions(name: "stuck"))
        try runtime!.send("block", to: stuck)
        #expect(await waitUntil { blocked.value == 1 })
        let start = ContinuousClock.now
        do {
            try await runtime!.stop(timeout: .milliseconds(200))
            Issue.record("stop returned without error")
        } catch {
            #expect(error.code == .timedOut)
            #expect(error.detail.contains("\(stuck)") && error.detail.contains("'stuck'"), "\(error.detail)")
        }
        // The deadline, with room for a slow machine (1.1 took 5.2 s).
        #expect(ContinuousClock.now - start < .seconds(3))
        gate.raise()
        runtime = nil  // frees it once the handler returned
        #expect(runtime == nil)
    }

    @Test("a blocking process may block and call synchronously; others keep their scheduler")
    func blockingProcesses() async throws {
        let runtime = try Runtime(schedulers: 1)
        let server = try runtime.spawn(Probe.echoServer())
        let gate = Flag()
        let got = Box<[UInt8]?>(nil)
        let caller = try runtime.spawn(Probe(onHandle: { _, context in
            _ = gate.block(seconds: 30)
            got.set(try context.callBlocking(server, "sync"))
            return .continue
        }), options: SpawnOptions(blocking: true))
        try runtime.send("go", to: caller)
        // Blocked, yet the one scheduler serves calls as usual.
        for index in 0..<100 { #expect(try await runtime.guardedCall(server, "\(index)") == Array("re: \(index)".utf8)) }
        gate.raise()
        #expect(await waitUntil { got.value != nil })
        #expect(got.value == Array("re: sync".utf8))
        // A scheduled process may not block: insideProcess, saying what to do.
        let plain = try Agent.spawn(runtime)
        let refusal = try await plain.run { context -> SwerlError? in
            do { _ = try context.callBlocking(server, "no") } catch let error as SwerlError { return error }
            return nil
        }
        #expect(refusal?.code == .insideProcess)
        #expect(refusal?.detail.contains("SWERL_SPAWN_BLOCKING") == true)
        try await runtime.stop()
    }

    @Test("a supervised child marked blocking blocks without taking a scheduler")
    func blockingChild() async throws {
        let runtime = try Runtime(schedulers: 1)
        let gate = Flag()
        let blocked = Box(0)
        let root = try await runtime.startSupervisor(Supervisor.Spec(children: [
            ChildSpec(id: "slow", blocking: true) { Blocker(gate: gate, blocked: blocked) },
        ]))
        let child = try await #require(root.whichChildren().first?.pid)
        try runtime.send("block", to: child)
        #expect(await waitUntil { blocked.value == 1 })
        let server = try runtime.spawn(Probe.echoServer())
        for index in 0..<100 { #expect(try await runtime.guardedCall(server, "\(index)") == Array("re: \(index)".utf8)) }
        gate.raise()
        #expect(await waitUntil { blocked.value == 0 })
        try await runtime.stop()
    }
}

@Suite("Errors that do not crash servers, and say why (issue 11)", .timeLimit(.minutes(1)))
struct QuietErrorTests {
    @Test("a server replying to callers that timed out, as the docs show, survives under a default supervisor")
    func serverSurvivesDepartedCallers() async throws {
        try await withRuntime { runtime in
            let root = try await runtime.startSupervisor(Supervisor.Spec(children: [
                ChildSpec(id: "slow") {
                    Probe(onHandle: { message, context in
                        if message.kind == .call {
                            usleep(100_000)  // answers after the callers' 20 ms deadline
                            try context.reply(to: message, with: "late")
                        }
                        return .continue
                    })
                },
            ]))
            let server = try await #require(root.whichChildren().first?.pid)
            for _ in 0..<2 {
                await #expect(throws: SwerlError(.timedOut)) {
                    try await runtime.guardedCall(server, "?", timeout: .milliseconds(20))
                }
            }
            #expect(try await runtime.guardedCall(server, "again", timeout: .milliseconds(5000)) == Array("late".utf8))
            #expect(try await root.whichChildren().first?.pid == server)  // never restarted
            #expect(try await root.whichChildren().first?.restarts == 0)
        }
    }

    @Test("errors carry the runtime's words: a too big message says the limit and how to raise it")
    func errorDetail() async throws {
        let runtime = try Runtime(schedulers: 1, maxMessageSize: 16)
        let pid = try runtime.spawn(Probe.echoServer())
        do {
            try runtime.send([UInt8](repeating: 1, count: 17), to: pid)
            Issue.record("no error")
        } catch {
            #expect(error.code == .messageTooBig)
            #expect(error.detail.contains("max_message_size (16 bytes)"), "\(error.detail)")
            #expect(error.description.contains("raise it"))
        }
        try await runtime.stop()
    }

    @Test("a pid of another runtime is refused, never delivered to the process in the same slot")
    func pidOfAnotherRuntime() async throws {
        let first = try Runtime(schedulers: 1)
        let second = try Runtime(schedulers: 1)
        let inbox = Inbox()
        let mine = try first.spawn(Probe.echoServer())
        let theirs = try second.spawn(Probe(onHandle: { message, _ in
            inbox.append(Event(message))
            return .continue
        }))
        #expect("\(mine)" == "\(theirs)")  // both print as the first process, <0.0.1>
        do {
            try second.send("stray", to: mine)
            Issue.record("no error")
        } catch {
            #expect(error.code == .noProcess)
            #expect(error.detail.contains("another runtime"))
        }
        try second.send("mine", to: theirs)
        #expect(await inbox.first { $0.isMessage("mine") } != nil)
        #expect(inbox.all.count == 1)
        try await first.stop()
        try await second.stop()
    }

    @Test("a Runtime dropped inside another runtime's callback, with live processes, does not hang that scheduler")
    func dropInsideAnotherRuntime() async throws {
        try await withRuntime { outer in
            let dropped = Flag()
            let agent = try Agent.spawn(outer)
            try await agent.run { _ in
                var inner: Runtime? = try Runtime(schedulers: 1)
                _ = try inner!.spawn(Probe.echoServer())
                inner = nil  // released on a runtime thread: stopped and freed in the background
                dropped.raise()
            }
            #expect(dropped.isRaised)
            #expect(try await agent.run { _ in "still serving" } == "still serving")
        }
    }
}
