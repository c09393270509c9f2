// A scheduler's timers: a binary min-heap by deadline, touched only by its
// own thread. Entries are small values; a cancelled send_after timer leaves
// its entry here until the deadline, when it finds nothing to fire.

struct TimerEntry {
    enum Kind: UInt8 {
        /// A process's receive timeout: signal `id` (a pid) so it re-checks.
        case receiveTimeout
        /// swerl_send_after: `id` is the timer ref in the runtime's TimerTable.
        case sendAfter
        /// swerl_call_async / Swift call: `id` is the call ref.
        case callTimeout
    }
    var deadline: UInt64
    var kind: Kind
    var id: UInt64
}

struct TimerHeap {
    private var entries: [TimerEntry] = []

    var isEmpty: Bool { entries.isEmpty }
    var nextDeadline: UInt64? { entries.first?.deadline }

    mutating func insert(_ entry: TimerEntry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if entries[parent].deadline <= entries[child].deadline { break }
            entries.swapAt(parent, child)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UInt64) -> TimerEntry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        if entries.isEmpty { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            if left >= entries.count { break }
            let right = left + 1
            let smallest = right < entries.count && entries[right].deadline < entries[left].deadline ? right : left
            if entries[parent].deadline <= entries[smallest].deadline { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    mutating func removeAll() { entries.removeAll() }
}
