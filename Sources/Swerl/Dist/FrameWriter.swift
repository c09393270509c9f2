// Builds one distribution frame: a 4-byte length, the pass-through byte,
// the control message and, for sends, the message, each a term with its
// version byte. The control parts are written directly (tuples of small
// integers, atoms and pids): a send encodes no `Term` on its way out.

struct FrameWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity + 16)
        bytes += [0, 0, 0, 0, passThrough]
    }

    mutating func version() { bytes.append(131) }

    mutating func tuple(_ arity: Int) {
        if arity < 256 {
            bytes += [104, UInt8(arity)]
        } else {
            bytes.append(105)
            bytes.put32(UInt32(arity))
        }
    }

    mutating func integer(_ value: Int64) {
        if value >= 0 && value < 256 {
            bytes += [97, UInt8(value)]
        } else if value >= Int64(Int32.min) && value <= Int64(Int32.max) {
            bytes.append(98)
            bytes.put32(UInt32(bitPattern: Int32(value)))
        } else {
            ExternalTermFormat.encode(.integer(value), into: &bytes)
        }
    }

    /// An atom whose SMALL_ATOM_UTF8 bytes (tag, length, text) are given.
    mutating func atom(encoded: [UInt8]) { bytes += encoded }

    mutating func atom(_ name: String) { bytes += Self.atomBytes(name) }

    static func atomBytes(_ name: String) -> [UInt8] {
        let utf8 = Array(name.utf8.prefix(255))
        return [119, UInt8(utf8.count)] + utf8
    }

    /// NEW_PID_EXT.
    mutating func pid(nodeAtom: [UInt8], id: UInt32, serial: UInt32, creation: UInt32) {
        bytes.append(88)
        bytes += nodeAtom
        bytes.put32(id)
        bytes.put32(serial)
        bytes.put32(creation)
    }

    mutating func binary(_ data: UnsafeRawBufferPointer) {
        bytes.append(109)
        bytes.put32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// A whole term (without its version byte).
    mutating func term(_ term: Term) { ExternalTermFormat.encode(term, into: &bytes) }

    /// Bytes that are already a term in External Term Format, version byte
    /// first (a term message's payload).
    mutating func encoded(_ data: UnsafeRawBufferPointer) { bytes.append(contentsOf: data) }

    /// The frame, its length filled in.
    mutating func finish() -> [UInt8] {
        let length = UInt32(bytes.count - 4)
        bytes[0] = UInt8(length >> 24)
        bytes[1] = UInt8(truncatingIfNeeded: length >> 16)
        bytes[2] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: length)
        return bytes
    }
}
