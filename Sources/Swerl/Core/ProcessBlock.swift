// The process control block.
//
// Blocks live in the process table for the runtime's whole life and are
// reused slot by slot (type-stable memory), so a sender holding a stale pid
// never touches freed memory. Who may touch what:
//  - the atomics at the top: any thread;
//  - everything else: only the holder of the scheduling token (see
//    InboundQueue), that is the scheduler running the process now.
// A new incarnation gets its parameters through its first signal (sigInit),
// never by writes from the spawning thread, so the two never race.

import CSwerl
import Synchronization

struct MonitorEntry {
    var ref: UInt64
    /// Outgoing monitors: the monitored pid. Incoming: the owner pid, or 0
    /// for an external waiter (a call, a Swift `waitForExit`).
    var pid: UInt64
}

/// A block is exactly three cache lines and the table aligns it to one, so
/// no two processes share a line: the first line holds what senders touch;
/// the other two begin with what the owner publishes, then its own state.
/// What few processes use lives in ProcessExtras, made on first use.
struct ProcessBlock: ~Copyable {
    static let alignment = 64
    static let cacheLines = 3
    /// `lastScheduler` of a blocking process (SWERL_SPAWN_BLOCKING).
    static let blockingHome = UInt32.max
    /// `lastScheduler` of a process of turn group i: `groupHomeBase | i`.
    static let groupHomeBase: UInt32 = 0x8000_0000

    /// Whether a `lastScheduler` value is a scheduler's index (not the
    /// blocking pool, not a turn group).
    @inline(__always)
    static func isSchedulerHome(_ home: UInt32) -> Bool { home < groupHomeBase }

    // --- line 0: senders (any thread) ---------------------------------------
    /// Run-queue link. Must stay the first field (InboundQueue's contract).
    let runLink: Atomic<UInt>
    /// The mailbox's inbound queue head and scheduling token.
    let inbound: Atomic<UInt>
    /// The live pid; `pid | Pids.deadBit` once that incarnation exited; 0 if
    /// the slot was never used. Senders compare it with the pid they hold.
    let pidWord: Atomic<UInt64>
    /// Mailbox accounting (see MailboxAccounting): weights of the messages
    /// that arrived (senders add); mailboxOut below: those that left.
    let mailboxIn: Atomic<UInt64>
    /// DROP_OLDEST: drops senders asked for, and drops the owner made.
    let dropsRequested: Atomic<UInt64>
    let dropsDone: Atomic<UInt64>
    /// The scheduler that last ran it: where outside senders wake it.
    /// `blockingHome` for a blocking process: it runs on the blocking pool.
    let lastScheduler: Atomic<UInt32>
    let mailboxLimit: Atomic<UInt32>
    let overflow: Atomic<UInt32>
    /// The block's index in the table (fixed).
    let slot: UInt32

    // --- line 1: published by the owner (relaxed stores), read by anyone -----
    let mailboxOut: Atomic<UInt64>
    /// Messages handled by this incarnation (the owner is the only writer).
    let infoHandled: Atomic<UInt64>
    /// Bytes: the block and its tables (saturates at 4 GiB).
    let infoMemory: Atomic<UInt32>
    let infoStatus: Atomic<UInt32>
    let infoLinks: Atomic<UInt32>
    let infoMonitors: Atomic<UInt32>
    let infoMonitoredBy: Atomic<UInt32>
    let infoTrapExit: Atomic<Bool>
    /// Whether this incarnation is a supervisor (for the supervisor API).
    let isSupervisor: Atomic<Bool>

    // --- the owner's own (the rest of line 1, line 2) ----------------------
    /// The incarnation whose signals this block accepts (0 between lives).
    var ownPid: UInt64 = 0
    /// The behaviour's callbacks after init (init itself comes with sigInit).
    var handle: swerl_handle_fn? = nil
    var terminate: swerl_terminate_fn? = nil
    var state: UnsafeMutableRawPointer? = nil

    /// The private message queue (messages moved out of `inbound`), oldest
    /// first, with the selective-receive cursor: the node before the next one
    /// to offer (nil: offer from the oldest).
    var mailFirst: NodePointer? = nil
    var mailLast: NodePointer? = nil
    var offerAfter: NodePointer? = nil
    /// The message the handler is looking at now: never removed under it
    /// (nor are the messages of a turn group's batch: MessageNode.batched).
    var offering: NodePointer? = nil

    var links = PidSet()
    /// Monitors, pending calls, swerl_fail's reason, the receive timeout, an
    /// exit's detail: made on first use, dropped when the incarnation ends.
    var extras: ProcessExtras? = nil
    var exitReason: Int32 = 0
    /// The flags below, one bit each.
    private var bits: UInt8 = 0

    @inline(__always)
    private func bit(_ mask: UInt8) -> Bool { bits & mask != 0 }
    @inline(__always)
    private mutating func setBit(_ mask: UInt8, _ on: Bool) { bits = on ? bits | mask : bits & ~mask }

    var trapExit: Bool {
        @inline(__always) get { bit(1) }
        @inline(__always) set { setBit(1, newValue) }
    }
    var initialized: Bool {
        @inline(__always) get { bit(2) }
        @inline(__always) set { setBit(2, newValue) }
    }
    var dying: Bool {
        @inline(__always) get { bit(4) }
        @inline(__always) set { setBit(4, newValue) }
    }
    /// init returned SWERL_IGNORE (OTP-42).
    var ignoredStart: Bool {
        get { bit(8) }
        set { setBit(8, newValue) }
    }
    /// It exits of its own doing (init failed, a handler crashed or stopped),
    /// not by an exit signal: an abnormal reason is worth a crash report.
    var crashed: Bool {
        get { bit(16) }
        set { setBit(16, newValue) }
    }
    /// Started by a supervisor, which reports its children's exits itself.
    var supervised: Bool {
        get { bit(32) }
        set { setBit(32, newValue) }
    }

    init(slot: UInt32) {
        self.runLink = Atomic(0)
        self.inbound = Atomic(InboundQueue.idle)
        self.pidWord = Atomic(0)
        self.mailboxIn = Atomic(0)
        self.dropsRequested = Atomic(0)
        self.dropsDone = Atomic(0)
        self.lastScheduler = Atomic(0)
        self.mailboxLimit = Atomic(0)
        self.overflow = Atomic(0)
        self.slot = slot
        self.mailboxOut = Atomic(0)
        self.infoHandled = Atomic(0)
        self.infoMemory = Atomic(0)
        self.infoStatus = Atomic(UInt32(SWERL_STATUS_WAITING))
        self.infoLinks = Atomic(0)
        self.infoMonitors = Atomic(0)
        self.infoMonitoredBy = Atomic(0)
        self.infoTrapExit = Atomic(false)
        self.isSupervisor = Atomic(false)
    }

    /// Messages handled (the owner's view of infoHandled: no RMW, one writer).
    var handled: UInt64 {
        get { infoHandled.load(ordering: .relaxed) }
        set { infoHandled.store(newValue, ordering: .relaxed) }
    }

    // The extras' fields, as if they were the block's: reading one that was
    // never made gives its default, and only a write makes the extras.
    @inline(__always)
    private mutating func madeExtras() -> ProcessExtras {
        if let extras { return extras }
        let made = ProcessExtras()
        extras = made
        return made
    }

    var monitors: MonitorSet {
        get { extras?.fields.monitors ?? MonitorSet() }
        _modify { let e = madeExtras(); yield &e.fields.monitors }
    }
    var monitoredBy: MonitorSet {
        get { extras?.fields.monitoredBy ?? MonitorSet() }
        _modify { let e = madeExtras(); yield &e.fields.monitoredBy }
    }
    /// The refs of this process's calls in flight (swerl_call_async): a
    /// PidSet holds them as well as pids (64-bit ids, small or hashed).
    var pendingCalls: PidSet {
        get { extras?.fields.pendingCalls ?? PidSet() }
        _modify { let e = madeExtras(); yield &e.fields.pendingCalls }
    }
    var failReason: Int32? {
        get { extras?.fields.failReason }
        _modify { let e = madeExtras(); yield &e.fields.failReason }
    }
    var failDetail: [UInt8] {
        get { extras?.fields.failDetail ?? [] }
        _modify { let e = madeExtras(); yield &e.fields.failDetail }
    }
    var timeoutArmed: Bool {
        get { extras?.fields.timeoutArmed ?? false }
        _modify { let e = madeExtras(); yield &e.fields.timeoutArmed }
    }
    var timeoutDeadline: UInt64 {
        get { extras?.fields.timeoutDeadline ?? 0 }
        _modify { let e = madeExtras(); yield &e.fields.timeoutDeadline }
    }
    var timeoutInFlight: Bool {
        get { extras?.fields.timeoutInFlight ?? false }
        _modify { let e = madeExtras(); yield &e.fields.timeoutInFlight }
    }
    var timeoutRequest: UInt32? {
        get { extras?.fields.timeoutRequest }
        _modify { let e = madeExtras(); yield &e.fields.timeoutRequest }
    }
    /// The exit's detail; an empty one makes no extras.
    var exitDetail: [UInt8] {
        get { extras?.fields.exitDetail ?? [] }
        set { if !newValue.isEmpty || extras != nil { madeExtras().fields.exitDetail = newValue } }
    }
}

/// The part of a process's state that most processes never use.
final class ProcessExtras {
    struct Fields {
        var monitors = MonitorSet()
        var monitoredBy = MonitorSet()
        var pendingCalls = PidSet()
        /// Set by swerl_fail: the reason for the next STOP or crash.
        var failReason: Int32? = nil
        var failDetail: [UInt8] = []
        /// Receive timeout (swerl_receive_timeout).
        var timeoutArmed = false
        var timeoutDeadline: UInt64 = 0
        var timeoutInFlight = false
        var timeoutRequest: UInt32? = nil
        /// The detail of the exit under way (swerl_exit's, swerl_fail's).
        var exitDetail: [UInt8] = []
    }

    /// Touched only by the process's owner (its turn): no run-time
    /// exclusivity check.
    @exclusivity(unchecked) var fields = Fields()

    /// Bytes it takes (object header, fields), for process_info.memory.
    static let memory = 16 + MemoryLayout<Fields>.stride
}

typealias ProcessPointer = UnsafeMutablePointer<ProcessBlock>

// MARK: - The private message queue (owner only)

extension UnsafeMutablePointer where Pointee == ProcessBlock {
    @inline(__always)
    func appendMail(_ node: NodePointer) {
        node.pointee.link.store(0, ordering: .relaxed)
        if let last = pointee.mailLast {
            last.pointee.link.store(UInt(bitPattern: node), ordering: .relaxed)
        } else {
            pointee.mailFirst = node
        }
        pointee.mailLast = node
    }

    /// The next message to offer to the handler, if any.
    @inline(__always)
    func nextOffer() -> NodePointer? {
        if let after = pointee.offerAfter {
            return NodePointer(bitPattern: after.pointee.link.load(ordering: .relaxed))
        }
        return pointee.mailFirst
    }

    /// Unlinks `node`, whose predecessor is `previous` (nil: it is first).
    @inline(__always)
    func unlinkMail(_ node: NodePointer, previous: NodePointer?) {
        let next = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed))
        if let previous {
            previous.pointee.link.store(node.pointee.link.load(ordering: .relaxed), ordering: .relaxed)
        } else {
            pointee.mailFirst = next
        }
        if pointee.mailLast == node { pointee.mailLast = previous }
        if pointee.offerAfter == node { pointee.offerAfter = previous }
    }

    /// Removes the first message matching `predicate`; returns it (detached).
    func removeMail(where predicate: (NodePointer) -> Bool) -> NodePointer? {
        var previous: NodePointer? = nil
        var cursor = pointee.mailFirst
        while let node = cursor {
            if node != pointee.offering && !node.pointee.batched && predicate(node) {
                unlinkMail(node, previous: previous)
                return node
            }
            previous = node
            cursor = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed))
        }
        return nil
    }

    /// Frees the mailbox; returns how many user messages it held (they
    /// reached no handler: dead letters).
    @discardableResult
    func releaseAllMail() -> Int {
        var messages = 0
        var cursor = pointee.mailFirst
        while let node = cursor {
            cursor = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed))
            if node.pointee.kind == NodeKind.message { messages += 1 }
            discard(node)
        }
        pointee.mailFirst = nil
        pointee.mailLast = nil
        pointee.offerAfter = nil
        return messages
    }

    func publishRelations() {
        pointee.infoLinks.store(UInt32(pointee.links.count), ordering: .relaxed)
        pointee.infoMonitors.store(UInt32(pointee.monitors.count), ordering: .relaxed)
        pointee.infoMonitoredBy.store(UInt32(pointee.monitoredBy.count), ordering: .relaxed)
        pointee.infoTrapExit.store(pointee.trapExit, ordering: .relaxed)
        var tables = pointee.links.memory
        if let extras = pointee.extras {
            tables += ProcessExtras.memory + extras.fields.pendingCalls.memory
                + extras.fields.monitors.memory + extras.fields.monitoredBy.memory
        }
        let memory = MemoryLayout<ProcessBlock>.stride + tables
        pointee.infoMemory.store(UInt32(clamping: memory), ordering: .relaxed)
    }
}
