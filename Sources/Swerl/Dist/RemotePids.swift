// Pids of other nodes, as ordinary swerl_pid values.
//
// An Erlang pid is a node name and three 32-bit numbers: more than 63 bits.
// So each remote pid this runtime meets is interned once, here, and its
// swerl_pid is `| 1 | runtime tag (8) | index (55) |` (see Pids): every call
// that takes a pid takes it, and the distribution layer finds its node and
// numbers again without a lock (entries are written once, before the count
// that publishes them). Node names are interned the same way: an entry keeps
// the node's index, which is also what Erlang prints first (`<N.ID.SERIAL>`).

import Synchronization

final class RemotePids: @unchecked Sendable {
    struct Entry: Hashable {
        /// Index in `nodeNames` (from 1, as Erlang numbers the nodes it knows).
        var node: UInt32
        var id: UInt32
        var serial: UInt32
        var creation: UInt32
    }

    static let chunkShift = 12
    static let chunkSize = 1 << chunkShift
    /// At most 16,777,216 remote pids per runtime (their entries are 16 bytes).
    static let chunkCount = 4096
    static let indexBits: UInt64 = 55

    private let chunks: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>
    private let count = Atomic<Int>(0)
    private let interned = Lock<[Entry: Int]>([:])
    /// Node names by index (index 0 is unused); only grows.
    private let names = Lock<(list: [String], index: [String: UInt32])>(([""], [:]))
    let tag: UInt64

    init(tag: UInt64) {
        self.tag = tag
        chunks = .allocate(capacity: Self.chunkCount)
        chunks.initialize(repeating: nil, count: Self.chunkCount)
        RemotePids.directory.withLock { $0[tag] = Weak(self) }
    }

    deinit {
        RemotePids.directory.withLock { if $0[tag]?.value === self { $0[tag] = nil } }
        for index in 0..<Self.chunkCount { chunks[index]?.deallocate() }
        chunks.deallocate()
    }

    // MARK: Nodes

    func nodeIndex(_ name: String) -> UInt32 {
        names.withLock { state in
            if let index = state.index[name] { return index }
            let index = UInt32(state.list.count)
            state.list.append(name)
            state.index[name] = index
            return index
        }
    }

    func nodeName(_ index: UInt32) -> String? {
        names.withLock { Int(index) < $0.list.count && index > 0 ? $0.list[Int(index)] : nil }
    }

    // MARK: Pids

    /// The swerl_pid of `pid`, interning it on first sight; 0 when the table
    /// is full.
    func intern(_ pid: ErlangPid) -> UInt64 {
        let entry = Entry(node: nodeIndex(pid.node), id: pid.id, serial: pid.serial, creation: pid.creation)
        return intern(entry)
    }

    func intern(_ entry: Entry) -> UInt64 {
        interned.withLock { table in
            if let index = table[entry] { return remotePid(index) }
            let index = count.load(ordering: .relaxed)
            guard index < Self.chunkSize * Self.chunkCount else { return 0 }
            let chunk = index >> Self.chunkShift
            if chunks[chunk] == nil { chunks[chunk] = .allocate(capacity: Self.chunkSize) }
            (chunks[chunk]! + (index & (Self.chunkSize - 1))).initialize(to: entry)
            // releasing: the entry (and its chunk) before the count that shows it.
            count.store(index + 1, ordering: .releasing)
            table[entry] = index
            return remotePid(index)
        }
    }

    private func remotePid(_ index: Int) -> UInt64 {
        Pids.remoteBit | (tag << Self.indexBits) | UInt64(index)
    }

    /// The entry of a remote pid of this runtime, or nil. No lock.
    @inline(__always)
    func entry(_ pid: UInt64) -> Entry? {
        guard !Pids.isLocal(pid), (pid >> Self.indexBits) & Pids.tagMask == tag else { return nil }
        let index = Int(pid & ((1 << Self.indexBits) - 1))
        guard index < count.load(ordering: .acquiring) else { return nil }
        return chunks[index >> Self.chunkShift]![index & (Self.chunkSize - 1)]
    }

    func erlangPid(_ pid: UInt64) -> ErlangPid? {
        guard let entry = entry(pid), let node = nodeName(entry.node) else { return nil }
        return ErlangPid(node: node, id: entry.id, serial: entry.serial, creation: entry.creation)
    }

    // MARK: Printing without a runtime (swerl_pid_format)

    private final class Weak: @unchecked Sendable {
        weak var value: RemotePids?
        init(_ value: RemotePids) { self.value = value }
    }
    private static let directory = Lock<[UInt64: Weak]>([:])

    /// `<N.ID.SERIAL>` as Erlang prints a pid of its N-th known node; nil
    /// for a pid no live runtime interned.
    static func format(_ pid: UInt64) -> String? {
        let tag = (pid >> indexBits) & Pids.tagMask
        guard let table = directory.withLock({ $0[tag]?.value }), let entry = table.entry(pid) else { return nil }
        return "<\(entry.node).\(entry.id).\(entry.serial)>"
    }
}
