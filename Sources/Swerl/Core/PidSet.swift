// A set of pids (a process's links): a small array while it is small, a
// hash set once it grows, so a supervisor with thousands of linked children
// finds and drops one in O(1) while an ordinary process pays for no hashing.
// One word in the process block: an array and a class reference share it
// (an array and a Set would not: 9 bytes).

struct PidSet {
    private final class Large {
        var pids: Set<UInt64>
        init(_ pids: Set<UInt64>) { self.pids = pids }
    }

    private enum Storage {
        case small([UInt64])
        case large(Large)
    }

    private var storage = Storage.small([])
    static let smallLimit = 16

    var count: Int {
        switch storage {
        case .small(let pids): return pids.count
        case .large(let box): return box.pids.count
        }
    }

    /// Bytes the set holds beyond the process block.
    var memory: Int {
        switch storage {
        case .small(let pids): return pids.capacity * 8
        case .large(let box): return box.pids.capacity * 16
        }
    }

    func contains(_ pid: UInt64) -> Bool {
        switch storage {
        case .small(let pids): return pids.contains(pid)
        case .large(let box): return box.pids.contains(pid)
        }
    }

    /// Adds `pid`; false if it was there already.
    @discardableResult
    mutating func insert(_ pid: UInt64) -> Bool {
        switch storage {
        case .small(var pids):
            if pids.contains(pid) { return false }
            storage = .small([])  // pids is the array's only reference: no copy below
            if pids.count == Self.smallLimit {
                var set = Set(pids)
                set.insert(pid)
                storage = .large(Large(set))
            } else {
                pids.append(pid)
                storage = .small(pids)
            }
            return true
        case .large:
            return uniqueLarge().pids.insert(pid).inserted
        }
    }

    /// Removes `pid`; false if it was not there.
    @discardableResult
    mutating func remove(_ pid: UInt64) -> Bool {
        switch storage {
        case .small(var pids):
            guard let index = pids.firstIndex(of: pid) else { return false }
            storage = .small([])
            pids.swapAt(index, pids.count - 1)
            pids.removeLast()
            storage = .small(pids)
            return true
        case .large:
            return uniqueLarge().pids.remove(pid) != nil
        }
    }

    /// The large set, copied first if another PidSet shares it (value semantics).
    private mutating func uniqueLarge() -> Large {
        guard case .large(var box) = storage else { preconditionFailure("not a large set") }
        storage = .small([])
        if !isKnownUniquelyReferenced(&box) { box = Large(box.pids) }
        storage = .large(box)
        return box
    }

    mutating func removeAll() {
        storage = .small([])
    }

    func forEach(_ body: (UInt64) -> Void) {
        switch storage {
        case .small(let pids): pids.forEach(body)
        case .large(let box): box.pids.forEach(body)
        }
    }
}
