// OTP-30..33: registered names.

import Swerl
import Testing

@Suite("Names (OTP-30..33)", .timeLimit(.minutes(1)))
struct NameTests {
    @Test("OTP-30: register succeeds for a live process without a name")
    func registerSucceeds() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            try runtime.register(agent.pid, as: "worker")
            #expect(try runtime.pid(named: "worker") == agent.pid)
            #expect(runtime.info(agent.pid)?.name == "worker")
            let longest = String(repeating: "n", count: 255)
            let other = try Agent.spawn(runtime)
            try runtime.register(other.pid, as: longest)
            #expect(try runtime.pid(named: longest) == other.pid)
        }
    }

    @Test("OTP-30: register refuses a dead pid, a taken name, a process that has a name, and an invalid name")
    func registerErrors() async throws {
        try await withRuntime { runtime in
            let dead = try runtime.spawn(Probe.exits())
            let watch = try await watch(dead, on: runtime)
            try runtime.send("stop", to: dead)
            #expect(await watch.reason() == .normal)
            #expect(throws: SwerlError(.noProcess)) { try runtime.register(dead, as: "ghost") }
            #expect(try runtime.pid(named: "ghost") == nil)

            let first = try Agent.spawn(runtime)
            let second = try Agent.spawn(runtime)
            try runtime.register(first.pid, as: "taken")
            #expect(throws: SwerlError(.nameTaken)) { try runtime.register(second.pid, as: "taken") }
            #expect(try runtime.pid(named: "taken") == first.pid)
            #expect(throws: SwerlError(.alreadyNamed)) { try runtime.register(first.pid, as: "second-name") }
            #expect(try runtime.pid(named: "second-name") == nil)
            #expect(throws: SwerlError(.invalidArgument)) { try runtime.register(second.pid, as: "") }
            #expect(throws: SwerlError(.invalidArgument)) {
                try runtime.register(second.pid, as: String(repeating: "n", count: 256))
            }
            #expect(runtime.info(second.pid)?.name == nil)
        }
    }

    @Test("OTP-30: spawn with a taken name fails and spawns nothing")
    func spawnWithTakenName() async throws {
        try await withRuntime { runtime in
            let holder = try Agent.spawn(runtime, options: SpawnOptions(name: "unique"))
            let before = runtime.statistics
            #expect(throws: SwerlError(.nameTaken)) { try runtime.spawn(Probe(), options: SpawnOptions(name: "unique")) }
            #expect(runtime.statistics.spawned == before.spawned)
            #expect(runtime.statistics.processes == before.processes)
            #expect(try runtime.pid(named: "unique") == holder.pid)
        }
    }

    @Test("OTP-31: whereis returns the pid or nil; registeredNames lists the names")
    func whereisAndRegistered() async throws {
        try await withRuntime { runtime in
            #expect(try runtime.pid(named: "alpha") == nil)
            #expect(try runtime.registeredNames.isEmpty)
            let a = try Agent.spawn(runtime, options: SpawnOptions(name: "alpha"))
            let b = try Agent.spawn(runtime)
            try runtime.register(b.pid, as: "beta")
            #expect(try runtime.pid(named: "alpha") == a.pid)
            #expect(try runtime.pid(named: "beta") == b.pid)
            #expect(Set(try runtime.registeredNames) == ["alpha", "beta"])
            try runtime.send("by name", to: "beta")
            #expect(await b.inbox.first { $0.isMessage("by name") } != nil)
        }
    }

    @Test("OTP-32: unregister removes the name (the process lives on); an unknown name throws nameNotRegistered")
    func unregister() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime, options: SpawnOptions(name: "temp"))
            let lookedUp = try #require(try runtime.pid(named: "temp"))
            try runtime.unregister("temp")
            // A pid looked up before still reaches the process.
            try runtime.send("via the old lookup", to: lookedUp)
            #expect(await agent.inbox.first { $0.isMessage("via the old lookup") } != nil)
            #expect(try runtime.pid(named: "temp") == nil)
            #expect(try runtime.registeredNames.isEmpty)
            #expect(runtime.info(agent.pid)?.name == nil)
            #expect(throws: SwerlError(.nameNotRegistered)) { try runtime.unregister("temp") }
            #expect(throws: SwerlError(.nameNotRegistered)) { try runtime.send("x", to: "temp") }
            #expect(await agent.isResponsive)
            // It may take a new name now, and the old one is free for others.
            try runtime.register(agent.pid, as: "renamed")
            let other = try Agent.spawn(runtime, options: SpawnOptions(name: "temp"))
            #expect(try runtime.pid(named: "temp") == other.pid)
        }
    }

    @Test("OTP-33: a name is removed automatically when its process terminates, and can be taken again")
    func nameReleasedOnExit() async throws {
        try await withRuntime { runtime in
            for round in 0..<10 {
                let named = try Agent.spawn(runtime, options: SpawnOptions(name: "transient"))
                let watch = try await watch(named.pid, on: runtime)
                if round.isMultiple(of: 2) {
                    try runtime.exit(named.pid, reason: .kill)
                } else {
                    try await named.crash(Boom("crash \(round)"))
                }
                #expect(await watch.reason() != nil)
                #expect(try runtime.pid(named: "transient") == nil)
                #expect(try !runtime.registeredNames.contains("transient"))
                #expect(throws: SwerlError(.nameNotRegistered)) { try runtime.send("x", to: "transient") }
            }
            let again = try Agent.spawn(runtime, options: SpawnOptions(name: "transient"))
            #expect(try runtime.pid(named: "transient") == again.pid)
        }
    }

    @Test("OTP-30: a name is 1 to 255 bytes: the core's one rule, for every name operation")
    func nameRule() async throws {
        try await withRuntime { runtime in
            let agent = try Agent.spawn(runtime)
            let tooLong = String(repeating: "n", count: 256)
            for name in ["", tooLong] {
                #expect(throws: SwerlError(.invalidArgument)) { try runtime.register(agent.pid, as: name) }
                #expect(throws: SwerlError(.invalidArgument)) { try runtime.pid(named: name) }
                #expect(throws: SwerlError(.invalidArgument)) { try runtime.send("x", to: name) }
                #expect(throws: SwerlError(.invalidArgument)) {
                    try runtime.spawn(Probe(), options: SpawnOptions(name: name))
                }
            }
            do {
                try runtime.register(agent.pid, as: tooLong)
            } catch let error as SwerlError {
                #expect(error.detail.contains("longer than SWERL_NAME_MAX"))
            }
        }
    }
}
