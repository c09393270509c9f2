// Free lists of message nodes, one per scheduler thread, so the send and
// receive paths of processes do not go through malloc and free.
//
// Nodes come in size classes 16 bytes apart (malloc's own granule) up to 1024 bytes with the
// header; bigger ones are malloc'd and freed as they are. Every node of a class is
// allocated at the class size, whichever thread makes it, so a node may end
// in any pool: threads outside the runtime malloc, scheduler threads take
// from and return to their own pool (no atomics), and a pool that is full
// hands the node back to free().

import CSwerlSupport
import Glibc

enum NodePool {
    static let granule = 16
    static let classCount = 64  // up to 1024 bytes
    /// Nodes a pool keeps per class before freeing the rest.
    static let capacity = 4096

    /// The class of a node whose header plus payload is `total` bytes, or nil.
    @inline(__always)
    static func sizeClass(_ total: Int) -> Int? {
        let index = (total - 1) / granule
        return index < classCount ? index : nil
    }

    @inline(__always)
    static func classSize(_ sizeClass: Int) -> Int { (sizeClass + 1) * granule }

    /// A pool: classCount heads, then classCount counts, as words.
    static func makePool() -> UnsafeMutablePointer<UInt> {
        let pool = UnsafeMutablePointer<UInt>.allocate(capacity: 2 * classCount)
        pool.initialize(repeating: 0, count: 2 * classCount)
        return pool
    }

    static func destroyPool(_ pool: UnsafeMutablePointer<UInt>) {
        for sizeClass in 0..<classCount {
            var cursor = UnsafeMutableRawPointer(bitPattern: pool[sizeClass])
            while let node = cursor {
                cursor = UnsafeMutableRawPointer(bitPattern: node.load(as: UInt.self))
                free(node)
            }
        }
        pool.deallocate()
    }

    @inline(__always)
    static func allocate(_ total: Int) -> UnsafeMutableRawPointer? {
        guard let sizeClass = sizeClass(total) else { return malloc(total) }
        if let pool = swerlrt_get_pool()?.assumingMemoryBound(to: UInt.self),
           let node = UnsafeMutableRawPointer(bitPattern: pool[sizeClass]) {
            pool[sizeClass] = node.load(as: UInt.self)
            pool[classCount + sizeClass] -= 1
            return node
        }
        return malloc(classSize(sizeClass))
    }

    @inline(__always)
    static func release(_ node: UnsafeMutableRawPointer, total: Int) {
        if let sizeClass = sizeClass(total), let pool = swerlrt_get_pool()?.assumingMemoryBound(to: UInt.self),
           pool[classCount + sizeClass] < UInt(capacity) {
            node.storeBytes(of: pool[sizeClass], as: UInt.self)
            pool[sizeClass] = UInt(bitPattern: node)
            pool[classCount + sizeClass] += 1
            return
        }
        free(node)
    }
}
