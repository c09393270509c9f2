// The observer server's request parser (HTTPRequestParser, RFC 9112): bytes
// split anywhere give the same requests, pipelined requests come out one by
// one, and every refusal has its status, at the limits exactly.

import Swerl
import Testing

/// What a parser made of some bytes: its requests, then how it ended (nil:
/// waiting for more).
private struct Parsed {
    var requests: [HTTPRequest] = []
    var status: Int?
    var reason = ""

    /// The requests as text, to compare two ways of feeding.
    var summary: [String] {
        requests.map { r in
            "\(r.method) \(r.target) \(r.path) \(r.query) \(r.headers) \(r.body) \(r.keepAlive)"
        } + ["end \(status.map(String.init) ?? "needMore")"]
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Feeds `input` in pieces ending at `cuts` (one piece when empty), taking
/// every request each piece completes, until a failure.
private func parse(_ input: [UInt8], maxHead: Int = 8192, maxBody: Int = 1024, cuts: [Int] = []) -> Parsed {
    var parser = HTTPRequestParser(maxHead: maxHead, maxBody: maxBody)
    var parsed = Parsed()
    var from = 0
    for to in cuts + [input.count] {
        var result = input[from..<to].withUnsafeBytes { parser.feed($0) }
        from = to
        while case .request(let request) = result {
            parsed.requests.append(request)
            result = parser.next()
        }
        if case .failure(let status, let reason) = result {
            parsed.status = status
            parsed.reason = reason
            return parsed
        }
    }
    return parsed
}

private func parse(_ text: String, maxHead: Int = 8192, maxBody: Int = 1024) -> Parsed {
    parse(bytes(text), maxHead: maxHead, maxBody: maxBody)
}

/// One byte per feed.
private func parseBytewise(_ input: [UInt8], maxHead: Int = 8192, maxBody: Int = 1024) -> Parsed {
    parse(input, maxHead: maxHead, maxBody: maxBody, cuts: Array(input.indices.dropFirst()))
}

@Suite("HTTP request parser")
struct HTTPRequestTests {
    @Test("A simple GET")
    func simpleGet() throws {
        let parsed = parse("GET /index.html HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent:  curl/8 \t\r\nX-Empty:\r\n\r\n")
        #expect(parsed.status == nil)
        let request = try #require(parsed.requests.first)
        #expect(parsed.requests.count == 1)
        #expect(request.method == "GET")
        #expect(request.target == "/index.html")
        #expect(request.path == "/index.html")
        #expect(request.query.isEmpty)
        #expect(request.headers.map(\.name) == ["host", "user-agent", "x-empty"])
        #expect(request.headers.map(\.value) == ["localhost:8080", "curl/8", ""])
        #expect(request.header("HOST") == "localhost:8080")
        #expect(request.header("x-missing") == nil)
        #expect(request.body.isEmpty)
        #expect(request.keepAlive)
    }

    @Test("Split at every byte boundary, or fed one byte at a time: the same requests")
    func splitAnywhere() {
        let input = bytes("\r\nPOST /a?x=%41+b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /b HTTP/1.0\nConnection: keep-alive\n\nPUT /c HTTP/1.1\r\nHost: h\r\n")
        let whole = parse(input)
        #expect(whole.requests.count == 2)
        #expect(whole.requests.first?.body == bytes("hello"))
        #expect(whole.status == nil)
        for cut in 0...input.count {
            #expect(parse(input, cuts: [cut]).summary == whole.summary, "cut at \(cut)")
        }
        #expect(parseBytewise(input).summary == whole.summary)
        // Every pair of cuts, on a shorter request.
        let short = bytes("GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
        for first in 0...short.count {
            for second in first...short.count {
                #expect(parse(short, cuts: [first, second]).summary == parse(short).summary)
            }
        }
    }

    @Test("Path and query are percent-decoded, '+' is a space in the query only")
    func queryDecoding() throws {
        let parsed = parse("GET /a%20b/c+d%2Fe?q=a+b%2Bc&empty=&flag&&x=%C3%A9&q=second HTTP/1.1\r\nHost: h\r\n\r\n")
        let request = try #require(parsed.requests.first)
        #expect(request.target == "/a%20b/c+d%2Fe?q=a+b%2Bc&empty=&flag&&x=%C3%A9&q=second")
        #expect(request.path == "/a b/c+d/e")
        #expect(request.query.map(\.0) == ["q", "empty", "flag", "x", "q"])
        #expect(request.query.map(\.1) == ["a b+c", "", "", "é", "second"])
        #expect(request.queryValue("q") == "a b+c")
        #expect(request.queryValue("flag") == "")
        #expect(request.queryValue("none") == nil)
    }

    @Test("absolute-form, asterisk-form, and authority-form for CONNECT")
    func targetForms() throws {
        let absolute = try #require(parse("GET HTTP://Example.com:80/a%20b?x=1 HTTP/1.1\r\nHost: e\r\n\r\n").requests.first)
        #expect(absolute.path == "/a b")
        #expect(absolute.queryValue("x") == "1")
        let bare = try #require(parse("GET https://example.com?y=2 HTTP/1.1\r\nHost: e\r\n\r\n").requests.first)
        #expect(bare.path == "/")
        #expect(bare.queryValue("y") == "2")
        #expect(parse("OPTIONS * HTTP/1.1\r\nHost: e\r\n\r\n").requests.first?.path == "*")
        let connect = try #require(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: e\r\n\r\n").requests.first)
        #expect(connect.method == "CONNECT")
        #expect(connect.path == "")
    }

    @Test("Pipelined requests come out one by one; the rest waits for more bytes")
    func pipelined() throws {
        var parser = HTTPRequestParser()
        let first = bytes("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /3 HTTP/1.1\r\nHost: h\r\n\r\nGET /4 HTTP/1.1\r\nHo")
        var paths: [String] = []
        var result = first.withUnsafeBytes { parser.feed($0) }
        while case .request(let request) = result {
            paths.append(request.path)
            if request.path == "/2" { #expect(request.body == bytes("abc")) }
            result = parser.next()
        }
        #expect(paths == ["/1", "/2", "/3"])
        guard case .needMore = result else { Issue.record("expected needMore, got \(result)"); return }
        guard case .needMore = parser.next() else { Issue.record("next() without new bytes"); return }
        guard case .request(let fourth) = bytes("st: h\r\n\r\n").withUnsafeBytes({ parser.feed($0) }) else {
            Issue.record("the fourth request")
            return
        }
        #expect(fourth.path == "/4")
        guard case .needMore = parser.next() else { Issue.record("nothing left"); return }
    }

    @Test("Empty lines before a request line are skipped; a bare LF ends a line")
    func lineEndings() {
        let parsed = parse("\r\n\nGET /a HTTP/1.1\nHost: h\n\nGET /b HTTP/1.1\r\nHost: h\n\r\n")
        #expect(parsed.requests.map(\.path) == ["/a", "/b"])
        #expect(parsed.status == nil)
        // A lone CR at the end may still be the start of an empty line.
        #expect(parseBytewise(bytes("\r")).status == nil)
        #expect(parse("\r\rGET / HTTP/1.0\r\n\r\n").status == 400)
    }

    @Test("keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive",
          arguments: [
              ("1.1", nil, true), ("1.1", "close", false), ("1.1", "Close", false),
              ("1.1", "keep-alive, Upgrade", true), ("1.1", "upgrade,  close ", false),
              ("1.0", nil, false), ("1.0", "keep-alive", true), ("1.0", "Keep-Alive", true),
              ("1.0", "keep-alive, close", false), ("1.0", "upgrade", false),
          ] as [(String, String?, Bool)])
    func keepAlive(version: String, connection: String?, expected: Bool) throws {
        let text = "GET / HTTP/\(version)\r\nHost: h\r\n" + (connection.map { "Connection: \($0)\r\n" } ?? "") + "\r\n"
        let request = try #require(parse(text).requests.first)
        #expect(request.keepAlive == expected)
    }

    @Test("Several lines of one field are joined; Content-Length repeated with one value is that value")
    func repeatedFields() throws {
        let parsed = parse("POST / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nACCEPT: b\r\nContent-Length: 2, 2\r\n"
            + "Content-Length: 02\r\n\r\nhi")
        let request = try #require(parsed.requests.first)
        #expect(request.header("accept") == "a, b")
        #expect(request.body == bytes("hi"))
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        let request: [UInt8]
        let status: Int
        let why: String
        init(_ request: String, _ status: Int, _ why: String) {
            self.request = bytes(request)
            self.status = status
            self.why = why
        }
        init(bytes: [UInt8], _ status: Int, _ why: String) {
            request = bytes
            self.status = status
            self.why = why
        }
        var testDescription: String { "\(status): \(why)" }
    }

    static let refused: [Refused] = [
        // The request line.
        Refused("GET/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "no SP"),
        Refused("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "two SP"),
        Refused(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "no method"),
        Refused("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, "SP after the version"),
        Refused("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "method not a token"),
        Refused("GET / http/1.1\r\nHost: h\r\n\r\n", 400, "version in lowercase"),
        Refused("GET / HTTP/1\r\nHost: h\r\n\r\n", 400, "version without a minor"),
        Refused("GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400, "two-digit version"),
        Refused("GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "fragment"),
        Refused("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400, "not origin-form"),
        Refused("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "absolute-form without a host"),
        Refused("GET /\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n", 400, "non-ASCII target"),
        Refused("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare CR in the request line"),
        Refused(bytes: bytes("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"), 400, "NUL in the request line"),
        // Percent-encoding.
        Refused("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400, "not hex"),
        Refused("GET /%4 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "one digit"),
        Refused("GET /?a=% HTTP/1.1\r\nHost: h\r\n\r\n", 400, "'%' at the end"),
        Refused("GET /%C3 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "not UTF-8 once decoded"),
        Refused("GET /?%FF=1 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "not UTF-8 in the query"),
        Refused("GET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "NUL in the decoded path"),
        Refused("GET /a%0A HTTP/1.1\r\nHost: h\r\n\r\n", 400, "LF in the decoded path"),
        // Field lines.
        Refused("GET / HTTP/1.1\r\nHost h\r\n\r\n", 400, "no colon"),
        Refused("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "SP before the colon"),
        Refused("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400, "empty name"),
        Refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", 400, "obs-fold"),
        Refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n", 400, "obs-fold with HTAB"),
        Refused(bytes: bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n"), 400, "NUL in a value"),
        Refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{7f}b\r\n\r\n", 400, "DEL in a value"),
        Refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400, "bare CR in a value"),
        Refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{1b}b\r\n\r\n", 400, "ESC in a value"),
        Refused("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n", 400, "CR CR LF is no blank line"),
        // Host.
        Refused("GET / HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host"),
        Refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "two Host lines"),
        Refused("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400, "two Host lines in HTTP/1.0"),
        // Framing.
        Refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "chunked"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n", 501,
                "chunked last of two lines"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
                "chunked with a Content-Length"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "not ending in chunked"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, "chunked not last"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 400, "empty Transfer-Encoding"),
        Refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Transfer-Encoding in HTTP/1.0"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400, "two values in one line"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, "two lines"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400, "negative"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400, "a sign"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n", 400, "hex"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\n", 400, "SP inside"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400, "empty"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n", 400, "empty list element"),
        Refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413,
                "beyond Int"),
        // Versions.
        Refused("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "HTTP/2.0"),
        Refused("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505, "HTTP/1.2"),
        Refused("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505, "HTTP/0.9"),
    ]

    @Test("Each refusal has its status, fed whole or one byte at a time", arguments: refused)
    func refusals(_ refused: Refused) {
        let whole = parse(refused.request)
        #expect(whole.status == refused.status, "\(whole.reason)")
        #expect(whole.requests.isEmpty)
        #expect(!whole.reason.isEmpty)
        #expect(parseBytewise(refused.request).status == refused.status)
    }

    @Test("A failure is final: next() and feed() give it again")
    func failureIsFinal() {
        var parser = HTTPRequestParser()
        let bad = bytes("GET / HTTP/3.0\r\n\r\n"), good = bytes("GET / HTTP/1.0\r\n\r\n")
        guard case .failure(505, _) = bad.withUnsafeBytes({ parser.feed($0) }) else {
            Issue.record("expected 505")
            return
        }
        guard case .failure(505, _) = parser.next() else { Issue.record("next() after the failure"); return }
        guard case .failure(505, _) = good.withUnsafeBytes({ parser.feed($0) }) else {
            Issue.record("feed() after the failure")
            return
        }
    }

    /// A request whose head (blank line included) is `length` bytes: the
    /// rest of it in an X-Pad field.
    private static func head(length: Int, body: Int = 0) -> [UInt8] {
        let fixed = "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: \(body)\r\nX-Pad: \r\n\r\n"
        let pad = length - fixed.utf8.count
        precondition(pad >= 0)
        return bytes("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: \(body)\r\nX-Pad: " + String(repeating: "p", count: pad)
            + "\r\n\r\n") + Array(repeating: UInt8(ascii: "b"), count: body)
    }

    @Test("The head: maxHead bytes is a request, one more is 431", arguments: [8192, 64])
    func headLimit(maxHead: Int) {
        let atLimit = Self.head(length: maxHead)
        #expect(parse(atLimit, maxHead: maxHead).requests.count == 1)
        #expect(parseBytewise(atLimit, maxHead: maxHead).requests.count == 1)
        let past = Self.head(length: maxHead + 1)
        #expect(parse(past, maxHead: maxHead).status == 431)
        #expect(parseBytewise(past, maxHead: maxHead).status == 431)
        // Refused as soon as the head is too long, its end not yet sent.
        let unfinished = Array(Self.head(length: maxHead + 5).dropLast(4))
        #expect(unfinished.count == maxHead + 1)
        #expect(parse(unfinished, maxHead: maxHead).status == 431)
        #expect(parse(Array(unfinished.dropLast()), maxHead: maxHead).status == nil)
    }

    @Test("The request line: longer than maxHead is 414; as long, with no room left, 431", arguments: [8192, 64])
    func requestLineLimit(maxHead: Int) {
        // HTTP/1.0: no Host needed, so the request line and the blank line are the whole head.
        func line(_ length: Int) -> [UInt8] {
            bytes("GET /" + String(repeating: "a", count: length - 16) + " HTTP/1.0\r\n")
        }
        #expect(line(maxHead - 2).count == maxHead - 2)
        #expect(parse(line(maxHead - 2) + bytes("\r\n"), maxHead: maxHead).requests.count == 1)
        #expect(parse(line(maxHead) + bytes("\r\n"), maxHead: maxHead).status == 431)
        #expect(parse(line(maxHead + 1), maxHead: maxHead).status == 414)
        #expect(parseBytewise(line(maxHead + 1), maxHead: maxHead).status == 414)
        #expect(parse(Array(repeating: UInt8(ascii: "A"), count: maxHead + 1), maxHead: maxHead).status == 414)
    }

    @Test("The body: maxBody bytes is a request, one more is 413 before the body arrives",
          arguments: [(8192, 1024), (64, 4), (64, 0)])
    func bodyLimit(maxHead: Int, maxBody: Int) throws {
        let atLimit = Self.head(length: 60, body: maxBody)
        let request = try #require(parse(atLimit, maxHead: maxHead, maxBody: maxBody).requests.first)
        #expect(request.body.count == maxBody)
        #expect(parseBytewise(atLimit, maxHead: maxHead, maxBody: maxBody).requests.count == 1)
        let past = Self.head(length: 60, body: maxBody + 1)
        #expect(parse(Array(past.prefix(60)), maxHead: maxHead, maxBody: maxBody).status == 413)
        #expect(parseBytewise(past, maxHead: maxHead, maxBody: maxBody).status == 413)
    }

    @Test("More pipelined than the parser buffers: the requests that fit, then 400")
    func pipelinedPastCapacity() {
        // Buffers 2 * (64 + 0) = 128 bytes: seven requests of 18 bytes and two of the eighth.
        let one = bytes("GET / HTTP/1.0\r\n\r\n")
        let many = Array((0..<10).map { _ in one }.joined())
        let parsed = parse(many, maxHead: 64, maxBody: 0)
        #expect(parsed.requests.count == 7)
        #expect(parsed.status == 400)
        // Fed as a server reads (no more than a request's worth at a time), all of them.
        let cuts = Array(stride(from: 64, to: many.count, by: 64))
        let read = parse(many, maxHead: 64, maxBody: 0, cuts: cuts)
        #expect(read.requests.count == 10)
        #expect(read.status == nil)
    }
}
