// The observer server's HTTP/1.1 request parser (RFC 9112): bytes in,
// requests out, no I/O, so it can be tested and fuzzed alone. Bytes may
// arrive split anywhere; bytes pipelined behind a request stay buffered for
// `next()`.
//
// Bounded for untrusted input: a head (request line, field lines, blank
// line) of at most `maxHead` bytes, a body of at most `maxBody`, and at most
// 2 * (maxHead + maxBody) bytes buffered: the request being read and as much
// pipelined behind it. Each byte is scanned once for the end of the head
// (the scan resumes where it stopped), and the head is then parsed in one
// pass.
//
// Where RFC 9112 leaves a choice:
// - a bare LF ends a line as CRLF does (§2.2 MAY); any other CR is 400;
// - empty lines before a request line are skipped (§2.2 SHOULD);
// - obs-fold (a field line starting with SP or HTAB) is 400 (§5.2);
// - no chunked bodies: Transfer-Encoding ending in chunked is 501 (a coding
//   not implemented, §6.1), any other is 400 (no length, §6.1), and any in
//   HTTP/1.0 is 400 (faulty framing, §6.1);
// - Content-Length repeated with one value ("5, 5") is that value (§6.3);
// - HTTP/1.1 needs exactly one Host, HTTP/1.0 at most one (§3.2);
// - the request-target is origin-form, absolute-form (its path and query
//   are used), "*", or authority-form for CONNECT, in visible ASCII, with no
//   '#' (§3.2); decoded, it must be UTF-8, and the path without controls;
// - versions other than 1.0 and 1.1 are 505, HTTP/1.2 included.
// A failure is final: the server answers it and closes the connection.

/// One request, its head parsed and its body read.
package struct HTTPRequest: Sendable {
    /// A token, case-sensitive (the server decides what it allows).
    package var method: String
    /// The request-target as sent.
    package var target: String
    /// The target's path, percent-decoded, without the query ("*" for
    /// asterisk-form, "" for authority-form).
    package var path: String
    /// The query's pairs in order, percent-decoded, '+' as a space; a pair
    /// without '=' has the value "".
    package var query: [(String, String)]
    /// The field lines in order: names lowercased, values without the
    /// whitespace around them (bytes that are not UTF-8 read as U+FFFD).
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// Whether the connection may carry another request after this one.
    package var keepAlive: Bool

    /// The field's value; several lines of one name joined with ", ", as
    /// RFC 9110 §5.3 combines them. The name is matched without case.
    package func header(_ name: String) -> String? {
        let name = name.lowercased()
        var combined: String?
        for field in headers where field.name == name {
            if combined == nil {
                combined = field.value
            } else {
                combined?.append(", ")
                combined?.append(field.value)
            }
        }
        return combined
    }

    /// The path's segments after its leading "/", each percent-decoded on
    /// its own, so an encoded "/" stays inside its segment (a child id
    /// "a/b" in `/supervisor/X/child/a%2Fb`); nil unless the target is a
    /// path whose segments are UTF-8.
    package var segments: [String]? {
        let raw = Array(target.utf8.prefix { $0 != UInt8(ascii: "?") })
        guard raw.first == UInt8(ascii: "/") else { return nil }
        var parts: [String] = []
        for part in raw.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let bytes = try? HTTPRequestParser.percentDecoded(part, plusIsSpace: false),
                  let text = String(validating: bytes, as: UTF8.self) else { return nil }
            parts.append(text)
        }
        return parts
    }

    /// The first value the query gives `name`.
    package func queryValue(_ name: String) -> String? {
        query.first { $0.0 == name }?.1
    }
}

package enum HTTPParseResult: Sendable {
    /// No whole request yet.
    case needMore
    case request(HTTPRequest)
    /// The response to send before closing the connection.
    case failure(status: Int, reason: String)
}

package struct HTTPRequestParser: Sendable {
    private let maxHead: Int
    private let maxBody: Int
    /// The most the buffer holds: a request of the largest size and as much
    /// pipelined behind it.
    private let capacity: Int
    private var buffer: [UInt8] = []
    /// Where the request being read starts; the bytes before it are done.
    private var start = 0
    // The scan for the blank line ending the head, as offsets from `start`,
    // kept across feeds so that no byte is scanned twice.
    private var scanned = 0
    private var lineStart = 0
    private var sawRequestLine = false
    /// The head, parsed, while its body arrives.
    private var pending: (request: HTTPRequest, headLength: Int, bodyLength: Int)?
    private var failed: Failure?
    /// Bytes past `capacity` were thrown away: the buffer's end is not where
    /// the client's bytes end, so no request may run past it.
    private var dropped = false

    package init(maxHead: Int = 8192, maxBody: Int = 1024) {
        // Clamped so that the sums below cannot overflow.
        self.maxHead = min(max(0, maxHead), Int.max / 8)
        self.maxBody = min(max(0, maxBody), Int.max / 8)
        capacity = 2 * (self.maxHead + self.maxBody)
    }

    /// Adds bytes from the connection, then parses as `next()` does.
    package mutating func feed(_ bytes: UnsafeRawBufferPointer) -> HTTPParseResult {
        if failed == nil, !dropped, !bytes.isEmpty {
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            let kept = min(bytes.count, capacity - buffer.count)
            dropped = kept < bytes.count
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<kept]))
        }
        return next()
    }

    /// The next request from the bytes buffered: after a `.request`, the one
    /// pipelined behind it. After a failure, that failure again.
    package mutating func next() -> HTTPParseResult {
        if let failed { return .failure(status: failed.status, reason: failed.reason) }
        do throws(Failure) {
            if let request = try parse() { return .request(request) }
            if dropped { throw Failure(400, "more bytes pipelined than the server buffers") }
            return .needMore
        } catch {
            failed = error
            buffer = []
            start = 0
            pending = nil
            return .failure(status: error.status, reason: error.reason)
        }
    }

    private mutating func parse() throws(Failure) -> HTTPRequest? {
        if pending == nil {
            guard let headLength = try scanHead() else { return nil }
            let (request, bodyLength) = try Self.parseHead(buffer[start..<start + headLength], maxBody: maxBody)
            pending = (request, headLength, bodyLength)
        }
        guard let (parsed, headLength, bodyLength) = pending, buffer.count - start >= headLength + bodyLength else {
            return nil
        }
        var request = parsed
        request.body = Array(buffer[start + headLength..<start + headLength + bodyLength])
        start += headLength + bodyLength
        pending = nil
        scanned = 0
        lineStart = 0
        sawRequestLine = false
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return request
    }

    /// The head's length once its blank line is buffered, the scan resuming
    /// where the last one stopped.
    private mutating func scanHead() throws(Failure) -> Int? {
        if scanned == 0 {
            // Not part of the head: empty lines before the request line.
            while start < buffer.count {
                if buffer[start] == lf {
                    start += 1
                } else if buffer[start] == cr, start + 1 < buffer.count, buffer[start + 1] == lf {
                    start += 2
                } else if buffer[start] == cr, start + 1 == buffer.count {
                    return nil
                } else {
                    break
                }
            }
        }
        var i = start + scanned
        while i < buffer.count {
            let length = i - start + 1
            if length > maxHead {
                throw sawRequestLine ? Failure(431, "request head larger than \(maxHead) bytes")
                    : Failure(414, "request line longer than \(maxHead) bytes")
            }
            if buffer[i] == lf {
                let line = i - (start + lineStart)
                if sawRequestLine, line == 0 || (line == 1 && buffer[i - 1] == cr) { return length }
                sawRequestLine = true
                lineStart = length
            }
            i += 1
        }
        scanned = i - start
        return nil
    }

    // MARK: The head

    private enum Version { case http10, http11 }

    /// A head (its blank line included): the request without its body, and
    /// the body's length.
    private static func parseHead(_ head: ArraySlice<UInt8>, maxBody: Int) throws(Failure) -> (HTTPRequest, Int) {
        var lines: [Range<Int>] = []
        var from = head.startIndex
        for i in head.indices where head[i] == lf {
            lines.append(from..<(i > from && head[i - 1] == cr ? i - 1 : i))
            from = i + 1
        }
        // The scan ends a head at its first empty line, after a request line.
        guard lines.count >= 2 else { throw Failure(400, "no request line") }

        let (method, target, version) = try requestLine(head[lines[0]])
        var headers: [(name: String, value: String)] = []
        for range in lines[1..<lines.count - 1] { headers.append(try fieldLine(head[range])) }

        var hosts = 0
        var contentLength: Int?
        var codings: [ArraySlice<UInt8>] = [], hasTransferEncoding = false
        var close = false, keepAliveToken = false
        for field in headers {
            switch field.name {
            case "host":
                hosts += 1
            case "content-length":
                for element in field.value.utf8.split(separator: comma, omittingEmptySubsequences: false) {
                    let digits = trimmed(element[...])
                    guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                        throw Failure(400, "invalid Content-Length")
                    }
                    // Saturated: any value past maxBody is refused below.
                    let value = digits.reduce(0) { $0 > Int.max / 20 ? Int.max / 2 : $0 * 10 + Int($1 - 0x30) }
                    if let contentLength, contentLength != value { throw Failure(400, "conflicting Content-Length") }
                    contentLength = value
                }
            case "transfer-encoding":
                hasTransferEncoding = true
                codings.append(contentsOf: listElements(field.value))
            case "connection":
                for token in listElements(field.value) {
                    if asciiLowercased(token).elementsEqual("close".utf8) { close = true }
                    if asciiLowercased(token).elementsEqual("keep-alive".utf8) { keepAliveToken = true }
                }
            default:
                break
            }
        }
        if version == .http11 ? hosts != 1 : hosts > 1 {
            throw Failure(400, hosts == 0 ? "no Host header" : "more than one Host header")
        }
        if hasTransferEncoding {
            if version == .http11, let last = codings.last, asciiLowercased(last).elementsEqual("chunked".utf8) {
                throw Failure(501, "chunked request bodies are not supported")
            }
            throw Failure(400, "a Transfer-Encoding that gives no body length")
        }
        let bodyLength = contentLength ?? 0
        if bodyLength > maxBody { throw Failure(413, "body larger than \(maxBody) bytes") }

        let (path, query) = try splitTarget(target, method: method)
        let request = HTTPRequest(
            method: String(decoding: method, as: UTF8.self), target: String(decoding: target, as: UTF8.self),
            path: path, query: query, headers: headers, body: [],
            keepAlive: version == .http11 ? !close : keepAliveToken && !close)
        return (request, bodyLength)
    }

    /// method SP request-target SP HTTP-version, nothing else (§3).
    private static func requestLine(_ line: ArraySlice<UInt8>) throws(Failure)
        -> (method: ArraySlice<UInt8>, target: ArraySlice<UInt8>, version: Version)
    {
        guard let sp1 = line.firstIndex(of: sp), let sp2 = line[(sp1 + 1)...].firstIndex(of: sp) else {
            throw Failure(400, "malformed request line")
        }
        let method = line[..<sp1], target = line[(sp1 + 1)..<sp2], version = line[(sp2 + 1)...]
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else { throw Failure(400, "malformed method") }
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != hash }) else {
            throw Failure(400, "malformed request-target")
        }
        let v = Array(version)
        guard v.count == 8, v[0..<5].elementsEqual("HTTP/".utf8), isDigit(v[5]), v[6] == dot, isDigit(v[7]) else {
            throw Failure(400, "malformed HTTP version")
        }
        switch (v[5], v[7]) {
        case (0x31, 0x30): return (method, target, .http10)
        case (0x31, 0x31): return (method, target, .http11)
        default: throw Failure(505, "HTTP version not supported")
        }
    }

    /// field-name ":" OWS field-value OWS (§5).
    private static func fieldLine(_ line: ArraySlice<UInt8>) throws(Failure) -> (name: String, value: String) {
        if let first = line.first, first == sp || first == htab {
            throw Failure(400, "obsolete line folding")
        }
        guard let colon = line.firstIndex(of: 0x3a) else { throw Failure(400, "header line without ':'") }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw Failure(400, "malformed header name") }
        let value = trimmed(line[(colon + 1)...])
        // HTAB, SP, VCHAR, obs-text: no control characters (CR, NUL, DEL).
        guard value.allSatisfy({ $0 == htab || ($0 >= 0x20 && $0 != 0x7f) }) else {
            throw Failure(400, "control character in a header value")
        }
        return (String(decoding: asciiLowercased(name), as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    // MARK: The target

    private static func splitTarget(_ target: ArraySlice<UInt8>, method: ArraySlice<UInt8>) throws(Failure)
        -> (path: String, query: [(String, String)])
    {
        var rest = target
        if target.elementsEqual("*".utf8) { return ("*", []) }
        if target.first != slash {
            // absolute-form: the path and query after scheme://authority.
            let lower = asciiLowercased(target)
            let scheme = lower.starts(with: "http://".utf8) ? 7 : lower.starts(with: "https://".utf8) ? 8 : 0
            if scheme == 0 {
                if method.elementsEqual("CONNECT".utf8) { return ("", []) }
                throw Failure(400, "request-target is not origin-form or absolute-form")
            }
            let authority = target.index(target.startIndex, offsetBy: scheme)
            let pathStart = target[authority...].firstIndex { $0 == slash || $0 == question } ?? target.endIndex
            if pathStart == authority { throw Failure(400, "absolute-form without a host") }
            rest = target[pathStart...]
        }
        let queryStart = rest.firstIndex(of: question) ?? rest.endIndex
        let pathBytes = try percentDecoded(rest[..<queryStart], plusIsSpace: false)
        if pathBytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) { throw Failure(400, "control character in the path") }
        var query: [(String, String)] = []
        if queryStart < rest.endIndex {
            for pair in rest[(queryStart + 1)...].split(separator: ampersand) {
                let equals = pair.firstIndex(of: equalsSign) ?? pair.endIndex
                let value = equals < pair.endIndex ? pair[(equals + 1)...] : pair[pair.endIndex...]
                query.append((try utf8(percentDecoded(pair[..<equals], plusIsSpace: true)),
                              try utf8(percentDecoded(value, plusIsSpace: true))))
            }
        }
        return (pathBytes.isEmpty ? "/" : try utf8(pathBytes), query)
    }

    fileprivate static func percentDecoded(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == percent {
                guard i + 2 < bytes.endIndex, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) else {
                    throw Failure(400, "invalid percent-encoding")
                }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(plusIsSpace && bytes[i] == plus ? sp : bytes[i])
                i += 1
            }
        }
        return out
    }

    private static func utf8(_ bytes: [UInt8]) throws(Failure) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(400, "percent-encoding that is not UTF-8")
        }
        return text
    }
}

/// Why a request is refused: the response's status and a short reason.
private struct Failure: Error {
    let status: Int
    let reason: String
    init(_ status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }
}

// MARK: Bytes

private let cr: UInt8 = 0x0d, lf: UInt8 = 0x0a, sp: UInt8 = 0x20, htab: UInt8 = 0x09
private let comma: UInt8 = 0x2c, dot: UInt8 = 0x2e, slash: UInt8 = 0x2f, hash: UInt8 = 0x23
private let question: UInt8 = 0x3f, ampersand: UInt8 = 0x26, equalsSign: UInt8 = 0x3d
private let percent: UInt8 = 0x25, plus: UInt8 = 0x2b

/// tchar (RFC 9110 §5.6.2): the bytes of a method or a field name.
private func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case 0x30...0x39, 0x41...0x5a, 0x61...0x7a: return true
    default: return "!#$%&'*+-.^_`|~".utf8.contains(b)
    }
}

private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

private func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x41...0x46: return b - 0x41 + 10
    case 0x61...0x66: return b - 0x61 + 10
    default: return nil
    }
}

private func asciiLowercased<C: Collection<UInt8>>(_ bytes: C) -> [UInt8] {
    bytes.map { $0 >= 0x41 && $0 <= 0x5a ? $0 | 0x20 : $0 }
}

/// Without the optional whitespace (SP, HTAB) around it.
private func trimmed<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> C.SubSequence {
    var s = bytes[...]
    while let b = s.first, b == sp || b == htab { s = s.dropFirst() }
    while let b = s.last, b == sp || b == htab { s = s.dropLast() }
    return s
}

/// A comma-separated list's non-empty elements, trimmed (RFC 9110 §5.6.1).
private func listElements(_ value: String) -> [ArraySlice<UInt8>] {
    Array(value.utf8).split(separator: comma).map { Array(trimmed($0))[...] }.filter { !$0.isEmpty }
}
