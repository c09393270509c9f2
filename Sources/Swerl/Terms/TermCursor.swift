// The one reader of External Term Format bytes: a cursor that reads one
// term's header at a time, straight from the bytes, allocating nothing.
// Every reader of Swerl's stands on it: the C API's swerl_term_read and
// swerl_term_skip, the check swerl_send_term makes, the ~p formatter, and
// the Swift decoder (ExternalTermFormat.decode), so they accept exactly the
// same bytes.
//
// Bounded for untrusted input: a count is believed only when that many
// terms (one byte each at least) fit in the bytes left, so a short input
// cannot claim a huge term; atoms are at most 255 characters, UTF-8 ones
// valid UTF-8; `skip` walks nesting with a fixed stack of `maxDepth` levels,
// not recursion. Atoms are never interned anywhere (Swerl has no atom
// table), so they cost what their bytes do.

import CSwerl
import Glibc

package struct TermCursor {
    package typealias Failure = ExternalTermFormat.DecodeError

    /// A term's header: its type and what fits in it; the elements of a
    /// tuple, list or map follow it (`children` terms).
    package struct Header {
        /// SWERL_TERM_*.
        package var type: UInt32
        /// TUPLE, LIST, STRING: elements; MAP: pairs.
        package var count = 0
        /// Terms that follow as this one's elements: a tuple's, a list's
        /// and its tail, a map's keys and values.
        package var children = 0
        /// INTEGER's value, PORT's id, FUN's arity.
        package var integer: Int64 = 0
        package var real: Double = 0
        /// An atom's text, a binary's, a string's or a bitstring's bytes, a
        /// big integer's magnitude (little-endian, no trailing zeros), the
        /// node of a pid, ref or port, a fun's module.
        package var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        /// A fun's function name.
        package var name = UnsafeRawBufferPointer(start: nil, count: 0)
        /// ATOM (or the node's atom, a fun's module): written as Latin-1.
        package var latin1 = false
        package var negative = false
        package var bits: UInt8 = 0
        /// PID: id, serial, creation; REF: creation (and its words at
        /// `refWords`); PORT: creation.
        package var id: UInt32 = 0
        package var serial: UInt32 = 0
        package var creation: UInt32 = 0
        /// REF: its 1 to 5 words, big-endian 32 bits each.
        package var refWords = UnsafeRawBufferPointer(start: nil, count: 0)

        init(_ type: Int) { self.type = UInt32(type) }

        /// REF: its words, first to last.
        package var refIDs: [UInt32] {
            stride(from: 0, to: refWords.count, by: 4).map { start in
                refWords[start..<start + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
        }
    }

    package let bytes: UnsafeRawBufferPointer
    package var offset: Int

    package init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    package var left: Int { bytes.count - offset }

    func fail(_ reason: String) -> Failure { Failure(offset: offset, reason: reason) }

    // MARK: Primitives

    private func need(_ count: Int, _ what: String) throws(Failure) {
        if count > left { throw fail("\(what) needs \(count) bytes, \(left) left") }
    }

    private mutating func byte() throws(Failure) -> UInt8 {
        try need(1, "a byte")
        offset += 1
        return bytes[offset - 1]
    }

    private mutating func number(_ width: Int, _ what: String) throws(Failure) -> UInt64 {
        try need(width, what)
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return value
    }

    private mutating func u16() throws(Failure) -> Int { Int(try number(2, "a 16-bit number")) }
    private mutating func u32() throws(Failure) -> UInt32 { UInt32(try number(4, "a 32-bit number")) }

    private mutating func take(_ count: Int, _ what: String) throws(Failure) -> UnsafeRawBufferPointer {
        try need(count, what)
        offset += count
        return UnsafeRawBufferPointer(rebasing: bytes[offset - count..<offset])
    }

    /// `count` terms of at least `each` bytes must fit in what is left.
    private func plausible(_ count: Int, each: Int, _ what: String) throws(Failure) {
        if count > left / each { throw fail("\(what) of \(count) elements in \(left) bytes") }
    }

    // MARK: Reading

    /// The version byte (131) a whole term starts with.
    package mutating func version() throws(Failure) {
        if left == 0 { throw fail("no bytes") }
        let first = bytes[offset]
        if first != ExternalTermFormat.version {
            throw fail("the first byte is \(first), not the format's version (131)")
        }
        offset += 1
    }

    /// The header of the term at `offset`; moves past it (to the first
    /// element of a container). On a failure `offset` is where it failed.
    package mutating func header() throws(Failure) -> Header {
        typealias Tag = ExternalTermFormat.Tag
        let tag = try byte()
        switch tag {
        case Tag.smallInteger:
            var header = Header(SWERL_TERM_INTEGER)
            header.integer = Int64(try byte())
            return header
        case Tag.integer:
            var header = Header(SWERL_TERM_INTEGER)
            header.integer = Int64(Int32(bitPattern: try u32()))
            return header
        case Tag.smallBig, Tag.largeBig:
            let count = tag == Tag.smallBig ? Int(try byte()) : Int(try u32())
            let sign = try byte()
            guard sign <= 1 else { throw fail("a big integer's sign byte is \(sign)") }
            return Self.integer(negative: sign == 1, magnitude: try take(count, "a big integer"))
        case Tag.newFloat:
            var header = Header(SWERL_TERM_FLOAT)
            header.real = Double(bitPattern: try number(8, "a float"))
            return header
        case Tag.float:
            var header = Header(SWERL_TERM_FLOAT)
            header.real = try oldFloat()
            return header
        case Tag.atom, Tag.smallAtom, Tag.atomUTF8, Tag.smallAtomUTF8:
            offset -= 1
            var header = Header(SWERL_TERM_ATOM)
            (header.bytes, header.latin1) = try atom()
            return header
        case Tag.smallTuple, Tag.largeTuple:
            var header = Header(SWERL_TERM_TUPLE)
            header.count = tag == Tag.smallTuple ? Int(try byte()) : Int(try u32())
            try plausible(header.count, each: 1, "a tuple")
            header.children = header.count
            return header
        case Tag.nil:
            return Header(SWERL_TERM_NIL)
        case Tag.string:
            var header = Header(SWERL_TERM_STRING)
            header.count = try u16()
            header.bytes = try take(header.count, "a string")
            return header
        case Tag.list:
            var header = Header(SWERL_TERM_LIST)
            header.count = Int(try u32())
            try plausible(header.count, each: 1, "a list")
            header.children = header.count + 1
            return header
        case Tag.binary:
            var header = Header(SWERL_TERM_BINARY)
            header.bytes = try take(Int(try u32()), "a binary")
            return header
        case Tag.bitBinary:
            return try bitstring()
        case Tag.map:
            var header = Header(SWERL_TERM_MAP)
            header.count = Int(try u32())
            try plausible(header.count, each: 2, "a map")
            header.children = header.count * 2
            return header
        case Tag.pid, Tag.newPid:
            var header = Header(SWERL_TERM_PID)
            (header.bytes, header.latin1) = try atom()
            header.id = try u32()
            header.serial = try u32()
            header.creation = tag == Tag.pid ? UInt32(try byte()) : try u32()
            return header
        case Tag.newReference, Tag.newerReference:
            var header = Header(SWERL_TERM_REF)
            let words = try u16()
            guard words >= 1 && words <= 5 else { throw fail("a reference of \(words) words") }
            (header.bytes, header.latin1) = try atom()
            header.creation = tag == Tag.newReference ? UInt32(try byte()) : try u32()
            header.refWords = try take(words * 4, "a reference's words")
            return header
        case Tag.port, Tag.newPort, Tag.v4Port:
            var header = Header(SWERL_TERM_PORT)
            (header.bytes, header.latin1) = try atom()
            header.integer = Int64(bitPattern: tag == Tag.v4Port ? try number(8, "a port") : UInt64(try u32()))
            header.creation = tag == Tag.port ? UInt32(try byte()) : try u32()
            return header
        case Tag.export:
            return try export()
        case Tag.compressed:
            offset -= 1
            throw fail("compressed terms are not supported (term_to_binary without `compressed`)")
        default:
            offset -= 1
            throw fail("tag \(tag) is not a term this codec reads")
        }
    }

    private mutating func bitstring() throws(Failure) -> Header {
        let count = Int(try u32())
        let bits = try byte()
        guard bits >= 1 && bits <= 8 && count > 0 else { throw fail("a bitstring of \(count) bytes, \(bits) bits") }
        var header = Header(bits == 8 ? SWERL_TERM_BINARY : SWERL_TERM_BITSTRING)
        header.bytes = try take(count, "a bitstring")
        header.bits = bits == 8 ? 0 : bits
        return header
    }

    private mutating func export() throws(Failure) -> Header {
        var header = Header(SWERL_TERM_FUN)
        (header.bytes, header.latin1) = try atom()
        let latin1: Bool
        (header.name, latin1) = try atom()
        header.latin1 = header.latin1 || latin1
        let arity = try self.header()
        guard arity.type == SWERL_TERM_INTEGER, arity.integer >= 0 && arity.integer <= 255 else {
            throw fail("an export's arity is not a small integer")
        }
        header.integer = arity.integer
        return header
    }

    /// FLOAT_EXT: 31 bytes of "%.20e" text, NUL-padded.
    private mutating func oldFloat() throws(Failure) -> Double {
        let text = try take(31, "an old float")
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes, the last one NUL
        let value = withUnsafeMutableBytes(of: &digits) { buffer -> Double? in
            buffer.copyMemory(from: text)
            let start = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(start, &end)
            guard let end, end != start else { return nil }
            var rest = end
            while rest.pointee == 0x20 { rest += 1 }
            return rest.pointee == 0 ? value : nil
        }
        guard let value else { throw fail("an old float that is not a number") }
        return value
    }

    /// An atom in any of its four forms: its bytes, and whether they are
    /// Latin-1 (ATOM_EXT, SMALL_ATOM_EXT) rather than UTF-8.
    package mutating func atom() throws(Failure) -> (UnsafeRawBufferPointer, Bool) {
        typealias Tag = ExternalTermFormat.Tag
        let tag = try byte()
        let count: Int
        switch tag {
        case Tag.atom, Tag.atomUTF8: count = try u16()
        case Tag.smallAtom, Tag.smallAtomUTF8: count = Int(try byte())
        default:
            offset -= 1
            throw fail("tag \(tag) where an atom was expected")
        }
        let start = offset
        let text = try take(count, "an atom")
        if tag == Tag.atom || tag == Tag.smallAtom {
            guard count <= 255 else { throw Failure(offset: start, reason: "an atom of \(count) characters") }
            return (text, true)
        }
        guard let characters = UTF8Check.characters(text) else {
            throw Failure(offset: start, reason: "an atom that is not UTF-8")
        }
        guard characters <= 255 else { throw Failure(offset: start, reason: "an atom of more than 255 characters") }
        return (text, false)
    }

    /// A big integer's header: INTEGER when it fits 64 bits (Erlang writes
    /// small ones as bignums too), else BIGINT with its magnitude.
    static func integer(negative: Bool, magnitude: UnsafeRawBufferPointer) -> Header {
        var length = magnitude.count
        while length > 0 && magnitude[length - 1] == 0 { length -= 1 }
        if length <= 8 {
            var value: UInt64 = 0
            for index in stride(from: length - 1, through: 0, by: -1) { value = value << 8 | UInt64(magnitude[index]) }
            if value <= UInt64(Int64.max) || (negative && value == UInt64(Int64.max) + 1) {
                var header = Header(SWERL_TERM_INTEGER)
                header.integer = negative ? Int64(truncatingIfNeeded: 0 &- value) : Int64(value)
                return header
            }
        }
        var header = Header(SWERL_TERM_BIGINT)
        header.negative = negative
        header.bytes = UnsafeRawBufferPointer(rebasing: magnitude[0..<length])
        return header
    }

    // MARK: Whole terms

    /// Moves past the whole term at `offset`, its elements included,
    /// refusing nesting deeper than `maxDepth`. No recursion: the terms
    /// still to read at each level are kept on a fixed stack.
    package mutating func skip(maxDepth: Int = ExternalTermFormat.Limits().maxDepth) throws(Failure) {
        var failure: Failure? = nil
        withUnsafeTemporaryAllocation(of: Int.self, capacity: maxDepth + 1) { pending in
            var depth = 0
            pending[0] = 1
            do throws(Failure) {
                while depth >= 0 {
                    if pending[depth] == 0 {
                        depth -= 1
                        continue
                    }
                    pending[depth] -= 1
                    let header = try self.header()
                    guard header.children > 0 else { continue }
                    if depth + 1 > maxDepth { throw fail("nested deeper than \(maxDepth)") }
                    depth += 1
                    pending[depth] = header.children
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Whether `bytes` are exactly one term, version byte first: nil, or
    /// why not (what swerl_send_term checks).
    package static func check(_ bytes: UnsafeRawBufferPointer,
                              maxDepth: Int = ExternalTermFormat.Limits().maxDepth) -> Failure? {
        var cursor = TermCursor(bytes)
        do {
            try cursor.version()
            try cursor.skip(maxDepth: maxDepth)
        } catch {
            return error
        }
        return cursor.left > 0 ? cursor.fail("\(cursor.left) bytes after the term") : nil
    }
}

/// UTF-8 validity without decoding: what atoms and the formatter need.
enum UTF8Check {
    /// The number of characters in `bytes`, or nil when they are not UTF-8.
    static func characters(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        var characters = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return nil
            }
            guard index + length <= bytes.count else { return nil }
            for next in stride(from: index + 1, to: index + length, by: 1) where bytes[next] & 0xC0 != 0x80 {
                return nil
            }
            if length >= 3 {
                let second = bytes[index + 1]
                if lead == 0xE0 && second < 0xA0 { return nil }   // overlong
                if lead == 0xED && second >= 0xA0 { return nil }  // a surrogate
                if lead == 0xF0 && second < 0x90 { return nil }   // overlong
                if lead == 0xF4 && second >= 0x90 { return nil }  // beyond U+10FFFF
            }
            index += length
            characters += 1
        }
        return characters
    }
}

// MARK: The C API's reading (swerl_term_read, swerl_term_skip)

extension TermCursor {
    /// The header of the term at `offset` (at 0, after the version byte)
    /// as swerl_term_read gives it, and the offset after it; pids and refs
    /// made `engine`'s when there is one.
    package static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int, engine: Engine?)
        -> Result<(swerl_term, Int), Failure>
    {
        var cursor = TermCursor(bytes, offset: offset)
        do throws(Failure) {
            try cursor.start()
            let header = try cursor.header()
            return .success((header.cTerm(engine: engine), cursor.offset))
        } catch {
            return .failure(error)
        }
    }

    /// The offset after the whole term at `offset` (at 0, after the
    /// version byte and the term).
    package static func skip(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Result<Int, Failure> {
        var cursor = TermCursor(bytes, offset: offset)
        do throws(Failure) {
            try cursor.start()
            try cursor.skip()
            return .success(cursor.offset)
        } catch {
            return .failure(error)
        }
    }

    /// At 0 the version byte comes first; past the end is no place to read.
    private mutating func start() throws(Failure) {
        if offset > bytes.count { throw fail("the offset is past the end of the \(bytes.count) bytes") }
        if offset == 0 { try version() }
    }
}

extension TermCursor.Header {
    /// swerl_term: what the header holds, with this runtime's pid and ref.
    func cTerm(engine: Engine?) -> swerl_term {
        var term = swerl_term()
        term.size = UInt32(MemoryLayout<swerl_term>.size)
        term.type = type
        term.count = UInt64(count)
        term.integer = integer
        term.real = real
        term.bytes = bytes.baseAddress
        term.len = bytes.count
        term.name = name.baseAddress
        term.name_len = name.count
        term.bits = UInt32(bits)
        term.negative = negative ? 1 : 0
        term.latin1 = latin1 ? 1 : 0
        guard let engine else { return term }
        let node = ExternalTermFormat.Builder.text(bytes, latin1: latin1)
        if type == SWERL_TERM_PID {
            term.pid = engine.pid(of: ErlangPid(node: node, id: id, serial: serial, creation: creation))
        } else if type == SWERL_TERM_REF {
            term.ref = engine.ref(of: ErlangRef(node: node, creation: creation, ids: refIDs)) ?? 0
        }
        return term
    }
}
