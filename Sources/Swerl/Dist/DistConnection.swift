// One connection to another node: what senders on any thread share with
// the process that runs it (ConnectionProcess).
//
// Frames wait in the connection's outbox, in the order they were sent,
// until the handshake is done, then until a flush writes them all at once
// (Engine.flushSoon). The links and monitors that cross the connection are
// kept here too, because when it goes down every one of them is told
// `noconnection`, once (the process side of each is in the process blocks).

import Synchronization

final class DistConnection: @unchecked Sendable {
    enum State: Int { case connecting = 0, up = 1, down = 2 }

    unowned let node: DistNode
    let peerIndex: UInt32
    let peerName: String
    /// The peer's name as an atom (SMALL_ATOM_UTF8 bytes), for its pids.
    let peerAtom: [UInt8]
    let state = Atomic<Int>(State.connecting.rawValue)
    /// The process running the connection (its handshake, then its frames).
    let handler = Atomic<UInt64>(0)
    /// Set before the state becomes up.
    private(set) var socket: UInt64 = 0
    private(set) var peerFlags: UInt64 = 0
    private(set) var peerCreation: UInt32 = 0

    /// Frames not written yet: all of them before the handshake ends, then
    /// what was sent since the last flush. One write takes them all (per
    /// turn of a sender on the socket's scheduler, else per command the
    /// socket's loop runs), so a burst of sends is one syscall, not one each.
    private struct Outbox {
        var bytes: [UInt8] = []
        var flushQueued = false
    }
    private let outbox = Lock<Outbox>(Outbox())
    let relations = Lock<Relations>(Relations())
    /// Threads waiting in swerl_node_connect.
    private let waiting = ConditionLock<Bool>(false)

    init(node: DistNode, peerIndex: UInt32, peerName: String) {
        self.node = node
        self.peerIndex = peerIndex
        self.peerName = peerName
        self.peerAtom = FrameWriter.atomBytes(peerName)
    }

    var isUp: Bool { state.load(ordering: .acquiring) == State.up.rawValue }
    var isDown: Bool { state.load(ordering: .acquiring) == State.down.rawValue }

    // MARK: Sending

    /// Sends a whole frame: soon when up (Engine.flushSoon), after the
    /// handshake when connecting; dropped when down (as Erlang drops what it
    /// cannot send). Frames go out in the order they came here.
    func transmit(_ frame: [UInt8]) {
        let schedule = outbox.withLock { box -> Bool in
            if isDown { return false }
            box.bytes.append(contentsOf: frame)
            guard isUp, !box.flushQueued else { return false }
            box.flushQueued = true
            return true
        }
        if schedule { node.engine.flushSoon(self) }
    }

    /// What waits to be written, taken (on the socket's loop).
    func takeOutput() -> [UInt8] {
        outbox.withLock { box in
            box.flushQueued = false
            let taken = box.bytes
            box.bytes = []
            return taken
        }
    }

    /// The handshake is done: what waited goes first, in one write.
    func becomeUp(socket: UInt64, peerFlags: UInt64, peerCreation: UInt32) {
        self.socket = socket
        self.peerFlags = peerFlags
        self.peerCreation = peerCreation
        let schedule = outbox.withLock { box -> Bool in
            state.store(State.up.rawValue, ordering: .releasing)
            guard !box.bytes.isEmpty, !box.flushQueued else { return false }
            box.flushQueued = true
            return true
        }
        if schedule { node.engine.flushSoon(self) }
        waiting.update(wakingAll: true) { $0 = true }
    }

    /// Down for good: nothing more is sent; returns what crossed it, for
    /// the noconnection signals. nil if it was down already.
    func becomeDown() -> Relations? {
        let wasDown = outbox.withLock { box -> Bool in
            box.bytes = []
            return state.exchange(State.down.rawValue, ordering: .acquiringAndReleasing) == State.down.rawValue
        }
        waiting.update(wakingAll: true) { $0 = true }
        if wasDown { return nil }
        return relations.withLock { current in
            let taken = current
            current = Relations()
            return taken
        }
    }

    /// Waits until the connection is up or down (swerl_node_connect).
    func waitSettled(untilNanos deadline: UInt64?) -> Bool {
        waiting.wait(until: { $0 }, deadline: deadline) { _, _ in }
        return isUp
    }
}

/// The links and monitors that cross one connection.
struct Relations {
    struct Link: Hashable {
        var local: UInt64
        var remote: UInt64
    }
    /// A monitor a local process (or a call's waiter: `watcher` 0) holds on
    /// a remote process, by the local ref (also its Erlang ref).
    struct Outgoing {
        var watcher: UInt64
        var target: UInt64
        /// Set for a monitor by `{name, node}`.
        var name: String?
    }
    /// A monitor a remote process holds on a local one, by a local ref.
    struct Incoming {
        var watcher: UInt64
        var target: UInt64
        /// What the watcher named: the pid or the registered name.
        var named: Term
        var erlangRef: Term
    }

    var links: Set<Link> = []
    var outgoing: [UInt64: Outgoing] = [:]
    var incoming: [UInt64: Incoming] = [:]
    var incomingByRef: [Term: UInt64] = [:]
    /// Calls from the peer's processes not answered yet (their waiters).
    var callsIn: Set<UInt64> = []
}
