// Terms as messages in Swift: send(term:to:), Message.term matched with a
// switch, pids both ways through the runtime, plain bytes unmarked.

import Swerl
import Testing

@Suite("Term messages")
struct TermMessageTests {
    @Test("A server matches {get, Key, From} and answers From with a term")
    func matchAndAnswer() async throws {
        try await withRuntime { runtime in
            let answers = TestLock<[Term]>([])
            let client = try runtime.spawn(Probe(onHandle: { message, _ in
                if let term = message.term { answers.withLock { $0.append(term) } }
                return .continue
            }))
            let server = try runtime.spawn(Probe(onHandle: { message, context in
                // {get, Key, From}: Swift patterns cannot take an array apart, so by position
                guard case .tuple(let elements)? = message.term, elements.count == 3, elements[0] == .atom("get"),
                      case .pid(let from) = elements[2], let sender = try context.pid(from),
                      let me = try context.erlangPid(context.pid) else { return .continue }
                try context.send(term: .tuple([.atom("value"), elements[1], .pid(me)]), to: sender)
                return .continue
            }))
            let clientTerm = try #require(runtime.erlangPid(client))
            #expect(try runtime.send(term: .tuple([.atom("get"), .binary("k"), .pid(clientTerm)]), to: server))
            #expect(await waitUntil { !answers.withLock { $0 }.isEmpty })
            let serverTerm = try #require(runtime.erlangPid(server))
            #expect(answers.withLock { $0 } == [.tuple([.atom("value"), .binary("k"), .pid(serverTerm)])])
            #expect(runtime.pid(serverTerm) == server)
        }
    }

    @Test("A term message is marked; plain bytes are not; by name too")
    func marked() async throws {
        try await withRuntime { runtime in
            let seen = TestLock<[(Bool, Term?, [UInt8])]>([])
            let inbox = try runtime.spawn(Probe(onHandle: { message, _ in
                seen.withLock { $0.append((message.isTerm, message.term, message.bytes)) }
                return .continue
            }))
            try runtime.register(inbox, as: "inbox")
            try runtime.send(term: .list([.integer(1), .float(2.5)]), to: "inbox")
            try runtime.send("plain", to: inbox)
            #expect(await waitUntil { seen.withLock { $0.count } == 2 })
            let got = seen.withLock { $0 }
            #expect(got[0].0 && got[0].1 == .list([.integer(1), .float(2.5)]))
            #expect(got[0].2 == ExternalTermFormat.encode(.list([.integer(1), .float(2.5)])))
            #expect(!got[1].0 && got[1].1 == nil && got[1].2 == Array("plain".utf8))
        }
    }

    @Test("Pids and refs as terms: local both ways, another node's as a remote pid, another runtime's refused")
    func pidsAndRefs() async throws {
        try await withRuntime { runtime in
            let pid = try runtime.spawn(Probe())
            let erlang = try #require(runtime.erlangPid(pid))
            #expect(erlang.node == "nonode@nohost")
            #expect(runtime.pid(erlang) == pid)
            let remote = try #require(runtime.pid(ErlangPid(node: "other@host", id: 7, serial: 2, creation: 1)))
            #expect(remote != pid && !remote.description.hasPrefix("<0."))
            let ref = Ref(rawValue: 0xABCDEF)
            #expect(runtime.ref(runtime.erlangRef(ref)) == ref)
            #expect(runtime.ref(ErlangRef(node: "other@host", creation: 1, ids: [1, 2, 3])) == nil)
            let other = try Runtime()
            defer { try? other.stop() }
            let foreign = try other.spawn(Probe())
            #expect(runtime.erlangPid(foreign) == nil)
        }
    }

    @Test("A send to a dead process is no error; a term too deep is refused")
    func refusals() async throws {
        try await withRuntime { runtime in
            let pid = try runtime.spawn(Probe.exits())
            try runtime.send("go", to: pid)
            _ = await runtime.waitForExit(pid)
            #expect(try runtime.send(term: .atom("late"), to: pid) == false)
            var deep = Term.list([])
            for _ in 0..<600 { deep = .tuple([deep]) }
            let target = try runtime.spawn(Probe())
            #expect(throws: SwerlError.self) { try runtime.send(term: deep, to: target) }
        }
    }
}
