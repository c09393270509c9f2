// OTP-1..6: spawning, identity, exits and sends.

import Swerl
import Testing

@Suite("Processes and identity (OTP-1..6)", .timeLimit(.minutes(1)))
struct ProcessTests {
    @Test("OTP-1: spawn returns a new, unique pid; start runs in that very process")
    func spawnReturnsUniquePids() async throws {
        try await withRuntime { runtime in
            let selves = Box<[Pid]>([])
            var pids: [Pid] = []
            for _ in 0..<200 {
                pids.append(try runtime.spawn(Probe(onStart: { context in
                    selves.update { $0.append(context.pid) }
                })))
            }
            #expect(Set(pids).count == 200)
            #expect(!pids.contains(Pid(rawValue: 0)))
            #expect(await waitUntil { selves.value.count == 200 })
            #expect(Set(selves.value) == Set(pids))
        }
    }

    @Test("OTP-1: spawn returns at once; start runs concurrently in the child")
    func spawnDoesNotWaitForStart() async throws {
        try await withRuntime { runtime in
            let released = Flag()
            let startSawRelease = Box<Bool?>(nil)
            try runtime.spawn(Probe(onStart: { _ in startSawRelease.set(released.block(seconds: 10)) }))
            // Reached only because spawn did not wait for start to finish.
            released.raise()
            #expect(await waitUntil { startSawRelease.value != nil })
            #expect(startSawRelease.value == true)
        }
    }

    @Test("OTP-1: start runs before any message is handled")
    func startRunsBeforeMessages() async throws {
        try await withRuntime { runtime in
            let log = Box<[String]>([])
            let released = Flag()
            let pid = try runtime.spawn(Probe(onStart: { _ in
                _ = released.block()
                log.update { $0.append("start") }
            }, onHandle: { message, _ in
                log.update { $0.append(message.text) }
                return .continue
            }))
            try runtime.send("one", to: pid)
            try runtime.send("two", to: pid)
            released.raise()
            #expect(await waitUntil { log.value.count == 3 })
            #expect(log.value == ["start", "one", "two"])
        }
    }

    @Test("OTP-1: a handler returning .stop ends the process with reason normal")
    func stopIsNormal() async throws {
        try await withRuntime { runtime in
            let terminated = Box<ExitReason?>(nil)
            let pid = try runtime.spawn(Probe.exits(terminated: terminated))
            let watch = try await watch(pid, on: runtime)
            try runtime.send("stop", to: pid)
            #expect(await watch.reason() == .normal)
            #expect(terminated.value == .normal)
            #expect(runtime.info(pid) == nil)
        }
    }

    @Test("A thrown ExitReason is the exit reason (Erlang's exit/1), from handle and from start")
    func thrownExitReason() async throws {
        try await withRuntime { runtime in
            let handler = try runtime.spawn(Probe(onHandle: { _, _ in throw ExitReason.custom(3, detail: Array("why".utf8)) }))
            let watch = try await watch(handler, on: runtime)
            try runtime.send("go", to: handler)
            #expect(await watch.reason() == .custom(3, detail: Array("why".utf8)))

            // A start that throws: its spawner's monitor (made by the spawn
            // itself, so it cannot come too late) sees the reason.
            let seen = TestLock<ExitReason?>(nil)
            _ = try runtime.spawn(Probe(onStart: { context in
                _ = try context.spawn(Probe(onStart: { _ in throw ExitReason.shutdown }), options: SpawnOptions(monitor: true))
            }, onHandle: { message, _ in
                if message.kind == .down { seen.withLock { $0 = message.reason } }
                return .continue
            }))
            #expect(await waitUntil { seen.withLock { $0 } != nil })
            #expect(seen.withLock { $0 } == .shutdown)
        }
    }

    @Test("OTP-2: self() in start and handle is the pid spawn returned")
    func selfIsTheSpawnedPid() async throws {
        try await withRuntime { runtime in
            let seen = Box<[Pid]>([])
            let pid = try runtime.spawn(Probe(onStart: { context in
                seen.update { $0.append(context.pid) }
            }, onHandle: { _, context in
                seen.update { $0.append(context.pid) }
                return .continue
            }))
            try runtime.send("who", to: pid)
            #expect(await waitUntil { seen.value.count == 2 })
            #expect(seen.value == [pid, pid])
            let agent = try Agent.spawn(runtime)
            #expect(try await agent.run { $0.pid } == agent.pid)
        }
    }

    @Test("OTP-2: a stale pid never reaches the process that reuses its slot")
    func stalePidNeverReachesReusedSlot() async throws {
        try await withRuntime { runtime in
            let old = try runtime.spawn(Probe.exits())
            let watch = try await watch(old, on: runtime)
            try runtime.send("stop", to: old)
            #expect(await watch.reason() == .normal)

            // Spawn until a new process lands in the old slot (freed slots are reused).
            let fresh = try Agent.spawn(runtime)
            var reused: Agent? = slot(of: fresh.pid) == slot(of: old) ? fresh : nil
            var attempt = 0
            while reused == nil && attempt < 2000 {
                let candidate = try Agent.spawn(runtime)
                if slot(of: candidate.pid) == slot(of: old) { reused = candidate }
                attempt += 1
                try await Task.sleep(for: .milliseconds(1))
            }
            let heir = try #require(reused, "no process reused slot \(slot(of: old))")
            #expect(heir.pid != old)

            // Every operation on the stale pid fails or reports noproc.
            #expect(try runtime.send("stale", to: old) == false)  // as Erlang's !: quietly a dead letter
            #expect(throws: SwerlError(.noProcess)) { try runtime.exit(old, reason: .kill) }
            #expect(throws: SwerlError(.noProcess)) { try runtime.register(old, as: "stale-name") }
            #expect(throws: SwerlError(.noProcess)) { try runtime.sendAfter(.milliseconds(1), "stale", to: old) }
            await #expect(throws: SwerlError(.noProcess)) { try await runtime.guardedCall(old, "stale") }
            #expect(runtime.info(old) == nil)
            let staleMonitor = try await watch.observer.monitor(old)
            #expect(await watch.observer.down(staleMonitor)?.reason == .noProcess)
            await #expect(throws: SwerlError(.noProcess)) { try await watch.observer.link(old) }

            // The heir saw none of it: a message sent now is the first thing it gets.
            try runtime.send("first", to: heir.pid)
            #expect(await heir.inbox.first { $0.isMessage("first") } != nil)
            #expect(heir.inbox.all.count == 1, "the heir got \(heir.inbox.all)")
            let info = try #require(runtime.info(heir.pid))
            #expect(info.links == 0)
            #expect(info.monitoredBy == 0)
        }
    }

    @Test("OTP-3: spawn_link of a child that crashes in start: a trapping parent gets EXIT with the real reason")
    func spawnLinkImmediateCrashTrapping() async throws {
        try await withRuntime { runtime in
            let parent = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            for round in 0..<20 {
                let child = try await parent.run { context in
                    try context.spawn(Probe.failsToStart("start failed \(round)"), options: SpawnOptions(link: true)).pid
                }
                let exit = try #require(await parent.inbox.first { $0.isExit(from: child) })
                #expect(exit.reason?.code == ExitReason.error("").code)
                #expect(exit.reason?.detailText.contains("start failed \(round)") == true)
            }
        }
    }

    @Test("OTP-3: spawn_link: a non-trapping parent dies with the reason of a child that exits at once")
    func spawnLinkImmediateExitKillsParent() async throws {
        try await withRuntime { runtime in
            for round in 0..<10 {
                let parent = try Agent.spawn(runtime)
                let watch = try await watch(parent.pid, on: runtime)
                let reason = ExitReason.custom(3, detail: Array("child \(round)".utf8))
                _ = try await parent.run { context in
                    try context.spawn(Probe.exitsAtOnce(with: reason), options: SpawnOptions(link: true))
                }
                #expect(await watch.reason() == reason)
                #expect(parent.control.terminated.value == reason)
            }
        }
    }

    @Test("OTP-3: spawn with link or monitor outside any process is refused")
    func spawnLinkOutsideProcess() async throws {
        try await withRuntime { runtime in
            let before = runtime.statistics.spawned
            #expect(throws: SwerlError(.invalidArgument)) { try runtime.spawn(Probe(), options: SpawnOptions(link: true)) }
            #expect(throws: SwerlError(.invalidArgument)) { try runtime.spawn(Probe(), options: SpawnOptions(monitor: true)) }
            #expect(runtime.statistics.spawned == before)
        }
    }

    @Test("OTP-4: spawn_monitor of a child that crashes at once: DOWN carries the real reason, never noproc")
    func spawnMonitorImmediateCrash() async throws {
        try await withRuntime { runtime in
            let parent = try Agent.spawn(runtime)
            for round in 0..<20 {
                let spawned = try await parent.run { context in
                    try context.spawn(Probe.failsToStart("init \(round)"), options: SpawnOptions(monitor: true))
                }
                let ref = try #require(spawned.monitor)
                let down = try #require(await parent.down(ref))
                #expect(down.from == spawned.pid)
                #expect(down.reason?.code == ExitReason.error("").code)
                #expect(down.reason?.detailText.contains("init \(round)") == true)
            }
            for round in 0..<20 {
                let reason = ExitReason.custom(4, detail: Array("exit \(round)".utf8))
                let spawned = try await parent.run { context in
                    try context.spawn(Probe.exitsAtOnce(with: reason), options: SpawnOptions(monitor: true))
                }
                let ref = try #require(spawned.monitor)
                #expect(await parent.down(ref)?.reason == reason)
            }
        }
    }

    @Test("OTP-5: .exit(reason) ends the process with that reason and detail")
    func exitWithReason() async throws {
        try await withRuntime { runtime in
            let terminated = Box<ExitReason?>(nil)
            let reason = ExitReason.custom(5, detail: Array("the detail".utf8))
            let pid = try runtime.spawn(Probe.exits(with: reason, terminated: terminated))
            let watch = try await watch(pid, on: runtime)
            try runtime.send("go", to: pid)
            #expect(await watch.reason() == reason)
            #expect(terminated.value == reason)
        }
    }

    @Test("OTP-5: an error thrown from handle is a crash with reason error whose detail has the error text")
    func thrownErrorIsCrash() async throws {
        try await withRuntime { runtime in
            let terminated = Box<ExitReason?>(nil)
            let pid = try runtime.spawn(Probe(onHandle: { _, _ in throw Boom("disk on fire") },
                                              onTerminate: { reason, _ in terminated.set(reason) }))
            let watch = try await watch(pid, on: runtime)
            try runtime.send("go", to: pid)
            let reason = try #require(await watch.reason())
            #expect(reason.isError)
            #expect(reason.detailText.contains("disk on fire"))
            #expect(terminated.value == reason)
        }
    }

    @Test("OTP-5: an error caught inside the handler does not end the process")
    func caughtErrorDoesNotCrash() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let caught = try await agent.run { _ -> Bool in
                do { throw Boom("caught") } catch { return true }
            }
            #expect(caught)
            try runtime.send("still here", to: agent.pid)
            #expect(await agent.inbox.first { $0.isMessage("still here") } != nil)
        }
    }

    @Test("OTP-5: an error thrown from start fails the process with reason error; terminate is not called")
    func startFailure() async throws {
        try await withRuntime { runtime in
            let parent = try Agent.spawn(runtime)
            let terminated = Box(false)
            let spawned = try await parent.run { context in
                try context.spawn(Probe.failsToStart("bad config", terminated: terminated), options: SpawnOptions(monitor: true))
            }
            let ref = try #require(spawned.monitor)
            let down = try #require(await parent.down(ref))
            #expect(down.reason?.isError == true)
            #expect(down.reason?.detailText.contains("bad config") == true)
            #expect(terminated.value == false)
        }
    }

    enum Ending: String, CaseIterable, Sendable, CustomStringConvertible {
        case stop, exitCustom, thrown, killedByExit2, shutdownByExit2
        var description: String { rawValue }
    }

    @Test("terminate runs on every exit after a successful start, killed included", arguments: Ending.allCases)
    func terminateAlwaysRuns(_ ending: Ending) async throws {
        try await withRuntime { runtime in
            let terminated = Box<ExitReason?>(nil)
            let pid = try runtime.spawn(Probe(onHandle: { message, _ in
                switch message.text {
                case "stop": return .stop
                case "exit": return .exit(.custom(7))
                case "throw": throw Boom("thrown")
                default: return .continue
                }
            }, onTerminate: { reason, _ in terminated.set(reason) }))
            let watch = try await watch(pid, on: runtime)
            switch ending {
            case .stop: try runtime.send("stop", to: pid)
            case .exitCustom: try runtime.send("exit", to: pid)
            case .thrown: try runtime.send("throw", to: pid)
            case .killedByExit2: try runtime.exit(pid, reason: .kill)
            case .shutdownByExit2: try runtime.exit(pid, reason: .shutdown)
            }
            let reason = try #require(await watch.reason())
            switch ending {
            case .stop: #expect(reason == .normal)
            case .exitCustom: #expect(reason == .custom(7))
            case .thrown: #expect(reason.isError && reason.detailText.contains("thrown"))
            case .killedByExit2: #expect(reason == .killed)
            case .shutdownByExit2: #expect(reason == .shutdown)
            }
            // terminate ran before the DOWN went out.
            #expect(terminated.value == reason)
        }
    }

    @Test("OTP-6: send to a dead pid succeeds quietly (false) and counts a dead letter; pid 0 is misuse")
    func sendToDeadPid() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            let watch = try await watch(dead, on: runtime)
            try runtime.send("stop", to: dead)
            #expect(await watch.reason() == .normal)
            let before = runtime.statistics.deadLetters
            #expect(try runtime.send("late", to: dead) == false)
            let fromProcess = try await watch.observer.run { context -> Bool in try context.send("late", to: dead) }
            #expect(fromProcess == false)
            #expect(runtime.statistics.deadLetters == before + 2)
            #expect(throws: SwerlError(.noProcess)) { try runtime.send("never", to: Pid(rawValue: 0)) }
        }
    }

    @Test("OTP-6: send to a name that is not registered throws nameNotRegistered")
    func sendToUnregisteredName() async throws {
        try await withRuntime { runtime in
            #expect(throws: SwerlError(.nameNotRegistered)) { try runtime.send("hello", to: "nobody-here") }
            let agent = try Agent.spawn(runtime, options: SpawnOptions(name: "somebody"))
            try runtime.send("hello", to: "somebody")
            #expect(await agent.inbox.first { $0.isMessage("hello") } != nil)
        }
    }

    @Test("OTP-6: exit/2 to a dead pid throws noProcess")
    func exitToDeadPid() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            let watch = try await watch(dead, on: runtime)
            try runtime.send("stop", to: dead)
            #expect(await watch.reason() == .normal)
            #expect(throws: SwerlError(.noProcess)) { try runtime.exit(dead, reason: .shutdown) }
        }
    }
}
