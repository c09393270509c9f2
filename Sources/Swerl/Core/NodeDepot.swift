// Spare message nodes shared by one runtime's schedulers, in batches.
//
// A node is allocated on the sender's scheduler and freed on the receiver's.
// When processes on two schedulers talk mostly one way (a producer and its
// consumers), one pool fills up and the other runs dry: without a depot the
// first would free() its surplus and the second malloc() afresh, through
// malloc's arena locks, one node at a time. Instead a full pool hands a
// batch here and an empty one takes a batch back: one lock per `batchSize`
// nodes. The depot keeps at most `maxBatches` per class and `bytesPerClass`:
// past that a batch goes back to free(), so a burst does not stay cached for
// good.

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
    /// or frees them if the depot has enough of the class.
    func put(_ first: UnsafeMutableRawPointer, sizeClass: Int) {
        let kept = batches.withLock { heads in
            guard heads[NodePool.classCount + sizeClass] < Self.batchLimit(sizeClass: sizeClass) else { return false }
            (first + MemoryLayout<UInt>.stride).storeBytes(of: heads[sizeClass], as: UInt.self)
            heads[sizeClass] = UInt(bitPattern: first)
            heads[NodePool.classCount + sizeClass] += 1
            return true
        }
        if !kept {
            Self.freeChain(first)
            freedSinceTrim.add(Self.batchSize * NodePool.classSize(sizeClass), ordering: .relaxed)
        }
    }

    // A drained burst is free()d, but glibc keeps what it frees in the
    // heap: the process's memory stayed at its peak for good. An idle
    // scheduler gives it back to the system once enough was freed.

    /// Bytes of nodes free()d since the heap was last trimmed.
    private let freedSinceTrim = Atomic<Int>(0)
    static let trimAfterBytes = 8 << 20

    /// From an idle scheduler: returns the heap's free memory to the
    /// system when a burst's worth has been freed since the last time.
    func trimIfDrained() {
        guard freedSinceTrim.load(ordering: .relaxed) >= Self.trimAfterBytes,
              freedSinceTrim.exchange(0, ordering: .relaxed) >= Self.trimAfterBytes else { return }
        swerlrt_trim_heap()
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

    private static func freeChain(_ first: UnsafeMutableRawPointer) {
        var cursor: UnsafeMutableRawPointer? = first
        while let node = cursor {
            cursor = UnsafeMutableRawPointer(bitPattern: node.load(as: UInt.self))
            free(node)
        }
    }

    deinit {
        batches.withLock { heads in
            for sizeClass in 0..<NodePool.classCount {
                var batch = UnsafeMutableRawPointer(bitPattern: heads[sizeClass])
                while let first = batch {
                    batch = UnsafeMutableRawPointer(bitPattern: (first + MemoryLayout<UInt>.stride).load(as: UInt.self))
                    Self.freeChain(first)
                }
                heads[sizeClass] = 0
            }
        }
    }
}
