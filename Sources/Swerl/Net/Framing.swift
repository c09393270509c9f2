// The runtime's framing of a socket's input (gen_tcp's {packet, N} and
// {packet, line}): bytes read are kept until a whole frame is there, and
// handed out a frame at a time, as the owner's active count allows.

import CSwerl

struct Framing {
    enum Next {
        /// A frame's payload: `count` bytes at `start` in `bytes`.
        case frame(start: Int, count: Int)
        case needMore
        case tooLong(Int)
    }

    private(set) var bytes: [UInt8] = []
    private var start = 0

    var buffered: Int { bytes.count - start }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if start > 0 && start >= bytes.count / 2 {
            bytes.removeFirst(start)
            start = 0
        }
        bytes.append(contentsOf: chunk)
    }

    /// The next frame of `packet` framing, not yet consumed (see consume).
    func next(packet: UInt32, maxFrame: Int) -> Next {
        let available = buffered
        switch packet {
        case UInt32(SWERL_PACKET_LINE):
            let limit = min(available, maxFrame)
            for i in 0..<limit where bytes[start + i] == UInt8(ascii: "\n") {
                return .frame(start: start, count: i + 1)
            }
            return available >= maxFrame ? .tooLong(available) : .needMore
        case UInt32(SWERL_PACKET_RAW):
            return available > 0 ? .frame(start: start, count: available) : .needMore
        default:
            let header = Int(packet)
            guard available >= header else { return .needMore }
            var length = 0
            for i in 0..<header { length = length << 8 | Int(bytes[start + i]) }
            if length > maxFrame { return .tooLong(length) }
            guard available - header >= length else { return .needMore }
            return .frame(start: start + header, count: length)
        }
    }

    /// Drops a frame `next` returned, its header included.
    mutating func consume(through end: Int) {
        start = end
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.count <= 65_536)
            start = 0
        }
    }

    mutating func clear() {
        bytes = []
        start = 0
    }

    /// The length prefix swerl_socket_send adds for `packet` framing, or nil
    /// when `length` does not fit in it.
    static func header(packet: UInt32, length: Int) -> [UInt8]? {
        let size = Int(packet)
        guard packet == 1 || packet == 2 || packet == 4 else { return [] }
        guard length < 1 << (8 * size) else { return nil }
        return (0..<size).map { UInt8(truncatingIfNeeded: length >> (8 * (size - 1 - $0))) }
    }
}
