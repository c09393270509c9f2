// OTP-54..58: request/reply (gen_server call) and cast.

import Swerl
import Testing

@Suite("Calls (OTP-54..58)", .timeLimit(.minutes(1)))
struct CallTests {
    @Test("OTP-54: Runtime.call sends a CALL the server answers; the caller gets the reply")
    func callReturnsReply() async throws {
        try await withRuntime { runtime in
            let calls = Inbox()
            let server = try runtime.spawn(Probe.echoServer(calls: calls))
            let reply = try await runtime.guardedCall(server, "ping")
            #expect(reply == Array("re: ping".utf8))
            let call = try #require(calls.all.first)
            #expect(call.kind == .call)
            #expect(call.ref != nil)
            #expect(call.from == nil)
            #expect(call.text == "ping")
            // Many calls in a row, each with its own ref.
            for index in 0..<50 {
                #expect(try await runtime.guardedCall(server, "n\(index)") == Array("re: n\(index)".utf8))
            }
            #expect(Set(calls.all.compactMap(\.ref)).count == 51)
        }
    }

    @Test("OTP-54: a call by registered name reaches the process; a name nobody has is noProcess")
    func callByName() async throws {
        try await withRuntime { runtime in
            let server = try runtime.spawn(Probe.echoServer())
            try runtime.register(server, as: "echo")
            #expect(try await runtime.call("echo", "hi") == Array("re: hi".utf8))
            let error = await #expect(throws: SwerlError.self) { _ = try await runtime.call("nobody", "hi") }
            #expect(error?.code == .noProcess)
            #expect(error?.detail.contains("nobody") == true)
        }
    }

    @Test("OTP-54: a deferred reply: the server keeps the ref and another process answers with Runtime.reply")
    func deferredReplyFromAnotherProcess() async throws {
        try await withRuntime { runtime in
            let pending = Box<Ref?>(nil)
            let helper = try Agent.spawn(runtime, reaction: { event, context in
                if event.isMessage("answer it"), let ref = pending.value {
                    try context.runtime.reply(ref, with: "from the helper")
                }
                return .continue
            })
            let helperPid = helper.pid
            let server = try runtime.spawn(Probe(onHandle: { message, context in
                if message.kind == .call {
                    pending.set(message.ref)
                    try context.send("answer it", to: helperPid)
                }
                return .continue
            }))
            let reply = try await runtime.guardedCall(server, "question")
            #expect(reply == Array("from the helper".utf8))
        }
    }

    @Test("OTP-54: a pending call monitors the server; once answered the monitor is gone")
    func callMonitorsServer() async throws {
        try await withRuntime { runtime in
            let pending = Box<[Ref]>([])
            let server = try runtime.spawn(Probe.silentServer(pending: pending))
            let call = Task { try await runtime.guardedCall(server, "wait", timeout: nil) }
            #expect(await waitUntil { pending.value.count == 1 })
            #expect(await waitUntil(timeout: .seconds(2)) { runtime.info(server)?.monitoredBy == 1 },
                    "the server's monitored_by does not count the pending call's monitor")
            try runtime.reply(try #require(pending.value.first), with: "answered")
            #expect(try await call.value == Array("answered".utf8))
            #expect(await waitUntil { runtime.info(server)?.monitoredBy == 0 })
            // Answered once: a second answer finds nobody.
            #expect(try runtime.reply(pending.value[0], with: "again") == false)
        }
    }

    @Test("OTP-54: Context.call from inside a process: the answer arrives as a .reply message with the same ref")
    func contextCallGetsReplyMessage() async throws {
        try await withRuntime { runtime in
            let calls = Inbox()
            let server = try runtime.spawn(Probe.echoServer(calls: calls))
            let caller = try Agent.spawn(runtime)
            let ref = try await caller.run { context in try context.sendRequest(server, "inside") }
            let reply = try #require(await caller.inbox.first { $0.kind == .reply })
            #expect(reply.ref == ref)
            #expect(reply.from == server)
            #expect(reply.error == nil)
            #expect(reply.text == "re: inside")
            #expect(calls.all.first?.from == caller.pid)
            #expect(calls.all.first?.ref == ref)
        }
    }

    @Test("OTP-55: a call that gets no answer throws timedOut, not before the timeout; the server's monitor is removed")
    func callTimesOut() async throws {
        try await withRuntime { runtime in
            let pending = Box<[Ref]>([])
            let server = try runtime.spawn(Probe.silentServer(pending: pending))
            let start = ContinuousClock.now
            await #expect(throws: SwerlError(.timedOut)) { try await runtime.guardedCall(server, "hello?", timeout: .milliseconds(100)) }
            #expect(ContinuousClock.now - start >= .milliseconds(100))
            #expect(await waitUntil { runtime.info(server)?.monitoredBy == 0 })
            #expect(pending.value.count == 1)
        }
    }

    @Test("OTP-54: the default call timeout is 5000 ms")
    func defaultTimeout() async throws {
        try await withRuntime { runtime in
            let pending = Box<[Ref]>([])
            let server = try runtime.spawn(Probe.silentServer(pending: pending))
            let start = ContinuousClock.now
            await #expect(throws: SwerlError(.timedOut)) { try await runtime.guardedCall(server, "patience") }
            #expect(ContinuousClock.now - start >= .milliseconds(5000))

            let caller = try Agent.spawn(runtime)
            let callStart = ContinuousClock.now
            let ref = try await caller.run { context in try context.sendRequest(server, "patience") }
            let reply = try #require(await caller.inbox.first { $0.kind == .reply })
            #expect(reply.ref == ref)
            #expect(reply.error == SwerlError(.timedOut))
            #expect(reply.at - callStart >= .milliseconds(5000))
        }
    }

    @Test("OTP-56: a reply after the timeout is discarded: Runtime.reply returns false")
    func lateReplyDiscarded() async throws {
        try await withRuntime { runtime in
            let pending = Box<[Ref]>([])
            let server = try runtime.spawn(Probe.silentServer(pending: pending))
            await #expect(throws: SwerlError(.timedOut)) { try await runtime.guardedCall(server, "slow", timeout: .milliseconds(50)) }
            let ref = try #require(pending.value.first)
            #expect(try runtime.reply(ref, with: "too late") == false)  // as gen_server:reply: quietly dropped
            #expect(try runtime.reply(Ref(rawValue: 0xbad), with: "never asked") == false)
        }
    }

    @Test("OTP-56: Context.call that times out gets exactly one REPLY (timedOut); the late reply never arrives")
    func contextCallLateReplyNeverArrives() async throws {
        try await withRuntime { runtime in
            let pending = Box<[Ref]>([])
            let server = try runtime.spawn(Probe.silentServer(pending: pending))
            let caller = try Agent.spawn(runtime)
            let start = ContinuousClock.now
            let ref = try await caller.run { context in try context.sendRequest(server, "slow", timeout: .milliseconds(50)) }
            let reply = try #require(await caller.inbox.first { $0.kind == .reply })
            #expect(reply.ref == ref)
            #expect(reply.error == SwerlError(.timedOut))
            #expect(reply.at - start >= .milliseconds(50))
            #expect(try runtime.reply(ref, with: "too late") == false)
            try runtime.send("probe", to: caller.pid)
            #expect(await caller.inbox.first { $0.isMessage("probe") } != nil)
            #expect(caller.inbox.count { $0.kind == .reply } == 1)
        }
    }

    @Test("OTP-56: a reply to a caller that has exited is discarded: Runtime.reply returns false")
    func replyToExitedCaller() async throws {
        try await withRuntime { runtime in
            let pending = Box<[Ref]>([])
            let server = try runtime.spawn(Probe.silentServer(pending: pending))
            let caller = try Agent.spawn(runtime)
            let ref = try await caller.run { context in try context.sendRequest(server, "wait", timeout: nil) }
            #expect(await waitUntil { pending.value == [ref] })
            let watch = try await watch(caller.pid, on: runtime)
            try await caller.finish(with: .stop)
            #expect(await watch.reason() == .normal)
            #expect(try runtime.reply(ref, with: "nobody listens") == false)
            #expect(await waitUntil { runtime.info(server)?.monitoredBy == 0 })
        }
    }

    @Test("OTP-57: a call to a pid that is not alive fails with noProcess")
    func callToDeadPid() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            let watch = try await watch(dead, on: runtime)
            try runtime.send("stop", to: dead)
            #expect(await watch.reason() == .normal)
            await #expect(throws: SwerlError(.noProcess)) { try await runtime.guardedCall(dead, "anyone?") }
            let caller = watch.observer
            let ref = try await caller.run { context in try context.sendRequest(dead, "anyone?") }
            let reply = try #require(await caller.inbox.first { $0.kind == .reply })
            #expect(reply.ref == ref)
            #expect(reply.error == SwerlError(.noProcess))
        }
    }

    @Test("OTP-57: the server crashes during the call: serverExited")
    func serverCrashesMidCall() async throws {
        try await withRuntime { runtime in
            let crashing = Probe(onHandle: { message, _ in
                if message.kind == .call { throw Boom("crashed while serving") }
                return .continue
            })
            let server = try runtime.spawn(crashing)
            let error = await #expect(throws: SwerlError.self) { try await runtime.guardedCall(server, "boom") }
            // It says why: the server's exit reason and detail.
            #expect(error?.code == .serverExited)
            #expect(error?.exitReason == .error("crashed while serving"))
            #expect(error?.detail.contains("crashed while serving") == true, "\(String(describing: error))")

            // callBlocking (from a thread of the test's own) says the same.
            let blocking = try runtime.spawn(crashing)
            let thrown = try await within("callBlocking") { () async -> SwerlError? in
                do throws(SwerlError) { _ = try runtime.callBlocking(blocking, "boom"); return nil } catch { return error }
            }
            #expect(thrown?.code == .serverExited)
            #expect(thrown?.exitReason == .error("crashed while serving"))

            let other = try runtime.spawn(crashing)
            let caller = try Agent.spawn(runtime)
            let ref = try await caller.run { context in try context.sendRequest(other, "boom") }
            let reply = try #require(await caller.inbox.first { $0.kind == .reply })
            #expect(reply.ref == ref)
            #expect(reply.error == SwerlError(.serverExited))
            #expect(reply.text.contains("crashed while serving"), "the REPLY's data holds the exit detail: \(reply.text)")
        }
    }

    @Test("OTP-57: the server stops or is killed without replying: serverExited")
    func serverStopsWithoutReplying() async throws {
        try await withRuntime { runtime in
            let stopping = try runtime.spawn(Probe(onHandle: { message, _ in message.kind == .call ? .stop : .continue }))
            await #expect(throws: SwerlError(.serverExited)) { try await runtime.guardedCall(stopping, "bye") }

            let shuttingDown = try runtime.spawn(Probe(onHandle: { message, _ in
                message.kind == .call ? .exit(.shutdown) : .continue
            }))
            await #expect(throws: SwerlError(.serverExited)) { try await runtime.guardedCall(shuttingDown, "bye") }

            let pending = Box<[Ref]>([])
            let silent = try runtime.spawn(Probe.silentServer(pending: pending))
            let call = Task { try await runtime.guardedCall(silent, "wait", timeout: nil) }
            #expect(await waitUntil { pending.value.count == 1 })
            try runtime.exit(silent, reason: .kill)
            await #expect(throws: SwerlError(.serverExited)) { try await call.value }
        }
    }

    @Test("OTP-57: a process calling itself throws callingSelf")
    func callingSelf() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            await #expect(throws: SwerlError(.callingSelf)) {
                try await agent.run { context in try context.sendRequest(context.pid, "me?") }
            }
            #expect(await agent.isResponsive)
            #expect(agent.inbox.count { $0.kind == .reply } == 0)
        }
    }

    @Test("OTP-58: cast is a send: it returns at once to a live server; a dead one is a quiet dead letter (Erlang's cast)")
    func castIsSend() async throws {
        try await withRuntime { runtime in
            let server = try Agent.spawn(runtime, reaction: { event, _ in
                event.isMessage("stop") ? .stop : .continue
            })
            try runtime.send("cast 1", to: server.pid)
            try runtime.send("cast 2", to: server.pid)
            #expect(await server.inbox.waitForCount(2) { $0.kind == .message })
            #expect(server.inbox.texts == ["cast 1", "cast 2"])
            let watch = try await watch(server.pid, on: runtime)
            try runtime.send("stop", to: server.pid)
            #expect(await watch.reason() == .normal)
            #expect(try runtime.send("cast 3", to: server.pid) == false)  // quietly a dead letter
        }
    }
}
