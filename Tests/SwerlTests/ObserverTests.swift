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
        return read(fd, until: enough).text
    }

    /// What comes on `fd` until the peer closes or `enough` says so; whether
    /// it was `enough` that ended it.
    func read(_ fd: Int32, until enough: (String) -> Bool) -> (text: String, enough: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return (String(decoding: received, as: UTF8.self), false) }
            received += buffer[0..<n]
            let text = String(decoding: received, as: UTF8.self)
            if enough(text) { return (text, true) }
        }
    }

    /// A connection that was answered once and stays open (keep-alive);
    /// nil when the server closed it instead.
    func keptAlive() -> Int32? {
        let fd = connect()
        _ = "GET /api/overview HTTP/1.1\r\nHost: x\r\n\r\n".withCString { send(fd, $0, strlen($0), 0) }
        let answered = read(fd) { text in
            let response = Self.parse(text)
            return response.headers["content-length"].flatMap(Int.init).map { response.body.utf8.count >= $0 } ?? false
        }.enough
        if answered { return fd }
        close(fd)
        return nil
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
            #expect(overview.body.contains("\"version\":\"1.4.0\""))
            #expect(overview.body.contains("\"restarts\":1"))
            #expect(overview.body.contains("\"schedulers\":[{\"index\":0,"))
            #expect(overview.body.contains("\"rss_bytes\":") && !overview.body.contains("\"rss_bytes\":0,"))

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

    @Test("The event stream sends a sample a second, and new events")
    func stream() async throws {
        try await withRuntime { runtime in
            let client = HTTPClient(url: try runtime.observe())
            let crasher = try runtime.spawn(Probe(onHandle: { _, _ in throw ExitReason.error("stream crash") }))
            let text = await Task.detached {
                client.exchange("GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n") { received in
                    if received.contains("event: sample"), !received.contains("event: events") {
                        _ = try? runtime.send("go", to: crasher)  // a crash report after the first sample
                    }
                    return received.contains("event: events") && received.contains("stream crash")
                }
            }.value
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.contains("Content-Type: text/event-stream"))
            #expect(text.contains("event: sample\ndata: {\"version\""))
            #expect(text.contains("\"kind\":\"crash\""))
        }
    }

    @Test("A token: requests without it get 401, with it (query or bearer) 200; off loopback it is required")
    func token() async throws {
        try await withRuntime { runtime in
            #expect(throws: SwerlError.self) { try runtime.observe(address: "0.0.0.0:0") }
            #expect(throws: SwerlError.self) { try runtime.observe(address: "unix:/tmp/observer") }
            // A host name is resolved first: "localhost" is loopback, no token needed.
            #expect(try runtime.observe(address: "localhost:0").hasPrefix("http://"))
            try runtime.stopObserving()
            #expect(throws: SwerlError.self) { try runtime.observe(token: "short") }
            let secret = "a-token-of-some-length-0123"
            let url = try runtime.observe(token: secret)
            #expect(url.hasSuffix("/?token=\(secret)"))
            let client = HTTPClient(url: url)
            #expect(client.request("/api/overview").status == 401)
            #expect(client.request("/api/overview?token=wrong-token-of-some-length").status == 401)
            #expect(client.request("/api/overview?token=\(secret)").status == 200)
            #expect(client.request("/api/overview", headers: ["Authorization: Bearer \(secret)"]).status == 200)
            #expect(client.request("/", headers: ["Authorization: Bearer \(secret)"]).status == 200)
            #expect(throws: SwerlError.self) { try runtime.observe() }  // one at a time
            try runtime.stopObserving()
            #expect(throws: SwerlError.self) { try runtime.stopObserving() }
        }
    }

    @Test("Actions: off, refused; on, they need their header, then kill and restart")
    func actions() async throws {
        try await withRuntime { runtime in
            let victim = try runtime.spawn(Probe())
            let id = victim.description.dropFirst().dropLast()
            var client = HTTPClient(url: try runtime.observe())
            #expect(client.request("POST", "/api/process/\(id)/kill", headers: ["X-Swerl-Action: 1"]).status == 403)
            try runtime.stopObserving()

            client = HTTPClient(url: try runtime.observe(actions: true))
            #expect(client.request("/api/overview").body.contains("\"actions\":true"))
            #expect(client.request("POST", "/api/process/\(id)/kill").status == 403)
            let exits = runtime.exits(of: [victim])
            #expect(client.request("POST", "/api/process/\(id)/kill", headers: ["X-Swerl-Action: 1"]).status == 200)
            var reasons: [ExitReason] = []
            for await exit in exits { reasons.append(exit.reason) }
            #expect(reasons == [.killed])
            #expect(client.request("POST", "/api/process/\(id)/kill", headers: ["X-Swerl-Action: 1"]).status == 404)

            let tree = try await runtime.startSupervisor(Supervisor.Spec(children: [
                ChildSpec(id: "w") { Probe() }, ChildSpec(id: "a/b c") { Probe() },
            ]))
            let before = try #require(try await tree.whichChildren()[0].pid)
            let sup = tree.pid.description.dropFirst().dropLast()
            #expect(client.request("POST", "/api/supervisor/\(sup)/child/w/restart", headers: ["X-Swerl-Action: 1"]).status == 200)
            let after = try #require(try await tree.whichChildren()[0].pid)
            #expect(after != before)
            #expect(client.request("POST", "/api/supervisor/\(sup)/child/w/terminate", headers: ["X-Swerl-Action: 1"]).status == 200)
            #expect(try await tree.whichChildren()[0].pid == nil)
            #expect(client.request("POST", "/api/supervisor/\(sup)/child/nobody/restart", headers: ["X-Swerl-Action: 1"]).status == 404)
            // An id with a "/" (encoded) is one segment.
            let odd = try #require(try await tree.whichChildren()[1].pid)
            #expect(client.request("POST", "/api/supervisor/\(sup)/child/a%2Fb%20c/restart", headers: ["X-Swerl-Action: 1"]).status == 200)
            #expect(try await tree.whichChildren()[1].pid != odd)
        }
    }

    @Test("Bad input: malformed, oversized and slow requests are answered or closed; the runtime goes on")
    func badInput() async throws {
        try await withRuntime { runtime in
            let client = HTTPClient(url: try runtime.observe(maxConnections: 4))
            #expect(HTTPClient.parse(client.exchange("garbage\r\n\r\n")).status == 400)
            let big = "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 9000) + "\r\n\r\n"
            #expect(HTTPClient.parse(client.exchange(big)).status == 431)
            #expect(HTTPClient.parse(client.exchange("GET / HTTP/2.0\r\n\r\n")).status == 505)
            #expect(HTTPClient.parse(client.exchange("POST /api/overview HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")).status == 413)
            // Two requests on one connection (keep-alive, pipelined), both answered.
            let both = client.exchange("GET /api/overview HTTP/1.1\r\nHost: x\r\n\r\nGET /api/history HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(both.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
            // More connections than allowed: the extra ones are closed at once.
            // (Those just closed may still count for a moment: the held ones
            // are those that were answered and stay open.)
            var held: [Int32] = []
            #expect(await waitUntil {
                if let fd = client.keptAlive() { held.append(fd) }
                return held.count == 4
            })
            #expect(client.exchange("GET /api/overview HTTP/1.1\r\nHost: x\r\n\r\n").isEmpty)
            held.forEach { close($0) }
            #expect(await waitUntil { client.request("/api/overview").status == 200 })
        }
    }

    @Test("A slow client (a request that never ends, bytes trickling) is closed after the 10 s a request may take")
    func slowClient() async throws {
        try await withRuntime { runtime in
            let client = HTTPClient(url: try runtime.observe())
            let closedAfter = await Task.detached { () -> Double in
                let fd = client.connect()
                defer { close(fd) }
                let start = ContinuousClock.now
                var buffer = [UInt8](repeating: 0, count: 4096)
                // A header line a second: each arrives in time, the request never does.
                _ = "GET /api/overview HTTP/1.1\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                for index in 0..<30 {
                    var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    if Glibc.poll(&poll, 1, 1000) > 0 {
                        let n = recv(fd, &buffer, buffer.count, 0)
                        if n <= 0 || String(decoding: buffer[0..<max(0, n)], as: UTF8.self).hasPrefix("HTTP/1.1 408") {
                            break
                        }
                    }
                    _ = "X-Slow-\(index): 1\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                }
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }.value
            #expect(closedAfter >= 9 && closedAfter < 20, "closed after \(closedAfter) s")
            #expect(client.request("/api/overview").status == 200)  // the others go on
        }
    }
}

