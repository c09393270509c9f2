// Sockets from Swift (swerl.h "Sockets"): a listener and a client process,
// line framing, activity, the owner rule. Peers are Swerl processes on
// loopback.

import Swerl
import Testing

/// Echoes every connection it accepts, one message at a time.
struct EchoServer: Behavior {
    let options: SocketOptions
    let listeners: Inbox

    mutating func start(_ context: Context) throws {
        var listening = options
        listening.active = .count(1000)
        let listener = try context.listen("127.0.0.1:0", options: listening)
        listeners.append(Event(text: "\(listener.rawValue)"))
    }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        switch message.kind {
        case .socketAccepted:
            try context.activate(message.socket!)
        case .socketData:
            try context.send(message.payload, on: message.socket!)
            try context.activate(message.socket!)
        default:
            break
        }
        return .continue
    }
}

/// Connects, sends `lines`, reports what comes back.
struct LineClient: Behavior {
    let address: String
    let lines: [String]
    let inbox: Inbox
    var socket: Socket? = nil

    mutating func start(_ context: Context) throws {
        var options = SocketOptions()
        options.packet = .line
        options.active = .count(Int32(lines.count))
        let socket = try context.connect(address, options: options)
        for line in lines { try context.send(Array(line.utf8), on: socket) }   // queued until connected
        self.socket = socket
    }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        inbox.append(Event(message))
        return .continue
    }
}

@Suite("Sockets", .timeLimit(.minutes(1)))
struct SocketTests {
    @Test("A Swift echo server and a line client, framed by the runtime")
    func echoLines() async throws {
        try await withRuntime { runtime in
            var line = SocketOptions()
            line.packet = .line
            let listeners = Inbox()
            let server = try runtime.spawn(EchoServer(options: line, listeners: listeners))
            let first = await listeners.first { _ in true }
            let listener = Socket(rawValue: UInt64(try #require(first).text)!)
            let info = try #require(runtime.socketInfo(listener))
            #expect(info.isListener && info.owner == server && info.port > 0)

            let inbox = Inbox()
            _ = try runtime.spawn(LineClient(address: "127.0.0.1:\(info.port)", lines: ["one\n", "two\n"], inbox: inbox))
            #expect(await inbox.waitForCount(1) { $0.kind == .socketConnected })
            #expect(await inbox.waitForCount(2) { $0.kind == .socketData })
            #expect(inbox.all.filter { $0.kind == .socketData }.map(\.text) == ["one\n", "two\n"])
            #expect(await inbox.waitForCount(1) { $0.kind == .socketPassive })   // the count of 2 ran out
        }
    }

    @Test("Bad input: a port in use, a bad address, a socket of another owner")
    func badInput() async throws {
        try await withRuntime { runtime in
            let listeners = Inbox()
            let server = try runtime.spawn(EchoServer(options: SocketOptions(), listeners: listeners))
            let first = await listeners.first { _ in true }
            let listener = Socket(rawValue: UInt64(try #require(first).text)!)
            let port = try #require(runtime.socketInfo(listener)).port
            #expect(throws: SwerlError(.addressInUse)) { try runtime.listen("127.0.0.1:\(port)", owner: server) }
            #expect(throws: SwerlError(.invalidArgument)) { try runtime.listen("127.0.0.1", owner: server) }
            let errors = Inbox()
            let other = try runtime.spawn(Probe(onHandle: { _, context in
                do {
                    try context.close(listener)
                } catch let error as SwerlError {
                    errors.append(Event(text: error.name))
                }
                return .continue
            }))
            _ = try runtime.send("close it", to: other)
            #expect(await errors.first { $0.text == "ENOTOWNER" } != nil)
            #expect(runtime.socketInfo(listener) != nil)
        }
    }
}
