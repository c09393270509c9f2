// External Term Format: bytes Erlang/OTP 25's term_to_binary wrote (fixtures
// made with erl), terms that go both ways, and untrusted input refused with
// a reason.

import Swerl
import Testing

@Suite("Terms (External Term Format)")
struct TermTests {
    /// (what erl printed, term_to_binary's bytes, the term). Computed, not
    /// a stored static: LeakSanitizer counted the stored table's boxes as
    /// leaks at exit.
    static var fromErlang: [(String, [UInt8], Term)] { [
        ("ok", [131, 100, 0, 2, 111, 107], .atom("ok")),
        ("{ok,1,<<\"x\">>}", [131, 104, 3, 100, 0, 2, 111, 107, 97, 1, 109, 0, 0, 0, 1, 120],
         .tuple([.atom("ok"), .integer(1), .binary("x")])),
        ("[1,2,3]", [131, 107, 0, 3, 1, 2, 3], .list([.integer(1), .integer(2), .integer(3)])),
        ("[]", [131, 106], .list([])),
        ("3.5", [131, 70, 64, 12, 0, 0, 0, 0, 0, 0], .float(3.5)),
        ("-1", [131, 98, 255, 255, 255, 255], .integer(-1)),
        ("256", [131, 98, 0, 0, 1, 0], .integer(256)),
        ("1 bsl 70", [131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64],
         .bigInteger(negative: false, magnitude: [0, 0, 0, 0, 0, 0, 0, 0, 64])),
        ("-(1 bsl 70)", [131, 110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 64],
         .bigInteger(negative: true, magnitude: [0, 0, 0, 0, 0, 0, 0, 0, 64])),
        ("2147483648", [131, 110, 4, 0, 0, 0, 0, 128], .integer(2_147_483_648)),
        ("#{a => 1}", [131, 116, 0, 0, 0, 1, 100, 0, 1, 97, 97, 1], .map([.atom("a"): .integer(1)])),
        ("<0.9.0>", [131, 88, 100, 0, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116,
                     0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0],
         .pid(ErlangPid(node: "nonode@nohost", id: 9, serial: 0, creation: 0))),
        ("make_ref()", [131, 90, 0, 3, 100, 0, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116,
                        0, 0, 0, 0, 0, 3, 185, 196, 93, 140, 0, 2, 197, 143, 81, 48],
         .reference(ErlangRef(node: "nonode@nohost", creation: 0, ids: [244_164, 1_569_456_130, 3_314_503_984]))),
        ("[a|b]", [131, 108, 0, 0, 0, 1, 100, 0, 1, 97, 100, 0, 1, 98], .improperList([.atom("a")], tail: .atom("b"))),
        ("<<1:3>>", [131, 77, 0, 0, 0, 1, 3, 32], .bitstring([32], bits: 3)),
        ("{}", [131, 104, 0], .tuple([])),
        ("fun lists:map/2", [131, 113, 100, 0, 5, 108, 105, 115, 116, 115, 100, 0, 3, 109, 97, 112, 97, 2],
         .export(module: "lists", function: "map", arity: 2)),
        ("-100000", [131, 98, 255, 254, 121, 96], .integer(-100_000)),
        ("<<>>", [131, 109, 0, 0, 0, 0], .binary([])),
    ] }

    @Test("Bytes Erlang wrote decode to the terms it meant")
    func decodesErlang() throws {
        for (text, bytes, term) in Self.fromErlang {
            let decoded = try ExternalTermFormat.decode(bytes)
            #expect(decoded == term, "\(text)")
        }
    }

    @Test("Every term survives encode then decode")
    func roundTrips() throws {
        var all = Self.fromErlang.map(\.2)
        all.append(.tuple((0..<300).map { .integer(Int64($0)) }))            // a large tuple
        all.append(.list((0..<70_000).map { .integer(Int64($0 % 256)) }))    // a list too long for a string
        all.append(.integer(.min))
        all.append(.integer(.max))
        all.append(.atom("héllo"))
        all.append(.port(ErlangPort(node: "a@b", id: 1 << 40, creation: 7)))
        all.append(.map([.binary("k"): .tuple([.atom("v"), .list([.float(-0.5)])])]))
        for term in all {
            #expect(try ExternalTermFormat.decode(ExternalTermFormat.encode(term)) == term)
        }
        // Erlang's own form of small values: strings as STRING_EXT.
        #expect(ExternalTermFormat.encode(.list([.integer(97), .integer(98)])) == [131, 107, 0, 2, 97, 98])
    }

    @Test("Untrusted bytes are refused with where and why, and nothing huge is allocated")
    func refusesBadInput() {
        let bad: [([UInt8], String)] = [
            ([], "no bytes"),
            ([130, 106], "version"),
            ([131], "needs"),
            ([131, 104, 3, 97, 1], "tuple of 3"),                     // a tuple cut short
            ([131, 105, 255, 255, 255, 255], "tuple of"),             // 4 billion elements claimed
            ([131, 108, 127, 255, 255, 255, 106], "list of"),
            ([131, 116, 127, 255, 255, 255], "map of"),
            ([131, 109, 255, 255, 255, 255], "binary needs"),
            ([131, 110, 1, 2, 5], "sign byte"),
            ([131, 106, 106], "after the term"),
            ([131, 80, 0, 0, 0, 1, 120], "compressed"),
            ([131, 200], "tag 200"),
            ([131, 88, 97, 1], "where an atom"),
            ([131, 90, 0, 9, 100, 0, 1, 97, 0, 0, 0, 0], "reference of 9"),
            ([131, 77, 0, 0, 0, 1, 0, 1], "bitstring of"),
        ]
        for (bytes, words) in bad {
            do {
                _ = try ExternalTermFormat.decode(bytes)
                Issue.record("\(bytes) decoded")
            } catch {
                #expect(error.description.contains(words), "\(bytes): \(error)")
            }
        }
        // Nesting deeper than the limit.
        var deep: [UInt8] = [131]
        for _ in 0..<600 { deep += [104, 1] }                          // {{{...}}}
        deep.append(106)
        var limits = ExternalTermFormat.Limits()
        limits.maxDepth = 512
        #expect(throws: ExternalTermFormat.DecodeError.self) { try ExternalTermFormat.decode(deep, limits: limits) }
        do {
            _ = try ExternalTermFormat.decode(deep, limits: limits)
        } catch {
            #expect(error.description.contains("nested deeper"))
        }
    }
}
