// Swift distributed actors on SwerlActorSystem: calls through the actor's
// process (arguments, results, generics, thrown errors, actor references
// as arguments), a supervisor restarting an actor under the same ID, an
// actor's deinit ending its process, bad invocations answered without a
// crash, and a call from one node to an actor supervised on another.

import Distributed
import Swerl
import Testing

enum DCounterError: Error, Codable, Equatable {
    case refused(String)
}

distributed actor DCounter {
    typealias ActorSystem = SwerlActorSystem
    var total = 0

    distributed func add(_ n: Int) -> Int {
        total += n
        return total
    }

    distributed func reset() { total = 0 }

    distributed func echo<Value: Codable & Sendable>(_ value: Value) -> Value { value }

    distributed func refuse(_ why: String) throws { throw DCounterError.refused(why) }

    /// Erlang's exit/1 from a distributed method: the process exits.
    distributed func crash() throws { throw ExitReason.error("asked to crash") }
}

distributed actor DRoom {
    typealias ActorSystem = SwerlActorSystem
    var members: [DCounter] = []

    distributed func join(_ member: DCounter) { members.append(member) }

    distributed func addToAll(_ n: Int) async throws -> [Int] {
        var totals: [Int] = []
        for member in members { totals.append(try await member.add(n)) }
        return totals
    }
}

@Suite("Distributed actors")
struct DistributedActorTests {
    @Test("Calls through the actor's process: results, void, generics, errors of the method's own type")
    func callsThroughTheProcess() async throws {
        try await withRuntime { runtime in
            let system = SwerlActorSystem(runtime: runtime)
            let counter = try system.makeActor(named: "counter") { DCounter(actorSystem: system) }
            #expect(counter.id == SwerlActorID(name: "counter"))
            let pid = try #require(try system.pid(of: counter.id))

            let proxy = try DCounter.resolve(id: SwerlActorID(name: "counter"), using: system)
            #expect(try await proxy.add(2) == 2)
            #expect(try await proxy.add(3) == 5)
            #expect(try await counter.add(1) == 6)  // the local instance, called directly, is the same actor
            try await proxy.reset()
            #expect(try await proxy.add(1) == 1)
            #expect(try await proxy.echo("text") == "text")
            #expect(try await proxy.echo([1, 2, 3]) == [1, 2, 3])
            await #expect(throws: DCounterError.refused("no")) { try await proxy.refuse("no") }
            #expect(try system.pid(of: counter.id) == pid)  // errors are answers, not crashes

            let nobody = try DCounter.resolve(id: SwerlActorID(name: "nobody"), using: system)
            let error = await #expect(throws: SwerlError.self) { _ = try await nobody.add(1) }
            #expect(error?.code == .noProcess)

            #expect(throws: SwerlError.self) {
                _ = try system.makeActor(named: "counter") { DCounter(actorSystem: system) }
            }
            #expect(try await proxy.add(1) == 2)  // the first one still answers
        }
    }

    @Test("Actor references travel as arguments, and their calls reach the actors")
    func referencesAsArguments() async throws {
        try await withRuntime { runtime in
            let system = SwerlActorSystem(runtime: runtime)
            let room = DRoom(actorSystem: system)
            let first = DCounter(actorSystem: system)
            let second = DCounter(actorSystem: system)
            let roomProxy = try DRoom.resolve(id: room.id, using: system)
            try await roomProxy.join(first)
            try await roomProxy.join(try DCounter.resolve(id: second.id, using: system))
            #expect(try await roomProxy.addToAll(3) == [3, 3])
            #expect(try await second.add(1) == 4)
            #expect(try await roomProxy.addToAll(1) == [4, 5])
        }
    }

    @Test("A supervisor restarts a crashed actor under the same ID, with fresh state")
    func supervisedRestart() async throws {
        try await withRuntime { runtime in
            let system = SwerlActorSystem(runtime: runtime)
            let tree = try await runtime.startSupervisor(Supervisor.Spec(intensity: 5, children: [
                ChildSpec(id: "counter", actorName: "supervised_counter", in: system) { DCounter(actorSystem: $0) },
            ]))
            let id = SwerlActorID(name: "supervised_counter")
            let counter = try DCounter.resolve(id: id, using: system)
            #expect(try await counter.add(5) == 5)
            let first = try #require(try system.pid(of: id))

            // A thrown ExitReason: the caller sees the exit, the supervisor restarts it.
            let error = await #expect(throws: SwerlError.self) { try await counter.crash() }
            #expect(error?.code == .serverExited)
            #expect(error?.exitReason == .error("asked to crash"))
            #expect(await waitUntil { (try? system.pid(of: id)).flatMap { $0 }.map { $0 != first } ?? false })
            #expect(try await counter.add(1) == 1)

            // Killed from outside: the same.
            let second = try #require(try system.pid(of: id))
            try runtime.exit(second, reason: .kill)
            #expect(await waitUntil { (try? system.pid(of: id)).flatMap { $0 }.map { $0 != second } ?? false })
            #expect(try await counter.add(2) == 2)
            #expect(try await tree.whichChildren().count == 1)
        }
    }

    @Test("An actor's deinit ends its process")
    func deinitEndsTheProcess() async throws {
        try await withRuntime { runtime in
            let system = SwerlActorSystem(runtime: runtime)
            var counter: DCounter? = DCounter(actorSystem: system)
            let id = try #require(counter?.id)
            let pid = try #require(try system.pid(of: id))
            let exits = runtime.exits(of: [pid])
            #expect(try await DCounter.resolve(id: id, using: system).add(1) == 1)
            counter = nil
            var reasons: [ExitReason] = []
            for await exit in exits { reasons.append(exit.reason) }
            #expect(reasons == [.normal])
            #expect(try system.pid(of: id) == nil)
        }
    }

    @Test("Bad invocations are answered with an error (not a call, no such method, another type's method, a wrong argument); the actor lives on")
    func badInvocations() async throws {
        try await withRuntime { runtime in
            let system = SwerlActorSystem(runtime: runtime)
            let counter = try system.makeActor(named: "target") { DCounter(actorSystem: system) }
            let pid = try #require(try system.pid(of: counter.id))
            func ask(_ request: Term) async throws -> Term {
                try await runtime.call(pid, value: request, as: Term.self)
            }
            func isError(_ reply: Term) -> Bool {
                if case .tuple(let parts) = reply, parts.count == 4, parts[0] == .atom("error") { return true }
                return false
            }

            // A process posing as an actor shows what a proxy sends, and
            // gets a reply that is not one (the proxy says so).
            let sent = TestLock<Term?>(nil)
            let spy = try runtime.spawn(Probe(onHandle: { message, context in
                sent.withLock { $0 = message.term }
                try context.reply(to: message, with: Term.atom("whatever"))
                return .continue
            }))
            try runtime.register(spy, as: "spy")
            await #expect(throws: SwerlActorSystem.RemoteError.self) {
                _ = try await DCounter.resolve(id: SwerlActorID(name: "spy"), using: system).add(7)
            }
            guard case .tuple(let invocation)? = sent.withLock({ $0 }), invocation.count == 4 else {
                Issue.record("the proxy sent \(String(describing: sent.withLock { $0 }))")
                return
            }
            #expect(invocation[0] == .atom("$swerl_invoke"))
            #expect(invocation[3] == .list([.integer(7)]))
            let addTarget = invocation[1]

            let hello = try await ask(.atom("hello"))
            #expect(hello == .tuple([.atom("error"), .binary(""), .binary("not a distributed call"), .atom("nil")]))
            #expect(isError(try await ask(.tuple([.atom("$swerl_invoke"), .binary("no such method"), .list([]), .list([])]))))
            #expect(isError(try await ask(.tuple([.atom("$swerl_invoke"), addTarget, .list([]), .list([.binary("not an Int")])]))))
            #expect(isError(try await ask(.tuple([.atom("$swerl_invoke"), addTarget, .list([]), .list([])]))))
            #expect(try await ask(.tuple([.atom("$swerl_invoke"), addTarget, .list([]), .list([.integer(2)])]))
                    == .tuple([.atom("ok"), .integer(2)]))

            // DRoom's method sent to a DCounter: refused, never run on the wrong type.
            _ = DRoom(actorSystem: system)
            let roomAsCounter = try DRoom.resolve(id: counter.id, using: system)
            await #expect(throws: SwerlActorSystem.RemoteError.self) { try await roomAsCounter.join(counter) }

            #expect(try system.pid(of: counter.id) == pid)
            #expect(try await counter.add(1) == 3)
        }
    }

    @Test("A call from one node reaches an actor supervised on another, before and after its restart")
    func acrossNodes() async throws {
        let port = DistributionTests.freePort()
        try await withRuntime { a in
            try await withRuntime { b in
                try await a.startNode("swift_da_a@127.0.0.1", options: DistributionTests.options(port))
                try await b.startNode("swift_da_b@127.0.0.1", options: DistributionTests.options(port))
                let systemA = SwerlActorSystem(runtime: a)
                let systemB = SwerlActorSystem(runtime: b)
                _ = try await b.startSupervisor(Supervisor.Spec(intensity: 5, children: [
                    ChildSpec(id: "counter", actorName: "remote_counter", in: systemB) { DCounter(actorSystem: $0) },
                ]))
                let id = SwerlActorID(name: "remote_counter", node: "swift_da_b@127.0.0.1")
                let counter = try DCounter.resolve(id: id, using: systemA)
                #expect(try await counter.add(4) == 4)
                #expect(try await counter.echo(["k": 1]) == ["k": 1])
                await #expect(throws: DCounterError.refused("remote")) { try await counter.refuse("remote") }

                let first = try #require(try systemB.pid(of: SwerlActorID(name: "remote_counter")))
                let error = await #expect(throws: SwerlError.self) { try await counter.crash() }
                #expect(error?.code == .serverExited)
                #expect(await waitUntil {
                    (try? systemB.pid(of: SwerlActorID(name: "remote_counter"))).flatMap { $0 }.map { $0 != first } ?? false
                })
                #expect(try await counter.add(1) == 1)

                // A reference made on b travels to a with its node.
                let local = try systemB.makeActor(named: "b_room") { DRoom(actorSystem: systemB) }
                let roomOnA = try DRoom.resolve(id: SwerlActorID(name: "b_room", node: "swift_da_b@127.0.0.1"), using: systemA)
                try await roomOnA.join(counter)
                #expect(try await roomOnA.addToAll(2) == [3])
                #expect(try await local.addToAll(1) == [4])
            }
        }
    }
}
