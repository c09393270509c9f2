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

struct ProcessBlock: ~Copyable {
    // --- shared -----------------------------------------------------------
    /// Run-queue link. Must stay the first field (InboundQueue's contract).
    let runLink: Atomic<UInt>
    /// The mailbox's inbound queue head and scheduling token.
    let inbound: Atomic<UInt>
    /// The live pid; `pid | Pids.deadBit` once that incarnation exited; 0 if
    /// the slot was never used. Senders compare it with the pid they hold.
    let pidWord: Atomic<UInt64>
    /// The scheduler that last ran it: where outside senders wake it.
    let lastScheduler: Atomic<Int>
    /// Mailbox accounting (see MailboxAccounting): weights of the messages
    /// that arrived (senders add) and that left (the owner publishes).
    let mailboxIn: Atomic<UInt64>
    let mailboxOut: Atomic<UInt64>
    /// DROP_OLDEST: drops senders asked for, and drops the owner made.
    let dropsRequested: Atomic<UInt64>
    let dropsDone: Atomic<UInt64>
    let mailboxLimit: Atomic<UInt32>
    let overflow: Atomic<UInt32>
    /// Whether this incarnation is a supervisor (for the supervisor API).
    let isSupervisor: Atomic<Bool>
    // Introspection snapshot, written by the owner with relaxed stores.
    let infoStatus: Atomic<UInt32>
    let infoHandled: Atomic<UInt64>
    let infoLinks: Atomic<UInt32>
    let infoMonitors: Atomic<UInt32>
    let infoMonitoredBy: Atomic<UInt32>
    let infoTrapExit: Atomic<UInt32>
    let infoMemory: Atomic<UInt64>

    // --- owner only -------------------------------------------------------
    var slot: UInt32
    /// The incarnation whose signals this block accepts (0 between lives).
    var ownPid: UInt64 = 0
    var behavior = swerl_behavior()
    var state: UnsafeMutableRawPointer? = nil
    var trapExit = false
    var initialized = false
    var dying = false
    /// init returned SWERL_IGNORE (OTP-42).
    var ignoredStart = false
    var exitReason: Int32 = 0
    var exitDetail: [UInt8] = []
    /// Set by swerl_fail: the reason for the next STOP or crash.
    var failReason: Int32? = nil
    var failDetail: [UInt8] = []
    var handled: UInt64 = 0

    /// The private message queue (messages moved out of `inbound`), oldest
    /// first, with the selective-receive cursor: the node before the next one
    /// to offer (nil: offer from the oldest).
    var mailFirst: NodePointer? = nil
    var mailLast: NodePointer? = nil
    var mailCount = 0
    var offerAfter: NodePointer? = nil
    /// The message the handler is looking at now: never removed under it.
    var offering: NodePointer? = nil

    var links = PidSet()
    var monitors: [MonitorEntry] = []
    var monitoredBy: [MonitorEntry] = []
    var pendingCalls: [UInt64] = []

    /// Receive timeout (swerl_receive_timeout).
    var timeoutArmed = false
    var timeoutDeadline: UInt64 = 0
    var timeoutSequence: UInt64 = 0
    var timeoutInFlight = false
    var timeoutRequest: UInt32? = nil

    init(slot: UInt32) {
        self.runLink = Atomic(0)
        self.inbound = Atomic(InboundQueue.idle)
        self.pidWord = Atomic(0)
        self.lastScheduler = Atomic(0)
        self.mailboxIn = Atomic(0)
        self.mailboxOut = Atomic(0)
        self.dropsRequested = Atomic(0)
        self.dropsDone = Atomic(0)
        self.mailboxLimit = Atomic(0)
        self.overflow = Atomic(0)
        self.isSupervisor = Atomic(false)
        self.infoStatus = Atomic(UInt32(SWERL_STATUS_WAITING))
        self.infoHandled = Atomic(0)
        self.infoLinks = Atomic(0)
        self.infoMonitors = Atomic(0)
        self.infoMonitoredBy = Atomic(0)
        self.infoTrapExit = Atomic(0)
        self.infoMemory = Atomic(0)
        self.slot = slot
    }
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
        pointee.mailCount += 1
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
        pointee.mailCount -= 1
    }

    /// Removes the first message matching `predicate`; returns it (detached).
    func removeMail(where predicate: (NodePointer) -> Bool) -> NodePointer? {
        var previous: NodePointer? = nil
        var cursor = pointee.mailFirst
        while let node = cursor {
            if node != pointee.offering && predicate(node) {
                unlinkMail(node, previous: previous)
                return node
            }
            previous = node
            cursor = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed))
        }
        return nil
    }

    func releaseAllMail() {
        var cursor = pointee.mailFirst
        while let node = cursor {
            cursor = NodePointer(bitPattern: node.pointee.link.load(ordering: .relaxed))
            discard(node)
        }
        pointee.mailFirst = nil
        pointee.mailLast = nil
        pointee.mailCount = 0
        pointee.offerAfter = nil
    }

    /// Publishes the introspection snapshot (relaxed stores, no RMW).
    @inline(__always)
    func publishInfo() {
        pointee.infoHandled.store(pointee.handled, ordering: .relaxed)
    }

    func publishRelations() {
        pointee.infoLinks.store(UInt32(pointee.links.count), ordering: .relaxed)
        pointee.infoMonitors.store(UInt32(pointee.monitors.count), ordering: .relaxed)
        pointee.infoMonitoredBy.store(UInt32(pointee.monitoredBy.count), ordering: .relaxed)
        pointee.infoTrapExit.store(pointee.trapExit ? 1 : 0, ordering: .relaxed)
        let tables = pointee.links.memory + pointee.pendingCalls.capacity * 8
            + (pointee.monitors.capacity + pointee.monitoredBy.capacity) * 16
        pointee.infoMemory.store(UInt64(MemoryLayout<ProcessBlock>.stride + tables), ordering: .relaxed)
    }
}
