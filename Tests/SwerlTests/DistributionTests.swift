// Two runtimes of this process as nodes of one cluster, on an EPMD the
// first serves itself (loopback, a free port): messages and terms by name
// on a node, remote pids, a call to a remote server, a link that carries a
// crash across, node events. test_dist.c and the Python tests do the same
// against real erl and elixir nodes.

import Foundation
import Glibc
import Swerl
import Testing

/// A typed server as Elixir code calls it: {:deposit, "ann", 5}.
private struct Bank: Server {
    enum Request: Codable { case deposit(String, Int), balanceOf(String) }
    enum Reply: Codable, Equatable { case balance(Int) }
    var accounts: [String: Int] = [:]

    mutating func handleCall(_ request: Request, _ context: Context) throws -> Reply {
        switch request {
        case .deposit(let account, let amount):
            accounts[account, default: 0] += amount
            return .balance(accounts[account]!)
        case .balanceOf(let account):
            return .balance(accounts[account] ?? 0)
        }
    }

    mutating func handleCast(_ request: Request, _ context: Context) throws -> Next {
        if case .deposit(let account, let amount) = request { accounts[account, default: 0] += amount }
        return .continue
    }
}

@Suite("Distribution", .serialized)
struct DistributionTests {
    /// A free TCP port on loopback.
    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    static func options(_ port: UInt16) -> NodeOptions {
        var options = NodeOptions(cookie: "swift_dist_test")
        options.listenHost = "127.0.0.1"
        options.epmdPort = port
        options.startEPMD = true
        return options
    }

    @Test("Messages, terms, a call, a link and node events between two nodes")
    func twoNodes() async throws {
        let port = Self.freePort()
        try await withRuntime { a in
            try await withRuntime { b in
                try await a.startNode("swift_a@127.0.0.1", options: Self.options(port))
                try await b.startNode("swift_b@127.0.0.1", options: Self.options(port))
                #expect(a.nodeName == "swift_a@127.0.0.1")
                let seen = TestLock<[(Pid, Bool, [UInt8], Term?)]>([])
                let inbox = try b.spawn(Probe(onHandle: { message, _ in
                    if message.kind == .message {
                        seen.withLock { $0.append((message.from ?? Pid(rawValue: 0), message.isTerm, message.bytes, message.term)) }
                    }
                    return .continue
                }))
                try b.register(inbox, as: "inbox")
                let server = try b.spawn(Probe(onHandle: { message, context in
                    if message.kind == .call { try context.reply(to: message, with: .tuple([.atom("ok"), .binary(message.bytes)])) }
                    return .continue
                }))
                try b.register(server, as: "server")

                let events = TestLock<[Term]>([])
                let monitoring = TestLock<Bool>(false)
                _ = try b.spawn(Probe(onStart: { context in
                    try context.monitorNodes()
                    monitoring.withLock { $0 = true }
                }, onHandle: { message, _ in
                    if let term = message.term { events.withLock { $0.append(term) } }
                    return .continue
                }))
                // Its init runs after spawn returns: the nodeup must not come first.
                #expect(await waitUntil { monitoring.withLock { $0 } })

                // By name on a node, bytes and a term.
                try a.send("hello", to: "inbox", on: "swift_b@127.0.0.1")
                try a.send(term: .tuple([.atom("hi"), .integer(1)]), to: "inbox", on: "swift_b@127.0.0.1")
                #expect(await waitUntil { seen.withLock { $0.count } == 2 })
                let got = seen.withLock { $0 }
                #expect(!got[0].1 && got[0].2 == Array("hello".utf8))
                #expect(got[1].1 && got[1].3 == .tuple([.atom("hi"), .integer(1)]))
                // The sender is a pid of node a, as b sees it.
                #expect(b.node(of: got[0].0) == "swift_a@127.0.0.1")
                #expect(a.connectedNodes == ["swift_b@127.0.0.1"])
                #expect(await waitUntil { events.withLock { $0 } == [.tuple([.atom("nodeup"), .atom("swift_a@127.0.0.1")])] })

                // A remote pid: a process on a learns the server's pid and calls it.
                let serverTerm = try #require(b.erlangPid(server))
                let serverOnA = try #require(a.pid(serverTerm))
                #expect(!serverOnA.description.hasPrefix("<0."))
                let reply = try await a.call(serverOnA, "ping")
                #expect(reply == ExternalTermFormat.encode(.tuple([.atom("ok"), .binary("ping")])))

                // A typed Server of b, called from a: the request crosses as a
                // term inside gen_server's {'$gen_call', From, Request}, the
                // reply comes back as a term.
                let ledger = try b.spawn(server: Bank())
                let ledgerTerm = try #require(b.erlangPid(ledger.pid))
                let ledgerOnA = ServerRef<Bank>(pid: try #require(a.pid(ledgerTerm)))
                #expect(try await ledgerOnA.call(.deposit("ann", 5), on: a) == .balance(5))
                #expect(try await ledgerOnA.call(.deposit("ann", 2), on: a) == .balance(7))
                #expect(try await ledgerOnA.call(.balanceOf("bo"), on: a) == .balance(0))

                // By registered name on the other node (GenServer.call({name, node}, ...)).
                let byName = try await a.call("server", on: "swift_b@127.0.0.1", "by name")
                #expect(byName == ExternalTermFormat.encode(.tuple([.atom("ok"), .binary("by name")])))
                try b.register(ledger.pid, as: "ledger")
                #expect(try await a.call("ledger", on: "swift_b@127.0.0.1", value: Bank.Request.balanceOf("ann"),
                                         as: Bank.Reply.self) == .balance(7))
                let nobody = await #expect(throws: SwerlError.self) {
                    _ = try await a.call("nobody", on: "swift_b@127.0.0.1", "?", timeout: .seconds(10))
                }
                #expect(nobody?.code == .noProcess)
                // This node's own name: the local process of that name.
                #expect(try await b.call("ledger", on: "swift_b@127.0.0.1", value: Bank.Request.balanceOf("ann"),
                                         as: Bank.Reply.self) == .balance(7))

                // A link across: b's process crashes, a's trapping process is told.
                let exits = TestLock<[ExitReason]>([])
                let victim = try b.spawn(Probe(onHandle: { _, _ in .exit(.error("boom")) }))
                let victimTerm = try #require(b.erlangPid(victim))
                let victimOnA = try #require(a.pid(victimTerm))
                let linked = Box<Bool>(false)
                _ = try a.spawn(Probe(onStart: { context in
                    _ = try context.trapExits(true)
                    try context.link(victimOnA)
                    linked.set(true)
                }, onHandle: { message, _ in
                    if message.kind == .exit && message.from == nil { return .stop }  // the runtime's stop
                    if message.kind == .exit, let reason = message.reason { exits.withLock { $0.append(reason) } }
                    return .continue
                }))
                #expect(await waitUntil { linked.value })
                // The link must reach b before the crash: b's victim sees it linked.
                #expect(await waitUntil { (b.info(victim)?.links ?? 0) == 1 })
                try b.send("crash", to: victim)
                #expect(await waitUntil { !exits.withLock { $0 }.isEmpty })
                #expect(exits.withLock { $0 } == [.error("boom")])
            }
        }
    }

    @Test("Elixir calls and casts a typed Swift Server with its own values: {:deposit, \"ann\", 5} -> {:balance, 5}")
    func elixirCallsATypedServer() async throws {
        let port = Self.freePort()
        try await withRuntime { runtime in
            try await runtime.startNode("swift_typed@127.0.0.1", options: Self.options(port))
            let bank = try runtime.spawn(server: Bank())
            try runtime.register(bank.pid, as: "bank")
            let script = """
                node = :"swift_typed@127.0.0.1"
                true = Node.connect(node)
                {:balance, 5} = GenServer.call({:bank, node}, {:deposit, "ann", 5})
                {:balance, 7} = GenServer.call({:bank, node}, {:deposit, "ann", 2})
                :ok = GenServer.cast({:bank, node}, {:deposit, "bo", 1})
                {:balance, 1} = GenServer.call({:bank, node}, {:balanceOf, "bo"})
                IO.puts("elixir ok")
                """
            let elixir = Process()
            elixir.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            elixir.arguments = ["elixir", "--name", "ex@127.0.0.1", "--cookie", "swift_dist_test",
                                "--erl", "-kernel inet_dist_use_interface {127,0,0,1}", "-e", script]
            var environment = ProcessInfo.processInfo.environment
            environment["ERL_EPMD_PORT"] = String(port)
            elixir.environment = environment
            let output = Pipe()
            elixir.standardOutput = output
            elixir.standardError = output
            let ended = Flag()
            elixir.terminationHandler = { _ in ended.raise() }
            try elixir.run()
            let finished = await waitUntil(timeout: .seconds(60)) { ended.isRaised }
            if !finished { elixir.terminate() }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(finished && elixir.terminationStatus == 0 && text.contains("elixir ok"), "elixir said:\n\(text)")
            // Foundation's Process on Linux is never freed (LeakSanitizer):
            // what it holds of ours is let go.
            elixir.terminationHandler = nil
            // The cast arrived too, and the state is the server's own.
            #expect(try await bank.call(.balanceOf("bo"), on: runtime) == .balance(1))
        }
    }

    @Test("A call by name on a node from a runtime that is not a node, or to a bad node name, is invalidArgument")
    func callByNameMisuse() async throws {
        try await withRuntime { runtime in
            let notNode = await #expect(throws: SwerlError.self) { _ = try await runtime.call("x", on: "b@127.0.0.1", "?") }
            #expect(notNode?.code == .invalidArgument)
        }
    }

    @Test("Bad names, no EPMD, not a node")
    func refusals() throws {
        let runtime = try Runtime(schedulers: 1)
        defer { try? runtime.stop() }
        #expect(runtime.nodeName == nil)
        #expect(throws: SwerlError.self) { try runtime.startNode("no host", options: Self.options(Self.freePort())) }
        var noEPMD = Self.options(Self.freePort())
        noEPMD.startEPMD = false
        #expect(throws: SwerlError.self) { try runtime.startNode("x@127.0.0.1", options: noEPMD) }
        #expect(throws: SwerlError.self) { try runtime.send("x", to: "inbox", on: "other@127.0.0.1") }
    }
}
