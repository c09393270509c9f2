import CSwerl

/// How a runtime joins an Erlang cluster (`Runtime.startNode`).
public struct NodeOptions: Sendable {
    /// nil: `~/.erlang.cookie`, made as erl makes it when missing. The
    /// cookie is authentication, not encryption.
    public var cookie: String?
    /// Where it listens: every interface by default, as erl does.
    public var listenHost: String = "0.0.0.0"
    /// 0: any free port (EPMD tells the other nodes which).
    public var listenPort: UInt16 = 0
    /// 0: `ERL_EPMD_PORT`, else 4369.
    public var epmdPort: UInt16 = 0
    /// net_ticktime: a peer silent this long is down.
    public var tick: Duration = .seconds(60)
    /// How long a connection attempt may take.
    public var connectTimeout: Duration = .seconds(7)
    @available(*, deprecated, renamed: "tick")
    public var tickMilliseconds: UInt32 {
        get { tick.clampedRuntimeMilliseconds }
        set { tick = .milliseconds(Int64(newValue)) }
    }
    @available(*, deprecated, renamed: "connectTimeout")
    public var connectTimeoutMilliseconds: UInt32 {
        get { connectTimeout.clampedRuntimeMilliseconds }
        set { connectTimeout = .milliseconds(Int64(newValue)) }
    }
    /// When no EPMD answers, serve one in this runtime (on loopback), for a
    /// machine without Erlang.
    public var startEPMD = false

    /// Options with `cookie` (nil: `~/.erlang.cookie`) and the defaults.
    public init(cookie: String? = nil) { self.cookie = cookie }
}

extension Runtime {
    /// Makes this runtime the node `name` ("name@host") of an Erlang cluster:
    /// registers with EPMD and returns once it has answered. Then processes
    /// of other nodes are `Pid`s like any other: messages, links, monitors
    /// and calls reach them (an Elixir `GenServer.call({:kv, :"name@host"},
    /// ...)` arrives as a `.call` message). Blocks: not from a handler.
    public func startNode(_ name: String, options: NodeOptions = NodeOptions()) throws(SwerlError) {
        var given = Engine.NodeOptions()
        given.cookie = options.cookie
        given.listenHost = options.listenHost
        given.listenPort = options.listenPort
        given.epmdPort = options.epmdPort
        given.tickMillis = try options.tick.runtimeMilliseconds("NodeOptions.tick")
        given.connectTimeoutMillis = try options.connectTimeout.runtimeMilliseconds("NodeOptions.connectTimeout")
        given.startEPMD = options.startEPMD
        try SwerlError.check(engine.startNode(name: name, options: given))
    }

    /// This node's name, or nil when the runtime is not a node.
    public var nodeName: String? { engine.nodeName }

    /// Connects to `node` now (net_kernel:connect_node), waiting at most
    /// `timeout`. Blocks: not from a handler.
    public func connect(node: String, timeout: Duration = .seconds(7)) throws(SwerlError) {
        try SwerlError.check(engine.connectNode(node, timeoutMillis: try timeout.runtimeMilliseconds("connect")))
    }

    @available(*, deprecated, renamed: "connect(node:timeout:)")
    public func connect(node: String, timeoutMilliseconds: UInt32) throws(SwerlError) {
        try SwerlError.check(engine.connectNode(node, timeoutMillis: timeoutMilliseconds))
    }

    /// The nodes connected now.
    public var connectedNodes: [String] { engine.connectedNodes() }

    /// The node `pid` belongs to (this node's for a local pid), or nil for
    /// a pid this runtime never saw.
    public func node(of pid: Pid) -> String? { engine.nodeOf(pid.rawValue) }

    /// `{name, node} ! bytes`: to the process registered as `name` on
    /// `node`, as an Erlang binary.
    public func send(_ bytes: some MessagePayload, to name: String, on node: String) throws(SwerlError) {
        try SwerlError.check(bytes.withPayloadBytes { engine.sendRemote(name: name, node: node, bytes: $0, term: false) })
    }

    /// `{name, node} ! term`.
    public func send(term: Term, to name: String, on node: String) throws(SwerlError) {
        let bytes = ExternalTermFormat.encode(term)
        try SwerlError.check(bytes.withUnsafeBytes { engine.sendRemote(name: name, node: node, bytes: $0, term: true) })
    }

    /// Answers a call with a term (an Erlang caller gets the term itself).
    @discardableResult
    public func reply(_ call: Ref, with term: Term) throws(SwerlError) -> Bool {
        let bytes = ExternalTermFormat.encode(term)
        return try SwerlError.answered(bytes.withUnsafeBytes { engine.replyTerm(call.rawValue, bytes: $0) })
    }
}

extension Context {
    /// `{name, node} ! bytes` from this process.
    public func send(_ bytes: some MessagePayload, to name: String, on node: String) throws(SwerlError) {
        let engine = try checked().engine
        try SwerlError.check(bytes.withPayloadBytes { engine.sendRemote(name: name, node: node, bytes: $0, term: false) })
    }

    /// `{name, node} ! term` from this process.
    public func send(term: Term, to name: String, on node: String) throws(SwerlError) {
        let engine = try checked().engine
        let bytes = ExternalTermFormat.encode(term)
        try SwerlError.check(bytes.withUnsafeBytes { engine.sendRemote(name: name, node: node, bytes: $0, term: true) })
    }

    /// Answers a `.call` message with a term.
    @discardableResult
    public func reply(to call: Message, with term: Term) throws(SwerlError) -> Bool {
        guard call.kind == .call, let ref = call.ref else {
            throw SwerlError(.invalidArgument, detail: "reply(to:with:): the message is not a CALL")
        }
        let engine = try checked().engine
        let bytes = ExternalTermFormat.encode(term)
        return try SwerlError.answered(bytes.withUnsafeBytes { engine.replyTerm(ref.rawValue, bytes: $0) })
    }

    /// Be told `{nodeup, Node}` and `{nodedown, Node}` (term messages) as
    /// connections to other nodes come and go (net_kernel:monitor_nodes).
    public func monitorNodes(_ on: Bool = true) throws(SwerlError) {
        try SwerlError.check(Engine.monitorNodes(UnsafeRawPointer(raw), on))
    }

    /// Monitors the process registered as `name` on `node`; its DOWN has
    /// no pid (from 0).
    public func monitor(name: String, on node: String) throws(SwerlError) -> Ref {
        let (code, ref) = Engine.monitorName(UnsafeRawPointer(raw), name, node: node)
        try SwerlError.check(code)
        return Ref(rawValue: ref)
    }
}
