import CSwerl

/// A socket owned by a process (swerl.h "Sockets"). Its events come to its
/// owner as messages of the `socket…` kinds, with the socket in
/// `message.socket`.
public struct Socket: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C `swerl_socket` value.
    public let rawValue: UInt64

    /// The socket of a C `swerl_socket`: nothing checks it.
    ///
    /// - Parameter rawValue: The C value; 0 is never a socket.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Printed as `#Socket<n>`.
    public var description: String { "#Socket<\(rawValue)>" }
}

/// How many messages a socket may send its owner before it stops reading
/// (gen_tcp's `{active, …}`).
public enum SocketActivity: Sendable, Equatable {
    /// None: the socket does not read (TCP pushes back on the peer).
    case passive
    /// One message, then passive.
    case once
    /// N more messages, then passive and a `socketPassive` message.
    case count(Int32)

    var raw: Int32 {
        switch self {
        case .passive: return 0
        case .once: return Int32(SWERL_ACTIVE_ONCE)
        case .count(let n): return n
        }
    }
}

/// A listener's or a connection's options (those of a listener are the ones
/// of the connections it accepts, which start passive).
public struct SocketOptions: Sendable {
    /// Framing done by the runtime.
    public enum Packet: UInt32, Sendable {
        /// What each read got.
        case raw = 0
        /// A big-endian length of 1, 2 or 4 bytes, then the payload; a send
        /// adds the length.
        case one = 1, two = 2, four = 4
        /// One line, its "\n" included.
        case line = 8
    }

    /// How the byte stream is cut into messages: raw chunks, length-prefixed frames, lines.
    public var packet: Packet = .raw
    /// A connection's activity to start with; a listener's: accepts.
    public var active: SocketActivity = .passive
    /// TCP_NODELAY: small writes are not held back.
    public var noDelay = true
    /// SO_KEEPALIVE.
    public var keepAlive = false
    /// SO_REUSEADDR: a listener may bind a port still in TIME_WAIT.
    public var reuseAddress = true
    /// Keep sending after the peer closed its side.
    public var halfClose = false
    /// An IPv6 listener takes IPv6 connections only.
    public var ipv6Only = false
    /// The longest frame or line (0: 1 MiB).
    public var maxFrame: UInt32 = 0
    /// A listener's queue of connections not yet accepted (0: the system's).
    public var backlog: UInt32 = 0
    /// A listener's connections open at once (0: no limit).
    public var maxConnections: UInt32 = 0
    /// SO_RCVBUF (0: the system's).
    public var receiveBuffer: UInt32 = 0
    /// SO_SNDBUF (0: the system's).
    public var sendBuffer: UInt32 = 0
    /// Bytes queued for sending at most (0: 4 MiB).
    public var sendQueueMax: UInt64 = 0

    /// The defaults: raw, passive, no delay, address reuse.
    public init() {}

    var raw: swerl_socket_opts {
        var options = Engine.defaultSocketOptions()
        options.packet = packet.rawValue
        options.active = active.raw
        var flags: UInt32 = 0
        if noDelay { flags |= UInt32(SWERL_SOCKET_NODELAY) }
        if keepAlive { flags |= UInt32(SWERL_SOCKET_KEEPALIVE) }
        if reuseAddress { flags |= UInt32(SWERL_SOCKET_REUSEADDR) }
        if halfClose { flags |= UInt32(SWERL_SOCKET_HALF_CLOSE) }
        if ipv6Only { flags |= UInt32(SWERL_SOCKET_IPV6_ONLY) }
        options.flags = flags
        options.max_frame = maxFrame
        options.backlog = backlog
        options.max_connections = maxConnections
        options.recv_buffer = receiveBuffer
        options.send_buffer = sendBuffer
        options.send_queue_max = sendQueueMax
        return options
    }
}

/// A snapshot of a socket (`Runtime.socketInfo`).
public struct SocketInfo: Sendable {
    /// Whether it is a listener (else a connection).
    public let isListener: Bool
    /// The process its events go to.
    public let owner: Pid
    /// "127.0.0.1:8080", "[::1]:8080", "unix:/path".
    public let local: String
    /// The other end ("" for a listener).
    public let peer: String
    /// Bytes read so far.
    public let bytesReceived: UInt64
    /// Bytes written so far.
    public let bytesSent: UInt64
    /// Bytes waiting to be written.
    public let sendQueued: UInt64
    /// A listener's connections open now.
    public let connections: UInt32

    /// The port of `local` (0 for a Unix socket).
    public var port: Int { Int(local.split(separator: ":").last ?? "") ?? 0 }

    init(_ raw: swerl_socket_info) {
        isListener = raw.type == UInt32(SWERL_SOCKET_LISTENER)
        owner = Pid(rawValue: raw.owner)
        local = Self.text(raw.local)
        peer = Self.text(raw.peer)
        bytesReceived = raw.bytes_received
        bytesSent = raw.bytes_sent
        sendQueued = raw.send_queued
        connections = raw.connections
    }

    private static func text<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension Message {
    /// The socket a `socket…` message is about.
    public var socket: Socket? {
        guard kind.rawValue >= Kind.socketData.rawValue, let ref else { return nil }
        return Socket(rawValue: ref.rawValue)
    }

    /// `socketClosed` and `socketConnected`: why it failed (nil: the peer
    /// closed, or connected).
    public var socketError: SwerlError? {
        (kind == .socketClosed || kind == .socketConnected) && rawReason < 0
            ? SwerlError(.init(rawValue: rawReason), detail: text) : nil
    }
}

extension Context {
    /// Listens on `address` for this process: each connection comes as a
    /// `socketAccepted` message while the listener is active.
    ///
    /// - Parameters:
    ///   - address: "127.0.0.1:8080", "[::1]:8080", "localhost:8080" or
    ///     "unix:/path"; port 0 asks the system for one.
    ///   - options: The listener's, and its connections' to start with.
    /// - Returns: The listener, bound and listening.
    /// - Throws: `contextOutsideCallback`, and as `Runtime.listen(_:owner:options:)`.
    public func listen(_ address: String, options: SocketOptions = SocketOptions()) throws(SwerlError) -> Socket {
        try runtime.listen(address, owner: pid, options: options)
    }

    /// Connects from this process; the outcome comes as `socketConnected`
    /// (within `timeout`). Sends before it are queued.
    ///
    /// - Parameters:
    ///   - address: "127.0.0.1:8080", "[::1]:8080", "localhost:8080" or
    ///     "unix:/path". A name is resolved on this thread: prefer numbers.
    ///   - timeout: How long the connect may take; then `socketConnected`
    ///     says `timedOut`.
    ///   - options: The connection's options.
    /// - Returns: The socket, connecting. A refused or failed connect comes
    ///   as `socketConnected` with its error, and the socket is gone.
    /// - Throws: `invalidArgument` (a bad address, option or timeout),
    ///   `processLimit` (2^20 sockets open), `contextOutsideCallback`, `stopped`.
    public func connect(_ address: String, timeout: Duration = .seconds(5),
                        options: SocketOptions = SocketOptions()) throws(SwerlError) -> Socket {
        try connect(address, milliseconds: try timeout.runtimeMilliseconds("connect"), options: options)
    }

    /// Connects from this process, the timeout in milliseconds. Deprecated:
    /// use `connect(_:timeout:options:)`.
    ///
    /// - Parameters:
    ///   - address: The address to connect to.
    ///   - timeoutMilliseconds: How long the connect may take;
    ///     `SWERL_INFINITY`: the system's limit.
    ///   - options: The connection's options.
    /// - Returns: The socket, connecting.
    /// - Throws: As `connect(_:timeout:options:)`.
    @available(*, deprecated, renamed: "connect(_:timeout:options:)")
    public func connect(_ address: String, timeoutMilliseconds: UInt32,
                        options: SocketOptions = SocketOptions()) throws(SwerlError) -> Socket {
        try connect(address, milliseconds: timeoutMilliseconds, options: options)
    }

    private func connect(_ address: String, milliseconds: UInt32, options: SocketOptions) throws(SwerlError)
        -> Socket
    {
        let (code, id) = Engine.socketConnect(UnsafeRawPointer(raw), address: address,
                                              timeoutMillis: milliseconds, options: options.raw)
        try SwerlError.check(code)
        return Socket(rawValue: id)
    }

    /// Sends on a socket this process owns (framed as its packet option
    /// says). `sendQueueFull` when too much waits: `socketWritable` follows.
    ///
    /// - Parameters:
    ///   - bytes: The data; what the kernel does not take at once is copied
    ///     and queued.
    ///   - socket: A connection this process owns.
    /// - Throws: `sendQueueFull` (nothing was sent), `invalidArgument` (too
    ///   long for the length prefix), `notSupported` (a listener),
    ///   `noSocket`, `notOwner`, `contextOutsideCallback`, `stopped`.
    public func send(_ bytes: some MessagePayload, on socket: Socket) throws(SwerlError) {
        let code = bytes.withPayloadBytes { Engine.socketSend(UnsafeRawPointer(raw), socket.rawValue, $0) }
        try SwerlError.check(code)
    }

    /// Lets messages come: one (the default), N, or none.
    ///
    /// - Parameters:
    ///   - socket: A socket this process owns: data from a connection,
    ///     `socketAccepted` from a listener.
    ///   - activity: How many more messages; `.passive` stops them.
    /// - Throws: `invalidArgument` (a count below 0), `noSocket`, `notOwner`,
    ///   `contextOutsideCallback`, `stopped`.
    public func activate(_ socket: Socket, _ activity: SocketActivity = .once) throws(SwerlError) {
        try SwerlError.check(Engine.socketActivate(UnsafeRawPointer(raw), socket.rawValue, activity.raw))
    }

    /// Closes the socket once what was queued is written (5 s at most); no
    /// message about it follows.
    ///
    /// - Parameter socket: A socket this process owns.
    /// - Throws: `noSocket`, `notOwner`, `contextOutsideCallback`, `stopped`.
    public func close(_ socket: Socket) throws(SwerlError) {
        try SwerlError.check(Engine.socketClose(UnsafeRawPointer(raw), socket.rawValue))
    }

    /// Closes the sending side after the queue; reading goes on.
    ///
    /// - Parameter socket: A connection this process owns.
    /// - Throws: `notSupported` (a listener), `noSocket`, `notOwner`,
    ///   `contextOutsideCallback`, `stopped`.
    public func shutdown(_ socket: Socket) throws(SwerlError) {
        try SwerlError.check(Engine.socketShutdown(UnsafeRawPointer(raw), socket.rawValue))
    }

    /// Hands the socket to another process (gen_tcp's controlling_process).
    /// Messages already sent to this process stay here.
    ///
    /// - Parameters:
    ///   - socket: A socket this process owns.
    ///   - pid: The new owner.
    /// - Throws: `noProcess` (the new owner is not alive), `noSocket`,
    ///   `notOwner`, `contextOutsideCallback`, `stopped`.
    public func setOwner(of socket: Socket, to pid: Pid) throws(SwerlError) {
        try SwerlError.check(Engine.socketSetOwner(UnsafeRawPointer(raw), socket.rawValue, to: pid.rawValue))
    }
}

extension Runtime {
    /// Listens on `address` for process `owner` (from any thread).
    ///
    /// - Parameters:
    ///   - address: "127.0.0.1:8080", "[::1]:8080", "localhost:8080" or
    ///     "unix:/path"; port 0 asks the system for one.
    ///   - owner: The process that gets the listener's messages.
    ///   - options: The listener's, and its connections' to start with.
    /// - Returns: The listener, bound and listening.
    /// - Throws: `invalidArgument` (a bad address or option), `noProcess`
    ///   (the owner is not alive), `addressInUse`, `network` (another
    ///   system error, in words), `processLimit` (2^20 sockets open), `stopped`.
    public func listen(_ address: String, owner: Pid, options: SocketOptions = SocketOptions()) throws(SwerlError)
        -> Socket
    {
        let (code, id) = engine.socketListen(owner: owner.rawValue, address: address, options: options.raw)
        try SwerlError.check(code)
        return Socket(rawValue: id)
    }

    /// The socket now, or nil when it is not open.
    ///
    /// - Parameter socket: Any socket of this runtime.
    /// - Returns: A snapshot, or nil (closed, never opened, or a stopped runtime).
    public func socketInfo(_ socket: Socket) -> SocketInfo? {
        let (code, info) = engine.socketInfo(socket.rawValue)
        return code == 0 ? SocketInfo(info) : nil
    }
}
