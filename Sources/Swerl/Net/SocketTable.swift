// Every socket of a runtime: type-stable slots found by id without a lock
// (the send path takes none), ids as pids are made (| tag | generation |
// slot |, so an id is never reused and another runtime's is unknown), and
// which process owns which sockets, for closing them when it exits.

import Synchronization

final class SocketTable: @unchecked Sendable {
    static let chunkShift = 10
    static let chunkSize = 1 << chunkShift
    static let capacity = 1 << 20

    let tag: UInt64
    private let chunks: UnsafeMutablePointer<Atomic<UInt>>
    private var objects: [SocketState] = []          // under `allocation`
    private let allocation = Lock<[Int]>([])    // free slots
    private var generations: [UInt64] = []      // under `allocation`
    /// Owner pid -> its sockets' ids.
    private let owners = Lock<[UInt64: [UInt64]]>([:])
    /// Sockets open now (any thread reads it to skip the owner index).
    let open = Atomic<Int>(0)

    init(tag: UInt64) {
        self.tag = tag
        let count = Self.capacity >> Self.chunkShift
        chunks = .allocate(capacity: count)
        for i in 0..<count { (chunks + i).initialize(to: Atomic(0)) }
    }

    deinit {
        for i in 0..<(Self.capacity >> Self.chunkShift) {
            let raw = chunks[i].load(ordering: .relaxed)
            guard raw != 0 else { continue }
            UnsafeMutablePointer<Unmanaged<SocketState>>(bitPattern: raw)!.deallocate()  // the objects are `objects`'
        }
        chunks.deinitialize(count: Self.capacity >> Self.chunkShift)
        chunks.deallocate()
    }

    /// The socket `id` names, if it is one of ours (open or not: see isOpen).
    @inline(__always)
    func lookup(_ id: UInt64) -> SocketState? {
        guard id != 0, Pids.isLocal(id), Pids.tag(id) == tag else { return nil }
        let slot = Pids.slot(id)
        guard slot < Self.capacity else { return nil }
        let raw = chunks[slot >> Self.chunkShift].load(ordering: .acquiring)
        guard raw != 0 else { return nil }
        let base = UnsafeRawPointer(bitPattern: raw)!.assumingMemoryBound(to: Unmanaged<SocketState>.self)
        let socket = base[slot & (Self.chunkSize - 1)].takeUnretainedValue()
        return socket.id.load(ordering: .acquiring) == id ? socket : nil
    }

    /// A free slot's socket with a new id (published by `publish`), or nil
    /// when every slot is in use.
    func allocate() -> (SocketState, UInt64)? {
        allocation.withLock { free -> (SocketState, UInt64)? in
            if free.isEmpty {
                let start = objects.count
                guard start < Self.capacity else { return nil }
                let chunk = UnsafeMutablePointer<Unmanaged<SocketState>>.allocate(capacity: Self.chunkSize)
                for i in 0..<Self.chunkSize {
                    let socket = SocketState(slot: start + i)
                    objects.append(socket)
                    generations.append(0)
                    (chunk + i).initialize(to: Unmanaged.passUnretained(socket))
                }
                chunks[start >> Self.chunkShift].store(UInt(bitPattern: chunk), ordering: .releasing)
                free = (start..<start + Self.chunkSize).reversed()
            }
            let slot = free.removeLast()
            generations[slot] = (generations[slot] + 1) & Pids.generationMask
            if generations[slot] == 0 { generations[slot] = 1 }
            let id = Pids.make(slot: slot, generation: generations[slot], tag: tag)
            return (objects[slot], id)
        }
    }

    /// Makes an allocated socket findable, open, owned by `owner`; false
    /// (nothing changed) when `owner` is not alive, as told by `isAlive`
    /// under the owner index's lock (a process marks itself dead before it
    /// takes its sockets from the index, so none is left behind).
    func publish(_ socket: SocketState, id: UInt64, owner: UInt64, isAlive: (UInt64) -> Bool) -> Bool {
        owners.withLock { index -> Bool in
            guard isAlive(owner) else { return false }
            socket.owner.store(owner, ordering: .relaxed)
            socket.state.store(SocketState.State.open, ordering: .relaxed)
            socket.id.store(id, ordering: .releasing)
            index[owner, default: []].append(id)
            open.add(1, ordering: .relaxed)
            return true
        }
    }

    /// Returns an allocated socket's slot (its handle closed, or never made).
    func free(_ socket: SocketState) {
        socket.id.store(0, ordering: .releasing)
        socket.state.store(SocketState.State.free, ordering: .releasing)
        socket.reset()
        allocation.withLock { $0.append(socket.slot) }
    }

    /// The socket stops being open: no API call reaches it any more, and it
    /// leaves its owner's list. False when it was not open.
    func markClosing(_ socket: SocketState, id: UInt64) -> Bool {
        owners.withLock { index -> Bool in
            guard socket.isOpen(id) else { return false }
            socket.state.store(SocketState.State.closing, ordering: .releasing)
            let owner = socket.owner.load(ordering: .relaxed)
            index[owner]?.removeAll { $0 == id }
            if index[owner]?.isEmpty == true { index[owner] = nil }
            open.subtract(1, ordering: .relaxed)
            return true
        }
    }

    /// Moves an open socket to `newOwner` if alive; the code of the outcome.
    func changeOwner(_ socket: SocketState, id: UInt64, from caller: UInt64, to newOwner: UInt64,
                     isAlive: (UInt64) -> Bool) -> Int32 {
        owners.withLock { index -> Int32 in
            guard socket.isOpen(id) else { return Code.noSocket }
            guard socket.owner.load(ordering: .relaxed) == caller else { return Code.notOwner }
            guard isAlive(newOwner) else { return Code.noProcess }
            index[caller]?.removeAll { $0 == id }
            if index[caller]?.isEmpty == true { index[caller] = nil }
            index[newOwner, default: []].append(id)
            socket.owner.store(newOwner, ordering: .releasing)
            return Code.ok
        }
    }

    /// The sockets `owner` had; it has exited (and is marked dead).
    func takeOwned(by owner: UInt64) -> [UInt64] {
        guard open.load(ordering: .relaxed) > 0 else { return [] }
        return owners.withLock { $0.removeValue(forKey: owner) ?? [] }
    }
}
