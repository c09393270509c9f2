// OTP-23..29: monitors and demonitor.

import Swerl
import Testing

@Suite("Monitors (OTP-23..29)", .timeLimit(.minutes(1)))
struct MonitorTests {
    @Test("OTP-23: monitor returns a unique ref; it is unidirectional: the monitored process is unaffected")
    func monitorIsUniqueAndOneWay() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime)
            let other = try Agent.spawn(runtime)
            let target = try Agent.spawn(runtime)
            let targetPid = target.pid
            let refs = try await owner.run { context in
                [try context.monitor(targetPid), try context.monitor(targetPid), try context.monitor(targetPid)]
            }
            let moreRefs = try await other.run { context in [try context.monitor(targetPid)] }
            #expect(Set(refs + moreRefs).count == 4)
            #expect(await waitUntil { runtime.info(target.pid)?.monitoredBy == 4 })
            #expect(runtime.info(owner.pid)?.monitors == 3)
            #expect(runtime.info(target.pid)?.monitors == 0)

            try await owner.crash(Boom("the owner crashes"))
            #expect(await waitUntil { runtime.info(owner.pid) == nil })
            #expect(await target.isResponsive)
            #expect(target.inbox.all.isEmpty)
        }
    }

    @Test("OTP-23..29 at scale: 100 monitors held and 100 held on one process: each DOWN once, demonitor in the middle, counts back to 0")
    func manyMonitors() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime)
            let targets = try (0..<100).map { _ in try Agent.spawn(runtime) }
            let targetPids = targets.map(\.pid)
            let refs = try await owner.run { context in try targetPids.map { try context.monitor($0) } }
            #expect(runtime.info(owner.pid)?.monitors == 100)
            // Demonitor every fifth one (a lookup in the middle of a large set).
            let dropped = try await owner.run { context in
                try stride(from: 0, to: 100, by: 5).map { try context.demonitor(refs[$0]) }
            }
            #expect(dropped == Array(repeating: true, count: 20))
            #expect(runtime.info(owner.pid)?.monitors == 80)
            for target in targets { try await target.finish(with: .stop) }
            #expect(await owner.inbox.waitForCount(80, where: { $0.kind == .down }))
            let downs = owner.inbox.all.filter { $0.kind == .down }
            #expect(Set(downs.compactMap(\.ref)) == Set(refs.enumerated().filter { $0.offset % 5 != 0 }.map(\.element)))
            #expect(await waitUntil { runtime.info(owner.pid)?.monitors == 0 })

            // 100 callers waiting on one server: each call monitors it.
            let pending = Box<[Ref]>([])
            let server = try runtime.spawn(Probe.silentServer(pending: pending))
            let calls = (0..<100).map { index in Task { try await runtime.call(server, "\(index)", timeout: nil) } }
            #expect(await waitUntil { pending.value.count == 100 })
            #expect(runtime.info(server)?.monitoredBy == 100)
            for ref in pending.value.reversed() { #expect(try runtime.reply(ref, with: "ok")) }  // newest first
            for call in calls { #expect(try await call.value == Array("ok".utf8)) }
            #expect(await waitUntil { runtime.info(server)?.monitoredBy == 0 })
        }
    }

    @Test("OTP-24: DOWN carries the ref, the monitored pid and its exit reason with detail")
    func downCarriesEverything() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime)
            let target = try Agent.spawn(runtime)
            let ref = try await owner.monitor(target.pid)
            let reason = ExitReason.custom(24, detail: Array("the details".utf8))
            try await target.finish(with: .exit(reason))
            let down = try #require(await owner.down(ref))
            #expect(down.kind == .down)
            #expect(down.ref == ref)
            #expect(down.from == target.pid)
            #expect(down.reason == reason)
            #expect(down.bytes == Array("the details".utf8))
        }
    }

    @Test("OTP-25: monitoring a pid that is not alive never throws and gives DOWN noproc")
    func monitorDeadPid() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            let watch = try await watch(dead, on: runtime)
            try runtime.send("stop", to: dead)
            #expect(await watch.reason() == .normal)
            let owner = try Agent.spawn(runtime)
            let ref = try await owner.monitor(dead)
            let down = try #require(await owner.down(ref))
            #expect(down.reason == .noProcess)
            #expect(down.from == dead)
            #expect(runtime.info(owner.pid)?.monitors == 0)
        }
    }

    @Test("OTP-26: each monitor is independent: N monitors give N DOWNs, each fires once and is removed")
    func monitorsAreIndependent() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime)
            let target = try Agent.spawn(runtime)
            let targetPid = target.pid
            let refs = try await owner.run { context in
                (0..<3).compactMap { _ in try? context.monitor(targetPid) }
            }
            #expect(refs.count == 3)
            let watch = try await watch(target.pid, on: runtime)  // monitors after the owner's three
            try await target.finish(with: .exit(.custom(26)))
            #expect(await watch.reason() == .custom(26))
            for ref in refs { #expect(await owner.down(ref)?.reason == .custom(26)) }
            #expect(await waitUntil { runtime.info(owner.pid)?.monitors == 0 })
            // Fired monitors are gone: demonitor finds none of them.
            let found = try await owner.run { context in refs.map { (try? context.demonitor($0)) ?? true } }
            #expect(found == [false, false, false])
            try runtime.send("probe", to: owner.pid)
            #expect(await owner.inbox.first { $0.isMessage("probe") } != nil)
            #expect(owner.inbox.count { $0.kind == .down } == 3)
        }
    }

    @Test("OTP-27 (by-name monitors are not in the API): a monitor of a looked-up name follows that pid only")
    func monitorOfResolvedName() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime)
            let first = try Agent.spawn(runtime, options: SpawnOptions(name: "otp27"))
            let resolved = try #require(try runtime.pid(named: "otp27"))
            let ref = try await owner.monitor(resolved)
            try runtime.unregister("otp27")
            let second = try Agent.spawn(runtime, options: SpawnOptions(name: "otp27"))
            try await second.finish(with: .exit(.custom(2)))
            try await first.finish(with: .exit(.custom(1)))
            let down = try #require(await owner.down(ref))
            #expect(down.from == first.pid)
            #expect(down.reason == .custom(1))
            #expect(owner.inbox.count { $0.kind == .down } == 1)
        }
    }

    @Test("OTP-28: demonitor of an active monitor returns true; no DOWN for it is added afterwards")
    func demonitorActive() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime)
            let target = try Agent.spawn(runtime)
            let removed = try await owner.monitor(target.pid)
            let kept = try await owner.monitor(target.pid)
            #expect(await waitUntil { runtime.info(target.pid)?.monitoredBy == 2 })
            #expect(try await owner.run { context in try context.demonitor(removed) } == true)
            #expect(await waitUntil { runtime.info(target.pid)?.monitoredBy == 1 })
            #expect(runtime.info(owner.pid)?.monitors == 1)
            try await target.finish(with: .exit(.custom(28)))
            // Both DOWNs would come from the same exit, the removed one first.
            #expect(await owner.down(kept) != nil)
            #expect(owner.inbox.count { $0.isDown(removed) } == 0)
        }
    }

    @Test("OTP-28: demonitor returns false when the DOWN is already queued; without flush the DOWN stays")
    func demonitorAfterDownQueued() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime, reaction: { event, _ in event.kind == .down ? .skip : .continue })
            let target = try Agent.spawn(runtime)
            let ref = try await owner.monitor(target.pid)
            try await target.finish(with: .exit(.custom(28)))
            #expect(await waitUntil { owner.queueLength == 1 })
            #expect(try await owner.run { context in try context.demonitor(ref) } == false)
            try await owner.react(nil)
            #expect(await owner.down(ref)?.reason == .custom(28))
        }
    }

    @Test("OTP-28: demonitor with flush removes a queued DOWN (and returns false)")
    func demonitorFlush() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime, reaction: { event, _ in event.kind == .down ? .skip : .continue })
            let target = try Agent.spawn(runtime)
            let other = try Agent.spawn(runtime)
            let ref = try await owner.monitor(target.pid)
            let otherRef = try await owner.monitor(other.pid)
            try await target.finish(with: .exit(.custom(28)))
            try await other.finish(with: .exit(.custom(29)))
            #expect(await waitUntil { owner.queueLength == 2 })
            #expect(try await owner.run { context in try context.demonitor(ref, flush: true) } == false)
            #expect(await waitUntil { owner.queueLength == 1 })
            try await owner.react(nil)
            // Only the other DOWN is left.
            #expect(await owner.down(otherRef) != nil)
            try runtime.send("probe", to: owner.pid)
            #expect(await owner.inbox.first { $0.isMessage("probe") } != nil)
            #expect(owner.inbox.count { $0.isDown(ref) } == 0)
        }
    }

    @Test("OTP-28: demonitor(flush:) of an active monitor returns true; an unknown ref gives false")
    func demonitorResults() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime)
            let target = try Agent.spawn(runtime)
            let ref = try await owner.monitor(target.pid)
            #expect(try await owner.run { context in try context.demonitor(ref, flush: true) } == true)
            #expect(try await owner.run { context in try context.demonitor(ref) } == false)
            #expect(try await owner.run { context in try context.demonitor(Ref(rawValue: 0xdead_beef)) } == false)
            #expect(await waitUntil { runtime.info(target.pid)?.monitoredBy == 0 })
            let watch = try await watch(target.pid, on: runtime)
            try await target.finish(with: .stop)
            // By the time the watcher hears of the exit, every DOWN has gone out.
            #expect(await watch.reason() == .normal)
            try runtime.send("probe", to: owner.pid)
            #expect(await owner.inbox.first { $0.isMessage("probe") } != nil)
            #expect(owner.inbox.count { $0.kind == .down } == 0)
        }
    }

    @Test("OTP-28: demonitor(flush:) inside the handler of that very DOWN returns false and leaves the handler's message alone")
    func demonitorFlushOfCurrentDown() async throws {
        try await withRuntime { runtime in
            let results = Box<[Bool]>([])
            let owner = try Agent.spawn(runtime, reaction: { event, context in
                if event.kind == .down, let ref = event.ref {
                    let found = try context.demonitor(ref, flush: true)
                    results.update { $0.append(found) }
                }
                return .continue
            })
            let target = try Agent.spawn(runtime)
            let ref = try await owner.monitor(target.pid)
            try await target.finish(with: .exit(.custom(28)))
            #expect(await owner.down(ref)?.reason == .custom(28))
            #expect(results.value == [false])
            try runtime.send("after", to: owner.pid)
            #expect(await owner.inbox.first { $0.isMessage("after") } != nil)
            #expect(owner.inbox.count { $0.kind == .down } == 1)
        }
    }

    @Test("OTP-29: a monitor owner that dies implicitly demonitors")
    func ownerDeathDemonitors() async throws {
        try await withRuntime { runtime in
            let owner = try Agent.spawn(runtime)
            let target = try Agent.spawn(runtime)
            _ = try await owner.monitor(target.pid)
            _ = try await owner.monitor(target.pid)
            #expect(await waitUntil { runtime.info(target.pid)?.monitoredBy == 2 })
            try await owner.finish(with: .stop)
            #expect(await waitUntil { runtime.info(target.pid)?.monitoredBy == 0 })
            #expect(await target.isResponsive)
        }
    }
}
