// The observer's listener: owns the listening socket (accepted connections
// are announced to it and handed to a connection process each), takes a
// sample a second, and pushes each sample, and the events since the last,
// to the connections streaming them (GET /api/stream).

import CSwerl

struct ObserverListener: Behavior {
    /// From Observer.start, once the socket listens.
    static let begin = "observer:begin"
    static let tick = "observer:tick"
    /// From a connection that streams.
    static let subscribe = "observer:subscribe"

    let box: ObserverBox
    private var observer: Observer?
    private var connections: Set<Pid> = []
    private var subscribers: Set<Pid> = []
    private var pushedSeq: UInt64 = 0

    init(box: ObserverBox) { self.box = box }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .message where message.from == nil && message.text == Self.begin:
            observer = box.observer.withLock { $0 }
            pushedSeq = observer?.events.since(UInt64.max).last ?? 0
            try scheduleTick(context)
        case .message where message.from == nil && message.text == Self.tick:
            guard let observer else { return .continue }
            try push(observer, context)
            try scheduleTick(context)
        case .message where message.text == Self.subscribe:
            if let from = message.from, connections.contains(from) { subscribers.insert(from) }
        case .socketAccepted:
            guard let observer, let ref = message.ref else { return .continue }
            let socket = Socket(rawValue: ref.rawValue)
            let (pid, _) = try context.spawn(ObserverConnection(observer: observer, socket: socket, listener: context.pid),
                                             options: SpawnOptions(link: true, blocking: true))
            try context.setOwner(of: socket, to: pid)
            try context.send(ObserverConnection.go, to: pid)
            connections.insert(pid)
        case .exit:
            // Trapped: a connection ended, or the stop (or the runtime's) asks us to end.
            if let from = message.from, connections.remove(from) != nil {
                subscribers.remove(from)
                return .continue
            }
            return .exit(message.reason ?? .shutdown)
        case .socketClosed:
            return .exit(.error("the observer's listening socket closed"))
        default:
            break
        }
        return .continue
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) {
        observer?.listenerEnded()
    }

    private func scheduleTick(_ context: Context) throws {
        _ = try context.runtime.sendAfter(.milliseconds(Int(ObserverSamples.intervalMillis)), Self.tick, to: context.pid)
    }

    /// A sample to every streaming connection, and the new events.
    private mutating func push(_ observer: Observer, _ context: Context) throws {
        observer.samples.take(from: observer.engine)
        guard !subscribers.isEmpty else {
            pushedSeq = observer.events.since(UInt64.max).last
            return
        }
        var chunk = ServerSentEvents.event("sample", observer.samples.overviewJSON(
            engine: observer.engine, actions: observer.options.actions))
        let (events, last) = observer.events.since(pushedSeq)
        if !events.isEmpty {
            chunk += ServerSentEvents.event("events", JSON.object([
                "last": String(last), "events": JSON.array(events.map(\.json)),
            ]))
        }
        pushedSeq = last
        var gone: [Pid] = []
        for subscriber in subscribers where try !context.send(chunk, to: subscriber) { gone.append(subscriber) }
        subscribers.subtract(gone)
    }
}

/// The text/event-stream format (HTML's Server-Sent Events).
enum ServerSentEvents {
    /// One event; `data` is one line (JSON has no raw newlines).
    static func event(_ name: String, _ data: String) -> String { "event: \(name)\ndata: \(data)\n\n" }
}
