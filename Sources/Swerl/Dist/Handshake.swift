// The version-6 distribution handshake (OTP 23+, HANDSHAKE_23), both roles,
// as a state machine over the 2-byte-framed handshake messages: no I/O, so
// the fuzzer can drive it. The cookie proves both ends know it (MD5 of the
// cookie and the other's challenge in decimal); it never leaves this node.

struct Handshake {
    enum Role: Equatable {
        /// This node connects to `peer` (the full node name).
        case initiator(peer: String)
        case acceptor
    }

    enum Step: Equatable {
        /// Send these messages (each one 2-byte framed) and wait for more.
        case send([[UInt8]])
        /// The handshake is done: send these first, then the connection is up.
        case up(send: [[UInt8]])
        /// Refused: close, and log why (never with the cookie).
        case fail(String)
        /// The acceptor refuses with this status message ("nok", ...): send
        /// it, then close.
        case refuse(status: [UInt8], why: String)
        /// The peer said "nok": its own attempt to connect to this node wins.
        case yield
        /// The peer said "alive": it has a connection up with this node.
        /// Answer with `answerAlive(proceed:)`: go on only when this node
        /// has none (the peer's is a stale one).
        case alive
    }

    /// How the acceptor answers a node that asks to connect: "ok", or
    /// "ok_simultaneous" / "nok" / "alive" as erl decides (see DistNode).
    /// `replacing`: the peer answered "true" to "alive": its old
    /// connection goes, this one takes its place.
    typealias Admission = (_ peer: String, _ replacing: Bool) -> String

    let role: Role
    let ownName: String
    let ownCreation: UInt32
    private let cookie: [UInt8]
    private let ownChallenge: UInt32
    private var stage = 0
    private(set) var peerName = ""
    private(set) var peerFlags: UInt64 = 0
    private(set) var peerCreation: UInt32 = 0

    init(role: Role, ownName: String, ownCreation: UInt32, cookie: String,
         challenge: UInt32 = UInt32.random(in: 0...UInt32.max)) {
        self.role = role
        self.ownName = ownName
        self.ownCreation = ownCreation
        self.cookie = Array(cookie.utf8)
        self.ownChallenge = challenge
    }

    static func digest(cookie: [UInt8], challenge: UInt32) -> [UInt8] {
        MD5.digest(cookie + Array(String(challenge).utf8))
    }

    /// The initiator's first message (send_name).
    func start() -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "N")]
        out.put64(DistFlag.ours)
        out.put32(ownCreation)
        out.put16(UInt16(ownName.utf8.count))
        out += Array(ownName.utf8)
        return out
    }

    /// The next step after the message `bytes` (one 2-byte frame's body).
    mutating func receive(_ bytes: [UInt8], admit: Admission) -> Step {
        var reader = ByteReader(bytes)
        switch (role, stage) {
        case (.initiator(let expected), 0):
            // send_status: 's' then the status text.
            guard reader.byte() == UInt8(ascii: "s") else { return .fail("expected a status message (s)") }
            let status = String(decoding: reader.rest(), as: UTF8.self)
            if status == "nok" { return .yield }
            if status == "alive" { return .alive }
            guard status == "ok" || status == "ok_simultaneous" else {
                return .fail("\(expected) refused the connection: \(status.prefix(40))")
            }
            stage = 1
            return .send([])
        case (.initiator(let expected), 1):
            // send_challenge: 'N', flags (8), challenge (4), creation (4), name.
            guard reader.byte() == UInt8(ascii: "N"), let flags = reader.u64(), let challenge = reader.u32(),
                  let creation = reader.u32(), let length = reader.u16(), let name = reader.take(Int(length))
            else { return .fail("malformed challenge") }
            peerName = String(decoding: name, as: UTF8.self)
            guard peerName == expected else { return .fail("connected to \(peerName), not \(expected)") }
            if let missing = Self.missingFlags(flags) { return .fail(missing) }
            peerFlags = flags
            peerCreation = creation
            stage = 2
            var reply: [UInt8] = [UInt8(ascii: "r")]
            reply.put32(ownChallenge)
            reply += Self.digest(cookie: cookie, challenge: challenge)
            return .send([reply])
        case (.initiator(let expected), 2):
            // send_challenge_ack: 'a', digest (16).
            guard reader.byte() == UInt8(ascii: "a"), let digest = reader.take(16), reader.isAtEnd else {
                return .fail("malformed challenge acknowledgement")
            }
            guard digest == Self.digest(cookie: cookie, challenge: ownChallenge) else {
                return .fail("\(expected) does not know this node's cookie (its digest did not match)")
            }
            stage = 3
            return .up(send: [])
        case (.acceptor, 0):
            // send_name: 'N', flags (8), creation (4), name.
            guard let tag = reader.byte() else { return .fail("empty name message") }
            if tag == UInt8(ascii: "n") {
                return .fail("a version-5 handshake: this node speaks version 6 only (OTP 23 or later)")
            }
            guard tag == UInt8(ascii: "N"), let flags = reader.u64(), let creation = reader.u32(),
                  let length = reader.u16(), let name = reader.take(Int(length)), reader.isAtEnd,
                  !name.isEmpty
            else { return .fail("malformed name message") }
            peerName = String(decoding: name, as: UTF8.self)
            guard Self.isNodeName(peerName) else { return .fail("\"\(peerName.prefix(64))\" is not a node name") }
            if let missing = Self.missingFlags(flags) { return .fail(missing) }
            peerFlags = flags
            peerCreation = creation
            let status = admit(peerName, false)
            let statusMessage = [UInt8(ascii: "s")] + Array(status.utf8)
            if status == "alive" {
                stage = 10
                return .send([statusMessage])
            }
            guard status == "ok" || status == "ok_simultaneous" else {
                return .refuse(status: statusMessage, why: "refused \(peerName): \(status)")
            }
            stage = 1
            return .send([statusMessage, challengeMessage()])
        case (.acceptor, 10):
            // After "alive": "true" (its old connection is gone: go on) or "false".
            guard reader.byte() == UInt8(ascii: "s") else { return .fail("expected true or false after alive") }
            let answer = String(decoding: reader.rest(), as: UTF8.self)
            guard answer == "true" else { return .fail("\(peerName) keeps its connection (it answered \(answer.prefix(8)))") }
            let status = admit(peerName, true)
            guard status == "ok" else { return .fail("refused \(peerName): \(status)") }
            stage = 1
            return .send([challengeMessage()])
        case (.acceptor, 1):
            // send_challenge_reply: 'r', challenge (4), digest (16).
            guard reader.byte() == UInt8(ascii: "r"), let challenge = reader.u32(), let digest = reader.take(16),
                  reader.isAtEnd
            else { return .fail("malformed challenge reply from \(peerName)") }
            guard digest == Self.digest(cookie: cookie, challenge: ownChallenge) else {
                return .fail("\(peerName) does not know this node's cookie (its digest did not match)")
            }
            stage = 2
            return .up(send: [[UInt8(ascii: "a")] + Self.digest(cookie: cookie, challenge: challenge)])
        default:
            return .fail("a handshake message after the handshake")
        }
    }

    /// The acceptor's send_challenge.
    private func challengeMessage() -> [UInt8] {
        var challenge: [UInt8] = [UInt8(ascii: "N")]
        challenge.put64(DistFlag.ours)
        challenge.put32(ownChallenge)
        challenge.put32(ownCreation)
        challenge.put16(UInt16(ownName.utf8.count))
        challenge += Array(ownName.utf8)
        return challenge
    }

    /// The initiator's answer to "alive": "true" goes on (the challenge
    /// comes next), "false" gives up.
    mutating func answerAlive(proceed: Bool) -> [UInt8] {
        if proceed { stage = 1 }
        return [UInt8(ascii: "s")] + Array((proceed ? "true" : "false").utf8)
    }

    /// The refusal when a peer lacks a capability this node relies on.
    static func missingFlags(_ flags: UInt64) -> String? {
        let missing = DistFlag.required & ~flags
        guard missing != 0 else { return nil }
        return "the peer lacks distribution capabilities 0x\(String(missing, radix: 16)) (OTP 23 or later is needed)"
    }

    /// `name@host`, both parts non-empty, no spaces or control bytes.
    static func isNodeName(_ name: String) -> Bool {
        let parts = name.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, name.utf8.count <= 255 else { return false }
        return name.utf8.allSatisfy { $0 > 32 && $0 != 127 }
    }
}

/// Big-endian reading of a received message; nil past its end.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset >= bytes.count }
    var left: Int { bytes.count - offset }

    mutating func byte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        offset += 1
        return bytes[offset - 1]
    }

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= left else { return nil }
        offset += count
        return Array(bytes[offset - count..<offset])
    }

    mutating func rest() -> [UInt8] { take(left) ?? [] }

    mutating func u16() -> UInt16? { take(2).map { UInt16($0[0]) << 8 | UInt16($0[1]) } }
    mutating func u32() -> UInt32? { take(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } } }
    mutating func u64() -> UInt64? { take(8).map { $0.reduce(0) { $0 << 8 | UInt64($1) } } }
}

extension Array where Element == UInt8 {
    mutating func put16(_ value: UInt16) { append(UInt8(value >> 8)); append(UInt8(value & 0xFF)) }
    mutating func put32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
    mutating func put64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
