// Typed messages and typed servers: Codable values as Erlang terms.

import Swerl
import Testing

private struct Person: Codable, Equatable {
    var name: String
    var age: Int
    var nickname: String?
    var tags: [String]
}

private enum Command: Codable, Equatable {
    case get
    case put(String, Int)
    case rename(from: String, to: String)
}

@Suite("Typed messages: Codable values as terms", .timeLimit(.minutes(1)))
struct TermCodingTests {
    @Test("a struct is a map with atom keys; an enum case an atom, a tagged tuple or a tagged map")
    func shapes() throws {
        let person = Person(name: "ann", age: 3, nickname: nil, tags: ["a", "b"])
        #expect(try TermCoding.term(of: person) == .map([
            .atom("name"): .binary("ann"), .atom("age"): .integer(3), .atom("tags"): .list([.binary("a"), .binary("b")]),
        ]))
        #expect(try TermCoding.term(of: Command.get) == .atom("get"))
        #expect(try TermCoding.term(of: Command.put("k", 3)) == .tuple([.atom("put"), .binary("k"), .integer(3)]))
        #expect(try TermCoding.term(of: Command.rename(from: "a", to: "b"))
                == .map([.atom("rename"): .map([.atom("from"): .binary("a"), .atom("to"): .binary("b")])]))
        #expect(try TermCoding.term(of: [UInt8]([1, 2])) == .binary([1, 2]))
        #expect(try TermCoding.term(of: true) == .atom("true"))
        #expect(try TermCoding.term(of: UInt64.max) == .bigInteger(negative: false, magnitude: Array(repeating: 0xff, count: 8)))
        #expect(try TermCoding.term(of: [1.5, 2]) == .list([.float(1.5), .float(2)]))
    }

    @Test("what is encoded decodes back, through External Term Format bytes")
    func roundTrips() throws {
        let values: [Command] = [.get, .put("apples", -7), .rename(from: "x", to: "y")]
        for value in values { #expect(try TermCoding.decode(Command.self, from: TermCoding.encode(value)) == value) }
        let person = Person(name: "bo", age: 40, nickname: "b", tags: [])
        #expect(try TermCoding.decode(Person.self, from: TermCoding.encode(person)) == person)
        #expect(try TermCoding.decode([Int64].self, from: TermCoding.encode([Int64.min, 0, Int64.max])) == [Int64.min, 0, Int64.max])
        #expect(try TermCoding.decode(UInt64.self, from: TermCoding.encode(UInt64.max)) == UInt64.max)
        #expect(try TermCoding.decode([String: Int].self, from: TermCoding.encode(["a": 1])) == ["a": 1])
    }

    @Test("terms as Elixir writes them decode: string keys, charlists, nil for a missing optional")
    func elixirShapes() throws {
        let term = Term.map([.binary("name"): .list([.integer(97), .integer(110)]), .atom("age"): .integer(5),
                             .atom("nickname"): .atom("nil"), .atom("tags"): .list([])])
        #expect(try TermCoding.value(Person.self, from: term) == Person(name: "an", age: 5, nickname: nil, tags: []))
        #expect(try TermCoding.value(Command.self, from: .tuple([.atom("put"), .binary("k"), .integer(1)])) == .put("k", 1))
    }

    @Test("decoding from bytes reads what decoding from a Term reads, failures included")
    func bytesAndTermsAgree() throws {
        let terms: [Term] = [
            .map([.binary("name"): .list([.integer(97), .integer(110)]), .atom("age"): .integer(5),
                  .atom("nickname"): .atom("nil"), .atom("tags"): .list([.binary("x")])]),
            .map([.atom("name"): .atom("bo"), .atom("age"): .bigInteger(negative: false, magnitude: [7]),
                  .atom("tags"): .list([])]),
        ]
        for term in terms {
            let bytes = ExternalTermFormat.encode(term)
            #expect(try TermCoding.decode(Person.self, from: bytes) == TermCoding.value(Person.self, from: term))
        }
        let commands: [Term] = [.atom("get"), .tuple([.atom("put"), .binary("k"), .integer(-3)]),
                                .map([.atom("rename"): .map([.atom("from"): .binary("a"), .atom("to"): .binary("b")])])]
        for term in commands {
            #expect(try TermCoding.decode(Command.self, from: ExternalTermFormat.encode(term))
                    == TermCoding.value(Command.self, from: term))
        }
        let wrong = ExternalTermFormat.encode(.map([.atom("name"): .integer(1), .atom("age"): .integer(5),
                                                    .atom("tags"): .list([])]))
        let error = #expect(throws: TermCoding.DecodingFailure.self) { try TermCoding.decode(Person.self, from: wrong) }
        #expect(error?.path == "name")
        #expect(throws: TermCoding.DecodingFailure.self) {
            try TermCoding.decode(UInt8.self, from: ExternalTermFormat.encode(.integer(300)))
        }
        #expect(throws: TermCoding.DecodingFailure.self) {
            try TermCoding.decode(Person.self, from: ExternalTermFormat.encode(.map([.atom("age"): .integer(1)])))
        }
        // A truncated term is refused before anything is read.
        #expect(throws: ExternalTermFormat.DecodeError.self) { try TermCoding.decode(Person.self, from: Array(wrong.dropLast(2))) }
        // A raw Term inside a value, and bytes as a binary.
        struct Envelope: Codable, Equatable { var raw: Term; var blob: [UInt8] }
        let envelope = Envelope(raw: .tuple([.atom("ok"), .integer(1)]), blob: [0, 255])
        #expect(try TermCoding.decode(Envelope.self, from: TermCoding.encode(envelope)) == envelope)
    }

    @Test("a term that is not the type asked for is a DecodingFailure that says where and why")
    func failures() throws {
        let wrong = Term.map([.atom("name"): .integer(1), .atom("age"): .integer(5), .atom("tags"): .list([])])
        let error = #expect(throws: TermCoding.DecodingFailure.self) { try TermCoding.value(Person.self, from: wrong) }
        #expect(error?.path == "name")
        #expect(error?.reason.contains("expected a string") == true)
        #expect(throws: TermCoding.DecodingFailure.self) { try TermCoding.value(UInt8.self, from: .integer(300)) }
        #expect(throws: TermCoding.DecodingFailure.self) { try TermCoding.value(Command.self, from: .list([])) }
        #expect(throws: (any Error).self) { try TermCoding.decode(Int.self, from: [1, 2, 3]) }  // not a term at all
    }
}

private struct Counter: Server {
    enum Request: Codable { case add(Int), get, crash }
    var total = 0
    let seen: Inbox?

    mutating func handleCall(_ request: Request, _ context: Context) throws -> Int {
        switch request {
        case .add(let n): total += n
        case .get: break
        case .crash: throw Boom("asked to crash")
        }
        return total
    }

    mutating func handleCast(_ request: Request, _ context: Context) throws -> Next {
        if case .add(let n) = request { total += n }
        return .continue
    }

    mutating func handleInfo(_ message: Message, _ context: Context) throws -> Next {
        seen?.append(Event(message))
        return .continue
    }
}

@Suite("Typed servers", .timeLimit(.minutes(1)))
struct ServerTests {
    @Test("typed calls and casts reach handleCall and handleCast; other messages handleInfo")
    func callsAndCasts() async throws {
        try await withRuntime { runtime in
            let seen = Inbox()
            let counter = try runtime.spawn(server: Counter(seen: seen))
            #expect(try await counter.call(.add(2), on: runtime) == 2)
            try counter.cast(.add(5), on: runtime)
            #expect(try await counter.call(.get, on: runtime) == 7)
            try runtime.send("plain bytes", to: counter.pid)
            #expect(await seen.first { $0.isMessage("plain bytes") } != nil)
            // A caller without the types (an Elixir GenServer.call is the
            // same): a term request, a term reply.
            let raw = try await runtime.call(counter.pid, value: Term.tuple([.atom("add"), .integer(1)]), as: Term.self)
            #expect(raw == .integer(8))
        }
    }

    @Test("a request of the wrong type crashes the server with a reason that says so; its supervisor restarts it")
    func wrongRequestCrashes() async throws {
        try await withRuntime { runtime in
            let root = try await runtime.startSupervisor(Supervisor.Spec(intensity: 5, children: [
                ChildSpec(id: "counter", server: { Counter(seen: nil) }),
            ]))
            let first = try #require(try await root.whichChildren()[0].pid)
            let counter = ServerRef<Counter>(pid: first)
            #expect(try await counter.call(.add(1), on: runtime) == 1)
            let error = await #expect(throws: SwerlError.self) {
                _ = try await runtime.call(first, value: "not a request", as: Int.self)
            }
            #expect(error?.code == .serverExited)
            #expect(error?.exitReason?.isError == true)
            let detail = String(decoding: error?.exitReason?.detail ?? [], as: UTF8.self)
            #expect(detail.contains("cannot decode"), "\(detail)")
            // Restarted: a fresh server, state from scratch.
            #expect(await waitUntil {
                let pid = (try? root.whichChildren())?.first?.pid
                return pid != nil && pid != first
            })
            let second = ServerRef<Counter>(pid: try #require(try await root.whichChildren()[0].pid))
            #expect(try await second.call(.get, on: runtime) == 0)
            // A throwing handleCall: the caller gets serverExited with the error.
            let crash = await #expect(throws: SwerlError.self) { _ = try await second.call(.crash, on: runtime) }
            #expect(crash?.exitReason == .error("asked to crash"))
        }
    }

    @Test("Message.decode gives a handler its typed value; an enum switch is exhaustive")
    func typedMessages() async throws {
        try await withRuntime { runtime in
            let got = Box<[Command]>([])
            let receiver = try runtime.spawn(Handler { message, _ in
                if message.isTerm { got.update { $0.append(try! message.decode(Command.self)) } }
                return .continue
            })
            try runtime.send(value: Command.put("a", 1), to: receiver)
            try runtime.send(value: Command.get, to: receiver)
            try runtime.send(value: Command.rename(from: "a", to: "b"), to: receiver)
            #expect(await waitUntil { got.value.count == 3 })
            #expect(got.value == [.put("a", 1), .get, .rename(from: "a", to: "b")])
        }
    }
}
