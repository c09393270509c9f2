// A message or signal in flight: one malloc'd block, header then payload.
//
// Every signal (user message, exit, link, monitor, down, call, reply, timer,
// init) travels as a MessageNode through the receiver's inbound queue, so
// signals from one sender arrive in the order they were sent (OTP-7). A
// signal that turns into a message (a trapped exit, a DOWN, a CALL) is
// converted in place: one allocation per message, header and payload
// together.

import CSwerl
import Glibc
import Synchronization

/// Internal node kinds. Values 0...11 equal the public swerl_message kinds and
/// are what a handler sees; the others are signals applied by the receiver.
enum NodeKind {
    static let message: UInt32 = 0
    static let exit: UInt32 = 1
    static let down: UInt32 = 2
    static let timeout: UInt32 = 3
    static let call: UInt32 = 4
    static let reply: UInt32 = 5
    /// SWERL_SOCKET_DATA ... SWERL_SOCKET_WRITABLE: from a socket to its
    /// owner (ref: the socket), messages as they come.
    static let socketData = UInt32(SWERL_SOCKET_DATA)
    static let socketClosed = UInt32(SWERL_SOCKET_CLOSED)
    static let socketPassive = UInt32(SWERL_SOCKET_PASSIVE)
    static let socketAccepted = UInt32(SWERL_SOCKET_ACCEPTED)
    static let socketConnected = UInt32(SWERL_SOCKET_CONNECTED)
    static let socketWritable = UInt32(SWERL_SOCKET_WRITABLE)
    /// The first signal of every incarnation: the spawn's parameters.
    static let sigInit: UInt32 = 16
    /// An exit signal; aux: its ExitFlags (none for exit/2).
    static let sigExit: UInt32 = 17
    static let sigLink: UInt32 = 18
    static let sigUnlink: UInt32 = 19
    /// ref: the monitor; aux: the owner pid (0: an external waiter).
    static let sigMonitor: UInt32 = 20
    static let sigDemonitor: UInt32 = 21
    /// A monitor fired; becomes DOWN if the owner still has the monitor.
    static let sigDown: UInt32 = 22
    /// The receive-timeout timer fired. aux: the timeout's sequence number.
    static let sigTimeout: UInt32 = 23
    /// A call: registers an external-waiter monitor, then becomes CALL.
    static let sigCall: UInt32 = 24
    /// A send_after timer fired; becomes MESSAGE.
    static let sigTimer: UInt32 = 25
    /// The answer to this process's swerl_call_async; becomes REPLY.
    static let sigReply: UInt32 = 26
    /// A question about the process's relations (Erlang's process_info of
    /// links and monitors, a signal too): its owner answers the waiter of
    /// `ref` with its links, monitors and watchers (`Relations`).
    static let sigRelations: UInt32 = 27
}

/// How an exit signal was sent (its node's `aux`).
enum ExitFlags {
    /// Sent because of a link (OTP-16), not by exit/2 (OTP-19).
    static let viaLink: UInt64 = 1 << 0
    /// Not trappable: a bounded mailbox's KILL overflow policy.
    static let untrappable: UInt64 = 1 << 1
}

/// The header, in two lengths. A plain message's is 40 bytes (this struct),
/// so an 8-byte message fits a 48-byte node: a deep mailbox of small
/// messages takes a quarter less memory than with one 56-byte header for
/// all. Every other node (signals, and what they become: DOWN, CALL,
/// REPLY, socket events...) is long: the ref and aux words follow, at
/// offsets 40 and 48, and its payload starts at 56. Read them through the
/// node pointer (`node.ref`, `node.aux`): a short node has neither.
struct MessageNode: ~Copyable {
    /// Intrusive link. Must stay the first field: queues address it at offset 0.
    let link: Atomic<UInt>
    var target: UInt64
    var from: UInt64
    var len: Int
    /// The node kind (NodeKind), every value below 256.
    private var kindByte: UInt8
    /// The flags below, as bits.
    private var flagBits: UInt8
    var reason: Int32

    init(target: UInt64, from: UInt64, len: Int, kind: UInt32, reason: Int32,
         counted: Bool, charged: Bool, term: Bool, long: Bool) {
        link = Atomic(0)
        self.target = target
        self.from = from
        self.len = len
        self.reason = reason
        kindByte = UInt8(truncatingIfNeeded: kind)
        flagBits = (counted ? Flag.counted : 0) | (charged ? Flag.charged : 0) | (term ? Flag.term : 0)
            | (long ? Flag.long : 0)
    }

    var kind: UInt32 {
        @inline(__always) get { UInt32(kindByte) }
        @inline(__always) set { kindByte = UInt8(truncatingIfNeeded: newValue) }
    }

    private enum Flag {
        static let counted: UInt8 = 1 << 0
        static let charged: UInt8 = 1 << 1
        static let term: UInt8 = 1 << 2
        static let batched: UInt8 = 1 << 3
        static let shared: UInt8 = 1 << 4
        static let long: UInt8 = 1 << 5
    }

    @inline(__always)
    private func has(_ flag: UInt8) -> Bool { flagBits & flag != 0 }

    /// Whether the node is a term or carries a binary: what a handler's
    /// message needs beyond its payload, in one test on the common path.
    var isTermOrShared: Bool {
        @inline(__always) get { flagBits & (Flag.term | Flag.shared) != 0 }
    }
    /// Whether freeing it refunds a charge or releases a binary: one test
    /// on the common path.
    var isChargedOrShared: Bool {
        @inline(__always) get { flagBits & (Flag.charged | Flag.shared) != 0 }
    }

    @inline(__always)
    private mutating func set(_ flag: UInt8, _ on: Bool) {
        flagBits = on ? flagBits | flag : flagBits & ~flag
    }

    /// Counted in the receiver's mailbox accounting (MailboxAccounting).
    var counted: Bool {
        @inline(__always) get { has(Flag.counted) }
        @inline(__always) set { set(Flag.counted, newValue) }
    }
    /// Charged to the runtime's memory ceiling (MemoryBudget) until freed.
    var charged: Bool {
        @inline(__always) get { has(Flag.charged) }
        @inline(__always) set { set(Flag.charged, newValue) }
    }
    /// The payload is an Erlang term (SWERL_MESSAGE_TERM), not plain bytes.
    var term: Bool {
        @inline(__always) get { has(Flag.term) }
        @inline(__always) set { set(Flag.term, newValue) }
    }
    /// Handed to a turn group's thread in a batch (TurnBatch): not removed
    /// from the mailbox until the batch is finished.
    var batched: Bool {
        @inline(__always) get { has(Flag.batched) }
        @inline(__always) set { set(Flag.batched, newValue) }
    }
    /// The payload is a SharedBinaryPointer holding one reference: the
    /// message carries a shared binary, not a copy of its bytes.
    var shared: Bool {
        @inline(__always) get { has(Flag.shared) }
        @inline(__always) set { set(Flag.shared, newValue) }
    }
    /// It has the long header: ref and aux, then the payload at 56.
    var isLong: Bool {
        @inline(__always) get { has(Flag.long) }
    }
    /// What the long header adds: 16 bytes or none, without a branch.
    var longExtra: Int {
        @inline(__always) get { Int(flagBits & Flag.long) &>> 1 }
    }
}

typealias NodePointer = UnsafeMutablePointer<MessageNode>

extension UnsafeMutablePointer where Pointee == MessageNode {
    /// A call's, a monitor's or a timer's ref; a socket's id (0 for a plain message).
    var ref: UInt64 {
        @inline(__always) get {
            pointee.isLong ? UnsafeRawPointer(self).load(fromByteOffset: Nodes.shortHeaderSize, as: UInt64.self) : 0
        }
    }
    /// A signal's extra word: exit flags, a monitor's owner (0 for a plain message).
    var aux: UInt64 {
        @inline(__always) get {
            pointee.isLong ? UnsafeRawPointer(self).load(fromByteOffset: Nodes.shortHeaderSize + 8, as: UInt64.self) : 0
        }
    }
}

enum Nodes {
    /// A plain message's header; the payload follows it, 8-byte aligned.
    static let shortHeaderSize = MemoryLayout<MessageNode>.stride
    /// Every other node's: ref and aux follow the short header.
    static let longHeaderSize = shortHeaderSize + 16

    @inline(__always)
    static func headerSize(_ node: NodePointer) -> Int {
        shortHeaderSize &+ node.pointee.longExtra
    }

    /// Allocates a node and copies `len` bytes from `data` into it; nil when
    /// out of memory. A plain message with no ref nor aux gets the short header.
    @inline(__always)
    static func make(kind: UInt32, target: UInt64, from: UInt64, ref: UInt64 = 0,
                     aux: UInt64 = 0, reason: Int32 = 0, counted: Bool = false, charged: Bool = false,
                     term: Bool = false, data: UnsafeRawPointer?, len: Int) -> NodePointer? {
        let long = kind != NodeKind.message || ref != 0 || aux != 0
        let header = long ? longHeaderSize : shortHeaderSize
        guard len <= Int.max - header, let raw = NodePool.allocate(header + len) else { return nil }
        let node = raw.bindMemory(to: MessageNode.self, capacity: 1)
        node.initialize(to: MessageNode(target: target, from: from, len: len, kind: kind, reason: reason,
                                        counted: counted, charged: charged, term: term, long: long))
        if long {
            raw.storeBytes(of: ref, toByteOffset: shortHeaderSize, as: UInt64.self)
            raw.storeBytes(of: aux, toByteOffset: shortHeaderSize + 8, as: UInt64.self)
        }
        if len > 0, let data {
            if len <= 16 {
                copySmall(to: raw + header, from: data, count: len)
            } else {
                (raw + header).copyMemory(from: data, byteCount: len)
            }
        }
        return node
    }

    /// 1...16 bytes in at most two loads and two stores (overlapping when
    /// the count is not a power of two): most messages are a word or two,
    /// and a call to memmove cost them about 20 instructions.
    @inline(__always)
    private static func copySmall(to target: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
        if count >= 8 {
            target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self),
                              toByteOffset: count - 8, as: UInt64.self)
        } else if count >= 4 {
            target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self),
                              toByteOffset: count - 4, as: UInt32.self)
        } else {
            for index in 0..<count {
                target.storeBytes(of: source.load(fromByteOffset: index, as: UInt8.self), toByteOffset: index, as: UInt8.self)
            }
        }
    }

    /// A message (or a reply signal) carrying `binary` (a reference taken
    /// for it); nil when out of memory.
    @inline(__always)
    static func makeShared(kind: UInt32 = NodeKind.message, target: UInt64, from: UInt64, ref: UInt64 = 0,
                           counted: Bool, charged: Bool, binary: SharedBinaryPointer) -> NodePointer? {
        var address = UInt(bitPattern: binary)
        guard let node = make(kind: kind, target: target, from: from, ref: ref, counted: counted, charged: charged,
                              data: &address, len: SharedBinaries.inlineSize) else { return nil }
        node.pointee.shared = true
        SharedBinaries.retain(binary)
        return node
    }

    /// The binary a shared message carries.
    @inline(__always)
    static func binary(_ node: NodePointer) -> SharedBinaryPointer {
        UnsafeMutablePointer(bitPattern: payload(node).load(as: UInt.self))!
    }

    /// The message a handler sees for `node`: its payload, or the bytes of
    /// the binary it carries.
    @inline(__always)
    static func message(_ node: NodePointer) -> swerl_message {
        var data = node.pointee.len > 0 ? UnsafeRawPointer(payload(node)) : nil
        var len = node.pointee.len
        var flags: UInt32 = 0
        if node.pointee.isTermOrShared {
            if node.pointee.term { flags = SWERL_MESSAGE_TERM }
            if node.pointee.shared {
                let bytes = SharedBinaries.bytes(binary(node))
                data = bytes.baseAddress
                len = bytes.count
                flags |= SWERL_MESSAGE_SHARED
            }
        }
        return swerl_message(kind: node.pointee.kind, reason: node.pointee.reason, from: node.pointee.from,
                             ref: node.ref, data: data, len: len, flags: flags)
    }

    @inline(__always)
    static func payload(_ node: NodePointer) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(node) + headerSize(node)
    }

    @inline(__always)
    static func bytes(_ node: NodePointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: node.pointee.len > 0 ? UnsafeRawPointer(payload(node)) : nil,
                               count: node.pointee.len)
    }

    @inline(__always)
    static func release(_ node: NodePointer) {
        let total = headerSize(node) + node.pointee.len
        if node.pointee.isChargedOrShared {
            if node.pointee.charged { MemoryBudget.refundOnThisThread(length: node.pointee.len) }
            if node.pointee.shared { SharedBinaries.release(binary(node)) }
        }
        NodePool.release(UnsafeMutableRawPointer(node), total: total)
    }

    /// Frees a chain linked through `link` (owner-side, already detached).
    static func releaseChain(_ first: NodePointer?) {
        var cursor = first
        while let node = cursor {
            cursor = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed))
            release(node)
        }
    }
}
