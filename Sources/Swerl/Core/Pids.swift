// Pid layout: | node (10 bits) | generation (30 bits) | slot (24 bits) |.
// The node field is 0 for local processes (a later release routes nonzero
// nodes to Erlang distribution); the generation starts at 1, so 0 is never a
// pid, and grows each time a slot is reused, so a stale pid never matches
// the slot's new process (it would take 2^30 reuses of one slot to wrap).

enum Pids {
    static let slotBits: UInt64 = 24
    static let generationBits: UInt64 = 30
    static let slotMask: UInt64 = (1 << slotBits) - 1
    static let generationMask: UInt64 = (1 << generationBits) - 1
    static let nodeShift: UInt64 = slotBits + generationBits
    static let maxSlots = Int(slotMask)
    /// Marks a slot's pid word once that incarnation has exited.
    static let deadBit: UInt64 = 1 << 63

    @inline(__always) static func slot(_ pid: UInt64) -> Int { Int(pid & slotMask) }
    @inline(__always) static func generation(_ pid: UInt64) -> UInt64 { (pid >> slotBits) & generationMask }
    @inline(__always) static func isLocal(_ pid: UInt64) -> Bool { pid >> nodeShift == 0 }

    @inline(__always)
    static func make(slot: Int, generation: UInt64) -> UInt64 {
        (generation << slotBits) | UInt64(slot)
    }

    /// The pid of the next incarnation of a slot whose pid word is `word`.
    static func next(after word: UInt64, slot: Int) -> UInt64 {
        let previous = generation(word & ~deadBit)
        let generation = previous == 0 || previous >= generationMask ? 1 : previous + 1
        return make(slot: slot, generation: generation)
    }
}
