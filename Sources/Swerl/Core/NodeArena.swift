// Where message nodes come from and where their surplus goes: chunks mapped
// from the system, each carved into nodes of one size class, shared by
// every runtime of the process.
//
// The pools and the depot recycle nodes; they come here only when they run
// dry or overflow, a run of nodes at a time under one lock. A burst that
// fills a mailbox a million deep therefore costs no malloc per node, and its
// nodes lie side by side in the order they were sent. As the drain gives them
// back, every chunk whose nodes have all come back is unmapped: the memory
// returns to the system while the queue empties, not at the next trim.
//
// A chunk keeps the nodes given back to it on its own free list and hands
// them out again before anything new is carved (a slab allocator), so a few
// long-kept messages cannot make memory grow without bound.
//
// Chunks grow with demand, 64 KiB to 2 MiB per class. The 2 MiB ones are
// aligned and asked for as transparent huge pages: a deep queue then takes
// one page fault per 2 MiB instead of 512.
//
// Nodes are also malloc'd by threads outside any runtime and end in the same
// pools; a node given back that lies in no chunk is free()d.

import CSwerlSupport
import Glibc

package final class NodeArena: @unchecked Sendable {
    static let shared = NodeArena()

    /// The runtime uses `shared`; a test makes its own.
    package init() {}

    static let smallestChunk = 64 << 10
    static let largestChunk = 2 << 20

    private final class Chunk {
        let base: UnsafeMutableRawPointer
        let size: Int
        let sizeClass: Int
        /// Bytes carved so far, from the start.
        var carved = 0
        /// Nodes given back, chained through their first word.
        var freeList: UnsafeMutableRawPointer?
        /// Nodes carved and not given back.
        var live = 0

        init(base: UnsafeMutableRawPointer, size: Int, sizeClass: Int) {
            self.base = base
            self.size = size
            self.sizeClass = sizeClass
        }

        func contains(_ node: UnsafeMutableRawPointer) -> Bool {
            node >= base && node < base + size
        }
    }

    private struct State {
        /// Every chunk, by address, to find a given-back node's chunk.
        var chunks: [Chunk] = []
        /// Per class: the chunk being carved.
        var carving = [Chunk?](repeating: nil, count: NodePool.classCount)
        /// Per class: the chunks whose free list is not empty.
        var withFreeList = [[Chunk]](repeating: [], count: NodePool.classCount)
        /// Per class: the size of its next chunk, and how many it has.
        var nextSize = [Int](repeating: NodeArena.smallestChunk, count: NodePool.classCount)
        var chunkCount = [Int](repeating: 0, count: NodePool.classCount)
    }

    /// Guarded by the arena lock (a C mutex, held across fork()).
    private var state = State()

    @inline(__always)
    private func withState<Result>(_ body: (inout State) -> Result) -> Result {
        swerlrt_arena_lock()
        defer { swerlrt_arena_unlock() }
        return body(&state)
    }

    /// Up to `count` nodes of the class, chained through their first word
    /// (the last one's is 0), and how many; nil when out of memory.
    /// Nodes go out a run at a time: a chunk's free list is already a
    /// chain, and a carved run is linked in one pass, with no per-node
    /// bookkeeping.
    package func take(sizeClass: Int, count: Int) -> (first: UnsafeMutableRawPointer, count: Int)? {
        let nodeSize = NodePool.classSize(sizeClass)
        var first: UnsafeMutableRawPointer? = nil
        var last: UnsafeMutableRawPointer? = nil
        var taken = 0
        func append(_ runFirst: UnsafeMutableRawPointer, _ runLast: UnsafeMutableRawPointer, _ nodes: Int) {
            runLast.storeBytes(of: 0, as: UInt.self)
            if let last { last.storeBytes(of: UInt(bitPattern: runFirst), as: UInt.self) } else { first = runFirst }
            last = runLast
            taken += nodes
        }
        withState { state in
            // What came back first (a slab allocator): the chunks' free lists.
            while taken < count, let chunk = state.withFreeList[sizeClass].last, let runFirst = chunk.freeList {
                var runLast = runFirst
                var nodes = 1
                while nodes < count - taken,
                      let next = UnsafeMutableRawPointer(bitPattern: runLast.load(as: UInt.self)) {
                    runLast = next
                    nodes += 1
                }
                chunk.freeList = UnsafeMutableRawPointer(bitPattern: runLast.load(as: UInt.self))
                if chunk.freeList == nil { state.withFreeList[sizeClass].removeLast() }
                chunk.live += nodes
                append(runFirst, runLast, nodes)
            }
            while taken < count {
                guard let chunk = state.carving[sizeClass], chunk.carved + nodeSize <= chunk.size else {
                    guard let chunk = Self.newChunk(&state, sizeClass: sizeClass) else { break }
                    state.carving[sizeClass] = chunk
                    continue
                }
                let nodes = min(count - taken, (chunk.size - chunk.carved) / nodeSize)
                let runFirst = chunk.base + chunk.carved
                var node = runFirst
                for _ in 1..<nodes {
                    node.storeBytes(of: UInt(bitPattern: node + nodeSize), as: UInt.self)
                    node += nodeSize
                }
                chunk.carved += nodes * nodeSize
                chunk.live += nodes
                append(runFirst, node, nodes)
            }
        }
        return first.map { ($0, taken) }
    }

    /// Takes back a chain of nodes of the class (linked through their first
    /// word), unmapping every chunk that is whole again; a node carved
    /// nowhere here was malloc'd, and is free()d. A run of the chain that
    /// lies in one chunk (the common case: nodes go out and mostly come
    /// back in runs) is spliced onto its free list whole.
    package func give(_ first: UnsafeMutableRawPointer, sizeClass: Int) {
        var whole: [Chunk] = []
        withState { state in
            var cursor: UnsafeMutableRawPointer? = first
            while let runFirst = cursor {
                cursor = UnsafeMutableRawPointer(bitPattern: runFirst.load(as: UInt.self))
                guard let owner = Self.find(runFirst, in: state.chunks) else {
                    free(runFirst)
                    continue
                }
                precondition(owner.sizeClass == sizeClass, "a node given back to the wrong class")
                var runLast = runFirst
                var nodes = 1
                while let node = cursor, owner.contains(node) {
                    runLast = node
                    nodes += 1
                    cursor = UnsafeMutableRawPointer(bitPattern: node.load(as: UInt.self))
                }
                owner.live -= nodes
                if owner.live == 0 {
                    Self.retire(owner, &state)
                    whole.append(owner)
                    continue
                }
                if owner.freeList == nil { state.withFreeList[sizeClass].append(owner) }
                runLast.storeBytes(of: UInt(bitPattern: owner.freeList), as: UInt.self)
                owner.freeList = runFirst
            }
        }
        for chunk in whole { munmap(chunk.base, chunk.size) }
    }

    /// How many chunks the class has mapped now.
    package func chunkCount(sizeClass: Int) -> Int {
        withState { $0.chunkCount[sizeClass] }
    }

    /// The chunk holding `node`, by binary search, or nil.
    private static func find(_ node: UnsafeMutableRawPointer, in chunks: [Chunk]) -> Chunk? {
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if chunks[middle].base <= node { low = middle + 1 } else { high = middle }
        }
        guard low > 0, chunks[low - 1].contains(node) else { return nil }
        return chunks[low - 1]
    }

    private static func newChunk(_ state: inout State, sizeClass: Int) -> Chunk? {
        let size = state.nextSize[sizeClass]
        guard let base = map(size) else { return nil }
        state.nextSize[sizeClass] = min(size * 2, largestChunk)
        state.chunkCount[sizeClass] += 1
        let chunk = Chunk(base: base, size: size, sizeClass: sizeClass)
        var index = state.chunks.count
        while index > 0, state.chunks[index - 1].base > base { index -= 1 }
        state.chunks.insert(chunk, at: index)
        return chunk
    }

    /// Forgets a chunk whose nodes have all come back (the caller unmaps it).
    private static func retire(_ chunk: Chunk, _ state: inout State) {
        let sizeClass = chunk.sizeClass
        if let index = state.chunks.firstIndex(where: { $0 === chunk }) { state.chunks.remove(at: index) }
        if chunk.freeList != nil, let index = state.withFreeList[sizeClass].firstIndex(where: { $0 === chunk }) {
            state.withFreeList[sizeClass].remove(at: index)
        }
        if state.carving[sizeClass] === chunk { state.carving[sizeClass] = nil }
        state.chunkCount[sizeClass] -= 1
        // Demand is gone: the class starts small again.
        if state.chunkCount[sizeClass] == 0 { state.nextSize[sizeClass] = smallestChunk }
    }

    /// `size` bytes from the system; the largest chunks aligned to their size
    /// and marked for huge pages. A chunk between the smallest and the
    /// largest is made only once the previous one filled up, so it is
    /// populated at once: one system call instead of a page fault per 4 KiB
    /// (on this VM about 8% of a 100k-message burst).
    private static func map(_ size: Int) -> UnsafeMutableRawPointer? {
        let huge = size == largestChunk
        let span = huge ? 2 * size : size
        let populate = !huge && size > smallestChunk ? MAP_POPULATE : 0
        guard let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | populate, -1, 0),
              raw != MAP_FAILED else { return nil }
        guard huge else { return raw }
        let address = UInt(bitPattern: raw)
        let aligned = (address + UInt(size - 1)) & ~UInt(size - 1)
        let before = Int(aligned - address)
        if before > 0 { munmap(raw, before) }
        if span - before - size > 0 { munmap(raw + before + size, span - before - size) }
        let base = raw + before
        madvise(base, size, MADV_HUGEPAGE)
        return base
    }
}
