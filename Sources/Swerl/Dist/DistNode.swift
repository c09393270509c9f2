// A runtime that is a node of an Erlang cluster (swerl_node_start): its
// name, creation and cookie, its connections by peer, and the routes every
// signal to a remote pid takes (Engine.send and Engine.signal come here for
// a pid with the remote bit).
//
// The node's own process (NodeProcess, registered as `net_kernel`, as
// Erlang's is) owns the listener and the EPMD registration, and answers
// net_adm:ping. Each connection is run by a process of its own
// (ConnectionProcess): handshake, frames in, ticks. Frames out are written
// by the sending thread itself.

import CSwerl
import Synchronization

final class DistNode: @unchecked Sendable {
    struct Options {
        var cookie: String
        var epmdPort: UInt16
        var listenPort: UInt16
        var listenHost: String
        var tickMillis: UInt32
        var maxFrame: Int
        var connectTimeoutMillis: UInt32 = 7_000
    }

    unowned let engine: Engine
    let name: String
    /// `name` of `name@host`: what EPMD knows the node by.
    let alive: String
    let host: String
    let options: Options
    /// This node's name as an atom (SMALL_ATOM_UTF8 bytes), for its pids.
    let ownAtom: [UInt8]
    /// From EPMD's answer; written before the node is published.
    var creation: UInt32 = 0
    /// The node's process (`net_kernel`).
    var processPid: UInt64 = 0
    var listenPort: UInt16 = 0

    static let maxPeers = 4096
    /// Connections by peer index (Unmanaged pointers; 0: none): senders
    /// find theirs without a lock.
    private let slots: UnsafeMutablePointer<Atomic<UInt>>
    /// Every connection made, so the slots' pointers stay valid; and the
    /// lock under which a slot changes.
    private let made = Lock<[DistConnection]>([])
    /// Processes told of nodes coming up and going down (monitor_nodes).
    let nodeWatchers = Lock<Set<UInt64>>([])
    private let nextUnlinkId = Atomic<UInt64>(1)

    init(engine: Engine, name: String, options: Options) {
        self.engine = engine
        self.name = name
        let parts = name.split(separator: "@", maxSplits: 1)
        alive = String(parts[0])
        host = String(parts[1])
        self.options = options
        ownAtom = FrameWriter.atomBytes(name)
        slots = .allocate(capacity: Self.maxPeers)
        for index in 0..<Self.maxPeers { (slots + index).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: Self.maxPeers)
        slots.deallocate()
    }

    // MARK: Connections

    /// The connection to the peer with this index, if one was made and is
    /// not down.
    func liveConnection(_ peer: UInt32) -> DistConnection? {
        guard Int(peer) < Self.maxPeers else { return nil }
        let bits = slots[Int(peer)].load(ordering: .acquiring)
        guard bits != 0 else { return nil }
        let connection = Unmanaged<DistConnection>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).takeUnretainedValue()
        return connection.isDown ? nil : connection
    }

    /// The connection to `peer`, made (and its process started) when there
    /// is none, as Erlang connects on the first signal to a node.
    func connection(to peer: UInt32) -> DistConnection? {
        if let live = liveConnection(peer) { return live }
        guard Int(peer) < Self.maxPeers, let peerName = engine.remotePids.nodeName(peer), peerName != name,
              !engine.isStopped else { return nil }
        return made.withLock { list -> DistConnection? in
            if let live = liveConnection(peer) { return live }
            let connection = DistConnection(node: self, peerIndex: peer, peerName: peerName)
            list.append(connection)
            slots[Int(peer)].store(UInt(bitPattern: Unmanaged.passUnretained(connection).toOpaque()), ordering: .releasing)
            guard ConnectionProcess.start(connection, engine: engine) else {
                _ = connection.becomeDown()
                return nil
            }
            return connection
        }
    }

    /// An accepted connection from `peerName` that passed the name check:
    /// the status erl would give it, and the connection `handler` runs.
    /// "ok": a new connection. "ok_simultaneous": ours to the peer, still
    /// connecting, gives way (the handler takes it over, with what waits in
    /// it). "nok": ours wins (the greater name's attempt does), the peer's
    /// gives way. "alive": one is up already; the peer then says whether
    /// its side of that one is gone (`replacing`: this one takes its place)
    /// or not (it gives up).
    func admit(_ peerName: String, handler: UInt64, replacing: Bool) -> (String, DistConnection?) {
        let peer = engine.remotePids.nodeIndex(peerName)
        guard Int(peer) < Self.maxPeers else { return ("not_allowed", nil) }
        var replaced: DistConnection? = nil
        let outcome = made.withLock { list -> (String, DistConnection?) in
            if let live = liveConnection(peer) {
                if live.isUp {
                    guard replacing else { return ("alive", nil) }
                    replaced = live
                } else {
                    if name > peerName { return ("nok", nil) }
                    live.handler.store(handler, ordering: .releasing)
                    return ("ok_simultaneous", live)
                }
            }
            let connection = DistConnection(node: self, peerIndex: peer, peerName: peerName)
            connection.handler.store(handler, ordering: .releasing)
            list.append(connection)
            slots[Int(peer)].store(UInt(bitPattern: Unmanaged.passUnretained(connection).toOpaque()), ordering: .releasing)
            return ("ok", connection)
        }
        if let replaced { connectionDown(replaced, why: "\(peerName) connected again (its side of it was gone)") }
        return outcome
    }

    /// Connected node names (up connections).
    func connectedNodes() -> [String] {
        made.withLock { list in list.filter { $0.isUp }.map { $0.peerName } }
    }

    // MARK: Pids in frames

    func writePid(_ pid: UInt64, into frame: inout FrameWriter, via connection: DistConnection) {
        if Pids.isLocal(pid) {
            frame.pid(nodeAtom: ownAtom, id: UInt32(Pids.slot(pid)), serial: UInt32(Pids.generation(pid)),
                      creation: creation)
        } else if let entry = engine.remotePids.entry(pid) {
            let atom = entry.node == connection.peerIndex ? connection.peerAtom
                : FrameWriter.atomBytes(engine.remotePids.nodeName(entry.node) ?? "")
            frame.pid(nodeAtom: atom, id: entry.id, serial: entry.serial, creation: entry.creation)
        } else {
            frame.pid(nodeAtom: ownAtom, id: 0, serial: 0, creation: creation)
        }
    }

    /// The sender a frame names: the process, or the node's own process for
    /// a send from outside any process (a pid must be there).
    func sender(_ from: UInt64) -> UInt64 { from != 0 ? from : processPid }

    /// A control message (and a message, if `message` is given) to the
    /// connection's peer.
    func control(_ connection: DistConnection, capacity: Int = 64, _ build: (inout FrameWriter) -> Void) {
        var frame = FrameWriter(capacity: capacity)
        frame.version()
        build(&frame)
        connection.transmit(frame.finish())
    }

    // MARK: Sending

    /// A message to a remote pid (Engine.send). Erlang's `!` to a node that
    /// cannot be reached drops the message: so does this, returning 0.
    func send(to: UInt64, from: UInt64, bytes: UnsafeRawBufferPointer, term: Bool) -> Int32 {
        guard let entry = engine.remotePids.entry(to) else { return engine.absent(to) }
        guard let connection = connection(to: entry.node) else {
            engine.deadLetters.add(1, ordering: .relaxed)
            return Code.ok
        }
        engine.countSent()
        sendMessage(on: connection, from: from, to: to, bytes: bytes, term: term)
        return Code.ok
    }

    private func sendMessage(on connection: DistConnection, from: UInt64, to: UInt64, bytes: UnsafeRawBufferPointer,
                             term: Bool) {
        control(connection, capacity: 64 + bytes.count) { frame in
            frame.tuple(3)
            frame.integer(DistOp.sendSender)
            writePid(sender(from), into: &frame, via: connection)
            writePid(to, into: &frame, via: connection)
            writeMessage(bytes, term: term, into: &frame)
        }
    }

    private func writeMessage(_ bytes: UnsafeRawBufferPointer, term: Bool, into frame: inout FrameWriter) {
        if term {
            frame.encoded(bytes)
        } else {
            frame.version()
            frame.binary(bytes)
        }
    }

    /// A message to `name` on node `nodeName` (REG_SEND).
    func send(toName name: String, node nodeName: String, from: UInt64, bytes: UnsafeRawBufferPointer,
              term: Bool) -> Int32 {
        if nodeName == self.name {
            guard let pid = engine.registry.whereis(name) else { return Code.noName }
            return engine.send(to: pid, data: bytes.baseAddress, count: bytes.count, term: term)
        }
        guard Handshake.isNodeName(nodeName) else {
            return ErrorDetail.failing(Code.invalid, "\"\(nodeName)\" is not a node name (name@host)")
        }
        guard let connection = connection(to: engine.remotePids.nodeIndex(nodeName)) else {
            engine.deadLetters.add(1, ordering: .relaxed)
            return Code.ok
        }
        engine.countSent()
        control(connection, capacity: 64 + bytes.count) { frame in
            frame.tuple(4)
            frame.integer(DistOp.regSend)
            writePid(sender(from), into: &frame, via: connection)
            frame.atom("")
            frame.atom(name)
            writeMessage(bytes, term: term, into: &frame)
        }
        return Code.ok
    }

    // MARK: Signals to remote pids

    /// Engine.signal for a remote pid: the signal as its control message.
    func signal(_ kind: UInt32, to: UInt64, from: UInt64, ref: UInt64, aux: UInt64, reason: Int32,
                detail: UnsafeRawBufferPointer) {
        guard let entry = engine.remotePids.entry(to) else { return }
        switch kind {
        case NodeKind.sigExit:
            guard let connection = liveConnection(entry.node) else { return }
            let viaLink = aux & ExitFlags.viaLink != 0
            if viaLink {
                _ = connection.relations.withLock { $0.links.remove(Relations.Link(local: from, remote: to)) }
            }
            let reasonTerm = ExitReasons.term(reason: reason, detail: detail)
            control(connection) { frame in
                frame.tuple(3)
                frame.integer(viaLink ? DistOp.payloadExit : DistOp.payloadExit2)
                writePid(sender(from), into: &frame, via: connection)
                writePid(to, into: &frame, via: connection)
                frame.version()
                frame.term(reasonTerm)
            }
        case NodeKind.sigUnlink:
            guard let connection = liveConnection(entry.node) else { return }
            _ = connection.relations.withLock { $0.links.remove(Relations.Link(local: from, remote: to)) }
            let id = nextUnlinkId.add(1, ordering: .relaxed).oldValue
            control(connection) { frame in
                frame.tuple(4)
                frame.integer(DistOp.unlinkId)
                frame.term(.integer(Int64(id)))
                writePid(from, into: &frame, via: connection)
                writePid(to, into: &frame, via: connection)
            }
        case NodeKind.sigDown:
            // A local process a remote one monitors has exited.
            guard let connection = liveConnection(entry.node),
                  let monitor = connection.relations.withLock({ relations -> Relations.Incoming? in
                      guard let found = relations.incoming.removeValue(forKey: ref) else { return nil }
                      relations.incomingByRef[found.erlangRef] = nil
                      return found
                  }) else { return }
            let reasonTerm = ExitReasons.term(reason: reason, detail: detail)
            control(connection) { frame in
                frame.tuple(4)
                frame.integer(DistOp.payloadMonitorPExit)
                frame.term(monitor.named)
                writePid(to, into: &frame, via: connection)
                frame.term(monitor.erlangRef)
                frame.version()
                frame.term(reasonTerm)
            }
        case NodeKind.sigDemonitor:
            // A monitor held here on a remote process ends.
            guard let connection = liveConnection(entry.node),
                  let monitor = connection.relations.withLock({ $0.outgoing.removeValue(forKey: ref) }) else { return }
            control(connection) { frame in
                frame.tuple(4)
                frame.integer(DistOp.demonitorP)
                writePid(sender(monitor.watcher), into: &frame, via: connection)
                if let name = monitor.name { frame.atom(name) } else { writePid(to, into: &frame, via: connection) }
                frame.term(.reference(engine.erlangRef(ref)))
            }
        default:
            break
        }
    }

    /// swerl_link to a remote pid: the link is made here at once (as
    /// Erlang's link/1 is) and a LINK goes to the peer; a peer that cannot
    /// be reached makes it an exit signal `noconnection`.
    func link(from: UInt64, to: UInt64) -> Bool {
        guard let entry = engine.remotePids.entry(to), let connection = connection(to: entry.node) else { return false }
        connection.relations.withLock { _ = $0.links.insert(Relations.Link(local: from, remote: to)) }
        control(connection) { frame in
            frame.tuple(3)
            frame.integer(DistOp.link)
            writePid(from, into: &frame, via: connection)
            writePid(to, into: &frame, via: connection)
        }
        return true
    }

    /// A monitor of a remote pid (or of `name` at `nodeIndex`) by `watcher`
    /// (0: a call's waiter, sent as the node's own process) under `ref`.
    /// false: its node cannot be reached.
    func monitor(watcher: UInt64, target: UInt64, name: String? = nil, nodeIndex: UInt32? = nil, ref: UInt64) -> Bool {
        guard let peer = nodeIndex ?? engine.remotePids.entry(target)?.node,
              let connection = connection(to: peer) else { return false }
        connection.relations.withLock {
            $0.outgoing[ref] = Relations.Outgoing(watcher: watcher, target: target, name: name)
        }
        control(connection) { frame in
            frame.tuple(4)
            frame.integer(DistOp.monitorP)
            writePid(sender(watcher), into: &frame, via: connection)
            if let name { frame.atom(name) } else { writePid(target, into: &frame, via: connection) }
            frame.term(.reference(engine.erlangRef(ref)))
        }
        return true
    }

    /// The interned pid that stands for a monitor by name, so that the
    /// watcher's monitor list has a target to name (and demonitor reaches
    /// this node again).
    func namedTarget(node peer: UInt32) -> UInt64 {
        engine.remotePids.intern(RemotePids.Entry(node: peer, id: 0, serial: 0, creation: 0))
    }

    // MARK: Calls to remote servers

    /// A call to a remote process: a monitor of it (so its exit or the
    /// connection's loss settle the call) and `{'$gen_call', {From, Ref},
    /// Request}`, as gen_server:call sends; the reply `{Ref, Reply}` is
    /// taken off the wire by ConnectionProcess (Engine.settleRemoteReply).
    func call(to: UInt64, caller: UInt64, ref: UInt64, request: UnsafeRawBufferPointer, term: Bool) -> Bool {
        guard monitor(watcher: 0, target: to, ref: ref), let entry = engine.remotePids.entry(to),
              let connection = liveConnection(entry.node),
              let (from, bytes) = genCall(caller: caller, ref: ref, request: request, term: term) else { return false }
        bytes.withUnsafeBytes { sendMessage(on: connection, from: from, to: to, bytes: $0, term: true) }
        return true
    }

    /// `{'$gen_call', {From, Ref}, Request}` (the request a term, or a
    /// binary of its bytes), and From: the caller, or this node's process.
    private func genCall(caller: UInt64, ref: UInt64, request: UnsafeRawBufferPointer,
                         term: Bool) -> (from: UInt64, bytes: [UInt8])? {
        let requestTerm: Term
        if term, let decoded = try? ExternalTermFormat.decode(request) {
            requestTerm = decoded
        } else {
            requestTerm = .binary(Array(request))
        }
        let from = sender(caller)
        guard let fromTerm = engine.erlangPid(from) else { return nil }
        let message = Term.tuple([.atom("$gen_call"), .tuple([.pid(fromTerm), .reference(engine.erlangRef(ref))]),
                                  requestTerm])
        return (from, ExternalTermFormat.encode(message))
    }

    /// The same to the process registered as `name` on node `peer`
    /// (gen_server:call({Name, Node}, ...)): a monitor by name (its DOWN, or
    /// the connection's loss, settle the call: noproc when no process has
    /// the name) and the call sent by name (REG_SEND).
    func call(toName name: String, node peer: UInt32, caller: UInt64, ref: UInt64,
              request: UnsafeRawBufferPointer, term: Bool) -> Bool {
        let target = namedTarget(node: peer)
        guard monitor(watcher: 0, target: target, name: name, nodeIndex: peer, ref: ref),
              let connection = liveConnection(peer),
              let (from, bytes) = genCall(caller: caller, ref: ref, request: request, term: term) else { return false }
        engine.countSent()
        control(connection, capacity: 64 + bytes.count) { frame in
            frame.tuple(4)
            frame.integer(DistOp.regSend)
            writePid(from, into: &frame, via: connection)
            frame.atom("")
            frame.atom(name)
            bytes.withUnsafeBytes { writeMessage($0, term: true, into: &frame) }
        }
        return true
    }

    // MARK: The end of a connection

    /// A connection went down: every link over it gets `noconnection`, every
    /// monitor a DOWN `noconnection`, calls to its processes fail, once;
    /// watchers hear nodedown.
    func connectionDown(_ connection: DistConnection, why: String) {
        let wasUp = connection.isUp
        guard let relations = connection.becomeDown() else { return }
        let noconnection = ExitReasons.noconnection
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        for link in relations.links {
            engine.signal(NodeKind.sigExit, to: link.local, from: link.remote, aux: ExitFlags.viaLink, reason: noconnection)
        }
        for (ref, monitor) in relations.outgoing {
            if monitor.watcher == 0 {
                engine.waiters.down(ref, reason: noconnection, detail: none)
            } else {
                engine.signal(NodeKind.sigDown, to: monitor.watcher, from: monitor.name == nil ? monitor.target : 0, ref: ref,
                              reason: noconnection)
            }
        }
        for (ref, monitor) in relations.incoming {
            engine.signal(NodeKind.sigDemonitor, to: monitor.target, from: monitor.watcher, ref: ref)
        }
        for ref in relations.callsIn { engine.waiters.abandon(ref) }
        if wasUp {
            engine.report(level: Int(SWERL_LOG_INFO), "node \(name): connection to \(connection.peerName) down: \(why)")
            tellWatchers(up: false, connection.peerName)
        } else {
            engine.report(level: Int(SWERL_LOG_WARNING), "node \(name): could not connect to \(connection.peerName): \(why)")
        }
    }

    func tellWatchers(up: Bool, _ peer: String) {
        let watchers = nodeWatchers.withLock { Array($0) }
        guard !watchers.isEmpty else { return }
        let bytes = ExternalTermFormat.encode(.tuple([.atom(up ? "nodeup" : "nodedown"), .atom(peer)]))
        for watcher in watchers {
            bytes.withUnsafeBytes {
                _ = engine.send(to: watcher, data: $0.baseAddress, count: $0.count, runtimeTraffic: true, term: true,
                                sender: 0)
            }
        }
    }
}
