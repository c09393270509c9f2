// Shared immutable binaries (swerl_binary): BEAM's refc binaries.
//
// Share-nothing is about state, not about copying bytes nobody can change.
// A binary is one malloc'd block, a header then the bytes. Its creator fills
// the bytes, then sends it: from then on it is immutable, and every message
// carrying it holds a reference instead of a copy (its node's payload is the
// binary's address, `MessageNode.shared` set). A receiver that wants the
// bytes past its handler takes a reference too. The block is freed when the
// last reference goes, on whichever thread lets go of it.
//
// Memory: a message carrying a binary costs its node, as any message, and the
// binary is charged to a runtime's memory ceiling once, by the first send
// into that runtime, however many messages carry it (BEAM counts a refc
// binary once per node, not per process). Each charge is a record on the
// binary naming the ceiling's budget, refunded when the binary is freed.

import CSwerl
import Glibc
import Synchronization

package struct SharedBinaryHeader: ~Copyable {
    package let references: Atomic<Int>
    package let length: Int
    /// The budgets charged for this binary: a list of retained BinaryCharge,
    /// pushed by compare-and-swap, never popped before the binary is freed.
    let charges: Atomic<UInt>
}

/// One runtime's charge for a binary.
final class BinaryCharge {
    let budget: MemoryBudget
    let bytes: Int
    let next: UInt

    init(budget: MemoryBudget, bytes: Int, next: UInt) {
        self.budget = budget
        self.bytes = bytes
        self.next = next
    }
}

/// A binary's address: what swerl_binary * is.
package typealias SharedBinaryPointer = UnsafeMutablePointer<SharedBinaryHeader>

package enum SharedBinaries {
    /// The bytes start this far into the block (16-byte aligned, as malloc's).
    package static let headerSize = (MemoryLayout<SharedBinaryHeader>.stride + 15) & ~15
    /// What a message carrying a binary holds: the binary's address.
    static let inlineSize = MemoryLayout<UInt>.size
    /// The largest binary: a length the header's arithmetic never overflows.
    package static let maxLength = Int.max / 2

    /// A new binary of `length` bytes (not initialized), with one reference:
    /// the caller's. Nil when out of memory.
    package static func allocate(length: Int) -> SharedBinaryPointer? {
        guard length >= 0, length <= maxLength, let raw = malloc(headerSize + length) else { return nil }
        let binary = raw.bindMemory(to: SharedBinaryHeader.self, capacity: 1)
        binary.initialize(to: SharedBinaryHeader(references: Atomic(1), length: length,
                                                 charges: Atomic(0)))
        return binary
    }

    /// A new binary holding a copy of `bytes`.
    package static func copy(_ bytes: UnsafeRawBufferPointer) -> SharedBinaryPointer? {
        guard let binary = allocate(length: bytes.count) else { return nil }
        if let base = bytes.baseAddress, bytes.count > 0 { data(binary).copyMemory(from: base, byteCount: bytes.count) }
        return binary
    }

    @inline(__always)
    package static func data(_ binary: SharedBinaryPointer) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(binary) + headerSize
    }

    @inline(__always)
    package static func bytes(_ binary: SharedBinaryPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: data(binary), count: binary.pointee.length)
    }

    /// The binary whose bytes start at `data`, carried by a message handed
    /// to the callback running on this thread (the one it is offered, or
    /// one of its batch). Nil for any other address: a flag and a pointer
    /// from the caller are never trusted to find a header in front of them.
    package static func carried(at data: UnsafeRawPointer) -> SharedBinaryPointer? {
        guard let context = CallbackContexts.current else { return nil }
        if let batch = context.pointee.batch {
            return batch._withUnsafeGuaranteedRef { $0.sharedBinary(at: data) }
        }
        guard let node = context.pointee.process?.pointee.offering else { return nil }
        return binary(of: node, at: data)
    }

    /// The binary `node` carries if its bytes start at `data`.
    static func binary(of node: NodePointer, at data: UnsafeRawPointer) -> SharedBinaryPointer? {
        guard node.pointee.shared else { return nil }
        let binary = Nodes.binary(node)
        return UnsafeRawPointer(Self.data(binary)) == data ? binary : nil
    }

    /// The binary a message flagged SWERL_MESSAGE_SHARED carries, with one
    /// more reference (swerl_binary_keep without a copy); nil when `data`
    /// and `count` are not the bytes of a shared message handed to this
    /// thread's callback now (`carried(at:)`).
    package static func keep(shared data: UnsafeRawPointer?, count: Int) -> SharedBinaryPointer? {
        guard let data, let binary = carried(at: data), binary.pointee.length == count else { return nil }
        retain(binary)
        return binary
    }

    @inline(__always)
    package static func retain(_ binary: SharedBinaryPointer) {
        binary.pointee.references.wrappingAdd(1, ordering: .relaxed)
    }

    /// Drops one reference; the last frees the block and refunds its charges.
    package static func release(_ binary: SharedBinaryPointer) {
        guard binary.pointee.references.wrappingSubtract(1, ordering: .releasing).newValue == 0 else { return }
        atomicMemoryFence(ordering: .acquiring)
        var cursor = binary.pointee.charges.load(ordering: .relaxed)
        while let raw = UnsafeRawPointer(bitPattern: cursor) {
            let charge = Unmanaged<BinaryCharge>.fromOpaque(raw).takeRetainedValue()
            charge.budget.refund(charge.bytes, on: nil)
            cursor = charge.next
        }
        binary.deinitialize(count: 1)
        free(binary)
    }

    /// Charges `binary` to `engine`'s memory ceiling unless it already is.
    /// False: the ceiling is reached.
    static func charge(_ binary: SharedBinaryPointer, to engine: Engine) -> Bool {
        guard engine.memoryBudget.isLimited else { return true }
        let budget = engine.memoryBudget
        var head = binary.pointee.charges.load(ordering: .acquiring)
        var checkedUpTo: UInt = 0
        var charged: BinaryCharge?
        while true {
            // Only the records pushed since the last look need a look.
            var cursor = head
            while cursor != checkedUpTo, let raw = UnsafeRawPointer(bitPattern: cursor) {
                let record = Unmanaged<BinaryCharge>.fromOpaque(raw).takeUnretainedValue()
                if record.budget === budget {
                    if let charged { budget.refund(charged.bytes, on: Worker.current(of: engine)) }
                    return true
                }
                cursor = record.next
            }
            checkedUpTo = head
            let cost = MemoryBudget.binaryCost(binary.pointee.length)
            if charged == nil {
                guard budget.charge(cost, on: Worker.current(of: engine)) != .refused else { return false }
            }
            let record = BinaryCharge(budget: budget, bytes: cost, next: head)
            charged = record
            let address = UInt(bitPattern: Unmanaged.passRetained(record).toOpaque())
            let (pushed, current) = binary.pointee.charges.compareExchange(expected: head, desired: address,
                                                                           ordering: .acquiringAndReleasing)
            if pushed { return true }
            Unmanaged<BinaryCharge>.fromOpaque(UnsafeRawPointer(bitPattern: address)!).release()
            head = current
        }
    }
}

extension MemoryBudget {
    /// What a binary costs against a ceiling: its bytes and a fixed
    /// overhead (the header's SWERL_BINARY_OVERHEAD).
    static func binaryCost(_ length: Int) -> Int { length &+ Int(SWERL_BINARY_OVERHEAD) }
}
