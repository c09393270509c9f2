// The process that runs one connection to another node: an ordinary Swerl
// process owning the socket, so the socket layer's flow control, framing
// and end-of-socket rules apply to distribution as to any socket.
//
// Connecting: ask EPMD on the peer's host for its port (PORT_PLEASE2),
// connect, handshake (2-byte frames, one message at a time: active once,
// so nothing after the handshake is framed the old way), then 4-byte
// frames, read N at a time. Accepting: the node's process hands over the
// accepted socket. Up, it applies what arrives (Inbound) and ticks: an
// empty frame every quarter of the tick time, and the peer is down when
// nothing came for four quarters (net_ticktime). When the process ends,
// for whatever reason, its connection is down (DistNode.connectionDown).

import CSwerl

final class ConnectionProcess: @unchecked Sendable {
    enum Phase { case waitingForSocket, lookingUp, connecting, handshaking, up }

    let engine: Engine
    let node: DistNode
    var connection: DistConnection?
    let role: Handshake.Role
    var phase: Phase
    var selfPid: UInt64 = 0
    var socket: UInt64 = 0
    private var epmdSocket: UInt64 = 0
    private var epmdAnswer: [UInt8] = []
    private var peerHost = ""
    private var handshake: Handshake?
    /// Something came from the peer since the last tick.
    private var heard = true
    private var silentTicks = 0
    private var tickTimer: UInt64 = 0
    /// Why the connection ends (logged, never with the cookie).
    var downReason = "its process ended"
    /// The common frame's reader (made when the connection is up).
    private var fastSend: FastSend?
    /// Frames the memory ceiling refused, retried before reading on.
    var stalled: [[UInt8]] = []
    private var retryTimer: UInt64 = 0
    /// Set while this attempt waits for the peer's (simultaneous connect).
    private var yieldTimer: UInt64 = 0

    static let framesPerActivation: Int32 = 64

    private init(engine: Engine, node: DistNode, connection: DistConnection?, role: Handshake.Role) {
        self.engine = engine
        self.node = node
        self.connection = connection
        self.role = role
        phase = connection == nil ? .waitingForSocket : .lookingUp
    }

    // MARK: Starting

    /// Starts the process connecting to `connection`'s peer.
    static func start(_ connection: DistConnection, engine: Engine) -> Bool {
        let process = ConnectionProcess(engine: engine, node: connection.node, connection: connection,
                                        role: .initiator(peer: connection.peerName))
        return spawn(process) != nil
    }

    /// Starts a process for a connection the node's process accepted; it
    /// hands the socket over, then says so with a message carrying its id.
    static func accepting(node: DistNode, engine: Engine) -> UInt64? {
        let process = ConnectionProcess(engine: engine, node: node, connection: nil, role: .acceptor)
        return spawn(process)
    }

    /// The new process's pid, or nil. (Its `selfPid` is its own to set, in
    /// its init: written here too, it raced with that write.)
    private static func spawn(_ process: ConnectionProcess) -> UInt64? {
        let arg = Unmanaged.passRetained(process).toOpaque()
        let (code, pid) = process.engine.spawn(behavior: behavior, arg: arg, flags: 0, name: nil, mailboxLimit: 0,
                                               overflow: 0, monitorRef: nil)
        guard code == Code.ok else {
            Unmanaged<ConnectionProcess>.fromOpaque(arg).release()
            return nil
        }
        return pid
    }

    static let behavior = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let process = Unmanaged<ConnectionProcess>.fromOpaque(arg!).takeUnretainedValue()
            state?.pointee = arg
            process.selfPid = Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0
            if let connection = process.connection {
                _ = connection.handler.compareExchange(expected: 0, desired: process.selfPid, ordering: .acquiringAndReleasing)
                if let why = process.lookUp(ctx) {
                    // No terminate after a failed init: end the connection here.
                    process.node.connectionDown(connection, why: why)
                    Unmanaged<ConnectionProcess>.fromOpaque(arg!).release()
                    return Int32(SWERL_IGNORE)
                }
            }
            return 0
        },
        handle: { ctx, message, state in
            let process = Unmanaged<ConnectionProcess>.fromOpaque(state!).takeUnretainedValue()
            return process.handle(ctx, message!.pointee)
        },
        terminate: { _, _, state in
            let unmanaged = Unmanaged<ConnectionProcess>.fromOpaque(state!)
            unmanaged.takeUnretainedValue().finish()
            unmanaged.release()
        }
    )

    // MARK: Messages

    private func handle(_ ctx: OpaquePointer?, _ message: swerl_message) -> Int32 {
        let raw = UnsafeRawPointer(ctx)
        if yieldTimer != 0 {
            return message.kind == UInt32(SWERL_MESSAGE) && message.ref == yieldTimer ? yieldExpired()
                : Int32(SWERL_CONTINUE)
        }
        if let connection, connection.handler.load(ordering: .acquiring) != selfPid {
            // A simultaneous connect: the peer's attempt took this one over.
            self.connection = nil
            return Int32(SWERL_STOP)
        }
        let bytes = UnsafeRawBufferPointer(start: message.data, count: message.len)
        switch Int(message.kind) {
        case Int(SWERL_MESSAGE):
            if message.ref != 0 && message.ref == tickTimer { return tick(raw) }
            if message.ref != 0 && message.ref == retryTimer { return retryStalled(raw) }
            if phase == .waitingForSocket && message.from == node.processPid && bytes.count == 8 {
                socket = bytes.loadUnaligned(as: UInt64.self)
                phase = .handshaking
                _ = Engine.socketSetOption(raw, socket, option: Int32(SWERL_SO_PACKET), value: Int64(SWERL_PACKET_2))
                _ = Engine.socketActivate(raw, socket, Int32(SWERL_ACTIVE_ONCE))
                handshake = Handshake(role: .acceptor, ownName: node.name, ownCreation: node.creation,
                                      cookie: node.options.cookie)
            }
            return Int32(SWERL_CONTINUE)
        case Int(SWERL_SOCKET_CONNECTED):
            return connected(raw, message)
        case Int(SWERL_SOCKET_DATA):
            if message.ref == epmdSocket { return epmdData(raw, bytes) }
            guard message.ref == socket else { return Int32(SWERL_CONTINUE) }
            heard = true
            return phase == .up ? frame(raw, bytes) : handshakeData(raw, bytes)
        case Int(SWERL_SOCKET_PASSIVE):
            if message.ref == socket && stalled.isEmpty {
                _ = Engine.socketActivate(raw, socket, Self.framesPerActivation)
            }
            return Int32(SWERL_CONTINUE)
        case Int(SWERL_SOCKET_CLOSED):
            if message.ref == epmdSocket && phase == .lookingUp {
                return fail("EPMD on \(peerHost) closed before answering")
            }
            guard message.ref == socket else { return Int32(SWERL_CONTINUE) }
            if message.reason == 0 { return fail("the peer closed the connection") }
            return fail("the connection failed: \(codeText(message.reason))"
                        + (bytes.isEmpty ? "" : " (\(String(decoding: bytes, as: UTF8.self)))"))
        default:
            return Int32(SWERL_CONTINUE)
        }
    }

    func fail(_ why: String) -> Int32 {
        downReason = why
        return Int32(SWERL_STOP)
    }

    private func finish() {
        if tickTimer != 0 { _ = engine.cancelTimer(tickTimer) }
        if retryTimer != 0 { _ = engine.cancelTimer(retryTimer) }
        if yieldTimer != 0 { _ = engine.cancelTimer(yieldTimer) }
        guard let connection, connection.handler.load(ordering: .acquiring) == selfPid else { return }
        node.connectionDown(connection, why: downReason)
    }

    // MARK: Connecting

    /// Asks EPMD on the peer's host for its port; the refusal, if any.
    private func lookUp(_ ctx: OpaquePointer?) -> String? {
        guard let connection else { return "no connection" }
        peerHost = String(connection.peerName.split(separator: "@", maxSplits: 1)[1])
        var options = Engine.defaultSocketOptions()
        options.active = Int32(SWERL_ACTIVE_ONCE)
        let (code, id) = Engine.socketConnect(UnsafeRawPointer(ctx), address: Self.address(peerHost, node.options.epmdPort),
                                              timeoutMillis: node.options.connectTimeoutMillis, options: options)
        guard code == Code.ok else { return "cannot reach EPMD on \(peerHost): \(codeText(code))" }
        epmdSocket = id
        phase = .lookingUp
        return nil
    }

    static func address(_ host: String, _ port: UInt16) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private func connected(_ raw: UnsafeRawPointer?, _ message: swerl_message) -> Int32 {
        if message.ref == epmdSocket {
            if message.reason != 0 {
                return fail("no EPMD answers on \(peerHost) port \(node.options.epmdPort): \(codeText(message.reason))")
            }
            let request = EPMD.portRequest(alive: String(connection!.peerName.split(separator: "@")[0]))
            _ = request.withUnsafeBytes { Engine.socketSend(raw, epmdSocket, $0) }
            return Int32(SWERL_CONTINUE)
        }
        guard message.ref == socket else { return Int32(SWERL_CONTINUE) }
        if message.reason != 0 {
            return fail("cannot connect to \(connection!.peerName): \(codeText(message.reason))")
        }
        phase = .handshaking
        let machine = Handshake(role: role, ownName: node.name, ownCreation: node.creation, cookie: node.options.cookie)
        let first = machine.start()
        handshake = machine
        _ = first.withUnsafeBytes { Engine.socketSend(raw, socket, $0) }
        return Int32(SWERL_CONTINUE)
    }

    private func epmdData(_ raw: UnsafeRawPointer?, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        epmdAnswer += bytes
        switch EPMD.portAnswer(epmdAnswer) {
        case .incomplete:
            _ = Engine.socketActivate(raw, epmdSocket, Int32(SWERL_ACTIVE_ONCE))
            return Int32(SWERL_CONTINUE)
        case .malformed:
            return fail("EPMD on \(peerHost) answered with something else than PORT2_RESP")
        case .unknown:
            return fail("EPMD on \(peerHost) knows no node named \(connection!.peerName.split(separator: "@")[0])")
        case .port(let port, let highest):
            _ = Engine.socketClose(raw, epmdSocket)
            epmdSocket = 0
            if highest < 6 { return fail("\(connection!.peerName) speaks distribution version \(highest) only (6 is needed)") }
            var options = Engine.defaultSocketOptions()
            options.packet = UInt32(SWERL_PACKET_2)
            options.active = Int32(SWERL_ACTIVE_ONCE)
            let (code, id) = Engine.socketConnect(raw, address: Self.address(peerHost, port),
                                                  timeoutMillis: node.options.connectTimeoutMillis, options: options)
            guard code == Code.ok else { return fail("cannot connect to \(connection!.peerName): \(codeText(code))") }
            socket = id
            phase = .connecting
            return Int32(SWERL_CONTINUE)
        }
    }

    // MARK: Handshake

    private func handshakeData(_ raw: UnsafeRawPointer?, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard var machine = handshake else { return fail("data before the handshake began") }
        let step = machine.receive(Array(bytes)) { peer, replacing in
            let (status, admitted) = node.admit(peer, handler: selfPid, replacing: replacing)
            if admitted != nil { connection = admitted }
            return status
        }
        handshake = machine
        switch step {
        case .send(let messages):
            for message in messages { _ = message.withUnsafeBytes { Engine.socketSend(raw, socket, $0) } }
            _ = Engine.socketActivate(raw, socket, Int32(SWERL_ACTIVE_ONCE))
            return Int32(SWERL_CONTINUE)
        case .up(let messages):
            for message in messages { _ = message.withUnsafeBytes { Engine.socketSend(raw, socket, $0) } }
            return goUp(raw, machine)
        case .refuse(let status, let why):
            _ = status.withUnsafeBytes { Engine.socketSend(raw, socket, $0) }
            if why.hasSuffix(": nok") { return Int32(SWERL_STOP) }  // both connected at once: ours goes on
            engine.report(level: Int(SWERL_LOG_WARNING), "node \(node.name): \(why)")
            return Int32(SWERL_STOP)
        case .yield:
            return yieldToPeer()
        case .alive:
            // The peer has a connection up with this node: go on only if
            // this node's side of it is not up (it was lost here first).
            let proceed = connection.map { !$0.isUp && $0.handler.load(ordering: .acquiring) == selfPid } ?? false
            let answer = machine.answerAlive(proceed: proceed)
            handshake = machine
            _ = answer.withUnsafeBytes { Engine.socketSend(raw, socket, $0) }
            if !proceed {
                connection = nil  // it is not this attempt's to end
                return Int32(SWERL_STOP)
            }
            _ = Engine.socketActivate(raw, socket, Int32(SWERL_ACTIVE_ONCE))
            return Int32(SWERL_CONTINUE)
        case .fail(let why):
            if case .acceptor = role, connection == nil {
                // Refused before any connection was ours: the peer's attempt only.
                engine.report(level: Int(SWERL_LOG_WARNING), "node \(node.name): refused a connection: \(why)")
                return Int32(SWERL_STOP)
            }
            return fail(why)
        }
    }

    /// Both nodes connected at once and the peer's attempt wins: what waits
    /// in the connection waits for it (the peer's connection, accepted here,
    /// takes the connection over). If it has not within the connect
    /// timeout, the connection is down.
    private func yieldToPeer() -> Int32 {
        guard let connection, connection.handler.compareExchange(expected: selfPid, desired: 0,
                                                                 ordering: .acquiringAndReleasing).exchanged else {
            return Int32(SWERL_STOP)
        }
        let (code, ref) = engine.sendAfter(to: selfPid, millis: node.options.connectTimeoutMillis,
                                           data: UnsafeRawBufferPointer(start: nil, count: 0))
        guard code == Code.ok else { return fail("no timer to wait for the peer's connection") }
        yieldTimer = ref
        return Int32(SWERL_CONTINUE)
    }

    /// The peer's connection did not take over in time.
    private func yieldExpired() -> Int32 {
        if let connection, !connection.isUp,
           connection.handler.compareExchange(expected: 0, desired: selfPid, ordering: .acquiringAndReleasing).exchanged {
            return fail("both nodes connected at once, and the peer's connection did not come")
        }
        connection = nil
        return Int32(SWERL_STOP)
    }

    private func goUp(_ raw: UnsafeRawPointer?, _ machine: Handshake) -> Int32 {
        guard let connection else { return fail("no connection after the handshake") }
        _ = Engine.socketSetOption(raw, socket, option: Int32(SWERL_SO_PACKET), value: Int64(SWERL_PACKET_4))
        _ = Engine.socketSetOption(raw, socket, option: Int32(SWERL_SO_MAX_FRAME), value: Int64(node.options.maxFrame))
        phase = .up
        fastSend = FastSend(engine: engine, node: node)
        connection.becomeUp(socket: socket, peerFlags: machine.peerFlags, peerCreation: machine.peerCreation)
        engine.report(level: Int(SWERL_LOG_INFO), "node \(node.name): connected to \(connection.peerName)")
        node.tellWatchers(up: true, connection.peerName)
        _ = Engine.socketActivate(raw, socket, Self.framesPerActivation)
        armTick()
        return Int32(SWERL_CONTINUE)
    }

    // MARK: Ticks

    private func armTick() {
        let (code, ref) = engine.sendAfter(to: selfPid, millis: max(1, node.options.tickMillis / 4),
                                           data: UnsafeRawBufferPointer(start: nil, count: 0))
        tickTimer = code == Code.ok ? ref : 0
    }

    private func tick(_ raw: UnsafeRawPointer?) -> Int32 {
        if heard {
            silentTicks = 0
        } else {
            silentTicks += 1
            if silentTicks >= 4 {
                return fail("nothing came for \(node.options.tickMillis) ms (net_ticktime): the peer is down")
            }
        }
        heard = false
        _ = engine.writeFrame(socket: socket, [0, 0, 0, 0])
        armTick()
        return Int32(SWERL_CONTINUE)
    }

    // MARK: Frames

    private func frame(_ raw: UnsafeRawPointer?, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        if bytes.isEmpty { return Int32(SWERL_CONTINUE) }  // a tick
        if !stalled.isEmpty {
            stalled.append(Array(bytes))
            return Int32(SWERL_CONTINUE)
        }
        switch fastSend?.apply(bytes) {
        case .delivered:
            return Int32(SWERL_CONTINUE)
        case .refused:
            stall(Array(bytes))
            return Int32(SWERL_CONTINUE)
        case .notHandled, nil:
            break
        }
        switch Inbound.apply(Array(bytes), on: self) {
        case .done:
            return Int32(SWERL_CONTINUE)
        case .refused(let frame):
            stall(frame)
            return Int32(SWERL_CONTINUE)
        case .malformed(let why):
            return fail("a malformed frame from \(connection?.peerName ?? "the peer"): \(why)")
        }
    }

    /// The memory ceiling refused a delivery: read nothing more (the peer
    /// feels TCP's back-pressure) and retry shortly, in order.
    private func stall(_ frame: [UInt8]) {
        stalled.append(frame)
        if retryTimer == 0 {
            let (code, ref) = engine.sendAfter(to: selfPid, millis: 10, data: UnsafeRawBufferPointer(start: nil, count: 0))
            retryTimer = code == Code.ok ? ref : 0
        }
    }

    private func retryStalled(_ raw: UnsafeRawPointer?) -> Int32 {
        retryTimer = 0
        while !stalled.isEmpty {
            let next = stalled.removeFirst()
            switch Inbound.apply(next, on: self) {
            case .done:
                continue
            case .refused:
                stalled.insert(next, at: 0)
                let (code, ref) = engine.sendAfter(to: selfPid, millis: 10, data: UnsafeRawBufferPointer(start: nil, count: 0))
                retryTimer = code == Code.ok ? ref : 0
                return Int32(SWERL_CONTINUE)
            case .malformed(let why):
                return fail("a malformed frame: \(why)")
            }
        }
        _ = Engine.socketActivate(raw, socket, Self.framesPerActivation)
        return Int32(SWERL_CONTINUE)
    }
}
