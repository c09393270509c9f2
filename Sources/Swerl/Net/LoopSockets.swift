// The sockets of one scheduler's libuv loop, run by the scheduler's holder:
// accepting, reading (as the owner's active count allows, framed), writing,
// connecting and closing. Another thread's request reaches them as a
// command in this loop's queue; the holder runs commands between turns and
// when it wakes, as it merges foreign timers.

import CLibUV
import CSwerl
import CSwerlSupport
import Glibc
import Synchronization

struct SocketCommand {
    let socket: SocketState
    let id: UInt64
    let action: (SocketState) -> Void
}

final class LoopSockets: @unchecked Sendable {
    unowned(unsafe) let scheduler: Scheduler
    private let commands = Lock<[SocketCommand]>([])
    let hasCommands = Atomic<Bool>(false)

    // --- holder only ------------------------------------------------------------
    /// libuv handles of sockets (and their timers) not yet closed.
    private(set) var handles = 0
    private var sockets: [Int: SocketState] = [:]
    private var readBuffer: UnsafeMutableRawPointer? = nil
    static let readSize = 65_536
    /// How long a close waits for the queued bytes to be written.
    static let lingerMillis: UInt64 = 5000

    init(scheduler: Scheduler) {
        self.scheduler = scheduler
    }

    deinit {
        readBuffer?.deallocate()
    }

    private var engine: Engine { scheduler.engine }
    private var loop: UnsafeMutablePointer<uv_loop_t> { scheduler.loop }

    static func of(_ loop: UnsafeMutablePointer<uv_loop_t>) -> LoopSockets {
        Unmanaged<LoopSockets>.fromOpaque(loop.pointee.data!).takeUnretainedValue()
    }

    static func socket(of handle: UnsafeMutableRawPointer) -> SocketState {
        let data = handle.assumingMemoryBound(to: uv_handle_t.self).pointee.data!
        return Unmanaged<SocketState>.fromOpaque(data).takeUnretainedValue()
    }

    /// Whether the loop has sockets to poll while the scheduler is busy.
    var isEmpty: Bool { handles == 0 }

    // MARK: Commands

    /// From a thread that does not hold this scheduler.
    func post(_ command: SocketCommand) {
        commands.withLock { $0.append(command) }
        // sequentiallyConsistent: the Dekker pair with idle()'s `sleeping`.
        hasCommands.store(true, ordering: .sequentiallyConsistent)
        if scheduler.sleeping.load(ordering: .sequentiallyConsistent) { scheduler.wakeUp() }
    }

    /// Runs the commands posted so far (holder).
    func runCommands() {
        guard hasCommands.load(ordering: .acquiring) else { return }
        hasCommands.store(false, ordering: .relaxed)
        let taken = commands.withLock { list -> [SocketCommand] in
            let all = list
            list.removeAll(keepingCapacity: true)
            return all
        }
        for command in taken where command.socket.id.load(ordering: .acquiring) == command.id {
            command.action(command.socket)
        }
    }

    // MARK: Opening

    private func makeHandle(_ socket: SocketState) -> UnsafeMutablePointer<uv_stream_t> {
        let size = max(MemoryLayout<uv_tcp_t>.size, MemoryLayout<uv_pipe_t>.size)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        if socket.isUnix {
            uv_pipe_init(loop, raw.assumingMemoryBound(to: uv_pipe_t.self), 0)
        } else {
            uv_tcp_init(loop, raw.assumingMemoryBound(to: uv_tcp_t.self))
        }
        raw.assumingMemoryBound(to: uv_handle_t.self).pointee.data = Unmanaged.passUnretained(socket).toOpaque()
        socket.handle = raw
        sockets[socket.slot] = socket
        handles += 1
        return raw.assumingMemoryBound(to: uv_stream_t.self)
    }

    /// A listening fd (bound and listening already, by the caller's thread)
    /// joins the loop. The loop polls it and accepts itself (accept4), not
    /// through uv_listen: libuv's answer to running out of descriptors
    /// closes the waiting connections unseen, where a server wants to count
    /// it, say it, and try again shortly (as ranch does).
    func openListener(_ socket: SocketState, fd: Int32) {
        let poll = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<uv_poll_t>.size, alignment: 16)
        uv_poll_init_socket(loop, poll.assumingMemoryBound(to: uv_poll_t.self), uv_os_sock_t(fd))
        poll.assumingMemoryBound(to: uv_handle_t.self).pointee.data = Unmanaged.passUnretained(socket).toOpaque()
        socket.handle = poll
        sockets[socket.slot] = socket
        handles += 1
        // Closed (its owner gone) before it reached the loop: the close
        // found no handle, so it closes here.
        guard socket.state.load(ordering: .acquiring) == SocketState.State.open else { return finalClose(socket) }
        updateAccepting(socket)
    }

    /// Starts connecting (the socket's handle is made here).
    func connect(_ socket: SocketState, to address: SocketAddress, timeoutMillis: UInt32) {
        guard socket.connecting.load(ordering: .relaxed) else { return }  // closed before it began
        let stream = makeHandle(socket)
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        let done: uv_connect_cb = { request, status in
            let stream = request!.pointee.handle!
            request!.deallocate()
            LoopSockets.of(stream.pointee.loop).connected(LoopSockets.socket(of: UnsafeMutableRawPointer(stream)),
                                                         status: status)
        }
        var status: Int32 = 0
        var copy = address.storage
        if let path = address.path {
            uv_pipe_connect(request, UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_pipe_t.self), path, done)
        } else {
            status = withUnsafePointer(to: &copy) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    uv_tcp_connect(request, UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_tcp_t.self),
                                   address, done)
                }
            }
        }
        if status != 0 {
            request.deallocate()
            return connected(socket, status: status)
        }
        if timeoutMillis != SWERL_INFINITY { startTimer(socket, millis: UInt64(timeoutMillis), .connectTimeout) }
    }

    private func connected(_ socket: SocketState, status: Int32) {
        guard socket.connecting.load(ordering: .relaxed) else { return }  // a timeout or a close came first
        socket.connecting.store(false, ordering: .relaxed)
        stopTimer(socket)
        let id = socket.id.load(ordering: .relaxed)
        guard status == 0 else {
            let (code, words) = Self.code(status)
            if engine.sockets.markClosing(socket, id: id) {
                tell(socket, NodeKind.socketConnected, reason: code, text: words)
            }
            return finalClose(socket)
        }
        if let fd = descriptor(of: socket) { socket.fd.store(fd, ordering: .relaxed) }
        engine.applySystemOptions(socket)
        tell(socket, NodeKind.socketConnected)
        let queued = socket.beforeConnected
        socket.beforeConnected = []
        for bytes in queued {
            bytes.withUnsafeBytes { write(socket, header: [], body: $0) }
        }
        if socket.state.load(ordering: .relaxed) == SocketState.State.closing { return closeGracefully(socket) }
        startReading(socket)
    }

    private func descriptor(of socket: SocketState) -> Int32? {
        var fd = uv_os_fd_t()
        guard let handle = socket.handle, uv_fileno(handle.assumingMemoryBound(to: uv_handle_t.self), &fd) == 0 else {
            return nil
        }
        return Int32(fd)
    }

    // MARK: Accepting

    /// A listener polls its descriptor while it is active and not pausing
    /// after a failed accept.
    private func updateAccepting(_ listener: SocketState) {
        guard let handle = listener.handle, !isClosingHandle(listener) else { return }
        let poll = handle.assumingMemoryBound(to: uv_poll_t.self)
        if listener.active != 0 && listener.timer == nil {
            uv_poll_start(poll, Int32(UV_READABLE.rawValue)) { poll, status, _ in
                let listener = LoopSockets.socket(of: UnsafeMutableRawPointer(poll!))
                LoopSockets.of(poll!.pointee.loop).connectionsWaiting(listener, status: status)
            }
        } else {
            uv_poll_stop(poll)
        }
    }

    private func connectionsWaiting(_ listener: SocketState, status: Int32) {
        guard listener.state.load(ordering: .relaxed) == SocketState.State.open else { return }
        if status < 0 { return acceptFailed(listener, error: -status) }
        let fd = listener.fd.load(ordering: .relaxed)
        while listener.active != 0 {
            let accepted = swerlrt_accept(fd)
            if accepted >= 0 {
                acceptOne(listener, fd: accepted)
                continue
            }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK { break }
            if error == EINTR || error == ECONNABORTED { continue }
            acceptFailed(listener, error: error)
            if error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM {
                // Out of descriptors or memory: the connections wait in the
                // backlog; try again in a while (polling now would spin).
                startTimer(listener, millis: Self.acceptRetryMillis, .acceptRetry)
            }
            break
        }
        updateAccepting(listener)
    }

    /// How long a listener waits after running out of descriptors.
    static let acceptRetryMillis: UInt64 = 100

    private func acceptOne(_ listener: SocketState, fd: Int32) {
        guard let (socket, id) = engine.sockets.allocate() else {
            Glibc.close(fd)
            return shed(listener, reason: "every one of \(SocketTable.capacity) socket slots is in use")
        }
        socket.isUnix = listener.isUnix
        socket.home = scheduler.index
        let stream = makeHandle(socket)
        let opened = socket.isUnix
            ? uv_pipe_open(UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_pipe_t.self), fd)
            : uv_tcp_open(UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_tcp_t.self), uv_os_sock_t(fd))
        guard opened == 0 else {
            Glibc.close(fd)
            acceptFailed(listener, error: -opened)
            return finalClose(socket)
        }
        let limit = Int(listener.options.max_connections)
        let owner = listener.owner.load(ordering: .acquiring)
        // The listener's options are the connection's: its descriptor's
        // (NODELAY, KEEPALIVE, buffers: applySystemOptions) as well as framing.
        socket.options = listener.options
        socket.apply(listener.options)
        // It starts passive: its owner (or the process it is handed to)
        // asks for data, so none can reach the wrong process first.
        socket.active = 0
        socket.activeShown.store(0, ordering: .relaxed)
        socket.listenerId.store(listener.id.load(ordering: .relaxed), ordering: .relaxed)
        socket.fd.store(fd, ordering: .relaxed)
        if limit > 0 && listener.connections.load(ordering: .relaxed) >= limit {
            listener.connectionsShed.add(1, ordering: .relaxed)
            socket.listenerId.store(0, ordering: .relaxed)
            return finalClose(socket)
        }
        guard engine.sockets.publish(socket, id: id, owner: owner, isAlive: { self.engine.table.lookup($0) != nil }) else {
            socket.listenerId.store(0, ordering: .relaxed)
            return finalClose(socket)  // the owner is gone: its listener closes too
        }
        listener.connections.add(1, ordering: .relaxed)
        engine.applySystemOptions(socket)
        tell(socket, NodeKind.socketAccepted, to: owner)
        useActive(listener)
        startReading(socket)
    }

    private func shed(_ listener: SocketState, reason: String) {
        listener.connectionsShed.add(1, ordering: .relaxed)
        acceptFailed(listener, error: EMFILE, words: reason)
    }

    /// A failed accept: counted, and said through the log hook at most once
    /// a second per listener; the listener goes on.
    private func acceptFailed(_ listener: SocketState, error: Int32, words: String? = nil) {
        listener.acceptErrors.add(1, ordering: .relaxed)
        let now = monotonicNanos()
        guard now - listener.lastAcceptErrorLog >= 1_000_000_000 else { return }
        listener.lastAcceptErrorLog = now
        let text = words ?? String(cString: strerror(error))
        engine.report(level: SWERL_LOG_WARNING, "socket: listener \(listener.id.load(ordering: .relaxed)) on "
            + "\(SocketAddress.name(of: listener.fd.load(ordering: .relaxed), peer: false)) could not accept a connection: \(text) "
            + "(\(listener.acceptErrors.load(ordering: .relaxed)) so far); it goes on listening")
    }

    // MARK: Active count and reading

    /// One message used from the active count; passive at 0 (with
    /// SWERL_SOCKET_PASSIVE after an active count given as N).
    private func useActive(_ socket: SocketState) {
        if socket.active == SocketState.activeOnce {
            socket.active = 0
        } else if socket.active > 0 {
            socket.active -= 1
            if socket.active == 0 { tell(socket, NodeKind.socketPassive) }
        }
        // Reading goes on until data comes with no count left (didRead): an
        // owner that asks again in time (request and response) costs no
        // epoll_ctl pair per message, and at most one read is kept back.
        socket.activeShown.store(socket.active, ordering: .relaxed)
    }

    func activate(_ socket: SocketState, _ n: Int32) {
        if n == 0 {
            socket.active = 0
        } else if n == SocketState.activeOnce {
            socket.active = SocketState.activeOnce
        } else {
            let now = socket.active == SocketState.activeOnce ? 1 : Int(socket.active)
            socket.active = Int32(min(now + Int(n), 1 << 30))
        }
        socket.activeShown.store(socket.active, ordering: .relaxed)
        if socket.isListener {
            updateAccepting(socket)
        } else if socket.active == 0 {
            stopReading(socket)
        } else {
            startReading(socket)
        }
    }

    func startReading(_ socket: SocketState) {
        guard !socket.isListener, socket.active != 0,
              socket.state.load(ordering: .relaxed) == SocketState.State.open,
              !socket.connecting.load(ordering: .relaxed) else { return }
        deliverFrames(socket)  // what was kept back comes first
        guard socket.active != 0, !socket.reading, !socket.peerClosed,
              socket.state.load(ordering: .relaxed) == SocketState.State.open else { return }
        if readBuffer == nil { readBuffer = .allocate(byteCount: Self.readSize, alignment: 16) }
        socket.reading = uv_read_start(socket.stream, { handle, _, buffer in
            let sockets = LoopSockets.of(handle!.pointee.loop)
            buffer!.pointee = uv_buf_init(sockets.readBuffer!.assumingMemoryBound(to: CChar.self),
                                          UInt32(LoopSockets.readSize))
        }, { stream, count, _ in
            let raw = UnsafeMutableRawPointer(stream!)
            LoopSockets.of(stream!.pointee.loop).didRead(LoopSockets.socket(of: raw), count: count)
        }) == 0
    }

    private func stopReading(_ socket: SocketState) {
        guard socket.reading else { return }
        uv_read_stop(socket.stream)
        socket.reading = false
    }

    private func didRead(_ socket: SocketState, count: Int) {
        if count > 0 {
            socket.bytesReceived.add(UInt64(count), ordering: .relaxed)
            let chunk = UnsafeRawBufferPointer(start: readBuffer, count: count)
            if socket.active == 0 {
                socket.framing.append(chunk)   // kept for the next activate
                stopReading(socket)
            } else if socket.packet == UInt32(SWERL_PACKET_RAW) && socket.framing.buffered == 0 {
                tell(socket, NodeKind.socketData, bytes: chunk)
                useActive(socket)
            } else {
                socket.framing.append(chunk)
                deliverFrames(socket)
            }
        } else if count == Int(UV_EOF.rawValue) {
            stopReading(socket)
            socket.peerClosed = true
            socket.endPending = true
            deliverFrames(socket)
        } else if count < 0 {
            fail(socket, status: Int32(count))
        }
    }

    /// The peer closed, and every whole frame before its end was handed
    /// out (a partial one is dropped): CLOSED, then the close unless the
    /// socket is half closed.
    private func peerEnded(_ socket: SocketState) {
        socket.endPending = false
        let id = socket.id.load(ordering: .relaxed)
        tell(socket, NodeKind.socketClosed)
        if !socket.halfClose && engine.sockets.markClosing(socket, id: id) { closeGracefully(socket) }
    }

    /// Hands out whole frames while the owner's active count allows.
    private func deliverFrames(_ socket: SocketState) {
        defer { if socket.endPending && socket.framing.buffered == 0 { peerEnded(socket) } }
        while socket.active != 0 && socket.framing.buffered > 0 {
            switch socket.framing.next(packet: socket.packet, maxFrame: socket.maxFrame) {
            case .frame(let start, let count):
                socket.framing.bytes.withUnsafeBytes { all in
                    tell(socket, NodeKind.socketData, bytes: UnsafeRawBufferPointer(rebasing: all[start..<start + count]))
                }
                socket.framing.consume(through: start + count)
                useActive(socket)
            case .needMore:
                if socket.endPending { peerEnded(socket) }
                return
            case .tooLong(let length):
                return fail(socket, code: Code.frame, words: "a frame of \(length) bytes: this socket's max_frame is "
                    + "\(socket.maxFrame) (swerl_socket_opts.max_frame, SWERL_SO_MAX_FRAME)")
            }
        }
    }

    // MARK: Writing

    /// Writes what the kernel takes now, queues the rest (copied). The
    /// caller counted header + body in `queued`.
    func write(_ socket: SocketState, header: [UInt8], body: UnsafeRawBufferPointer) {
        let total = header.count + body.count
        guard total > 0 else { return }
        if socket.connecting.load(ordering: .relaxed) {
            socket.beforeConnected.append(header + Array(body))
            return
        }
        guard socket.handle != nil, !isClosingHandle(socket) else { return finishWrite(socket, total, written: false) }
        var written = 0
        if socket.pendingWrites == 0 {
            written = header.withUnsafeBytes { head in
                var buffers = [uv_buf_init(UnsafeMutablePointer(mutating: head.baseAddress?.assumingMemoryBound(to: CChar.self)),
                                           UInt32(head.count)),
                               uv_buf_init(UnsafeMutablePointer(mutating: body.baseAddress?.assumingMemoryBound(to: CChar.self)),
                                           UInt32(body.count))]
                let first = head.isEmpty ? 1 : 0
                return buffers.withUnsafeMutableBufferPointer { all in
                    let result = uv_try_write(socket.stream, all.baseAddress! + first, UInt32(2 - first))
                    return Int(result)
                }
            }
            if written < 0 {
                if written == Int(UV_EAGAIN.rawValue) || written == Int(UV_ENOSYS.rawValue) {
                    written = 0
                } else {
                    finishWrite(socket, total, written: false)
                    return fail(socket, status: Int32(written))
                }
            }
        }
        if written > 0 { finishWrite(socket, written, written: true) }
        let left = total - written
        guard left > 0 else { return }
        // One block: the request, the length, then the bytes.
        let headerSize = (MemoryLayout<uv_write_t>.size + 15) & ~15
        let block = UnsafeMutableRawPointer.allocate(byteCount: headerSize + 16 + left, alignment: 16)
        let bytes = block + headerSize + 16
        block.storeBytes(of: left, toByteOffset: headerSize, as: Int.self)
        var offset = 0
        if written < header.count {
            header.withUnsafeBytes { head in
                (bytes).copyMemory(from: head.baseAddress! + written, byteCount: header.count - written)
            }
            offset = header.count - written
        }
        let bodyStart = max(0, written - header.count)
        if body.count - bodyStart > 0 {
            (bytes + offset).copyMemory(from: body.baseAddress! + bodyStart, byteCount: body.count - bodyStart)
        }
        var buffer = uv_buf_init(bytes.assumingMemoryBound(to: CChar.self), UInt32(left))
        let request = block.assumingMemoryBound(to: uv_write_t.self)
        socket.pendingWrites += 1
        let status = uv_write(request, socket.stream, &buffer, 1) { request, status in
            let raw = UnsafeMutableRawPointer(request!)
            let headerSize = (MemoryLayout<uv_write_t>.size + 15) & ~15
            let length = raw.load(fromByteOffset: headerSize, as: Int.self)
            let stream = request!.pointee.handle!
            raw.deallocate()
            LoopSockets.of(stream.pointee.loop).wrote(LoopSockets.socket(of: UnsafeMutableRawPointer(stream)),
                                                     length: length, status: status)
        }
        if status != 0 {
            socket.pendingWrites -= 1
            block.deallocate()
            finishWrite(socket, left, written: false)
            fail(socket, status: status)
        }
    }

    private func wrote(_ socket: SocketState, length: Int, status: Int32) {
        socket.pendingWrites -= 1
        finishWrite(socket, length, written: status == 0)
        if status < 0 && status != Int32(UV_ECANCELED.rawValue) { fail(socket, status: status) }
        if socket.pendingWrites == 0 && socket.state.load(ordering: .relaxed) == SocketState.State.closing {
            finalClose(socket)
        }
    }

    /// `length` bytes left the queue (written, or dropped with the socket).
    private func finishWrite(_ socket: SocketState, _ length: Int, written: Bool) {
        if written { socket.bytesSent.add(UInt64(length), ordering: .relaxed) }
        // sequentiallyConsistent: the Dekker pair with the sender's
        // wantWritable store and its second look at `queued`.
        let left = socket.queued.subtract(length, ordering: .sequentiallyConsistent).newValue
        if left <= socket.sendQueueMax.load(ordering: .relaxed) / 2
            && socket.wantWritable.load(ordering: .sequentiallyConsistent)
            && socket.wantWritable.exchange(false, ordering: .relaxed)
            && socket.state.load(ordering: .relaxed) == SocketState.State.open {
            tell(socket, NodeKind.socketWritable)
        }
    }

    /// Closes the sending side once the queue is written.
    func shutdown(_ socket: SocketState) {
        guard let stream = socket.stream, !socket.connecting.load(ordering: .relaxed) else { return }
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        if uv_shutdown(request, stream, { request, _ in request!.deallocate() }) != 0 { request.deallocate() }
    }

    // MARK: Closing

    /// The end for a socket that was open: its owner hears why, and it closes
    /// now (what was queued is dropped: the connection is broken).
    private func fail(_ socket: SocketState, status: Int32) {
        let (code, words) = Self.code(status)
        fail(socket, code: code, words: words)
    }

    private func fail(_ socket: SocketState, code: Int32, words: String) {
        let id = socket.id.load(ordering: .relaxed)
        if engine.sockets.markClosing(socket, id: id) {
            tell(socket, socket.connecting.load(ordering: .relaxed) ? NodeKind.socketConnected : NodeKind.socketClosed,
                 reason: code, text: words)
        }
        socket.connecting.store(false, ordering: .relaxed)
        finalClose(socket)
    }

    /// A close the owner asked for (or its exit): the queue is written
    /// first, for lingerMillis at most.
    func closeGracefully(_ socket: SocketState) {
        stopReading(socket)
        if socket.pendingWrites == 0 || socket.connecting.load(ordering: .relaxed) { return finalClose(socket) }
        startTimer(socket, millis: Self.lingerMillis, .linger)
    }

    private func isClosingHandle(_ socket: SocketState) -> Bool {
        guard let handle = socket.handle else { return true }
        return uv_is_closing(handle.assumingMemoryBound(to: uv_handle_t.self)) != 0
    }

    func finalClose(_ socket: SocketState) {
        guard let handle = socket.handle, !isClosingHandle(socket) else { return }
        stopTimer(socket)
        socket.reading = false
        if let path = socket.unixPath { unlink(path) }
        uv_close(handle.assumingMemoryBound(to: uv_handle_t.self)) { handle in
            let raw = UnsafeMutableRawPointer(handle!)
            let socket = LoopSockets.socket(of: raw)
            LoopSockets.of(handle!.pointee.loop).closed(socket)
            raw.deallocate()
        }
        // A listener's descriptor is ours (a poll handle does not close it):
        // closed now, so that its port is free when the close returns; the
        // poll stopped watching it in uv_close.
        if socket.isListener { Glibc.close(socket.fd.load(ordering: .relaxed)) }
    }

    private func closed(_ socket: SocketState) {
        handles -= 1
        sockets[socket.slot] = nil
        let listener = socket.listenerId.load(ordering: .relaxed)
        if listener != 0, let accepting = engine.sockets.lookup(listener) {
            accepting.connections.subtract(1, ordering: .relaxed)
        }
        socket.handle = nil
        let id = socket.id.load(ordering: .relaxed)
        _ = engine.sockets.markClosing(socket, id: id)  // one that never opened
        engine.sockets.free(socket)
    }

    /// At the runtime's stop, on the holder: every socket closes now.
    func closeAll() {
        runCommands()   // a listener's or connection's handle may be made by one
        for socket in Array(sockets.values) {
            _ = engine.sockets.markClosing(socket, id: socket.id.load(ordering: .relaxed))
            finalClose(socket)
        }
        while handles > 0 { uv_run(loop, UV_RUN_NOWAIT) }
    }

    // MARK: Timers

    enum TimerPurpose { case connectTimeout, linger, acceptRetry }

    private struct TimerBox {
        let socket: Unmanaged<SocketState>
        let purpose: TimerPurpose
    }

    private func startTimer(_ socket: SocketState, millis: UInt64, _ purpose: TimerPurpose) {
        stopTimer(socket)
        let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        uv_timer_init(loop, timer)
        handles += 1
        let box = UnsafeMutablePointer<TimerBox>.allocate(capacity: 1)
        box.initialize(to: TimerBox(socket: Unmanaged.passUnretained(socket), purpose: purpose))
        timer.pointee.data = UnsafeMutableRawPointer(box)
        socket.timer = timer
        uv_timer_start(timer, { timer in
            let box = timer!.pointee.data!.assumingMemoryBound(to: TimerBox.self).pointee
            LoopSockets.of(timer!.pointee.loop).timerFired(box.socket.takeUnretainedValue(), box.purpose)
        }, millis, 0)
    }

    private func timerFired(_ socket: SocketState, _ purpose: TimerPurpose) {
        switch purpose {
        case .connectTimeout: connected(socket, status: Int32(UV_ETIMEDOUT.rawValue))
        case .linger: finalClose(socket)
        case .acceptRetry:
            stopTimer(socket)
            updateAccepting(socket)
        }
    }

    private func stopTimer(_ socket: SocketState) {
        guard let timer = socket.timer else { return }
        socket.timer = nil
        uv_timer_stop(timer)
        uv_close(UnsafeMutableRawPointer(timer).assumingMemoryBound(to: uv_handle_t.self)) { handle in
            let timer = UnsafeMutableRawPointer(handle!).assumingMemoryBound(to: uv_timer_t.self)
            let box = timer.pointee.data!.assumingMemoryBound(to: TimerBox.self)
            LoopSockets.of(handle!.pointee.loop).handles -= 1
            box.deinitialize(count: 1)
            box.deallocate()
            timer.deallocate()
        }
    }

    // MARK: Telling the owner

    private func tell(_ socket: SocketState, _ kind: UInt32, reason: Int32 = 0, text: String = "",
                      bytes: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), to owner: UInt64? = nil) {
        let target = owner ?? socket.owner.load(ordering: .acquiring)
        guard let process = engine.table.lookup(target) else { return }
        let id = socket.id.load(ordering: .relaxed)
        var words = Array(text.utf8)
        let node = bytes.count > 0
            ? Nodes.make(kind: kind, target: target, from: 0, ref: id, reason: reason, data: bytes.baseAddress, len: bytes.count)
            : words.withUnsafeMutableBytes {
                Nodes.make(kind: kind, target: target, from: 0, ref: id, reason: reason, data: $0.baseAddress, len: $0.count)
            }
        guard let node else { return }
        engine.deliver(node, to: process)
    }

    /// A libuv status as a SWERL_E* code and words.
    static func code(_ status: Int32) -> (Int32, String) {
        let words = "\(String(cString: uv_strerror(status))) (\(String(cString: uv_err_name(status))))"
        switch status {
        case Int32(UV_ECONNREFUSED.rawValue): return (Code.connectionRefused, words)
        case Int32(UV_ECONNRESET.rawValue), Int32(UV_EPIPE.rawValue): return (Code.connectionReset, words)
        case Int32(UV_ETIMEDOUT.rawValue): return (Code.timedOut, words)
        case Int32(UV_EADDRINUSE.rawValue): return (Code.addressInUse, words)
        default: return (Code.network, words)
        }
    }
}
