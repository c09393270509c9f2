// The pid table: slot index -> process block, O(1) and lock-free to read.
//
// Blocks are allocated in chunks of 4096 the first time a slot in the chunk
// is needed and stay until the runtime is freed, so a lookup through a stale
// pid reads valid memory and fails the pid comparison. Free slots are kept in
// a LIFO stack under a mutex (spawn and exit only; never on the send path).

import Glibc
import Synchronization

final class ProcessTable: @unchecked Sendable {
    static let chunkShift = 12
    static let chunkSize = 1 << chunkShift

    let capacity: Int
    private let chunkCount: Int
    /// Chunk base addresses (UnsafeMutablePointer<ProcessBlock> bits), 0 until allocated.
    private let chunks: UnsafeMutablePointer<Atomic<UInt>>
    private let free = Lock(FreeSlots())
    /// Processes alive (spawned and not yet exited).
    let live = Atomic<Int>(0)

    struct FreeSlots {
        var stack: [UInt32] = []
        var nextFresh = 0
    }

    init(capacity: Int) {
        precondition(MemoryLayout<ProcessBlock>.stride == ProcessBlock.cacheLines * ProcessBlock.alignment,
                     "a process block is \(ProcessBlock.cacheLines) cache lines, not \(MemoryLayout<ProcessBlock>.stride) bytes")
        self.capacity = capacity
        self.chunkCount = (capacity + Self.chunkSize - 1) >> Self.chunkShift
        chunks = .allocate(capacity: chunkCount)
        for index in 0..<chunkCount { (chunks + index).initialize(to: Atomic(0)) }
    }

    /// Frees every block. Only when no thread can reach the runtime anymore.
    func destroy() {
        for index in 0..<chunkCount {
            let bits = chunks[index].load(ordering: .acquiring)
            guard let base = ProcessPointer(bitPattern: bits) else { continue }
            for offset in 0..<Self.chunkSize {
                let block = base + offset
                block.releaseAllMail()
                if let pending = InboundQueue.takeAll(block.pointee.inbound, leave: InboundQueue.idle) {
                    Nodes.releaseChain(pending.first.assumingMemoryBound(to: MessageNode.self))
                }
            }
            base.deinitialize(count: Self.chunkSize)
            UnsafeMutableRawPointer(base).deallocate()
        }
        chunks.deinitialize(count: chunkCount)
        chunks.deallocate()
    }

    /// The block for `pid` if that exact incarnation is alive (any thread).
    @inline(__always)
    func lookup(_ pid: UInt64) -> ProcessPointer? {
        guard Pids.isLocal(pid) else { return nil }
        let slot = Pids.slot(pid)
        guard slot < capacity else { return nil }
        // acquiring: the chunk's blocks were initialized before it was published.
        guard let base = ProcessPointer(bitPattern: chunks[slot >> Self.chunkShift].load(ordering: .acquiring)) else {
            return nil
        }
        let block = base + (slot & (Self.chunkSize - 1))
        // acquiring: pairs with the spawn's publication of the pid.
        return block.pointee.pidWord.load(ordering: .acquiring) == pid ? block : nil
    }

    /// The block for a slot that has been handed out before.
    @inline(__always)
    func block(slot: Int) -> ProcessPointer {
        let base = ProcessPointer(bitPattern: chunks[slot >> Self.chunkShift].load(ordering: .acquiring))!
        return base + (slot & (Self.chunkSize - 1))
    }

    /// Reserves a free slot; nil when `capacity` processes are alive.
    func reserveSlot() -> ProcessPointer? {
        free.withLock { slots -> ProcessPointer? in
            if let slot = slots.stack.popLast() { return block(slot: Int(slot)) }
            guard slots.nextFresh < capacity else { return nil }
            let slot = slots.nextFresh
            slots.nextFresh += 1
            if slot & (Self.chunkSize - 1) == 0 { allocateChunk(containing: slot) }
            return block(slot: slot)
        }
    }

    func releaseSlot(_ slot: UInt32) {
        free.withLock { $0.stack.append(slot) }
    }

    private func allocateChunk(containing slot: Int) {
        // Cache-line aligned, so blocks (a whole number of lines) share none.
        let base = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<ProcessBlock>.stride * Self.chunkSize,
                                                    alignment: ProcessBlock.alignment)
            .bindMemory(to: ProcessBlock.self, capacity: Self.chunkSize)
        for offset in 0..<Self.chunkSize {
            (base + offset).initialize(to: ProcessBlock(slot: UInt32(slot + offset)))
        }
        // releasing: lookups acquire the chunk pointer and see initialized blocks.
        chunks[slot >> Self.chunkShift].store(UInt(bitPattern: base), ordering: .releasing)
    }

    /// Calls `body` with every live pid (a racy snapshot; any thread).
    func forEachLive(_ body: (UInt64) -> Void) {
        let limit = free.withLock { $0.nextFresh }
        var slot = 0
        while slot < limit {
            let word = block(slot: slot).pointee.pidWord.load(ordering: .acquiring)
            if word != 0 && word & Pids.deadBit == 0 { body(word) }
            slot += 1
        }
    }
}
