// The observer page's server (docs/OBSERVER.md) from a plain HTTP client
// on loopback: every JSON view against a runtime whose state the test
// knows (a supervisor with a crashing child, a process with a long queue,
// links and a monitor), the event stream, the token, the actions switch,
// limits and malformed requests. The browser test is
// Tests/observer/test_page.py (headless Chromium).

import Glibc
import Swerl
import Testing

/// A blocking HTTP/1.1 client for loopback tests: one request per
/// connection, the whole answer read until the server closes or the body
/// is complete (10 s at most).
struct HTTPClient {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    let host: String
    let port: UInt16

    init(url: String) {
        // "http://127.0.0.1:PORT/..."
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let colon = authority.lastIndex(of: ":")!
        host = String(authority[..<colon])
        port = UInt16(authority[authority.index(after: colon)...])!
    }

    func connect() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        precondition(result == 0, "connect to \(host):\(port) failed")
        return fd
    }

    /// Sends `raw` as is and reads until the peer closes (or `until` says
    /// enough was read).
    func exchange(_ raw: String, until enough: (String) -> Bool = { _ in false }) -> String {
        let fd = connect()
        defer { close(fd) }
        _ = raw.withCString { send(fd, $0, strlen($0), 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
            if enough(String(decoding: received, as: UTF8.self)) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    func request(_ path: String, headers: [String] = []) -> Response { request("GET", path, headers: headers) }

    func request(_ method: String, _ path: String, headers: [String] = []) -> Response {
        let head = ([
            "\(method) \(path) HTTP/1.1", "Host: \(host):\(port)", "Connection: close",
        ] + headers + (method == "POST" ? ["Content-Length: 0"] : [])).joined(separator: "\r\n") + "\r\n\r\n"
        return Self.parse(exchange(head))
    }

    static func parse(_ text: String) -> Response {
        guard let split = text.range(of: "\r\n\r\n") else { return Response(status: 0, headers: [:], body: text) }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(in: " ")
            }
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

extension String {
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.range(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}

@Suite("Observer page")
struct ObserverTests {
    @Test("Every JSON view, against a runtime whose state the test knows")
    func views() async throws {
        try await withRuntime { runtime in
            let url = try runtime.observe()
            #expect(url.hasPrefix("http://127.0.0.1:"))
            let client = HTTPClient(url: url)

            // A supervisor whose child crashes once.
            let crashed = TestLock(false)
            let tree = try await runtime.startSupervisor(Supervisor.Spec(intensity: 5, children: [
                ChildSpec(id: "flaky") {
                    Probe(onHandle: { message, _ in
                        if message.text == "crash" { throw ExitReason.error("asked to crash") }
                        return .continue
                    })
                },
            ]))
            let first = try #require(try await tree.whichChildren()[0].pid)
            try runtime.send("crash", to: first)
            #expect(await waitUntil { (try? tree.whichChildren()[0].pid).flatMap { $0 } .map { $0 != first } ?? false })
            _ = crashed

            // A process with a long queue (it never takes them: it skips).
            let hoarder = try runtime.spawn(Probe(onHandle: { _, _ in .skip }))
            try runtime.register(hoarder, as: "hoarder")
            for _ in 0..<50 { try runtime.send("x", to: hoarder) }
            // Links and a monitor.
            let watcher = try runtime.spawn(Probe(onStart: { context in
                try context.link(hoarder)
                _ = try context.monitor(first)
            }))
            #expect(await waitUntil { runtime.info(watcher)?.links == 1 })

            let overview = client.request("/api/overview")
            #expect(overview.status == 200)
            #expect(overview.headers["content-type"] == "application/json")
            #expect(overview.body.contains("\"version\":\"1.3.0\""))
            #expect(overview.body.contains("\"restarts\":1"))
            #expect(overview.body.contains("\"schedulers\":[{\"index\":0,"))

            let processes = client.request("/api/processes?sort=queue&limit=1")
            #expect(processes.status == 200)
            #expect(processes.body.contains("\"name\":\"hoarder\""))
            #expect(processes.body.contains("\"queue\":50"))
            let filtered = client.request("/api/processes?filter=hoard")
            #expect(filtered.body.contains("\"matched\":1"))

            let id = hoarder.description.dropFirst().dropLast()  // "<0.5.1>" -> "0.5.1"
            let detail = client.request("/api/process/\(id)")
            #expect(detail.status == 200)
            #expect(detail.body.contains("\"links\":[\"\(watcher)\"]"))
            let second = try #require(try await tree.whichChildren()[0].pid)
            let child = client.request("/api/process/\(second.description.dropFirst().dropLast())")
            #expect(child.body.contains("\"supervisor\":\"\(tree.pid)\""))
            #expect(child.body.contains("\"child_id\":\"flaky\""))
            #expect(client.request("/api/process/0.99999.7").status == 404)
            #expect(client.request("/api/process/nonsense").status == 400)

            let supervisors = client.request("/api/supervisors")
            #expect(supervisors.body.contains("\"id\":\"flaky\""))
            #expect(supervisors.body.contains("\"restarts\":1"))

            let events = client.request("/api/events")
            #expect(events.body.contains("\"kind\":\"child_terminated\""))
            #expect(events.body.contains("asked to crash"))

            let page = client.request("/")
            #expect(page.status == 200)
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.body.contains("<html"))

            #expect(client.request("/nothing").status == 404)
            #expect(client.request("DELETE", "/api/overview").status == 405)
            #expect(client.request("/api/processes?sort=bogus").status == 400)
            try runtime.stopObserving()
        }
    }
}
