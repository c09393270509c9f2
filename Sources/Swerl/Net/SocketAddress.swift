// Socket addresses as the header spells them: "127.0.0.1:8080",
// "[::1]:8080", "localhost:8080" and "unix:/path", to and from sockaddr.

import CLibUV
import Glibc

struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0
    /// A Unix socket's path.
    var path: String? = nil

    static let unixPrefix = "unix:"

    /// Parses `text`; a host name is resolved here (getaddrinfo, on the
    /// caller's thread). nil with the reason when it is not an address.
    static func parse(_ text: String) -> (SocketAddress?, String) {
        if text.hasPrefix(unixPrefix) { return unix(path: String(text.dropFirst(unixPrefix.count))) }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return (nil, "an IPv6 address is written \"[::1]:PORT\"")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return (nil, "no port: write \"HOST:PORT\", \"[IPV6]:PORT\" or \"unix:/PATH\"")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText) else { return (nil, "the port \"\(portText)\" is not a number from 0 to 65535") }
        guard !host.isEmpty else { return (nil, "no host before the port") }
        return resolve(String(host), port: port)
    }

    private static func unix(path: String) -> (SocketAddress?, String) {
        var address = SocketAddress()
        address.path = path
        let bytes = Array(path.utf8)
        let room = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        guard !bytes.isEmpty, !bytes.contains(0) else { return (nil, "a Unix socket needs a path: \"unix:/PATH\"") }
        guard bytes.count < room else { return (nil, "the path is \(bytes.count) bytes: a Unix socket's is at most \(room - 1)") }
        withUnsafeMutableBytes(of: &address.storage) { raw in
            raw.storeBytes(of: sa_family_t(AF_UNIX), toByteOffset: 0, as: sa_family_t.self)
            let pathOffset = MemoryLayout<sa_family_t>.size
            for (i, byte) in bytes.enumerated() { raw[pathOffset + i] = byte }
            raw[pathOffset + bytes.count] = 0
        }
        address.length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return (address, "")
    }

    private static func resolve(_ host: String, port: UInt16) -> (SocketAddress?, String) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            return (nil, "cannot resolve \"\(host)\": \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        var address = SocketAddress()
        withUnsafeMutableBytes(of: &address.storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        address.length = first.pointee.ai_addrlen
        return (address, "")
    }

    var domain: Int32 { Int32(storage.ss_family) }

    /// Whether it is a loopback address (127.0.0.0/8, ::1, or an IPv4
    /// loopback mapped into IPv6): reachable from this host only.
    var isLoopback: Bool {
        var copy = storage
        return withUnsafeBytes(of: &copy) { raw -> Bool in
            switch Int32(storage.ss_family) {
            case AF_INET:
                return raw.load(fromByteOffset: MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!, as: UInt8.self) == 127
            case AF_INET6:
                let at = MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!
                let bytes = Array(raw[at..<at + 16])
                let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
                return bytes == [UInt8](repeating: 0, count: 15) + [1] || (mapped && bytes[12] == 127)
            default:
                return false
            }
        }
    }

    /// The text of a sockaddr (getsockname, getpeername), "" if unknown.
    static func format(_ storage: sockaddr_storage, length: socklen_t) -> String {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer -> String in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                        var ip = v4.pointee.sin_addr
                        inet_ntop(AF_INET, &ip, &text, socklen_t(text.count))
                        return "\(Self.text(text)):\(UInt16(bigEndian: v4.pointee.sin_port))"
                    }
                case AF_INET6:
                    return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                        var ip = v6.pointee.sin6_addr
                        inet_ntop(AF_INET6, &ip, &text, socklen_t(text.count))
                        return "[\(Self.text(text))]:\(UInt16(bigEndian: v6.pointee.sin6_port))"
                    }
                case AF_UNIX:
                    let pathOffset = MemoryLayout<sa_family_t>.size
                    guard Int(length) > pathOffset else { return unixPrefix }
                    return UnsafeRawPointer(address).withMemoryRebound(to: UInt8.self, capacity: Int(length)) { bytes in
                        var path: [UInt8] = []
                        for i in pathOffset..<Int(length) {
                            if bytes[i] == 0 { break }
                            path.append(bytes[i])
                        }
                        return unixPrefix + String(decoding: path, as: UTF8.self)
                    }
                default:
                    return ""
                }
            }
        }
    }

    private static func text(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The text of a descriptor's own address (or its peer's), "" if none.
    static func name(of fd: Int32, peer: Bool) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
            }
        }
        return status == 0 ? format(storage, length: length) : ""
    }
}
