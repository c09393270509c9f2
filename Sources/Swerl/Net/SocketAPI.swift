// The socket operations every front end uses (swerl.h "Sockets"): checks,
// the owner rule, and the route to the socket's loop: run at once when the
// calling thread holds the socket's scheduler, else as a command to it.

import CLibUV
import CSwerl
import Glibc

extension Engine {
    // MARK: Options

    package static func defaultSocketOptions() -> swerl_socket_opts {
        var options = swerl_socket_opts()
        options.size = UInt32(MemoryLayout<swerl_socket_opts>.size)
        options.flags = UInt32(SWERL_SOCKET_NODELAY) | UInt32(SWERL_SOCKET_REUSEADDR)
        return options
    }

    /// nil, or the EINVAL naming what is wrong.
    private func invalidOptions(_ options: swerl_socket_opts, in function: String) -> Int32? {
        let known = UInt32(SWERL_SOCKET_NODELAY | SWERL_SOCKET_KEEPALIVE | SWERL_SOCKET_REUSEADDR
                           | SWERL_SOCKET_HALF_CLOSE | SWERL_SOCKET_IPV6_ONLY)
        if !Self.isPacket(Int64(options.packet)) {
            return ErrorDetail.failing(Code.invalid, "\(function): packet \(options.packet) is not a SWERL_PACKET_* value")
        }
        if options.active < Int32(SWERL_ACTIVE_ONCE) {
            return ErrorDetail.failing(Code.invalid, "\(function): active \(options.active): 0 (passive), "
                + "SWERL_ACTIVE_ONCE or a count above 0")
        }
        if options.flags & ~known != 0 {
            return ErrorDetail.failing(Code.invalid, "\(function): unknown flags 0x\(String(options.flags & ~known, radix: 16))")
        }
        if options.reserved != 0 { return ErrorDetail.failing(Code.invalid, "\(function): reserved must be 0") }
        return nil
    }

    static func isPacket(_ value: Int64) -> Bool {
        [SWERL_PACKET_RAW, SWERL_PACKET_1, SWERL_PACKET_2, SWERL_PACKET_4, SWERL_PACKET_LINE].contains(Int(value))
    }

    // MARK: Opening

    /// swerl_socket_listen: the socket is bound and listening when this
    /// returns, so every error is the caller's at once.
    package func socketListen(owner: UInt64, address text: String, options: swerl_socket_opts) -> (Int32, UInt64) {
        let function = "swerl_socket_listen"
        if let invalid = invalidOptions(options, in: function) { return (invalid, 0) }
        if isStopped { return (Code.stopped, 0) }
        guard table.lookup(owner) != nil else { return (absent(owner), 0) }
        let (parsed, why) = SocketAddress.parse(text)
        guard let address = parsed else { return (ErrorDetail.failing(Code.invalid, "\(function): \"\(text)\": \(why)"), 0) }
        let (fd, code) = Self.listeningDescriptor(address, options: options, text: text)
        guard fd >= 0 else { return (code, 0) }
        guard let (socket, id) = sockets.allocate() else {
            Glibc.close(fd)
            return (ErrorDetail.failing(Code.limit, "\(function): every one of \(SocketTable.capacity) sockets is open"), 0)
        }
        socket.isListener = true
        socket.isUnix = address.path != nil
        socket.unixPath = address.path
        socket.apply(options)
        socket.options = options
        socket.fd.store(fd, ordering: .relaxed)
        socket.home = homeForNewSocket(owner: owner)
        guard sockets.publish(socket, id: id, owner: owner, isAlive: { self.table.lookup($0) != nil }) else {
            Glibc.close(fd)
            if let path = address.path { Glibc.unlink(path) }
            sockets.free(socket)
            return (absent(owner), 0)
        }
        onLoop(socket, id) { socket in self.loopSockets(of: socket).openListener(socket, fd: fd) }
        return (Code.ok, id)
    }

    /// socket(), options, bind(), listen(): a descriptor, or -1 and the code.
    private static func listeningDescriptor(_ address: SocketAddress, options: swerl_socket_opts,
                                            text: String) -> (Int32, Int32) {
        let function = "swerl_socket_listen"
        let fd = socket(address.domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                        | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (-1, systemError(function, "socket()", errno)) }
        var one: Int32 = 1
        if address.path == nil {
            if options.flags & UInt32(SWERL_SOCKET_REUSEADDR) != 0 {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            if address.domain == AF_INET6 {
                var only: Int32 = options.flags & UInt32(SWERL_SOCKET_IPV6_ONLY) != 0 ? 1 : 0
                setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &only, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        let backlog = Int32(options.backlog == 0 ? 1024 : min(options.backlog, UInt32(Int32.max)))
        if bound != 0 || listen(fd, backlog) != 0 {
            let error = errno
            Glibc.close(fd)
            if error == EADDRINUSE {
                return (-1, ErrorDetail.failing(Code.addressInUse, "\(function): \"\(text)\" is in use"
                    + (address.path != nil ? " (a Unix socket's path must not exist: remove it first)" : "")))
            }
            return (-1, systemError(function, "\"\(text)\"", error))
        }
        return (fd, Code.ok)
    }

    private static func systemError(_ function: String, _ what: String, _ error: Int32) -> Int32 {
        ErrorDetail.failing(Code.network, "\(function): \(what): \(String(cString: strerror(error)))")
    }

    /// swerl_socket_connect, from the calling process (its owner).
    func socketConnect(_ context: ContextPointer, address text: String, timeoutMillis: UInt32,
                               options: swerl_socket_opts) -> (Int32, UInt64) {
        let function = "swerl_socket_connect"
        if let invalid = invalidOptions(options, in: function) { return (invalid, 0) }
        if isStopped { return (Code.stopped, 0) }
        let (parsed, why) = SocketAddress.parse(text)
        guard let address = parsed else { return (ErrorDetail.failing(Code.invalid, "\(function): \"\(text)\": \(why)"), 0) }
        guard let (socket, id) = sockets.allocate() else {
            return (ErrorDetail.failing(Code.limit, "\(function): every one of \(SocketTable.capacity) sockets is open"), 0)
        }
        socket.isUnix = address.path != nil
        socket.apply(options)
        socket.options = options
        socket.connecting.store(true, ordering: .relaxed)
        socket.home = homeForNewSocket(owner: context.selfPid)
        guard sockets.publish(socket, id: id, owner: context.selfPid, isAlive: { self.table.lookup($0) != nil }) else {
            sockets.free(socket)
            return (Code.noProcess, 0)
        }
        onLoop(socket, id) { socket in
            self.loopSockets(of: socket).connect(socket, to: address, timeoutMillis: timeoutMillis)
        }
        return (Code.ok, id)
    }

    /// A new socket's loop: its owner's scheduler, where the owner's calls
    /// then run at once (no command, no wake-up across threads); else the
    /// calling worker's, else the next in turn.
    private func homeForNewSocket(owner: UInt64) -> Int {
        if let process = table.lookup(owner) {
            let home = process.pointee.lastScheduler.load(ordering: .relaxed)
            if home != ProcessBlock.blockingHome && Int(home) < schedulers.count { return Int(home) }
        }
        if let index = Worker.current(of: self)?.schedulerIndex { return index }
        return roundRobin.add(1, ordering: .relaxed).oldValue % schedulers.count
    }

    func loopSockets(of socket: SocketState) -> LoopSockets { schedulers[socket.home].sockets }

    /// Runs `action` on the socket's loop: now, if this thread holds it
    /// (after the commands other threads posted before, so that what is
    /// asked of a socket happens in order); else as a command (which finds
    /// the socket only if `id` still names it).
    func onLoop(_ socket: SocketState, _ id: UInt64, _ action: @escaping (SocketState) -> Void) {
        if runNow(on: socket, { action(socket) }) { return }
        schedulers[socket.home].sockets.post(SocketCommand(socket: socket, id: id, action: action))
    }

    /// Runs `body` now if this thread holds the socket's scheduler, the
    /// commands posted before it first; false otherwise.
    private func runNow(on socket: SocketState, _ body: () -> Void) -> Bool {
        guard let worker = Worker.current(of: self) else { return false }
        return worker.runHolding(socket.home) {
            let loop = loopSockets(of: socket)
            loop.runCommands()
            body()
        }
    }

    /// The open socket `id` if `caller` owns it; else nil and the code.
    private func ownedSocket(_ id: UInt64, by caller: UInt64, in function: String) -> (SocketState?, Int32) {
        if isStopped { return (nil, Code.stopped) }
        guard let socket = sockets.lookup(id), socket.isOpen(id) else {
            return (nil, ErrorDetail.failing(Code.noSocket, "\(function): socket \(id) is not open here (closed, "
                + "never opened, or another runtime's)"))
        }
        let owner = socket.owner.load(ordering: .acquiring)
        guard owner == caller else {
            return (nil, ErrorDetail.failing(Code.notOwner, "\(function): socket \(id) belongs to \(Pids.format(owner)), "
                + "not to the calling process \(Pids.format(caller)) (swerl_socket_set_owner hands it on)"))
        }
        return (socket, Code.ok)
    }

    // MARK: Using

    func socketSend(_ context: ContextPointer, _ id: UInt64, _ data: UnsafeRawBufferPointer) -> Int32 {
        let function = "swerl_socket_send"
        let (found, code) = ownedSocket(id, by: context.selfPid, in: function)
        guard let socket = found else { return code }
        if socket.isListener { return ErrorDetail.failing(Code.notSupported, "\(function): socket \(id) is a listener") }
        let packet = socket.packetShown.load(ordering: .relaxed)
        guard let header = Framing.header(packet: packet, length: data.count) else {
            return ErrorDetail.failing(Code.invalid, "\(function): \(data.count) bytes do not fit a \(packet)-byte length prefix")
        }
        let total = header.count + data.count
        guard total > 0 else { return Code.ok }
        let limit = socket.sendQueueMax.load(ordering: .relaxed)
        // One send larger than the limit still goes when nothing is queued,
        // or it could never go.
        if socket.queued.load(ordering: .relaxed) > 0 && socket.queued.load(ordering: .relaxed) + total > limit {
            // sequentiallyConsistent: the Dekker pair with LoopSockets.finishWrite.
            socket.wantWritable.store(true, ordering: .sequentiallyConsistent)
            let queued = socket.queued.load(ordering: .sequentiallyConsistent)
            if queued > 0 && queued + total > limit {
                return ErrorDetail.failing(Code.again, "\(function): \(queued) bytes wait to be sent on socket \(id) and "
                    + "its send_queue_max is \(limit): wait for SWERL_SOCKET_WRITABLE")
            }
        }
        socket.queued.add(total, ordering: .relaxed)
        if runNow(on: socket, { loopSockets(of: socket).write(socket, header: header, body: data) }) { return Code.ok }
        let bytes = header + Array(data)
        schedulers[socket.home].sockets.post(SocketCommand(socket: socket, id: id) { socket in
            bytes.withUnsafeBytes { self.loopSockets(of: socket).write(socket, header: [], body: $0) }
        })
        return Code.ok
    }

    /// A whole frame of the distribution layer, from any thread, on a
    /// socket its connection process owns: no owner check and no
    /// send_queue_max (Erlang's sends never fail). false: the socket is gone.
    func writeFrame(socket id: UInt64, _ bytes: [UInt8]) -> Bool {
        guard let socket = sockets.lookup(id), socket.isOpen(id) else { return false }
        socket.queued.add(bytes.count, ordering: .relaxed)
        if runNow(on: socket, { bytes.withUnsafeBytes { loopSockets(of: socket).write(socket, header: [], body: $0) } }) {
            return true
        }
        schedulers[socket.home].sockets.post(SocketCommand(socket: socket, id: id) { socket in
            bytes.withUnsafeBytes { self.loopSockets(of: socket).write(socket, header: [], body: $0) }
        })
        return true
    }

    /// Writes a distribution connection's output soon: at the end of the
    /// current turn when this thread runs a process on the socket's
    /// scheduler (what it sent in the turn goes in one write), else as a
    /// command to the socket's loop (what comes until the loop runs it, too).
    func flushSoon(_ connection: DistConnection) {
        let id = connection.socket
        guard let socket = sockets.lookup(id), socket.isOpen(id) else {
            _ = connection.takeOutput()
            return
        }
        if CallbackContexts.current != nil, let worker = Worker.current(of: self), worker.schedulerIndex == socket.home {
            worker.afterTurn.append { self.onLoop(socket, id) { self.writeOutput(of: connection, to: $0) } }
            return
        }
        onLoop(socket, id) { self.writeOutput(of: connection, to: $0) }
    }

    private func writeOutput(of connection: DistConnection, to socket: SocketState) {
        let bytes = connection.takeOutput()
        guard !bytes.isEmpty else { return }
        socket.queued.add(bytes.count, ordering: .relaxed)
        bytes.withUnsafeBytes { loopSockets(of: socket).write(socket, header: [], body: $0) }
    }

    func socketActivate(_ context: ContextPointer, _ id: UInt64, _ n: Int32) -> Int32 {
        let function = "swerl_socket_activate"
        if n < Int32(SWERL_ACTIVE_ONCE) {
            return ErrorDetail.failing(Code.invalid, "\(function): n \(n): 0 (passive), SWERL_ACTIVE_ONCE or a count above 0")
        }
        let (found, code) = ownedSocket(id, by: context.selfPid, in: function)
        guard let socket = found else { return code }
        // Once per message in active-once use: no closure is made when the
        // loop is this thread's.
        if runNow(on: socket, { loopSockets(of: socket).activate(socket, n) }) { return Code.ok }
        onLoop(socket, id) { socket in self.loopSockets(of: socket).activate(socket, n) }
        return Code.ok
    }

    func socketClose(_ context: ContextPointer, _ id: UInt64) -> Int32 {
        let (found, code) = ownedSocket(id, by: context.selfPid, in: "swerl_socket_close")
        guard let socket = found else { return code }
        close(socket, id)
        return Code.ok
    }

    /// Closes a socket (its owner asked, or exited), queue written first.
    private func close(_ socket: SocketState, _ id: UInt64) {
        guard sockets.markClosing(socket, id: id) else { return }
        onLoop(socket, id) { socket in self.loopSockets(of: socket).closeGracefully(socket) }
    }

    func socketShutdown(_ context: ContextPointer, _ id: UInt64) -> Int32 {
        let function = "swerl_socket_shutdown"
        let (found, code) = ownedSocket(id, by: context.selfPid, in: function)
        guard let socket = found else { return code }
        if socket.isListener { return ErrorDetail.failing(Code.notSupported, "\(function): socket \(id) is a listener") }
        onLoop(socket, id) { socket in self.loopSockets(of: socket).shutdown(socket) }
        return Code.ok
    }

    func socketSetOwner(_ context: ContextPointer, _ id: UInt64, to newOwner: UInt64) -> Int32 {
        let function = "swerl_socket_set_owner"
        let (found, code) = ownedSocket(id, by: context.selfPid, in: function)
        guard let socket = found else { return code }
        let outcome = sockets.changeOwner(socket, id: id, from: context.selfPid, to: newOwner,
                                          isAlive: { self.table.lookup($0) != nil })
        if outcome == Code.noProcess { return absent(newOwner) }
        return outcome
    }

    func socketSetOption(_ context: ContextPointer, _ id: UInt64, option: Int32, value: Int64) -> Int32 {
        let function = "swerl_socket_setopt"
        let (found, code) = ownedSocket(id, by: context.selfPid, in: function)
        guard let socket = found else { return code }
        let bad = { (why: String) in ErrorDetail.failing(Code.invalid, "\(function): \(why)") }
        switch Int(option) {
        case SWERL_SO_PACKET:
            guard Self.isPacket(value) else { return bad("\(value) is not a SWERL_PACKET_* value") }
            socket.packetShown.store(UInt32(value), ordering: .relaxed)
            onLoop(socket, id) { socket in
                socket.packet = UInt32(value)
                self.loopSockets(of: socket).startReading(socket)
            }
        case SWERL_SO_MAX_FRAME:
            guard value > 0 && value <= Int64(UInt32.max) else { return bad("max_frame \(value): from 1 to 2^32-1") }
            onLoop(socket, id) { socket in socket.maxFrame = Int(value) }
        case SWERL_SO_SEND_QUEUE_MAX:
            guard value > 0 else { return bad("send_queue_max \(value): above 0") }
            socket.sendQueueMax.store(Int(clamping: value), ordering: .relaxed)
        case SWERL_SO_HALF_CLOSE:
            guard value == 0 || value == 1 else { return bad("half_close is 0 or 1") }
            onLoop(socket, id) { socket in socket.halfClose = value == 1 }
        case SWERL_SO_NODELAY, SWERL_SO_KEEPALIVE, SWERL_SO_RECV_BUFFER, SWERL_SO_SEND_BUFFER:
            guard value >= 0 && value <= Int64(Int32.max) else { return bad("value \(value) out of range") }
            return setSystemOption(socket, option: option, value: Int32(value), in: function)
        default:
            return bad("unknown option \(option)")
        }
        return Code.ok
    }

    /// An option the kernel keeps, set on the descriptor (any thread may).
    private func setSystemOption(_ socket: SocketState, option: Int32, value: Int32, in function: String) -> Int32 {
        let fd = socket.fd.load(ordering: .relaxed)
        if socket.isUnix && (Int(option) == SWERL_SO_NODELAY || Int(option) == SWERL_SO_KEEPALIVE) {
            return ErrorDetail.failing(Code.notSupported, "\(function): a Unix socket has no TCP options")
        }
        if fd < 0 {
            // Not connected yet: applied when it is.
            switch Int(option) {
            case SWERL_SO_NODELAY: onLoop(socket, socket.id.load(ordering: .relaxed)) { s in s.options.flags = Self.flag(s.options.flags, UInt32(SWERL_SOCKET_NODELAY), value) }
            case SWERL_SO_KEEPALIVE: onLoop(socket, socket.id.load(ordering: .relaxed)) { s in s.options.flags = Self.flag(s.options.flags, UInt32(SWERL_SOCKET_KEEPALIVE), value) }
            case SWERL_SO_RECV_BUFFER: onLoop(socket, socket.id.load(ordering: .relaxed)) { s in s.options.recv_buffer = UInt32(value) }
            default: onLoop(socket, socket.id.load(ordering: .relaxed)) { s in s.options.send_buffer = UInt32(value) }
            }
            return Code.ok
        }
        var number = value
        let size = socklen_t(MemoryLayout<Int32>.size)
        let status: Int32
        switch Int(option) {
        case SWERL_SO_NODELAY: status = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &number, size)
        case SWERL_SO_KEEPALIVE: status = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &number, size)
        case SWERL_SO_RECV_BUFFER: status = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &number, size)
        default: status = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &number, size)
        }
        return status == 0 ? Code.ok : Self.systemError(function, "setsockopt", errno)
    }

    private static func flag(_ flags: UInt32, _ bit: UInt32, _ on: Int32) -> UInt32 {
        on != 0 ? flags | bit : flags & ~bit
    }

    /// The options a connection's descriptor takes when it is made (holder).
    func applySystemOptions(_ socket: SocketState) {
        let fd = socket.fd.load(ordering: .relaxed)
        guard fd >= 0 else { return }
        let options = socket.options
        var number: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        if !socket.isUnix {
            number = options.flags & UInt32(SWERL_SOCKET_NODELAY) != 0 ? 1 : 0
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &number, size)
            if options.flags & UInt32(SWERL_SOCKET_KEEPALIVE) != 0 {
                number = 1
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &number, size)
            }
        }
        if options.recv_buffer > 0 {
            number = Int32(clamping: options.recv_buffer)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &number, size)
        }
        if options.send_buffer > 0 {
            number = Int32(clamping: options.send_buffer)
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &number, size)
        }
    }

    // MARK: Owners and the end

    /// A process has exited (marked dead): its sockets close.
    func closeSockets(ownedBy pid: UInt64) {
        for id in sockets.takeOwned(by: pid) {
            guard let socket = sockets.lookup(id) else { continue }
            close(socket, id)
        }
    }

    // MARK: Describing

    package func socketInfo(_ id: UInt64) -> (Int32, swerl_socket_info) {
        var info = swerl_socket_info()
        info.size = UInt32(MemoryLayout<swerl_socket_info>.size)
        if isStopped { return (Code.stopped, info) }
        guard let socket = sockets.lookup(id), socket.isOpen(id) else {
            return (ErrorDetail.failing(Code.noSocket, "swerl_socket_info_get: socket \(id) is not open here"), info)
        }
        info.type = UInt32(socket.isListener ? SWERL_SOCKET_LISTENER : SWERL_SOCKET_CONNECTION)
        info.owner = socket.owner.load(ordering: .relaxed)
        info.listener = socket.listenerId.load(ordering: .relaxed)
        info.packet = socket.packetShown.load(ordering: .relaxed)
        info.active = socket.activeShown.load(ordering: .relaxed)
        info.connecting = socket.connecting.load(ordering: .relaxed) ? 1 : 0
        info.connections = UInt32(clamping: socket.connections.load(ordering: .relaxed))
        info.bytes_received = socket.bytesReceived.load(ordering: .relaxed)
        info.bytes_sent = socket.bytesSent.load(ordering: .relaxed)
        info.send_queued = UInt64(max(0, socket.queued.load(ordering: .relaxed)))
        info.accept_errors = socket.acceptErrors.load(ordering: .relaxed)
        info.connections_shed = socket.connectionsShed.load(ordering: .relaxed)
        let fd = socket.fd.load(ordering: .relaxed)
        if fd >= 0 {
            Self.copyAddress(of: fd, peer: false, into: &info.local)
            if !socket.isListener { Self.copyAddress(of: fd, peer: true, into: &info.peer) }
        }
        return (Code.ok, info)
    }

    private static func copyAddress<T>(of fd: Int32, peer: Bool, into field: inout T) {
        let text = Array(SocketAddress.name(of: fd, peer: peer).utf8)
        withUnsafeMutableBytes(of: &field) { buffer in
            let count = min(text.count, buffer.count - 1)
            buffer.copyBytes(from: text.prefix(count))
            buffer[count] = 0
        }
    }
}

// The entry points that take a swerl_ctx: the calling process is the owner.
extension Engine {
    package static func socketConnect(_ raw: UnsafeRawPointer?, address: String, timeoutMillis: UInt32,
                                      options: swerl_socket_opts) -> (Int32, UInt64) {
        guard let context = CallbackContexts.validate(raw) else { return (badContext(), 0) }
        return context.engine.socketConnect(context, address: address, timeoutMillis: timeoutMillis, options: options)
    }

    package static func socketSend(_ raw: UnsafeRawPointer?, _ id: UInt64, _ data: UnsafeRawBufferPointer) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.engine.socketSend(context, id, data)
    }

    package static func socketActivate(_ raw: UnsafeRawPointer?, _ id: UInt64, _ n: Int32) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.engine.socketActivate(context, id, n)
    }

    package static func socketClose(_ raw: UnsafeRawPointer?, _ id: UInt64) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.engine.socketClose(context, id)
    }

    package static func socketShutdown(_ raw: UnsafeRawPointer?, _ id: UInt64) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.engine.socketShutdown(context, id)
    }

    package static func socketSetOwner(_ raw: UnsafeRawPointer?, _ id: UInt64, to newOwner: UInt64) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.engine.socketSetOwner(context, id, to: newOwner)
    }

    package static func socketSetOption(_ raw: UnsafeRawPointer?, _ id: UInt64, option: Int32, value: Int64) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.engine.socketSetOption(context, id, option: option, value: value)
    }
}
