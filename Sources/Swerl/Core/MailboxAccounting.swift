// How many messages wait in a mailbox, and how many bytes, readable from any
// thread at the cost of one atomic add per send.
//
// Each message has a weight, 1 + (payload bytes << 24), so one word carries
// both a count (low 24 bits) and a byte total (the rest). Senders add the
// weight to `mailboxIn`; the owner adds it to `mailboxOut` when the message
// leaves (handed to the handler, dropped, discarded at exit). Both are
// running totals that may wrap: their difference is exact as long as fewer
// than 2^24 messages wait. A message being handled is not waiting; one the
// handler SKIPs is again.
//
// DROP_OLDEST cannot unlink from a lock-free queue on the sender's side, so
// a sender over the limit asks (`dropsRequested`) and the owner drops the
// oldest messages when it next looks at its mailbox; they no longer count as
// waiting from the moment they are asked for.

import Synchronization

enum MailboxWeight {
    static let countBits: UInt64 = 24
    static let countMask: UInt64 = (1 << countBits) - 1

    @inline(__always)
    static func of(_ length: Int) -> UInt64 { 1 &+ (UInt64(length) << countBits) }
}

extension UnsafeMutablePointer where Pointee == ProcessBlock {
    /// Messages and payload bytes waiting (any thread; a snapshot).
    func waiting() -> (count: Int, bytes: UInt64) {
        let out = pointee.mailboxOut.load(ordering: .relaxed)
        let difference = pointee.mailboxIn.load(ordering: .relaxed) &- out
        let pendingDrops = pointee.dropsRequested.load(ordering: .relaxed)
            &- pointee.dropsDone.load(ordering: .relaxed)
        let count = Int(difference & MailboxWeight.countMask) - Int(truncatingIfNeeded: pendingDrops)
        return (max(0, count), difference >> MailboxWeight.countBits)
    }

    /// Sender side: counts a message about to be pushed. Returns the number
    /// of messages that will then be waiting.
    @inline(__always)
    func arrive(_ length: Int) -> Int {
        let weight = MailboxWeight.of(length)
        let total = pointee.mailboxIn.wrappingAdd(weight, ordering: .relaxed).newValue
        guard pointee.mailboxLimit.load(ordering: .relaxed) != 0 else { return 0 }
        let difference = total &- pointee.mailboxOut.load(ordering: .relaxed)
        let pendingDrops = pointee.dropsRequested.load(ordering: .relaxed)
            &- pointee.dropsDone.load(ordering: .relaxed)
        return Int(difference & MailboxWeight.countMask) - Int(truncatingIfNeeded: pendingDrops)
    }

    /// Sender side: takes back a message that was not pushed after all.
    func unarrive(_ length: Int) {
        pointee.mailboxIn.wrappingSubtract(MailboxWeight.of(length), ordering: .relaxed)
    }

    /// Owner: a converted signal (EXIT, DOWN, REPLY) becomes a waiting message.
    func arriveConverted(_ node: NodePointer) {
        node.pointee.counted = true
        pointee.mailboxIn.wrappingAdd(MailboxWeight.of(node.pointee.len), ordering: .relaxed)
    }

    /// Owner: `node` leaves the mailbox (single writer: load and store).
    @inline(__always)
    func depart(_ node: NodePointer) {
        guard node.pointee.counted else { return }
        let out = pointee.mailboxOut.load(ordering: .relaxed)
        pointee.mailboxOut.store(out &+ MailboxWeight.of(node.pointee.len), ordering: .relaxed)
    }

    /// Owner: a SKIPped message waits again.
    @inline(__always)
    func returnToWaiting(_ node: NodePointer) {
        guard node.pointee.counted else { return }
        let out = pointee.mailboxOut.load(ordering: .relaxed)
        pointee.mailboxOut.store(out &- MailboxWeight.of(node.pointee.len), ordering: .relaxed)
    }

    /// Owner: frees a message that leaves without being handled.
    @inline(__always)
    func discard(_ node: NodePointer) {
        depart(node)
        Nodes.release(node)
    }

    /// Owner: makes the drops senders asked for, oldest waiting first.
    func makeRequestedDrops() {
        let requested = pointee.dropsRequested.load(ordering: .relaxed)
        var done = pointee.dropsDone.load(ordering: .relaxed)
        guard requested != done else { return }
        while done != requested {
            guard let oldest = removeMail(where: { $0.pointee.counted }) else { break }
            // It stopped counting when requested; leaving moves that from the
            // pending requests to mailboxOut.
            discard(oldest)
            done &+= 1
        }
        pointee.dropsDone.store(done, ordering: .relaxed)
    }
}
