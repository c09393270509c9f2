// swerl_send_after timers that have not fired: ref -> the prepared message.
//
// The deadline lives in a scheduler's TimerHeap; this table decides who owns
// the message: whoever removes the entry first (the firing scheduler, a
// cancel, or the target's exit) delivers or frees it. Timers to a pid are
// indexed by target too, so an exiting process cancels its own; timers to a
// name look it up when they fire and are cancelled by no exit (OTP-35). Not
// on the send path: one mutex.

import Synchronization

final class TimerTable: @unchecked Sendable {
    private struct Entry {
        var node: UInt  // NodePointer bits
        var deadline: UInt64
        /// A timer to a registered name (swerl_send_after_named).
        var name: String? = nil
    }

    /// A timer taken out of the table: its message and, for a named timer,
    /// the name to look up.
    struct Taken {
        var node: NodePointer
        var name: String?
    }
    private struct Maps {
        var byRef: [UInt64: Entry] = [:]
        var byTarget: [UInt64: Set<UInt64>] = [:]
    }
    private let maps = Lock(Maps())
    /// Timers pending; lets an exit skip the lock when there are none.
    private let count = Atomic<Int>(0)

    /// Adds a timer for the node's target. false: the target died meanwhile
    /// (the node was freed).
    func add(ref: UInt64, node: NodePointer, deadline: UInt64, targetAlive: (UInt64) -> Bool) -> Bool {
        let target = node.pointee.target
        maps.withLock { maps in
            maps.byRef[ref] = Entry(node: UInt(bitPattern: node), deadline: deadline)
            maps.byTarget[target, default: []].insert(ref)
        }
        count.add(1, ordering: .sequentiallyConsistent)
        // sequentiallyConsistent: with the exit's dead mark (see Registry).
        if targetAlive(target) { return true }
        if let orphan = take(ref) { Nodes.release(orphan.node) }
        return false
    }

    /// Adds a timer to a registered name.
    func add(ref: UInt64, node: NodePointer, deadline: UInt64, name: String) {
        maps.withLock { $0.byRef[ref] = Entry(node: UInt(bitPattern: node), deadline: deadline, name: name) }
        count.add(1, ordering: .sequentiallyConsistent)
    }

    /// Removes a timer and hands its message to the caller, or nil if it
    /// already fired or was cancelled.
    func take(_ ref: UInt64) -> Taken? {
        maps.withLock { maps -> Taken? in
            guard let entry = maps.byRef.removeValue(forKey: ref) else { return nil }
            let node = NodePointer(bitPattern: entry.node)!
            if entry.name == nil {
                let target = node.pointee.target
                maps.byTarget[target]?.remove(ref)
                if maps.byTarget[target]?.isEmpty == true { maps.byTarget[target] = nil }
            }
            count.subtract(1, ordering: .relaxed)
            return Taken(node: node, name: entry.name)
        }
    }

    /// Cancels a timer: the remaining milliseconds, or nil. A timer whose
    /// target is no longer alive was cancelled with it (OTP-35), even if its
    /// exit has not reached this table yet.
    func cancel(_ ref: UInt64, now: UInt64, targetAlive: (UInt64) -> Bool) -> UInt32? {
        let deadline = maps.withLock { $0.byRef[ref]?.deadline }
        guard let deadline, let taken = take(ref) else { return nil }
        let alive = taken.name != nil || targetAlive(taken.node.pointee.target)
        Nodes.release(taken.node)
        guard alive else { return nil }
        let remaining = deadline > now ? millis(deadline - now) : 0
        return UInt32(min(remaining, UInt64(UInt32.max - 1)))
    }

    func cancelAll(of target: UInt64) {
        guard count.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let refs = maps.withLock { $0.byTarget[target] ?? [] }
        for ref in refs {
            if let taken = take(ref) { Nodes.release(taken.node) }
        }
    }

    func removeAll() {
        let nodes = maps.withLock { maps -> [UInt] in
            let nodes = maps.byRef.values.map(\.node)
            maps = Maps()
            return nodes
        }
        count.store(0, ordering: .relaxed)
        for bits in nodes { Nodes.release(NodePointer(bitPattern: bits)!) }
    }
}
