// The node arena (Core/NodeArena.swift): nodes go out and come back in
// runs, and a chunk whose nodes have all come back is unmapped. A private
// arena, not the runtime's: the counts below are this test's alone.

import Swerl
import Glibc
import Testing

@Suite("Node arena")
struct NodeArenaTests {
    static let sizeClass = 2  // 48-byte nodes
    static let nodeSize = 48

    /// The nodes of a chain, in chain order.
    static func walk(_ first: UnsafeMutableRawPointer?) -> [UnsafeMutableRawPointer] {
        var nodes: [UnsafeMutableRawPointer] = []
        var cursor = first
        while let node = cursor {
            nodes.append(node)
            cursor = UnsafeMutableRawPointer(bitPattern: node.load(as: UInt.self))
        }
        return nodes
    }

    /// `nodes` linked into a chain (in this order); its first node.
    static func chain(_ nodes: [UnsafeMutableRawPointer]) -> UnsafeMutableRawPointer {
        for (node, next) in zip(nodes, nodes.dropFirst()) { node.storeBytes(of: UInt(bitPattern: next), as: UInt.self) }
        nodes.last!.storeBytes(of: 0, as: UInt.self)
        return nodes[0]
    }

    static func take(_ arena: NodeArena, _ count: Int) -> [UnsafeMutableRawPointer] {
        guard let (first, taken) = arena.take(sizeClass: sizeClass, count: count) else {
            Issue.record("take(\(count)): out of memory")
            return []
        }
        let nodes = walk(first)
        #expect(nodes.count == taken)
        #expect(taken == count)
        return nodes
    }

    @Test("runs out, runs back: carved in order, given-back nodes first, whole chunks unmapped")
    func runsOutAndBack() {
        let arena = NodeArena()
        // 64 KiB + 128 KiB + 256 KiB hold 1365 + 2730 + 5461 nodes: 6,000 take three chunks.
        let all = Self.take(arena, 6000)
        #expect(Set(all).count == 6000)
        #expect(arena.chunkCount(sizeClass: Self.sizeClass) == 3)
        // A carved run is in address order, a node apart.
        #expect(all[1] - all[0] == Self.nodeSize && all[1000] - all[999] == Self.nodeSize)
        for node in all { memset(node, 0xA5, Self.nodeSize) }  // the caller owns every byte

        // Back in a mixed order: every other node of the first 3,000, the
        // runs crossing chunks, and a malloc'd node in the middle.
        let back = stride(from: 0, to: 3000, by: 2).map { all[$0] }
        var mixed = Array(back.reversed())
        mixed.insert(malloc(Self.nodeSize)!, at: mixed.count / 2)
        arena.give(Self.chain(mixed), sizeClass: Self.sizeClass)
        #expect(arena.chunkCount(sizeClass: Self.sizeClass) == 3)  // none is whole

        // What came back goes out again before anything new is carved.
        let again = Self.take(arena, back.count)
        #expect(Set(again) == Set(back))

        // Everything back, in runs of one chunk and across chunks: unmapped.
        arena.give(Self.chain(again + all.enumerated().filter { $0.offset >= 3000 || $0.offset % 2 == 1 }
            .map(\.element)), sizeClass: Self.sizeClass)
        #expect(arena.chunkCount(sizeClass: Self.sizeClass) == 0)

        // The class starts small again: 100 nodes take one fresh chunk.
        let fresh = Self.take(arena, 100)
        #expect(arena.chunkCount(sizeClass: Self.sizeClass) == 1)
        arena.give(Self.chain(fresh), sizeClass: Self.sizeClass)
        #expect(arena.chunkCount(sizeClass: Self.sizeClass) == 0)
    }

    @Test("a take bigger than a chunk's free list goes on with the next, then carves")
    func takeSpansFreeListsAndCarving() {
        let arena = NodeArena()
        let first = Self.take(arena, 1365)  // exactly the first 64 KiB chunk
        let second = Self.take(arena, 100)  // the next chunk's first 100
        #expect(arena.chunkCount(sizeClass: Self.sizeClass) == 2)
        arena.give(Self.chain(Array(first[0..<10])), sizeClass: Self.sizeClass)
        arena.give(Self.chain(Array(second[50..<60])), sizeClass: Self.sizeClass)
        let mixed = Self.take(arena, 25)
        #expect(Set(mixed[0..<20]) == Set(first[0..<10] + second[50..<60]))
        #expect(mixed[20] - second[99] == Self.nodeSize)  // then carving goes on
        arena.give(Self.chain(Array(first[10...]) + second[0..<50] + second[60...] + mixed), sizeClass: Self.sizeClass)
        #expect(arena.chunkCount(sizeClass: Self.sizeClass) == 0)
    }
}
