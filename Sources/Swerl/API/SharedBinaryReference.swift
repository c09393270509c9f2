import Glibc

// SharedBinary is @unchecked Sendable, soundly: its one stored property is
// a constant, the bytes behind it are written only inside an initializer
// (before the object can reach another thread) and never after, and the
// reference count is atomic.

/// Immutable bytes sent by reference: Erlang's refc binary (swerl.h,
/// "Shared binaries"). Sending one to any number of processes carries a
/// reference, not a copy, so a fan-out of 1 MiB to 1,000 processes holds
/// 1 MiB; a receiver keeps it past its handler with `Message.sharedBinary`,
/// again without a copy.
///
///     let frame = SharedBinary(count: 1 << 20) { bytes in render(into: bytes) }
///     for viewer in viewers { try runtime.send(frame, to: viewer) }
///
/// Its bytes are written once, by the initializer, and never change. It is
/// charged to a runtime's memory ceiling once, by its first send there, and
/// refunded when the last reference (this object, a message carrying it, a
/// receiver's `SharedBinary`) is gone. Other sends (replies, calls, timers,
/// remote pids) copy its bytes, as they copy any `MessagePayload`.
public final class SharedBinary: @unchecked Sendable {
    /// One reference to the core's binary, dropped in deinit.
    let pointer: SharedBinaryPointer

    /// Takes over one reference the caller holds.
    init(adopting pointer: SharedBinaryPointer) { self.pointer = pointer }

    /// A binary holding a copy of `bytes`: one copy (a memcpy for arrays,
    /// slices, `ContiguousArray`, Foundation's `Data` and anything else
    /// with contiguous storage), after which it is sent without copying.
    /// Out of memory traps, as it does for Swift's own collections.
    ///
    /// - Parameter bytes: The bytes; read once, not kept.
    public convenience init(_ bytes: some Sequence<UInt8>) {
        if let copied = bytes.withContiguousStorageIfAvailable({ SharedBinary.copy(UnsafeRawBufferPointer($0)) }) {
            self.init(adopting: copied)
        } else {
            self.init(adopting: Array(bytes).withUnsafeBytes(SharedBinary.copy))
        }
    }

    /// A binary holding a copy of the bytes at `bytes`. Out of memory traps.
    ///
    /// - Parameter bytes: The bytes; copied before the call returns.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(adopting: SharedBinary.copy(bytes))
    }

    /// A binary of `count` bytes that `body` writes, the only time they can
    /// be written: the bytes are the allocator's, not zeroed, so `body`
    /// should write every one of them. A negative count, or out of memory,
    /// traps.
    ///
    /// - Parameters:
    ///   - count: The length in bytes; not negative.
    ///   - body: Writes the bytes; must not keep the buffer.
    /// - Throws: What `body` throws (the binary is freed then).
    public init<E: Error>(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        precondition(count >= 0, "SharedBinary(count:): a negative count")
        let binary = SharedBinary.allocate(count)
        do {
            try body(UnsafeMutableRawBufferPointer(start: SharedBinaries.data(binary), count: count))
        } catch {
            SharedBinaries.release(binary)
            throw error
        }
        pointer = binary
    }

    deinit { SharedBinaries.release(pointer) }

    /// The length in bytes.
    public var count: Int { pointer.pointee.length }

    /// Calls `body` with the bytes, which it must not keep (keep the
    /// `SharedBinary` instead).
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try withExtendedLifetime(self) { () throws(E) -> R in try body(SharedBinaries.bytes(pointer)) }
    }

    /// A copy of the bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Runs `body` with the core's binary, this object kept alive meanwhile.
    func withBinary<R>(_ body: (SharedBinaryPointer) -> R) -> R {
        withExtendedLifetime(self) { body(pointer) }
    }

    /// A new binary (one reference) holding `bytes`; traps when out of
    /// memory, as Swift's own collections do.
    private static func copy(_ bytes: UnsafeRawBufferPointer) -> SharedBinaryPointer {
        guard let binary = SharedBinaries.copy(bytes) else { outOfMemory(bytes.count) }
        return binary
    }

    /// A new binary (one reference) of `count` bytes not yet written.
    private static func allocate(_ count: Int) -> SharedBinaryPointer {
        guard let binary = SharedBinaries.allocate(length: count) else { outOfMemory(count) }
        return binary
    }

    private static func outOfMemory(_ count: Int) -> Never {
        fatalError("SharedBinary: cannot allocate \(count) bytes")
    }
}

extension SharedBinary: RandomAccessCollection {
    /// The position of the first byte: 0.
    public var startIndex: Int { 0 }

    /// The position after the last byte: `count`.
    public var endIndex: Int { count }

    /// The byte at `position`.
    ///
    /// - Parameter position: 0 ..< `count`.
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "SharedBinary: index out of range")
        return withUnsafeBytes { $0[position] }
    }

    /// Calls `body` with the bytes (contiguous, always): copying a binary
    /// into an array, or into another binary, is one memcpy.
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try withExtendedLifetime(self) { try body(SharedBinaries.bytes(pointer).assumingMemoryBound(to: UInt8.self)) }
    }
}

extension SharedBinary: Hashable {
    /// Whether `lhs` and `rhs` hold the same bytes (the same binary, or equal contents).
    ///
    /// - Parameters:
    ///   - lhs: A binary.
    ///   - rhs: Another binary.
    /// - Returns: true when their bytes are equal.
    public static func == (lhs: SharedBinary, rhs: SharedBinary) -> Bool {
        if lhs === rhs { return true }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in
                left.count == right.count && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
            }
        }
    }

    /// Hashes the bytes.
    ///
    /// - Parameter hasher: The hasher to feed.
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension SharedBinary: MessagePayload {
    /// Calls `body` with the bytes, for the sends that copy (replies, calls,
    /// timers); `send(_:to:)` takes the binary by reference instead.
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withPayloadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(SharedBinaries.bytes(pointer)) }
    }
}

extension SharedBinary: CustomStringConvertible {
    /// `SharedBinary(1048576 bytes)`.
    public var description: String { "SharedBinary(\(count) bytes)" }
}

extension SharedBinary {
    /// From this many bytes on, a fan-out (`send(_:to:)` with a sequence of
    /// pids) sends one shared binary to all its receivers; below, a copy to
    /// each. About here a copy stops being cheaper than a reference's
    /// bookkeeping; Python's `SHARED_THRESHOLD` is the same.
    public static let fanOutThreshold = 64 * 1024

    /// A fan-out's sends: `send(one, pid)` for each pid, `one` being a
    /// shared binary of `bytes` from `fanOutThreshold` bytes on (a
    /// SharedBinary as it is), else `bytes`. The first error ends it.
    /// Returns how many receivers were alive.
    static func fanOut<P: MessagePayload>(_ bytes: P, to pids: some Sequence<Pid>,
                                          copying: (P, Pid) throws(SwerlError) -> Bool,
                                          sharing: (SharedBinary, Pid) throws(SwerlError) -> Bool)
        throws(SwerlError) -> Int
    {
        let shared = bytes as? SharedBinary
            ?? (bytes.withPayloadBytes { $0.count } >= fanOutThreshold
                ? bytes.withPayloadBytes { SharedBinary(copying: $0) } : nil)
        var alive = 0
        for pid in pids {
            let delivered: Bool
            if let shared {
                delivered = try sharing(shared, pid)
            } else {
                delivered = try copying(bytes, pid)
            }
            if delivered { alive += 1 }
        }
        return alive
    }
}
