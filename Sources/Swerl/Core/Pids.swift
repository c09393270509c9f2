// Pid layout: | remote (1) | runtime tag (8) | generation (31) | slot (24) |.
//
// A local pid has the top bit clear; with the top bit set it is a pid of
// another node, `| 1 | tag (8) | index (55) |` (Dist/RemotePids).
// The tag names the runtime a local pid belongs to, so a pid of one runtime
// used with another is unknown there instead of reaching the process in the
// same slot (two runtimes' first pids used to be equal). The generation
// starts at 1, so 0 is never a pid, and grows each time a slot is reused, so
// a stale pid never matches the slot's new process (it would take 2^31
// reuses of one slot to wrap).

import Synchronization

enum Pids {
    static let slotBits: UInt64 = 24
    static let generationBits: UInt64 = 31
    static let tagBits: UInt64 = 8
    static let slotMask: UInt64 = (1 << slotBits) - 1
    static let generationMask: UInt64 = (1 << generationBits) - 1
    static let tagShift: UInt64 = slotBits + generationBits
    static let tagMask: UInt64 = (1 << tagBits) - 1
    static let remoteBit: UInt64 = 1 << 63
    static let maxSlots = Int(slotMask)
    /// Marks a slot's pid word once that incarnation has exited (a local pid
    /// never has this bit).
    static let deadBit: UInt64 = 1 << 63

    @inline(__always) static func slot(_ pid: UInt64) -> Int { Int(pid & slotMask) }
    @inline(__always) static func generation(_ pid: UInt64) -> UInt64 { (pid >> slotBits) & generationMask }
    @inline(__always) static func tag(_ pid: UInt64) -> UInt64 { (pid >> tagShift) & tagMask }
    @inline(__always) static func isLocal(_ pid: UInt64) -> Bool { pid & remoteBit == 0 }

    @inline(__always)
    static func make(slot: Int, generation: UInt64, tag: UInt64) -> UInt64 {
        (tag << tagShift) | (generation << slotBits) | UInt64(slot)
    }

    /// The pid of the next incarnation of a slot whose pid word is `word`.
    static func next(after word: UInt64, slot: Int, tag: UInt64) -> UInt64 {
        let previous = generation(word)
        let generation = previous == 0 || previous >= generationMask ? 1 : previous + 1
        return make(slot: slot, generation: generation, tag: tag)
    }

    /// Erlang's way of printing a pid: `<0.SLOT.GENERATION>` for a local one
    /// (node 0, as Erlang prints its own node's pids).
    static func format(_ pid: UInt64) -> String {
        if !isLocal(pid) {
            return RemotePids.format(pid) ?? "<remote.\(pid >> RemotePids.indexBits & tagMask).\(pid & ((1 << RemotePids.indexBits) - 1))>"
        }
        return "<0.\(slot(pid)).\(generation(pid))>"
    }

    // MARK: Runtime tags

    /// Tags of the runtimes alive now, and the last one handed out: a new
    /// runtime takes the next free tag after it, so a pid kept from a freed
    /// runtime meets a new runtime of its tag only after 255 others.
    private static let tags = Lock<(inUse: Set<UInt64>, last: UInt64)>(([], tagMask))

    static func takeTag() -> UInt64 {
        tags.withLock { state in
            for step in 1...UInt64(tagMask + 1) {
                let candidate = (state.last + step) & tagMask
                if !state.inUse.contains(candidate) {
                    state.inUse.insert(candidate)
                    state.last = candidate
                    return candidate
                }
            }
            // Every tag is taken by a live runtime: share the next one.
            state.last = (state.last + 1) & tagMask
            return state.last
        }
    }

    static func returnTag(_ tag: UInt64) {
        _ = tags.withLock { $0.inUse.remove(tag) }
    }
}
