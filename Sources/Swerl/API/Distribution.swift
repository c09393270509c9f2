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
    /// `tick` in milliseconds. Deprecated: use `tick`.
    @available(*, deprecated, renamed: "tick")
    public var tickMilliseconds: UInt32 {
        get { tick.clampedRuntimeMilliseconds }
        set { tick = .milliseconds(Int64(newValue)) }
    }
    /// `connectTimeout` in milliseconds. Deprecated: use `connectTimeout`.
    @available(*, deprecated, renamed: "connectTimeout")
    public var connectTimeoutMilliseconds: UInt32 {
        get { connectTimeout.clampedRuntimeMilliseconds }
        set { connectTimeout = .milliseconds(Int64(newValue)) }
    }
    /// When no EPMD answers, serve one in this runtime (on loopback), for a
    /// machine without Erlang.
    public var startEPMD = false

    /// Options with `cookie` (nil: `~/.erlang.cookie`) and the defaults.
    ///
    /// - Parameter cookie: 1 to 255 printable ASCII characters, no spaces;
    ///   nil: `~/.erlang.cookie`.
    public init(cookie: String? = nil) { self.cookie = cookie }
}

extension Runtime {
    /// Makes this runtime the node `name` ("name@host") of an Erlang cluster:
    /// registers with EPMD and returns once it has answered. Then processes
    /// of other nodes are `Pid`s like any other: messages, links, monitors
    /// and calls reach them (an Elixir `GenServer.call({:kv, :"name@host"},
    /// ...)` arrives as a `.call` message). Blocks: not from a handler.
    ///
    /// - Parameters:
    ///   - name: The node's name, `name@host` or `name` (this host's short name).
    ///   - options: Cookie, ports, tick and EPMD.
    /// - Throws: `invalidArgument` (not a node name, a bad cookie, no cookie
    ///   and no `~/.erlang.cookie`, a node already, a negative `tick` or
    ///   `connectTimeout`), `nameTaken` (EPMD has a node of that name, or a
    ///   process is registered as net_kernel), `network` (no EPMD answers;
    ///   with `startEPMD`, its EPMD could not listen), `addressInUse` (the
    ///   listen port), `timedOut`, `insideProcess`, `stopped`.
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
    ///
    /// - Parameters:
    ///   - node: The node's name, `name@host`; this node's own name is no error.
    ///   - timeout: How long to wait for the connection.
    /// - Throws: `timedOut`, `network` (it could not be made: no such node
    ///   at its host's EPMD, a wrong cookie; the log says why),
    ///   `invalidArgument` (not a node, not a node name, a negative timeout),
    ///   `insideProcess`, `stopped`.
    public func connect(node: String, timeout: Duration = .seconds(7)) throws(SwerlError) {
        try SwerlError.check(engine.connectNode(node, timeoutMillis: try timeout.runtimeMilliseconds("connect")))
    }

    /// Connects to `node`, the timeout in milliseconds. Deprecated: use
    /// `connect(node:timeout:)`.
    ///
    /// - Parameters:
    ///   - node: The node's name, `name@host`.
    ///   - timeoutMilliseconds: How long to wait; `SWERL_INFINITY`: no limit.
    /// - Throws: As `connect(node:timeout:)`.
    @available(*, deprecated, renamed: "connect(node:timeout:)")
    public func connect(node: String, timeoutMilliseconds: UInt32) throws(SwerlError) {
        try SwerlError.check(engine.connectNode(node, timeoutMillis: timeoutMilliseconds))
    }

    /// The nodes connected now.
    public var connectedNodes: [String] { engine.connectedNodes() }

    /// The node `pid` belongs to (this node's for a local pid), or nil for
    /// a pid this runtime never saw.
    ///
    /// - Parameter pid: A local or remote pid.
    /// - Returns: Its node's name ("nonode@nohost" for a local pid before
    ///   `startNode`), or nil.
    public func node(of pid: Pid) -> String? { engine.nodeOf(pid.rawValue) }

    /// `{name, node} ! bytes`: to the process registered as `name` on
    /// `node`, as an Erlang binary. As Erlang's `!`, a send to a node that
    /// cannot be reached is dropped without an error.
    ///
    /// - Parameters:
    ///   - bytes: The message; copied before the call returns.
    ///   - name: The receiver's registered name on `node`.
    ///   - node: The node's name, `name@host`; may be this node's.
    /// - Throws: `invalidArgument` (this runtime is not a node, `node` is
    ///   not a node name), `nameNotRegistered` (this node, no such name),
    ///   `messageTooBig`, `stopped`; for this node also as `send(_:to:)`.
    public func send(_ bytes: some MessagePayload, to name: String, on node: String) throws(SwerlError) {
        try SwerlError.check(bytes.withPayloadBytes { engine.sendRemote(name: name, node: node, bytes: $0, term: false) })
    }

    /// `{name, node} ! term`.
    ///
    /// - Parameters:
    ///   - term: The term, sent in External Term Format.
    ///   - name: The receiver's registered name on `node`.
    ///   - node: The node's name, `name@host`; may be this node's.
    /// - Throws: As `send(_:to:on:)`, and `invalidArgument` for a term
    ///   nested deeper than 512.
    public func send(term: Term, to name: String, on node: String) throws(SwerlError) {
        let bytes = ExternalTermFormat.encode(term)
        try SwerlError.check(bytes.withUnsafeBytes { engine.sendRemote(name: name, node: node, bytes: $0, term: true) })
    }

    /// Answers a call with a term (an Erlang caller gets the term itself).
    ///
    /// - Parameters:
    ///   - call: The ref of the `.call` message being answered.
    ///   - term: The answer; a Swerl caller gets it as a term message.
    /// - Returns: false when nobody waits for the answer any more, else true.
    /// - Throws: `invalidArgument` (a term nested deeper than 512),
    ///   `messageTooBig`, `stopped`.
    @discardableResult
    public func reply(_ call: Ref, with term: Term) throws(SwerlError) -> Bool {
        let bytes = ExternalTermFormat.encode(term)
        return try SwerlError.answered(bytes.withUnsafeBytes { engine.replyTerm(call.rawValue, bytes: $0) })
    }
}

extension Context {
    /// `{name, node} ! bytes` from this process.
    ///
    /// - Parameters:
    ///   - bytes: The message; copied before the call returns.
    ///   - name: The receiver's registered name on `node`.
    ///   - node: The node's name, `name@host`; may be this node's.
    /// - Throws: `contextOutsideCallback`, and as `Runtime.send(_:to:on:)`.
    public func send(_ bytes: some MessagePayload, to name: String, on node: String) throws(SwerlError) {
        let engine = try checked().engine
        try SwerlError.check(bytes.withPayloadBytes { engine.sendRemote(name: name, node: node, bytes: $0, term: false) })
    }

    /// `{name, node} ! term` from this process.
    ///
    /// - Parameters:
    ///   - term: The term, sent in External Term Format.
    ///   - name: The receiver's registered name on `node`.
    ///   - node: The node's name, `name@host`; may be this node's.
    /// - Throws: `contextOutsideCallback`, and as `Runtime.send(term:to:on:)`.
    public func send(term: Term, to name: String, on node: String) throws(SwerlError) {
        let engine = try checked().engine
        let bytes = ExternalTermFormat.encode(term)
        try SwerlError.check(bytes.withUnsafeBytes { engine.sendRemote(name: name, node: node, bytes: $0, term: true) })
    }

    /// Answers a `.call` message with a term.
    ///
    /// - Parameters:
    ///   - call: The `.call` message to answer.
    ///   - term: The answer; an Erlang caller gets the term itself.
    /// - Returns: false when nobody waits for the answer any more, else true.
    /// - Throws: `invalidArgument` (not a `.call`, a term nested deeper than
    ///   512), `contextOutsideCallback`, `messageTooBig`, `stopped`.
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
    ///
    /// - Parameter on: true to get them, false to stop them.
    /// - Throws: `invalidArgument` (this runtime is not a node),
    ///   `contextOutsideCallback`.
    public func monitorNodes(_ on: Bool = true) throws(SwerlError) {
        try SwerlError.check(Engine.monitorNodes(UnsafeRawPointer(raw), on))
    }

    /// Monitors the process registered as `name` on `node`; its DOWN has
    /// no pid (from 0). Its reason is `noProcess` when nobody has the name,
    /// `noConnection` when the node cannot be reached.
    ///
    /// - Parameters:
    ///   - name: The registered name on `node`.
    ///   - node: The node's name, `name@host`; may be this node's.
    /// - Returns: The monitor's ref, which its `.down` message carries.
    /// - Throws: `invalidArgument` (this runtime is not a node, `node` is not
    ///   a node name), `outOfMemory`, `contextOutsideCallback`.
    public func monitor(name: String, on node: String) throws(SwerlError) -> Ref {
        let (code, ref) = Engine.monitorName(UnsafeRawPointer(raw), name, node: node)
        try SwerlError.check(code)
        return Ref(rawValue: ref)
    }
}
