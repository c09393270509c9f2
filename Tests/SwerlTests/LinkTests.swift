// OTP-15..22: links, exit signals, trap_exit and the reception table.

import Swerl
import Testing

/// The reasons of row OTP-21h ("any other reason").
enum OtherReason: String, CaseIterable, Sendable, CustomStringConvertible {
    case shutdown, noproc, error, custom
    var reason: ExitReason {
        switch self {
        case .shutdown: .shutdown
        case .noproc: .noProcess
        case .error: .error("boom")
        case .custom: .custom(42, detail: Array("custom detail".utf8))
        }
    }
    var description: String { rawValue }
}

enum SignalRoute: String, CaseIterable, Sendable, CustomStringConvertible {
    case link, exit2
    var description: String { rawValue }
}

@Suite("Links and exit signals (OTP-15..22)", .timeLimit(.minutes(1)))
struct LinkTests {
    @Test("OTP-15: a link is bidirectional: either side's exit reaches the other")
    func linkIsBidirectional() async throws {
        try await withRuntime { runtime in
            for linkerDies in [true, false] {
                let linker = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
                let other = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
                try await linker.link(other.pid)
                let (dying, partner) = linkerDies ? (linker, other) : (other, linker)
                try await dying.finish(with: .exit(.custom(15)))
                let exit = try #require(await partner.inbox.first { $0.isExit(from: dying.pid) })
                #expect(exit.reason == .custom(15))
            }
        }
    }

    @Test("OTP-15: at most one link per pair: repeated links from both sides give one link and one EXIT")
    func atMostOneLink() async throws {
        try await withRuntime { runtime in
            let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            let b = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            try await a.link(b.pid)
            try await a.link(b.pid)
            try await b.link(a.pid)
            #expect(await waitUntil { runtime.info(a.pid)?.links == 1 && runtime.info(b.pid)?.links == 1 })
            let ref = try await a.monitor(b.pid)
            try await b.finish(with: .exit(.custom(15)))
            // The EXIT (link) goes out before the DOWN, so by the DOWN every EXIT is here.
            #expect(await a.down(ref) != nil)
            #expect(a.inbox.count { $0.isExit(from: b.pid) } == 1)
        }
    }

    @Test("OTP-15: link(self()) is a no-op")
    func linkSelfIsNoOp() async throws {
        try await withRuntime { runtime in
            let a = try Agent.spawn(runtime)
            try await a.run { context in try context.link(context.pid) }
            #expect(runtime.info(a.pid)?.links == 0)
            #expect(await a.isResponsive)
        }
    }

    @Test("OTP-15: either side may unlink, and one unlink removes the link on both sides")
    func eitherSideMayUnlink() async throws {
        try await withRuntime { runtime in
            for linkerUnlinks in [true, false] {
                let linker = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
                let other = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
                try await linker.link(other.pid)
                #expect(await waitUntil { runtime.info(linker.pid)?.links == 1 && runtime.info(other.pid)?.links == 1 })
                let (unlinker, partner) = linkerUnlinks ? (linker, other) : (other, linker)
                let partnerPid = partner.pid
                try await unlinker.run { context in try context.unlink(partnerPid) }
                #expect(await waitUntil { runtime.info(linker.pid)?.links == 0 && runtime.info(other.pid)?.links == 0 })
                // Neither side hears of the other's exit any more.
                let ref = try await unlinker.monitor(partner.pid)
                try await partner.finish(with: .exit(.custom(15)))
                #expect(await unlinker.down(ref) != nil)
                #expect(unlinker.inbox.count { $0.kind == .exit } == 0)
            }
        }
    }

    @Test("OTP-16: a terminating process sends its exit reason, detail included, to every link partner")
    func exitReachesEveryPartner() async throws {
        try await withRuntime { runtime in
            let dying = try Agent.spawn(runtime)
            var partners: [Agent] = []
            for _ in 0..<3 {
                let partner = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
                try await partner.link(dying.pid)
                partners.append(partner)
            }
            #expect(await waitUntil { runtime.info(dying.pid)?.links == 3 })
            let reason = ExitReason.custom(16, detail: Array("why it ended".utf8))
            try await dying.finish(with: .exit(reason))
            for partner in partners {
                let exit = try #require(await partner.inbox.first { $0.isExit(from: dying.pid) })
                #expect(exit.reason == reason)
            }
        }
    }

    @Test("OTP-17: link to a dead pid from a non-trapping process throws noProcess and changes nothing")
    func linkToDeadNotTrapping() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            let watch = try await watch(dead, on: runtime)
            try runtime.send("stop", to: dead)
            #expect(await watch.reason() == .normal)
            let a = try Agent.spawn(runtime)
            await #expect(throws: SwerlError(.noProcess)) { try await a.link(dead) }
            #expect(runtime.info(a.pid)?.links == 0)
            #expect(await a.isResponsive)
            #expect(a.inbox.all.isEmpty)
        }
    }

    @Test("OTP-17: link to a dead pid from a trapping process gives an EXIT noproc from that pid")
    func linkToDeadTrapping() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            let watch = try await watch(dead, on: runtime)
            try runtime.send("stop", to: dead)
            #expect(await watch.reason() == .normal)
            let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            try await a.link(dead)
            let exit = try #require(await a.inbox.first { $0.isExit(from: dead) })
            #expect(exit.reason == .noProcess)
            #expect(runtime.info(a.pid)?.links == 0)
        }
    }

    @Test("OTP-18: once unlink returns the link has no effect on the caller")
    func unlinkTakesEffect() async throws {
        try await withRuntime { runtime in
            for round in 0..<20 {
                let trapping = round.isMultiple(of: 2)
                let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: trapping))
                let b = try Agent.spawn(runtime, reaction: { event, _ in
                    event.isMessage("die") ? .exit(.custom(18)) : .continue
                })
                try await a.link(b.pid)
                let ref = try await a.monitor(b.pid)
                let bPid = b.pid
                try await a.run { context in
                    try context.unlink(bPid)
                    try context.send("die", to: bPid)
                }
                #expect(await a.down(ref)?.reason == .custom(18))
                #expect(a.inbox.count { $0.kind == .exit } == 0)
                #expect(await a.isResponsive)
            }
        }
    }

    @Test("OTP-18: an EXIT already in the mailbox stays there after unlink")
    func unlinkKeepsQueuedExit() async throws {
        try await withRuntime { runtime in
            let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true),
                                    reaction: { event, _ in event.kind == .exit ? .skip : .continue })
            let b = try Agent.spawn(runtime)
            try await a.link(b.pid)
            try await b.finish(with: .exit(.custom(18)))
            #expect(await waitUntil { a.queueLength == 1 })
            let bPid = b.pid
            try await a.run { context in try context.unlink(bPid) }
            try await a.react(nil)
            let exit = try #require(await a.inbox.first { $0.isExit(from: b.pid) })
            #expect(exit.reason == .custom(18))
        }
    }

    @Test("OTP-19: exit/2 sends an exit signal from the caller; no link is needed")
    func exit2FromCaller() async throws {
        try await withRuntime { runtime in
            let receiver = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            let sender = try Agent.spawn(runtime)
            let target = receiver.pid
            try await sender.run { context in try context.exit(target, reason: .custom(19)) }
            let fromProcess = try #require(await receiver.inbox.first { $0.kind == .exit })
            #expect(fromProcess.from == sender.pid)
            #expect(fromProcess.reason == .custom(19))
            try runtime.exit(receiver.pid, reason: .custom(20))
            let fromOutside = try #require(await receiver.inbox.first { $0.kind == .exit && $0.reason == .custom(20) })
            #expect(fromOutside.from == nil)
        }
    }

    @Test("OTP-19: exit/2 ends a non-trapping receiver with that reason; the unlinked sender is unaffected")
    func exit2KillsReceiverOnly() async throws {
        try await withRuntime { runtime in
            let receiver = try Agent.spawn(runtime)
            let sender = try Agent.spawn(runtime)
            let watch = try await watch(receiver.pid, on: runtime)
            let target = receiver.pid
            try await sender.run { context in try context.exit(target, reason: .custom(19)) }
            #expect(await watch.reason() == .custom(19))
            #expect(receiver.control.terminated.value == .custom(19))
            #expect(await sender.isResponsive)
        }
    }

    @Test("OTP-20: trapExits returns the previous value")
    func trapExitsReturnsPrevious() async throws {
        try await withRuntime { runtime in
            let a = try Agent.spawn(runtime)
            #expect(runtime.info(a.pid)?.trapsExits == false)
            let results = try await a.run { context in
                [try context.trapExits(true), try context.trapExits(true), try context.trapExits(false),
                 try context.trapExits(false), try context.trapExits(true)]
            }
            #expect(results == [false, true, true, false, false])
            #expect(await waitUntil { runtime.info(a.pid)?.trapsExits == true })
            let b = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            #expect(await waitUntil { runtime.info(b.pid)?.trapsExits == true })
            #expect(try await b.run { context in try context.trapExits(false) } == true)
        }
    }

    @Test("OTP-21a: an exit signal over a link that was removed (unlink) is dropped, trapping or not")
    func row21aRemovedLink() async throws {
        try await withRuntime { runtime in
            for trapping in [false, true] {
                // Spawned one after the other from outside, a and b start on
                // different scheduler threads.
                let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: trapping))
                let b = try Agent.spawn(runtime)
                let bPid = b.pid
                // b is busy while a links and monitors it, so a's signals do not
                // wake b on a's thread; b applies them when the job returns.
                let bEntered = Flag()
                let bRelease = Flag()
                let bJob = Task { try await b.run { _ in
                    bEntered.raise()
                    _ = bRelease.block()
                } }
                #expect(await waitUntil { bEntered.isRaised })
                try await a.link(bPid)
                let ref = try await a.monitor(bPid)
                bRelease.raise()
                try await bJob.value
                #expect(await waitUntil { runtime.info(bPid)?.links == 1 && runtime.info(bPid)?.monitoredBy == 1 })
                let exited = Box(false)
                let waiter = Task {
                    let reason = try await runtime.guardedWaitForExit(bPid)
                    exited.set(true)
                    return reason
                }
                #expect(await waitUntil { runtime.info(bPid)?.monitoredBy == 2 })

                // a is busy while b exits, so b's EXIT (still over the link, from
                // b's side) is on its way to a when a unlinks.
                let aEntered = Flag()
                let aJob = Task {
                    try await a.run { context -> Bool in
                        aEntered.raise()
                        guard blockUntil({ exited.value }) else { return false }
                        try context.unlink(bPid)
                        return true
                    }
                }
                #expect(await waitUntil { aEntered.isRaised })
                try runtime.exit(bPid, reason: .custom(21))
                #expect(try await waiter.value == .custom(21))
                #expect(try await aJob.value, "b did not exit while a was busy")
                #expect(await a.down(ref)?.reason == .custom(21))
                #expect(a.inbox.count { $0.kind == .exit } == 0, "trapping \(trapping): \(a.inbox.all)")
                #expect(await a.isResponsive)
            }
        }
    }

    @Test("OTP-21b: normal via link: a non-trapping partner survives; a trapping one gets EXIT normal")
    func row21bNormalViaLink() async throws {
        try await withRuntime { runtime in
            for trapping in [false, true] {
                let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: trapping))
                let b = try Agent.spawn(runtime)
                try await a.link(b.pid)
                let ref = try await a.monitor(b.pid)
                try await b.finish(with: .stop)
                #expect(await a.down(ref)?.reason == .normal)
                #expect(await a.isResponsive)
                if trapping {
                    let exit = try #require(a.inbox.all.first { $0.isExit(from: b.pid) })
                    #expect(exit.reason == .normal)
                } else {
                    #expect(a.inbox.count { $0.kind == .exit } == 0)
                }
            }
        }
    }

    @Test("OTP-21c: normal via exit/2 from another process: dropped when not trapping; EXIT normal when trapping")
    func row21cNormalViaExit2() async throws {
        try await withRuntime { runtime in
            let sender = try Agent.spawn(runtime)
            for trapping in [false, true] {
                let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: trapping))
                let target = a.pid
                try await sender.run { context in
                    try context.exit(target, reason: .normal)
                    try context.send("after", to: target)
                }
                #expect(await a.inbox.first { $0.isMessage("after") } != nil)
                #expect(await a.isResponsive)
                if trapping {
                    let seen = a.inbox.all
                    #expect(seen.first?.isExit(from: sender.pid) == true)
                    #expect(seen.first?.reason == .normal)
                } else {
                    #expect(a.inbox.count { $0.kind == .exit } == 0)
                }
            }
        }
    }

    @Test("OTP-21d: exit(self(), normal) ends a non-trapping process with normal; a trapping one gets EXIT from itself")
    func row21dExitSelfNormal() async throws {
        try await withRuntime { runtime in
            let plain = try Agent.spawn(runtime)
            let watch = try await watch(plain.pid, on: runtime)
            try await plain.run { context in try context.exit(context.pid, reason: .normal) }
            #expect(await watch.reason() == .normal)
            #expect(plain.control.terminated.value == .normal)

            let trapping = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            try await trapping.run { context in try context.exit(context.pid, reason: .normal) }
            let exit = try #require(await trapping.inbox.first { $0.kind == .exit })
            #expect(exit.from == trapping.pid)
            #expect(exit.reason == .normal)
            #expect(await trapping.isResponsive)
        }
    }

    @Test("OTP-21e: kill via exit/2 is untrappable, receiver exits killed")
    func row21eKillViaExit2() async throws {
        try await withRuntime { runtime in
            let sender = try Agent.spawn(runtime)
            for trapping in [false, true] {
                for fromProcess in [false, true] {
                    let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: trapping))
                    let watch = try await watch(a.pid, on: runtime)
                    if fromProcess {
                        let target = a.pid
                        try await sender.run { context in try context.exit(target, reason: .kill) }
                    } else {
                        try runtime.exit(a.pid, reason: .kill)
                    }
                    #expect(await watch.reason() == .killed, "trapping \(trapping), from a process \(fromProcess)")
                    #expect(a.control.terminated.value == .killed)
                    #expect(a.inbox.count { $0.kind == .exit } == 0)
                }
            }
        }
    }

    @Test("OTP-21f: kill via link (the partner exited with reason kill): non-trapping exits kill, not killed; trapping gets EXIT kill")
    func row21fKillViaLink() async throws {
        try await withRuntime { runtime in
            // Not trapping: exits with kill, and passes kill on along its own links.
            let a = try Agent.spawn(runtime)
            let b = try Agent.spawn(runtime)
            let downstream = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            try await a.link(b.pid)
            try await downstream.link(a.pid)
            let watchA = try await watch(a.pid, on: runtime)
            let watchB = try await watch(b.pid, on: runtime)
            try await b.finish(with: .exit(.kill))
            #expect(await watchB.reason() == .kill)
            #expect(await watchA.reason() == .kill)
            #expect(a.control.terminated.value == .kill)
            let cascaded = try #require(await downstream.inbox.first { $0.isExit(from: a.pid) })
            #expect(cascaded.reason == .kill)
            #expect(await downstream.isResponsive)

            // Trapping: an ordinary EXIT message.
            let trapping = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            let c = try Agent.spawn(runtime)
            try await trapping.link(c.pid)
            try await c.finish(with: .exit(.kill))
            let exit = try #require(await trapping.inbox.first { $0.isExit(from: c.pid) })
            #expect(exit.reason == .kill)
            #expect(await trapping.isResponsive)
        }
    }

    @Test("OTP-21g: killed via link: non-trapping exits killed; trapping gets EXIT killed")
    func row21gKilledViaLink() async throws {
        try await withRuntime { runtime in
            for trapping in [false, true] {
                let a = try Agent.spawn(runtime, options: SpawnOptions(trapExits: trapping))
                let b = try Agent.spawn(runtime)
                try await a.link(b.pid)
                let watchA = try await watch(a.pid, on: runtime)
                try runtime.exit(b.pid, reason: .kill)
                if trapping {
                    let exit = try #require(await a.inbox.first { $0.isExit(from: b.pid) })
                    #expect(exit.reason == .killed)
                    #expect(await a.isResponsive)
                } else {
                    #expect(await watchA.reason() == .killed)
                }
            }
        }
    }

    @Test("OTP-21h: any other reason via link or exit/2: non-trapping exits with it (cascading); trapping gets EXIT",
          arguments: OtherReason.allCases, SignalRoute.allCases)
    func row21hOtherReasons(_ other: OtherReason, _ route: SignalRoute) async throws {
        try await withRuntime { runtime in
            let reason = other.reason
            let sender = try Agent.spawn(runtime)

            // Not trapping: a -- c -- d(trapping). The signal ends a, a's exit ends c, d hears c.
            let a = try Agent.spawn(runtime)
            let c = try Agent.spawn(runtime)
            let d = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            try await c.link(a.pid)
            try await d.link(c.pid)
            let watchA = try await watch(a.pid, on: runtime)
            let watchC = try await watch(c.pid, on: runtime)
            try await deliver(reason, via: route, to: a, from: sender)
            #expect(await watchA.reason() == reason)
            #expect(await watchC.reason() == reason)
            let cascaded = try #require(await d.inbox.first { $0.isExit(from: c.pid) })
            #expect(cascaded.reason == reason)

            // Trapping: an EXIT message with the same reason.
            let trapping = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            let origin = try await deliver(reason, via: route, to: trapping, from: try Agent.spawn(runtime))
            let exit = try #require(await trapping.inbox.first { $0.isExit(from: origin) })
            #expect(exit.reason == reason)
            #expect(await trapping.isResponsive)
        }
    }

    /// Sends `reason` to `target` over a link (a new linked partner exits
    /// with it) or with exit/2 from `sender`. Returns the signal's sender.
    @discardableResult
    private func deliver(_ reason: ExitReason, via route: SignalRoute, to target: Agent, from sender: Agent)
        async throws -> Pid
    {
        switch route {
        case .link:
            let partner = try Agent.spawn(target.runtime)
            try await target.link(partner.pid)
            try await partner.finish(with: .exit(reason))
            return partner.pid
        case .exit2:
            let pid = target.pid
            try await sender.run { context in try context.exit(pid, reason: reason) }
            return sender.pid
        }
    }

    @Test("OTP-22: a process killed via exit/2 emits killed to its links, so the cascade continues as row g")
    func killCascadesAsKilled() async throws {
        try await withRuntime { runtime in
            let victim = try Agent.spawn(runtime)
            let linked = try Agent.spawn(runtime)
            let trappingNeighbour = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            let observerOfLinked = try Agent.spawn(runtime, options: SpawnOptions(trapExits: true))
            try await linked.link(victim.pid)
            try await trappingNeighbour.link(victim.pid)
            try await observerOfLinked.link(linked.pid)
            let watchVictim = try await watch(victim.pid, on: runtime)
            let watchLinked = try await watch(linked.pid, on: runtime)

            try runtime.exit(victim.pid, reason: .kill)
            #expect(await watchVictim.reason() == .killed)
            #expect(await watchLinked.reason() == .killed)
            let direct = try #require(await trappingNeighbour.inbox.first { $0.isExit(from: victim.pid) })
            #expect(direct.reason == .killed)
            let second = try #require(await observerOfLinked.inbox.first { $0.isExit(from: linked.pid) })
            #expect(second.reason == .killed)
            #expect(await trappingNeighbour.isResponsive)
            #expect(await observerOfLinked.isResponsive)
        }
    }
}
