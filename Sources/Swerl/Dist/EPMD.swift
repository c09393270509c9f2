// The EPMD protocol (erts "Distribution Protocol" guide, EPMD section), the
// client side: a node registers its name and port and keeps that
// connection open for as long as it is registered; a node asks for
// another's port on a connection of its own, which EPMD closes after the
// answer. Requests are 2-byte framed; answers are not framed.

import CSwerlSupport
import Glibc

enum EPMD {
    /// The default port, overridden by ERL_EPMD_PORT as erl does.
    static let defaultPort: UInt16 = 4369

    static var port: UInt16 {
        if let text = getenvString("ERL_EPMD_PORT"), let value = UInt16(text), value > 0 { return value }
        return defaultPort
    }

    /// ALIVE2_REQ: this node's listen port and name (NodeType 77: a normal
    /// node, as erl registers hidden ones too; protocol 0: TCP/IPv4;
    /// versions 6..6).
    static func aliveRequest(port: UInt16, name: String) -> [UInt8] {
        var body: [UInt8] = [120]
        body.put16(port)
        body += [77, 0]
        body.put16(6)
        body.put16(6)
        body.put16(UInt16(name.utf8.count))
        body += Array(name.utf8)
        body.put16(0)
        return framed(body)
    }

    enum AliveAnswer: Equatable {
        case registered(creation: UInt32)
        case refused(UInt8)
        /// Not all of it has come yet.
        case incomplete
        case malformed
    }

    /// ALIVE2_X_RESP (118, 32-bit creation) or ALIVE2_RESP (121, 16-bit).
    static func aliveAnswer(_ bytes: [UInt8]) -> AliveAnswer {
        guard bytes.count >= 2 else { return .incomplete }
        switch bytes[0] {
        case 118:
            if bytes[1] != 0 { return .refused(bytes[1]) }
            guard bytes.count >= 6 else { return .incomplete }
            var reader = ByteReader(bytes, offset: 2)
            return .registered(creation: reader.u32()!)
        case 121:
            if bytes[1] != 0 { return .refused(bytes[1]) }
            guard bytes.count >= 4 else { return .incomplete }
            var reader = ByteReader(bytes, offset: 2)
            return .registered(creation: UInt32(reader.u16()!))
        default:
            return .malformed
        }
    }

    /// PORT_PLEASE2_REQ for the name part of a node name (`name` of `name@host`).
    static func portRequest(alive: String) -> [UInt8] {
        framed([122] + Array(alive.utf8))
    }

    enum PortAnswer: Equatable {
        case port(UInt16, highestVersion: UInt16)
        case unknown
        case incomplete
        case malformed
    }

    /// PORT2_RESP: 119, result, then (result 0) port, type, protocol,
    /// versions, name, extra.
    static func portAnswer(_ bytes: [UInt8]) -> PortAnswer {
        guard bytes.count >= 2 else { return .incomplete }
        guard bytes[0] == 119 else { return .malformed }
        if bytes[1] != 0 { return .unknown }
        var reader = ByteReader(bytes, offset: 2)
        guard let port = reader.u16(), reader.byte() != nil, reader.byte() != nil, let highest = reader.u16(),
              reader.u16() != nil else { return .incomplete }
        return .port(port, highestVersion: highest)
    }

    private static func framed(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.put16(UInt16(body.count))
        return out + body
    }
}

func getenvString(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}

/// A SWERL_E* code's words (swerl_strerror), for the reports.
func codeText(_ code: Int32) -> String {
    String(cString: swerlrt_strerror(code))
}
