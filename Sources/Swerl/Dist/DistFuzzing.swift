// What the distribution layer reads from the network, reachable without a
// network: the libFuzzer target (Tests/fuzz/dist) feeds bytes to each
// parser that sees a peer's bytes. Nothing here is API.

package enum DistFuzzing {
    /// One input: its first byte picks the reader, the rest is its bytes.
    package static func run(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let bytes = Array(input.dropFirst())
        switch selector % 6 {
        case 0:
            // An acceptor's handshake: each 2-byte-framed message in turn.
            var machine = Handshake(role: .acceptor, ownName: "fuzz@127.0.0.1", ownCreation: 1, cookie: "cookie",
                                    challenge: 42)
            feed(&machine, framed: bytes)
        case 1:
            var machine = Handshake(role: .initiator(peer: "peer@127.0.0.1"), ownName: "fuzz@127.0.0.1",
                                    ownCreation: 1, cookie: "cookie", challenge: 42)
            _ = machine.start()
            feed(&machine, framed: bytes)
        case 2:
            if case .success(let parsed) = Inbound.parse(bytes), let message = parsed.message {
                _ = Inbound.Applier.binaryBody(message)
                if let term = try? ExternalTermFormat.decode(message) { _ = ExitReasons.reason(term) }
            }
        case 3:
            _ = EPMD.aliveAnswer(bytes)
            _ = EPMD.portAnswer(bytes)
        case 4:
            if let term = try? ExternalTermFormat.decode(bytes) {
                _ = ExitReasons.text(term)
                _ = ExitReasons.reason(term)
                // What decodes must encode, and decode again to the same bytes.
                let encoded = ExternalTermFormat.encode(term)
                let again = try? ExternalTermFormat.decode(encoded)
                precondition(again.map(ExternalTermFormat.encode) == encoded, "a decoded term did not survive encoding")
            }
        default:
            _ = Handshake.isNodeName(String(decoding: bytes, as: UTF8.self))
        }
    }

    private static func feed(_ machine: inout Handshake, framed bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        while let length = reader.u16(), let message = reader.take(Int(length)) {
            switch machine.receive(message, admit: { _, _ in message.count % 3 == 0 ? "alive" : "ok" }) {
            case .send, .yield: continue
            case .alive: _ = machine.answerAlive(proceed: message.count % 2 == 0)
            case .up, .fail, .refuse: return
            }
        }
    }
}
