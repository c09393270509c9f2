// The node's own process, registered as `net_kernel` as Erlang's is (so
// net_adm:ping's call and monitor find it): it listens for other nodes,
// keeps this node registered with EPMD (the registration lasts as long as
// that connection), hands each accepted connection to a ConnectionProcess,
// and answers `{is_auth, Node}` with `yes`.

import CSwerl

final class NodeProcess: @unchecked Sendable {
    /// How the start went, for the thread waiting in swerl_node_start.
    final class Start: @unchecked Sendable {
        let outcome = ConditionLock<(code: Int32, detail: String)?>(nil)

        func finish(_ code: Int32, _ detail: String = "") {
            outcome.update(wakingAll: true) { if $0 == nil { $0 = (code, detail) } }
        }
    }

    let node: DistNode
    let engine: Engine
    let start: Start
    private var listener: UInt64 = 0
    private var epmdSocket: UInt64 = 0
    private var epmdAnswer: [UInt8] = []
    private var registered = false

    static let acceptsPerActivation: Int32 = 64
    /// The message the starting thread sends once the node is published.
    static let published: [UInt8] = Array("published".utf8)

    private init(node: DistNode, engine: Engine, start: Start) {
        self.node = node
        self.engine = engine
        self.start = start
    }

    static func spawn(node: DistNode, engine: Engine, start: Start) -> Int32 {
        let process = NodeProcess(node: node, engine: engine, start: start)
        let arg = Unmanaged.passRetained(process).toOpaque()
        let (code, pid) = engine.spawn(behavior: behavior, arg: arg, flags: 0, name: "net_kernel", mailboxLimit: 0,
                                       overflow: 0, monitorRef: nil)
        guard code == Code.ok else {
            Unmanaged<NodeProcess>.fromOpaque(arg).release()
            return code
        }
        node.processPid = pid
        return Code.ok
    }

    static let behavior = swerl_behavior(
        size: UInt32(MemoryLayout<swerl_behavior>.size),
        init: { ctx, arg, state in
            let process = Unmanaged<NodeProcess>.fromOpaque(arg!).takeUnretainedValue()
            state?.pointee = arg
            if let refusal = process.begin(UnsafeRawPointer(ctx)) {
                process.start.finish(refusal.0, refusal.1)
                Unmanaged<NodeProcess>.fromOpaque(arg!).release()
                return -1
            }
            return 0
        },
        handle: { ctx, message, state in
            let process = Unmanaged<NodeProcess>.fromOpaque(state!).takeUnretainedValue()
            return process.handle(UnsafeRawPointer(ctx), message!.pointee)
        },
        terminate: { _, _, state in
            let unmanaged = Unmanaged<NodeProcess>.fromOpaque(state!)
            unmanaged.takeUnretainedValue().start.finish(Code.stopped, "the node's process exited while starting")
            unmanaged.release()
        }
    )

    /// Listens (passive until the node is published), then registers with
    /// EPMD. A refusal: the code and its words.
    private func begin(_ ctx: UnsafeRawPointer?) -> (Int32, String)? {
        let selfPid = Engine.contextPid(ctx) ?? 0
        var options = Engine.defaultSocketOptions()
        options.active = 0
        let address = ConnectionProcess.address(node.options.listenHost, node.options.listenPort)
        let (code, id) = engine.socketListen(owner: selfPid, address: address, options: options)
        guard code == Code.ok else {
            return (code, "swerl_node_start: cannot listen on \(address): \(codeText(code))")
        }
        listener = id
        let (_, info) = engine.socketInfo(id)
        let local = withUnsafeBytes(of: info.local) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        node.listenPort = local.split(separator: ":").last.flatMap { UInt16($0) } ?? 0

        var epmdOptions = Engine.defaultSocketOptions()
        epmdOptions.active = Int32(SWERL_ACTIVE_ONCE)
        let (connectCode, epmd) = Engine.socketConnect(ctx, address: "127.0.0.1:\(node.options.epmdPort)",
                                                       timeoutMillis: node.options.connectTimeoutMillis,
                                                       options: epmdOptions)
        guard connectCode == Code.ok else { return (connectCode, "swerl_node_start: cannot reach EPMD") }
        epmdSocket = epmd
        return nil
    }

    private func handle(_ ctx: UnsafeRawPointer?, _ message: swerl_message) -> Int32 {
        let bytes = UnsafeRawBufferPointer(start: message.data, count: message.len)
        switch Int(message.kind) {
        case Int(SWERL_SOCKET_CONNECTED) where message.ref == epmdSocket:
            guard message.reason == 0 else {
                start.finish(Code.network, "swerl_node_start: no EPMD answers on 127.0.0.1 port \(node.options.epmdPort) "
                    + "(\(codeText(message.reason))): start one (epmd -daemon, or any erl starts it), or set "
                    + "swerl_node_opts.epmd_port / ERL_EPMD_PORT to the port yours uses")
                return Int32(SWERL_STOP)
            }
            let request = EPMD.aliveRequest(port: node.listenPort, name: node.alive)
            _ = request.withUnsafeBytes { Engine.socketSend(ctx, epmdSocket, $0) }
        case Int(SWERL_SOCKET_DATA) where message.ref == epmdSocket:
            epmdAnswer += bytes
            switch EPMD.aliveAnswer(epmdAnswer) {
            case .incomplete:
                _ = Engine.socketActivate(ctx, epmdSocket, Int32(SWERL_ACTIVE_ONCE))
            case .registered(let creation):
                node.creation = creation
                registered = true
                start.finish(Code.ok)
            case .refused(let result):
                start.finish(Code.nameTaken, "swerl_node_start: EPMD refused the name \(node.alive) (result \(result)): "
                    + "a node of that name is registered already on this host")
                return Int32(SWERL_STOP)
            case .malformed:
                start.finish(Code.network, "swerl_node_start: EPMD answered with something else than ALIVE2_RESP")
                return Int32(SWERL_STOP)
            }
        case Int(SWERL_SOCKET_CLOSED) where message.ref == epmdSocket:
            if !registered {
                start.finish(Code.network, "swerl_node_start: EPMD closed the connection before answering")
                return Int32(SWERL_STOP)
            }
            engine.report(level: Int(SWERL_LOG_ERROR), "node \(node.name): the connection to EPMD closed: other nodes "
                + "can no longer find this one by name (connections made stay up)")
        case Int(SWERL_MESSAGE) where message.from == 0 && Array(bytes) == Self.published:
            _ = Engine.socketActivate(ctx, listener, Self.acceptsPerActivation)
        case Int(SWERL_SOCKET_PASSIVE) where message.ref == listener:
            _ = Engine.socketActivate(ctx, listener, Self.acceptsPerActivation)
        case Int(SWERL_SOCKET_ACCEPTED):
            accept(ctx, socket: message.ref)
        case Int(SWERL_CALL):
            answer(message)
        default:
            break
        }
        return Int32(SWERL_CONTINUE)
    }

    /// A ConnectionProcess takes the accepted socket over; the message
    /// tells it that the socket is its own now.
    private func accept(_ ctx: UnsafeRawPointer?, socket: UInt64) {
        guard let pid = ConnectionProcess.accepting(node: node, engine: engine),
              Engine.socketSetOwner(ctx, socket, to: pid) == Code.ok else {
            _ = Engine.socketClose(ctx, socket)
            return
        }
        var id = socket
        _ = withUnsafeBytes(of: &id) { engine.send(to: pid, data: $0.baseAddress, count: $0.count, runtimeTraffic: true) }
    }

    /// net_kernel's calls: `{is_auth, Node}` (net_adm:ping) is `yes`.
    private func answer(_ message: swerl_message) {
        let bytes = UnsafeRawBufferPointer(start: message.data, count: message.len)
        let request = message.flags & SWERL_MESSAGE_TERM != 0 ? try? ExternalTermFormat.decode(bytes) : nil
        let reply: Term
        if case .tuple(let items) = request, items.count == 2, case .atom("is_auth") = items[0] {
            reply = .atom("yes")
        } else {
            reply = .tuple([.atom("error"), .atom("not_supported")])
        }
        let encoded = ExternalTermFormat.encode(reply)
        _ = encoded.withUnsafeBytes { engine.reply(message.ref, data: $0, term: true) }
    }
}
