// One HTTP connection of the observer: a blocking process (asking a
// supervisor for its children, or a process for its links, waits), fed by
// its socket one read at a time. It answers requests in order (keep-alive),
// or turns into an event stream. Limits of docs/OBSERVER.md: 8 KiB of
// head, 1 KiB of body, 10 s for a whole request, 30 s idle.

import CSwerl

struct ObserverConnection: Behavior {
    /// From the listener, once this process owns the socket.
    static let go = "observer:go"
    static let requestDeadline: UInt64 = 10_000_000_000
    static let idle: Duration = .seconds(30)

    let observer: Observer
    let socket: Socket
    let listener: Pid
    private var parser = HTTPRequestParser(maxHead: 8192, maxBody: 1024)
    private var streaming = false
    /// When the request being read began (its first bytes); nil between requests.
    private var requestStarted: UInt64?

    init(observer: Observer, socket: Socket, listener: Pid) {
        self.observer = observer
        self.socket = socket
        self.listener = listener
    }

    mutating func start(_ context: Context) throws {
        try context.setReceiveTimeout(.nanoseconds(Int64(Self.requestDeadline)))
    }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .message where message.from == listener:
            if message.text == Self.go {
                try context.activate(socket, .once)
            } else if streaming {
                do {
                    try context.send(message.payload, on: socket)
                } catch {
                    if error.code == .sendQueueFull { return close(context) }  // a reader this slow gets no more
                    throw error
                }
            }
        case .socketData where message.ref?.rawValue == socket.rawValue:
            let now = monotonicNanos()
            if requestStarted == nil { requestStarted = now }
            if let started = requestStarted, now &- started > Self.requestDeadline {
                return fail(status: 408, "the request took more than 10 s", context)
            }
            var result = parser.feed(message.payload)
            while true {
                switch result {
                case .needMore:
                    if !streaming { try context.activate(socket, .once) }
                    return .continue
                case .failure(let status, let reason):
                    return fail(status: status, reason, context)
                case .request(let request):
                    requestStarted = nil
                    let keepOpen = try answer(request, context)
                    if !keepOpen { return close(context) }
                    if streaming { return .continue }
                    try context.setReceiveTimeout(Self.idle)
                    result = parser.next()
                }
            }
        case .socketClosed where message.ref?.rawValue == socket.rawValue:
            return .stop
        case .timeout:
            if !streaming { return close(context) }
        default:
            break
        }
        return .continue
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) {
        try? context.close(socket)
    }

    private func close(_ context: Context) -> Next {
        try? context.close(socket)
        return .stop
    }

    private func fail(status: Int, _ reason: String, _ context: Context) -> Next {
        let response = HTTPResponse(status: status, json: JSON.object(["error": JSON.string(reason)]), keepAlive: false)
        try? context.send(response.bytes, on: socket)
        return close(context)
    }

    /// Sends the answer; false: close the connection after it.
    private mutating func answer(_ request: HTTPRequest, _ context: Context) throws -> Bool {
        let route = ObserverRoutes(observer: observer)
        let response = route.respond(to: request)
        if case .stream = response.body {
            try context.send(response.bytes, on: socket)
            streaming = true
            try context.setReceiveTimeout(nil)
            try context.send(ObserverListener.subscribe, to: listener)
            try context.activate(socket, .once)  // to hear the client leave
            return true
        }
        try context.send(response.bytes, on: socket)
        return response.keepAlive && request.keepAlive
    }
}

/// An HTTP/1.1 response: the status, a JSON, HTML or event-stream body.
struct HTTPResponse {
    enum Body {
        case json(String)
        case html(String)
        case stream(String)  // the first events; more follow
    }

    let status: Int
    let body: Body
    let keepAlive: Bool

    init(status: Int, json: String, keepAlive: Bool = true) {
        self.status = status
        self.body = .json(json)
        self.keepAlive = keepAlive
    }

    init(status: Int, body: Body, keepAlive: Bool = true) {
        self.status = status
        self.body = body
        self.keepAlive = keepAlive
    }

    static func error(_ status: Int, _ reason: String) -> HTTPResponse {
        HTTPResponse(status: status, json: JSON.object(["error": JSON.string(reason)]))
    }

    var bytes: [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        let content: String
        switch body {
        case .json(let text):
            head += "Content-Type: application/json\r\n"
            content = text
        case .html(let text):
            head += "Content-Type: text/html; charset=utf-8\r\n"
            head += "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
                + "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:\r\n"
            content = text
        case .stream(let text):
            head += "Content-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n"
            head += "X-Content-Type-Options: nosniff\r\n"
            return Array((head + "\r\n" + text).utf8)
        }
        head += "Content-Length: \(content.utf8.count)\r\nCache-Control: no-store\r\n"
        head += "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        return Array((head + "\r\n" + content).utf8)
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 431: return "Request Header Fields Too Large"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status"
        }
    }
}
