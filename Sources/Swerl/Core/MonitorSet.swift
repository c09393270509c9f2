// A process's monitors, by ref (the ones it holds, or the ones held on it):
// a small array while it is small, a dictionary once it grows. A server
// with thousands of callers waiting (each call monitors it) adds and drops
// one in O(1), where a search and an array removal made every reply cost
// as much as the queue was long; an ordinary process pays for no hashing.

struct MonitorSet: Sequence {
    private var small: [MonitorEntry] = []
    private var large: [UInt64: UInt64]? = nil  // ref -> pid
    static let smallLimit = 16

    var count: Int { large?.count ?? small.count }

    /// Bytes the set holds beyond the process block.
    var memory: Int { large.map { $0.capacity * 24 } ?? small.capacity * 16 }

    /// Adds a monitor (its ref is new).
    mutating func insert(_ entry: MonitorEntry) {
        if large != nil {
            large![entry.ref] = entry.pid
            return
        }
        if small.count == Self.smallLimit {
            var table = [UInt64: UInt64](minimumCapacity: 2 * Self.smallLimit)
            for old in small { table[old.ref] = old.pid }
            table[entry.ref] = entry.pid
            large = table
            small = []
            return
        }
        small.append(entry)
    }

    /// Removes the monitor `ref`: its entry, or nil if there is none.
    @discardableResult
    mutating func remove(ref: UInt64) -> MonitorEntry? {
        if large != nil {
            return large!.removeValue(forKey: ref).map { MonitorEntry(ref: ref, pid: $0) }
        }
        guard let index = small.firstIndex(where: { $0.ref == ref }) else { return nil }
        return small.remove(at: index)  // in order: a small set keeps the order monitors were set in
    }

    /// A plain iterator, not an AnyIterator: that one boxed its closure's
    /// state on the heap at every loop, for every exit of every process.
    struct Iterator: IteratorProtocol {
        fileprivate var small: IndexingIterator<[MonitorEntry]>
        fileprivate var large: Dictionary<UInt64, UInt64>.Iterator?

        mutating func next() -> MonitorEntry? {
            if large != nil { return large!.next().map { MonitorEntry(ref: $0.key, pid: $0.value) } }
            return small.next()
        }
    }

    func makeIterator() -> Iterator {
        Iterator(small: small.makeIterator(), large: large?.makeIterator())
    }
}
