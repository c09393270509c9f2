// Spare message nodes shared by one runtime's schedulers, in batches.
//
// A node is allocated on the sender's scheduler and freed on the receiver's.
// When processes on two schedulers talk mostly one way (a producer and its
// consumers), one pool fills up and the other runs dry: without a depot the
// first would give its surplus to the process-wide NodeArena and the second
// take new nodes from it, both under the arena's one lock. Instead a full pool hands a
// batch here and an empty one takes a batch back: one lock per `batchSize`
// nodes. The depot keeps at most `maxBatches` per class and `bytesPerClass`:
// past that a batch goes back to the NodeArena, so a burst does not stay
// cached for good.

import CSwerlSupport
import Glibc
import Synchronization

final class NodeDepot: @unchecked Sendable {
    static let batchSize = 256
    static let maxBatches = 16
    static let bytesPerClass = 256 << 10

    /// Batches kept of a class: at most maxBatches and about bytesPerClass.
    static func batchLimit(sizeClass: Int) -> UInt {
        UInt(max(1, min(maxBatches, bytesPerClass / (batchSize * NodePool.classSize(sizeClass)))))
    }

    /// Per size class: the first node of the newest batch (0: none). In a
    /// batch the nodes are chained through their first word; the first node
    /// of each batch links the next batch through its second word.
    /// The first classCount words: batch stacks; the next classCount: their sizes.
    private let batches = Lock([UInt](repeating: 0, count: 2 * NodePool.classCount))

    /// Takes a chain of `batchSize` nodes (linked through their first word),
    /// or gives them to the arena if the depot has enough of the class.
    func put(_ first: UnsafeMutableRawPointer, sizeClass: Int) {
        let kept = batches.withLock { heads in
            guard heads[NodePool.classCount + sizeClass] < Self.batchLimit(sizeClass: sizeClass) else { return false }
            (first + MemoryLayout<UInt>.stride).storeBytes(of: heads[sizeClass], as: UInt.self)
            heads[sizeClass] = UInt(bitPattern: first)
            heads[NodePool.classCount + sizeClass] += 1
            return true
        }
        if !kept { NodeArena.shared.give(first, sizeClass: sizeClass) }
        if !returnedSinceSettle.load(ordering: .relaxed) { returnedSinceSettle.store(true, ordering: .relaxed) }
    }

    // After a burst the nodes kept here and in the pools pin the chunks
    // they lie in, and glibc keeps in its heap what the arena free()s (nodes
    // malloc'd outside the runtime). Once any batch has come back from a
    // pool since the last time, the next scheduler (or group driver) to idle
    // starts a settling, and every pool that sees a new one gives its nodes
    // back, with the depot's (NodePool.settle): the last of them does so
    // after the drain ends.

    /// Whether a pool handed a batch back (kept here or given to the arena)
    /// since the last settling. Any batch, not an amount: with a threshold
    /// (1 MiB of overflow) the nodes kept after a moderate churn pinned half
    /// a megabyte of chunks now and then; with overflows only, the batches
    /// kept after a settling made mid-drain pinned 2-3 chunks (2 MiB each).
    private let returnedSinceSettle = Atomic<Bool>(false)
    /// How many settlings there were: a pool that has not seen the latest
    /// gives its nodes back.
    let settlings = Atomic<UInt>(0)

    /// From an idle scheduler or group driver: starts a settling when a
    /// batch came back since the last; true if it did.
    func settleIfDrained() -> Bool {
        guard returnedSinceSettle.load(ordering: .relaxed),
              returnedSinceSettle.exchange(false, ordering: .relaxed) else { return false }
        settlings.add(1, ordering: .relaxed)
        swerlrt_trim_heap()
        return true
    }

    /// Every batch kept to the arena.
    func giveBack() {
        let kept = batches.withLock { heads in
            var kept: [(UInt, Int)] = []
            for sizeClass in 0..<NodePool.classCount where heads[sizeClass] != 0 {
                kept.append((heads[sizeClass], sizeClass))
                heads[sizeClass] = 0
                heads[NodePool.classCount + sizeClass] = 0
            }
            return kept
        }
        for (first, sizeClass) in kept { Self.giveBatches(first, sizeClass: sizeClass) }
    }

    /// A chain of `batchSize` nodes of the class, or nil.
    func take(sizeClass: Int) -> UnsafeMutableRawPointer? {
        batches.withLock { heads in
            guard let first = UnsafeMutableRawPointer(bitPattern: heads[sizeClass]) else { return nil }
            heads[sizeClass] = (first + MemoryLayout<UInt>.stride).load(as: UInt.self)
            heads[NodePool.classCount + sizeClass] -= 1
            return first
        }
    }

    /// Gives a stack of batches (the first nodes linked through their
    /// second word) to the arena.
    private static func giveBatches(_ first: UInt, sizeClass: Int) {
        var batch = UnsafeMutableRawPointer(bitPattern: first)
        while let node = batch {
            batch = UnsafeMutableRawPointer(bitPattern: (node + MemoryLayout<UInt>.stride).load(as: UInt.self))
            NodeArena.shared.give(node, sizeClass: sizeClass)
        }
    }

    deinit {
        batches.withLock { heads in
            for sizeClass in 0..<NodePool.classCount {
                Self.giveBatches(heads[sizeClass], sizeClass: sizeClass)
                heads[sizeClass] = 0
            }
        }
    }
}
