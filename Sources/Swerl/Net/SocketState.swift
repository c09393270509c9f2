// One socket: what any thread may read (its id, owner, counters) and what
// only the holder of its home scheduler touches (the libuv handle, the
// active count, framing, the write queue). SocketState objects are type-stable:
// a slot keeps its object for the runtime's life, and a new socket in the
// slot gets a new id, so a thread with a stale id never touches freed
// memory and never reaches the new socket.

import CLibUV
import CSwerl
import Synchronization

final class SocketState: @unchecked Sendable {
    enum State { static let free: UInt8 = 0, open: UInt8 = 1, closing: UInt8 = 2 }

    let slot: Int

    // --- any thread ----------------------------------------------------------
    /// The id of the socket in this slot now (0: none).
    let id = Atomic<UInt64>(0)
    let state = Atomic<UInt8>(State.free)
    let owner = Atomic<UInt64>(0)
    /// Set before the id is published; fixed while the socket lives.
    var home = 0
    var isListener = false
    var isUnix = false
    let fd = Atomic<Int32>(-1)
    /// Bytes swerl_socket_send accepted and the kernel has not taken yet.
    let queued = Atomic<Int>(0)
    let sendQueueMax = Atomic<Int>(4 << 20)
    /// A send was refused (EAGAIN): say WRITABLE when the queue drains.
    let wantWritable = Atomic<Bool>(false)
    let packetShown = Atomic<UInt32>(0)
    let activeShown = Atomic<Int32>(0)
    let connecting = Atomic<Bool>(false)
    let listenerId = Atomic<UInt64>(0)
    let connections = Atomic<Int>(0)
    let bytesReceived = Atomic<UInt64>(0)
    let bytesSent = Atomic<UInt64>(0)
    let acceptErrors = Atomic<UInt64>(0)
    let connectionsShed = Atomic<UInt64>(0)

    // --- the home scheduler's holder only -------------------------------------
    var handle: UnsafeMutableRawPointer? = nil
    /// > 0: messages left; activeOnce: one; 0: passive.
    var active: Int32 = 0
    var reading = false
    var framing = Framing()
    var packet = UInt32(SWERL_PACKET_RAW)
    var maxFrame = 1 << 20
    var halfClose = false
    var peerClosed = false
    /// The peer's end was read; CLOSED waits for the data before it.
    var endPending = false
    var pendingWrites = 0
    /// Bytes sent before the connection was made, in order.
    var beforeConnected: [[UInt8]] = []
    var timer: UnsafeMutablePointer<uv_timer_t>? = nil
    /// Its options (a listener's: those of the connections it accepts).
    var options = swerl_socket_opts()
    var lastAcceptErrorLog: UInt64 = 0
    /// A listener's Unix path, removed when it closes.
    var unixPath: String? = nil

    static let activeOnce = Int32(SWERL_ACTIVE_ONCE)

    init(slot: Int) {
        self.slot = slot
    }

    var stream: UnsafeMutablePointer<uv_stream_t>? {
        handle?.assumingMemoryBound(to: uv_stream_t.self)
    }

    /// Whether `id` names this socket, open.
    @inline(__always)
    func isOpen(_ id: UInt64) -> Bool {
        self.id.load(ordering: .acquiring) == id && state.load(ordering: .acquiring) == State.open
    }

    /// Back to a free slot's values (holder, when the handle has closed).
    func reset() {
        owner.store(0, ordering: .relaxed)
        fd.store(-1, ordering: .relaxed)
        queued.store(0, ordering: .relaxed)
        wantWritable.store(false, ordering: .relaxed)
        activeShown.store(0, ordering: .relaxed)
        connecting.store(false, ordering: .relaxed)
        listenerId.store(0, ordering: .relaxed)
        connections.store(0, ordering: .relaxed)
        bytesReceived.store(0, ordering: .relaxed)
        bytesSent.store(0, ordering: .relaxed)
        acceptErrors.store(0, ordering: .relaxed)
        connectionsShed.store(0, ordering: .relaxed)
        handle = nil
        active = 0
        reading = false
        framing.clear()
        packet = UInt32(SWERL_PACKET_RAW)
        maxFrame = 1 << 20
        halfClose = false
        peerClosed = false
        endPending = false
        pendingWrites = 0
        beforeConnected = []
        timer = nil
        unixPath = nil
        isListener = false
        isUnix = false
    }

    /// Takes the options every socket has (holder, at open).
    func apply(_ options: swerl_socket_opts) {
        packet = options.packet
        packetShown.store(options.packet, ordering: .relaxed)
        maxFrame = options.max_frame == 0 ? 1 << 20 : Int(options.max_frame)
        halfClose = options.flags & UInt32(SWERL_SOCKET_HALF_CLOSE) != 0
        sendQueueMax.store(options.send_queue_max == 0 ? 4 << 20 : Int(clamping: options.send_queue_max),
                           ordering: .relaxed)
        active = options.active
        activeShown.store(options.active, ordering: .relaxed)
    }
}
