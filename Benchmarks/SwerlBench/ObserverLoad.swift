// What an open observer page costs (issue 17): the page's traffic, played
// by a client thread while a benchmark runs: the event stream read as it
// comes (a sample a second), and the process table and supervision trees
// fetched every 2 s, as the page does.

import Glibc
import Swerl
import Synchronization

final class ObserverLoad: @unchecked Sendable {
    private let port: UInt16
    private let stopping = Atomic<Bool>(false)
    private var thread = pthread_t()
    /// Requests answered, stream bytes read (to show the page was live).
    let answered = Atomic<Int>(0)
    let streamed = Atomic<Int>(0)

    /// Serves the page on `engine` and starts reading it.
    init(engine: Engine) {
        let (code, url) = engine.observe(address: "127.0.0.1:0", token: nil, actions: false, maxConnections: 16)
        guard code == 0, let url else { fail("observer: \(CoreRuntime.errorName(code))") }
        port = UInt16(url.split(separator: ":").last!.split(separator: "/").first!)!
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let load = Unmanaged<ObserverLoad>.fromOpaque(raw!).takeRetainedValue()
            load.run()
            return nil
        }, box.toOpaque())
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        pthread_join(thread, nil)
    }

    private func run() {
        let stream = connect()
        send(stream, "GET /api/stream HTTP/1.1\r\nHost: bench\r\n\r\n")
        var buffer = [UInt8](repeating: 0, count: 65536)
        var nextFetch = Clock.now()
        while !stopping.load(ordering: .relaxed) {
            var poll = pollfd(fd: stream, events: Int16(POLLIN), revents: 0)
            if Glibc.poll(&poll, 1, 100) > 0 {
                let n = recv(stream, &buffer, buffer.count, 0)
                if n <= 0 { break }
                streamed.add(n, ordering: .relaxed)
            }
            if Clock.now() >= nextFetch {
                for path in ["/api/processes?sort=queue&limit=100", "/api/supervisors", "/api/overview"] {
                    if fetch(path) { answered.add(1, ordering: .relaxed) }
                }
                nextFetch = Clock.now() + 2_000_000_000
            }
        }
        close(stream)
    }

    private func connect() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return fd
    }

    private func send(_ fd: Int32, _ text: String) {
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), 0) }
    }

    /// One request on its own connection, read to the end.
    private func fetch(_ path: String) -> Bool {
        let fd = connect()
        defer { close(fd) }
        send(fd, "GET \(path) HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            total += n
        }
        return total > 0
    }
}
