// The lock-free multi-producer, single-consumer queue behind every mailbox
// and every scheduler's injection queue.
//
// Design: one word, `head`, holds the newest node; each node links to the
// one pushed before it. A push is one atomic exchange on `head` followed by
// a release store of the node's link, so it never loops and never waits.
// The consumer takes the whole chain with one exchange and reverses it into
// arrival order. Between the exchange and the link store a producer's node
// is briefly unlinked (`busyLink`); the consumer waits for it, which only
// happens if that producer was preempted in a two-instruction window.
//
// For mailboxes, `head` also carries the scheduling token (Pony's trick):
// `idle` (0) means empty and nobody will run the process; `activeEmpty` (1)
// means empty but the process is scheduled or running. A push that replaces
// `idle` reports it, and that caller alone schedules the process, so a
// process is in at most one run queue and run by one thread at a time.
//
// Nodes are any memory whose first word is an Atomic<UInt> link.

import CSwerlSupport
import Glibc
import Synchronization

enum InboundQueue {
    static let idle: UInt = 0
    static let activeEmpty: UInt = 1
    /// A node's link while its producer has exchanged it in but not linked it yet.
    static let busyLink: UInt = 2

    @inline(__always)
    static func link(_ node: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Atomic<UInt>> {
        node.assumingMemoryBound(to: Atomic<UInt>.self)
    }

    /// Pushes `node` (any thread). Returns the previous head word: `idle`
    /// means the caller took the scheduling token and must schedule.
    @inline(__always)
    static func push(_ head: borrowing Atomic<UInt>, _ node: UnsafeMutableRawPointer) -> UInt {
        let nodeLink = link(node)
        nodeLink.pointee.store(busyLink, ordering: .relaxed)
        // acquiringAndReleasing: release publishes the node's contents to the
        // consumer; acquire orders us after earlier pushes for the link store.
        let previous = head.exchange(UInt(bitPattern: node), ordering: .acquiringAndReleasing)
        // Markers (idle, activeEmpty) end the chain.
        nodeLink.pointee.store(previous <= activeEmpty ? 0 : previous, ordering: .releasing)
        return previous
    }

    /// Takes every queued node (consumer only), oldest first, leaving `head`
    /// at `leave` (activeEmpty for a mailbox whose owner keeps running, idle
    /// for an injection queue). Returns the oldest and newest nodes.
    @inline(__always)
    static func takeAll(_ head: borrowing Atomic<UInt>, leave: UInt)
        -> (first: UnsafeMutableRawPointer, last: UnsafeMutableRawPointer)?
    {
        // acquire: pairs with the producers' release in push.
        let top = head.exchange(leave, ordering: .acquiring)
        guard top > activeEmpty, let newest = UnsafeMutableRawPointer(bitPattern: top) else { return nil }
        // Reverse newest->oldest into oldest->newest, waiting out busy links.
        var reversed: UnsafeMutableRawPointer? = nil
        var cursor: UnsafeMutableRawPointer? = newest
        while let node = cursor {
            let nodeLink = link(node)
            var next = nodeLink.pointee.load(ordering: .acquiring)
            var spins = 0
            while next == busyLink {
                spins += 1
                if spins < 64 { swerlrt_cpu_relax() } else { sched_yield_shim() }
                next = nodeLink.pointee.load(ordering: .acquiring)
            }
            nodeLink.pointee.store(reversed.map { UInt(bitPattern: $0) } ?? 0, ordering: .relaxed)
            reversed = node
            cursor = UnsafeMutableRawPointer(bitPattern: next)
        }
        return (reversed!, newest)
    }

    /// Releases the scheduling token if nothing arrived (consumer only).
    /// false: new nodes are waiting and the caller still holds the token.
    @inline(__always)
    static func tryIdle(_ head: borrowing Atomic<UInt>) -> Bool {
        // releasing: our writes to the process happen-before the next
        // consumer, which acquires the token through a push's exchange.
        head.compareExchange(expected: activeEmpty, desired: idle, ordering: .acquiringAndReleasing).exchanged
    }

    /// Whether nodes are waiting (a hint; any thread).
    @inline(__always)
    static func hasNodes(_ head: borrowing Atomic<UInt>) -> Bool {
        head.load(ordering: .relaxed) > activeEmpty
    }
}

/// Gives the CPU to a producer preempted between its exchange and its link.
@inline(__always)
func sched_yield_shim() { _ = sched_yield() }
