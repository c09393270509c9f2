// The EPMD protocol (erts "Distribution Protocol" guide, EPMD section), the
// server side, for a host where no epmd runs (swerl.h
// SWERL_NODE_START_EPMD): an internal process on the socket layer, one
// listener on the loopback and one connection per request, each read one
// message at a time (active once), nothing blocking and no thread of its
// own. It answers what epmd answers:
//   ALIVE2_REQ        ALIVE2_X_RESP (ALIVE2_RESP to a node below version 6)
//                     with a creation; the registration lasts as long as
//                     that connection stays open, and anything more on it
//                     ends it, as epmd does. A live name is refused
//                     (result 1) and the connection closed.
//   PORT_PLEASE2_REQ  PORT2_RESP (result 1: no such name), then close.
//   NAMES_REQ         the EPMD port (4 bytes), "name N at port P\n" lines,
//                     then close.
// Anything else, malformed or too long closes the connection unanswered.
// Bounded: a request is at most `maxRequest` bytes, registrations at most
// `maxRegistrations`, connections open at most `maxConnections` (the
// listener closes more at once), and a connection that has not sent a
// whole request within `idleMillis` is closed.

import CSwerl

final class EPMDServer: @unchecked Sendable {
    /// One node's registration.
    struct Registration {
        let name: [UInt8]
        let port: UInt16
        let nodeType: UInt8
        let proto: UInt8
        let highest: UInt16
        let lowest: UInt16
        let extra: [UInt8]
    }

    /// One accepted connection: what it sent so far, when it came, and the
    /// name it registered (then it is kept open).
    struct Connection {
        var buffer: [UInt8] = []
        let openedNanos: UInt64
        var registered: [UInt8]?
    }

    /// A request with its 2-byte length (epmd reads into 1 KiB).
    static let maxRequest = 1024
    static let maxRegistrations = 256
    static let maxConnections: UInt32 = 512
    static let idleMillis: UInt64 = 10_000
    static let sweepMillis: UInt32 = 2_000
    static let acceptsPerActivation: Int32 = 64

    let engine: Engine
    /// The port it listens on (NAMES_REQ tells it).
    let port: UInt16
    private var connections: [UInt64: Connection] = [:]
    /// Name bytes (compared as bytes, as epmd compares) to registration,
    /// and to the socket holding it.
    private var registrations: [[UInt8]: (socket: UInt64, registration: Registration)] = [:]
    private var nextCreation = UInt32.random(in: 4...UInt32.max)
    private var sweepTimer: UInt64 = 0
    private var selfPid: UInt64 = 0

    private init(engine: Engine, port: UInt16) {
        self.engine = engine
        self.port = port
    }

    /// Spawns the server and has it listen on 127.0.0.1:`port`. EADDRINUSE:
    /// something listens there already (an epmd, or another runtime's).
    static func start(engine: Engine, port: UInt16) -> Int32 {
        let server = EPMDServer(engine: engine, port: port)
        let arg = Unmanaged.passRetained(server).toOpaque()
        let (code, pid) = engine.spawn(behavior: behavior, arg: arg, flags: 0, name: nil, mailboxLimit: 0,
                                       overflow: 0, monitorRef: nil)
        guard code == Code.ok else {
            Unmanaged<EPMDServer>.fromOpaque(arg).release()
            return code
        }
        var options = Engine.defaultSocketOptions()
        options.active = acceptsPerActivation
        options.max_connections = maxConnections
        options.backlog = 128
        let (listened, _) = engine.socketListen(owner: pid, address: "127.0.0.1:\(port)", options: options)
        if listened != Code.ok {
            _ = engine.exit(pid, reason: Reason.kill, detail: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return listened
    }

    static let behavior = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let server = Unmanaged<EPMDServer>.fromOpaque(arg!).takeUnretainedValue()
            state?.pointee = arg
            server.selfPid = Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0
            return 0
        },
        handle: { ctx, message, state in
            let server = Unmanaged<EPMDServer>.fromOpaque(state!).takeUnretainedValue()
            server.handle(UnsafeRawPointer(ctx), message!.pointee)
            return Int32(SWERL_CONTINUE)
        },
        terminate: { _, _, state in
            Unmanaged<EPMDServer>.fromOpaque(state!).release()
        }
    )

    // MARK: Messages

    private func handle(_ ctx: UnsafeRawPointer?, _ message: swerl_message) {
        let socket = message.ref
        switch Int(message.kind) {
        case Int(SWERL_SOCKET_ACCEPTED):
            connections[socket] = Connection(openedNanos: monotonicNanos())
            _ = Engine.socketActivate(ctx, socket, Int32(SWERL_ACTIVE_ONCE))
            armSweep()
        case Int(SWERL_SOCKET_PASSIVE):
            // The listener: it announced as many connections as it may.
            _ = Engine.socketActivate(ctx, socket, Self.acceptsPerActivation)
        case Int(SWERL_SOCKET_DATA):
            received(ctx, socket, UnsafeRawBufferPointer(start: message.data, count: message.len))
        case Int(SWERL_SOCKET_CLOSED):
            forget(socket)
        case Int(SWERL_MESSAGE) where message.from == 0 && message.ref != 0 && message.ref == sweepTimer:
            sweepTimer = 0
            sweep(ctx)
        default:
            break
        }
    }

    private func received(_ ctx: UnsafeRawPointer?, _ socket: UInt64, _ bytes: UnsafeRawBufferPointer) {
        guard var connection = connections[socket] else { return }
        if connection.registered != nil {
            // epmd: more on a registration's connection ends it.
            close(ctx, socket)
            return
        }
        guard connection.buffer.count + bytes.count <= Self.maxRequest else {
            close(ctx, socket)
            return
        }
        connection.buffer += bytes
        connections[socket] = connection
        let buffer = connection.buffer
        guard buffer.count >= 2 else {
            _ = Engine.socketActivate(ctx, socket, Int32(SWERL_ACTIVE_ONCE))
            return
        }
        let want = 2 + (Int(buffer[0]) << 8 | Int(buffer[1]))
        if want < 3 || want > Self.maxRequest || buffer.count > want {
            close(ctx, socket)
            return
        }
        guard buffer.count == want else {
            _ = Engine.socketActivate(ctx, socket, Int32(SWERL_ACTIVE_ONCE))
            return
        }
        connections[socket]?.buffer = []
        request(ctx, socket, Array(buffer[2...]))
    }

    /// One whole request (its length taken off).
    private func request(_ ctx: UnsafeRawPointer?, _ socket: UInt64, _ body: [UInt8]) {
        switch body[0] {
        case 120:
            alive(ctx, socket, body)
        case 122:
            portPlease(ctx, socket, body)
        case 110 where body.count == 1:
            names(ctx, socket)
        default:
            close(ctx, socket)
        }
    }

    /// ALIVE2_REQ: 120, port, node type, protocol, highest and lowest
    /// version, name (2-byte length), extra (2-byte length), nothing after.
    private func alive(_ ctx: UnsafeRawPointer?, _ socket: UInt64, _ body: [UInt8]) {
        var reader = ByteReader(body, offset: 1)
        guard let port = reader.u16(), let nodeType = reader.byte(), let proto = reader.byte(),
              let highest = reader.u16(), let lowest = reader.u16(),
              let nameLength = reader.u16(), let name = reader.take(Int(nameLength)),
              let extraLength = reader.u16(), let extra = reader.take(Int(extraLength)), reader.isAtEnd,
              Self.isNodeName(name) else {
            close(ctx, socket)
            return
        }
        let extended = highest >= 6
        var answer: [UInt8] = [extended ? 118 : 121]
        if registrations[name] != nil || registrations.count >= Self.maxRegistrations {
            if registrations[name] == nil {
                engine.report(level: Int(SWERL_LOG_WARNING), "EPMD on port \(self.port): \(Self.maxRegistrations) "
                    + "nodes are registered, the most it takes: refused \(String(decoding: name, as: UTF8.self))")
            }
            answer.append(1)
            if extended { answer.put32(0) } else { answer.put16(0) }
            send(ctx, socket, answer)
            close(ctx, socket)
            return
        }
        let issued = nextCreation
        nextCreation = issued == UInt32.max ? 4 : issued + 1
        // Below version 6 a creation is 1, 2 or 3.
        let creation = extended ? issued : issued % 3 + 1
        let registration = Registration(name: name, port: port, nodeType: nodeType, proto: proto, highest: highest,
                                        lowest: lowest, extra: extra)
        registrations[name] = (socket, registration)
        connections[socket]?.registered = name
        answer.append(0)
        if extended { answer.put32(creation) } else { answer.put16(UInt16(creation)) }
        send(ctx, socket, answer)
        // Read on, to see it close (or, as epmd, end it if more comes).
        _ = Engine.socketActivate(ctx, socket, Int32(SWERL_ACTIVE_ONCE))
    }

    /// PORT_PLEASE2_REQ: 122 and the name (a NUL after it allowed, as epmd
    /// allows).
    private func portPlease(_ ctx: UnsafeRawPointer?, _ socket: UInt64, _ body: [UInt8]) {
        var name = Array(body[1...])
        if name.last == 0 { name.removeLast() }
        guard Self.isNodeName(name) else {
            close(ctx, socket)
            return
        }
        var answer: [UInt8] = [119]
        if let found = registrations[name]?.registration {
            answer.append(0)
            answer.put16(found.port)
            answer += [found.nodeType, found.proto]
            answer.put16(found.highest)
            answer.put16(found.lowest)
            answer.put16(UInt16(found.name.count))
            answer += found.name
            answer.put16(UInt16(found.extra.count))
            answer += found.extra
        } else {
            answer.append(1)
        }
        send(ctx, socket, answer)
        close(ctx, socket)
    }

    /// NAMES_REQ: the port, then a line per registered node.
    private func names(_ ctx: UnsafeRawPointer?, _ socket: UInt64) {
        var answer: [UInt8] = []
        answer.put32(UInt32(port))
        for (name, entry) in registrations.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            answer += Array("name ".utf8) + name + Array(" at port \(entry.registration.port)\n".utf8)
        }
        send(ctx, socket, answer)
        close(ctx, socket)
    }

    /// epmd's rule: 1 to 255 bytes of UTF-8, no NUL.
    static func isNodeName(_ name: [UInt8]) -> Bool {
        guard !name.isEmpty, name.count <= 255, !name.contains(0) else { return false }
        return String(validating: name, as: UTF8.self) != nil
    }

    // MARK: Connections

    private func send(_ ctx: UnsafeRawPointer?, _ socket: UInt64, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Engine.socketSend(ctx, socket, $0) }
    }

    /// Closes a connection (what was sent is still written) and forgets it.
    private func close(_ ctx: UnsafeRawPointer?, _ socket: UInt64) {
        _ = Engine.socketClose(ctx, socket)
        forget(socket)
    }

    /// A connection is gone: so is its registration.
    private func forget(_ socket: UInt64) {
        guard let connection = connections.removeValue(forKey: socket) else { return }
        if let name = connection.registered, registrations[name]?.socket == socket {
            registrations[name] = nil
        }
    }

    /// While connections wait for a request: a look every sweepMillis.
    private func armSweep() {
        guard sweepTimer == 0 else { return }
        let (code, ref) = engine.sendAfter(to: selfPid, millis: Self.sweepMillis,
                                           data: UnsafeRawBufferPointer(start: nil, count: 0))
        sweepTimer = code == Code.ok ? ref : 0
    }

    /// Closes the connections that sent no whole request in idleMillis.
    private func sweep(_ ctx: UnsafeRawPointer?) {
        let now = monotonicNanos()
        let idle = connections.filter { $0.value.registered == nil && now - $0.value.openedNanos > Self.idleMillis * 1_000_000 }
        for socket in idle.keys { close(ctx, socket) }
        if connections.values.contains(where: { $0.registered == nil }) { armSweep() }
    }
}

extension Engine {
    /// SWERL_NODE_START_EPMD: this runtime's own EPMD on 127.0.0.1:`port`
    /// unless something listens there already (then it is used, as erl
    /// uses a running epmd). nil, or the refusal.
    func startOwnEPMD(port: UInt16, in function: String) -> Int32? {
        let code = EPMDServer.start(engine: self, port: port)
        if code == Code.ok {
            report(level: Int(SWERL_LOG_INFO), "no EPMD on 127.0.0.1 port \(port): this runtime's own EPMD serves "
                + "there until it stops")
            return nil
        }
        if code == Code.addressInUse { return nil }
        let why = ErrorDetail.current
        return ErrorDetail.failing(code, "\(function): no EPMD on 127.0.0.1 port \(port), and this runtime cannot "
            + "start one there: \(why.isEmpty ? codeText(code) : why)")
    }
}
