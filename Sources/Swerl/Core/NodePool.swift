// Free lists of message nodes, one per scheduler thread, so the send and
// receive paths of processes do not go through malloc and free.
//
// Nodes come in size classes 16 bytes apart (malloc's own granule) up to 1024 bytes with the
// header; bigger ones are malloc'd and freed as they are. Every node of a class is
// allocated at the class size, whichever thread makes it, so a node may end
// in any pool: threads outside the runtime malloc, scheduler threads take
// from and return to their own pool (no atomics). A full pool hands a batch
// to the runtime's NodeDepot, and an empty one takes a batch from it before
// it takes a run of new nodes from the NodeArena.

import CSwerlSupport
import Glibc

enum NodePool {
    static let granule = 16
    static let classCount = 64  // up to 1024 bytes
    /// Bytes a pool keeps per class before handing a batch to the depot:
    /// a byte budget, not a node count, so big classes do not pin much
    /// memory (4,096 nodes of every class came to 136 MB per scheduler).
    /// At least one batch, so that a spill has one to hand over.
    static let bytesPerClass = 128 << 10

    /// Whether a pool holding `count` nodes of `sizeClass` is full.
    @inline(__always)
    static func isFull(count: UInt, sizeClass: Int) -> Bool {
        count >= UInt(NodeDepot.batchSize) && count &* UInt(classSize(sizeClass)) >= UInt(bytesPerClass)
    }

    /// The class of a node whose header plus payload is `total` bytes, or nil.
    @inline(__always)
    static func sizeClass(_ total: Int) -> Int? {
        let index = (total - 1) / granule
        return index < classCount ? index : nil
    }

    @inline(__always)
    static func classSize(_ sizeClass: Int) -> Int { (sizeClass + 1) * granule }

    /// A pool: classCount heads, then classCount counts, then the depot
    /// (unretained: the runtime outlives its scheduler threads), then the
    /// depot's settlings it has seen, as words.
    static func makePool(depot: NodeDepot) -> UnsafeMutablePointer<UInt> {
        let pool = UnsafeMutablePointer<UInt>.allocate(capacity: 2 * classCount + 2)
        pool.initialize(repeating: 0, count: 2 * classCount)
        (pool + 2 * classCount).initialize(to: UInt(bitPattern: Unmanaged.passUnretained(depot).toOpaque()))
        (pool + 2 * classCount + 1).initialize(to: 0)
        return pool
    }

    /// From an idle scheduler thread: after a drained burst (a settling)
    /// this thread's spare nodes and the depot's go back to the arena, so
    /// that the chunks they pin can be unmapped. True when this call settled the
    /// depot: the other schedulers, asleep maybe, are to be woken to settle.
    static func settle() -> Bool {
        guard let pool = swerlrt_get_pool()?.assumingMemoryBound(to: UInt.self) else { return false }
        let settledNow = depot(of: pool).settleIfDrained()
        settle(pool)
        return settledNow
    }

    /// `pool` (this thread's, or one no thread uses now) and the depot give
    /// their nodes back if the pool has not seen the latest settling.
    static func settle(_ pool: UnsafeMutablePointer<UInt>) {
        let depot = depot(of: pool)
        let settlings = depot.settlings.load(ordering: .relaxed)
        guard pool[2 * classCount + 1] != settlings else { return }
        pool[2 * classCount + 1] = settlings
        giveBack(pool)
        depot.giveBack()
    }

    /// Every node of the pool to the arena.
    static func giveBack(_ pool: UnsafeMutablePointer<UInt>) {
        for sizeClass in 0..<classCount {
            if let first = UnsafeMutableRawPointer(bitPattern: pool[sizeClass]) {
                NodeArena.shared.give(first, sizeClass: sizeClass)
            }
            pool[sizeClass] = 0
            pool[classCount + sizeClass] = 0
        }
    }

    @inline(__always)
    private static func depot(of pool: UnsafeMutablePointer<UInt>) -> NodeDepot {
        Unmanaged<NodeDepot>.fromOpaque(UnsafeRawPointer(bitPattern: pool[2 * classCount])!).takeUnretainedValue()
    }

    static func destroyPool(_ pool: UnsafeMutablePointer<UInt>) {
        giveBack(pool)
        pool.deallocate()
    }

    @inline(__always)
    static func allocate(_ total: Int) -> UnsafeMutableRawPointer? {
        guard let sizeClass = sizeClass(total) else { return malloc(total) }
        guard let pool = swerlrt_get_pool()?.assumingMemoryBound(to: UInt.self) else {
            return malloc(classSize(sizeClass))
        }
        if let node = UnsafeMutableRawPointer(bitPattern: pool[sizeClass]) {
            pool[sizeClass] = node.load(as: UInt.self)
            pool[classCount + sizeClass] -= 1
            return node
        }
        return refill(pool, sizeClass: sizeClass)
    }

    /// The pool of this class is empty: a batch from the depot, else a run
    /// of nodes from the arena (so a burst takes a lock once per
    /// `arenaRun` nodes, not once per node).
    private static func refill(_ pool: UnsafeMutablePointer<UInt>, sizeClass: Int) -> UnsafeMutableRawPointer? {
        if let first = depot(of: pool).take(sizeClass: sizeClass) {
            pool[sizeClass] = first.load(as: UInt.self)
            pool[classCount + sizeClass] = UInt(NodeDepot.batchSize - 1)
            return first
        }
        guard let run = NodeArena.shared.take(sizeClass: sizeClass, count: arenaRun) else { return nil }
        pool[sizeClass] = run.first.load(as: UInt.self)
        pool[classCount + sizeClass] = UInt(run.count - 1)
        return run.first
    }

    static let arenaRun = 64

    @inline(__always)
    static func release(_ node: UnsafeMutableRawPointer, total: Int) {
        guard let sizeClass = sizeClass(total) else {
            free(node)
            return
        }
        guard let pool = swerlrt_get_pool()?.assumingMemoryBound(to: UInt.self) else {
            releaseOutsidePools(node, sizeClass: sizeClass)
            return
        }
        if isFull(count: pool[classCount + sizeClass], sizeClass: sizeClass) { spill(pool, sizeClass: sizeClass) }
        node.storeBytes(of: pool[sizeClass], as: UInt.self)
        pool[sizeClass] = UInt(bitPattern: node)
        pool[classCount + sizeClass] += 1
    }

    /// On a thread without a pool: the node may have been carved by the
    /// arena, which knows (a malloc'd one it frees).
    @inline(never)
    private static func releaseOutsidePools(_ node: UnsafeMutableRawPointer, sizeClass: Int) {
        node.storeBytes(of: 0, as: UInt.self)
        NodeArena.shared.give(node, sizeClass: sizeClass)
    }

    /// The pool of this class is full: its first `batchSize` nodes go to the depot.
    private static func spill(_ pool: UnsafeMutablePointer<UInt>, sizeClass: Int) {
        let first = UnsafeMutableRawPointer(bitPattern: pool[sizeClass])!
        var last = first
        for _ in 1..<NodeDepot.batchSize {
            last = UnsafeMutableRawPointer(bitPattern: last.load(as: UInt.self))!
        }
        pool[sizeClass] = last.load(as: UInt.self)
        pool[classCount + sizeClass] -= UInt(NodeDepot.batchSize)
        last.storeBytes(of: 0, as: UInt.self)
        depot(of: pool).put(first, sizeClass: sizeClass)
    }
}
