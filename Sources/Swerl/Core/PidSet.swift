// A set of pids (a process's links): a small array while it is small, a
// hash set once it grows, so a supervisor with thousands of linked children
// finds and drops one in O(1) while an ordinary process pays for no hashing.

struct PidSet {
    private var small: [UInt64] = []
    private var large: Set<UInt64>? = nil
    static let smallLimit = 16

    var count: Int { large?.count ?? small.count }

    /// Bytes the set holds beyond the process block.
    var memory: Int { large.map { $0.capacity * 16 } ?? small.capacity * 8 }

    func contains(_ pid: UInt64) -> Bool {
        large?.contains(pid) ?? small.contains(pid)
    }

    /// Adds `pid`; false if it was there already.
    @discardableResult
    mutating func insert(_ pid: UInt64) -> Bool {
        if large != nil { return large!.insert(pid).inserted }
        if small.contains(pid) { return false }
        if small.count == Self.smallLimit {
            var set = Set(small)
            set.insert(pid)
            large = set
            small = []
            return true
        }
        small.append(pid)
        return true
    }

    /// Removes `pid`; false if it was not there.
    @discardableResult
    mutating func remove(_ pid: UInt64) -> Bool {
        if large != nil { return large!.remove(pid) != nil }
        guard let index = small.firstIndex(of: pid) else { return false }
        small.swapAt(index, small.count - 1)
        small.removeLast()
        return true
    }

    mutating func removeAll() {
        small = []
        large = nil
    }

    func forEach(_ body: (UInt64) -> Void) {
        if let large { large.forEach(body) } else { small.forEach(body) }
    }
}
