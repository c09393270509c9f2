// Erlang's External Term Format (erts "External Term Format" guide): the
// bytes term_to_binary makes and binary_to_term reads, and the payload of
// Erlang distribution. Decoding untrusted input is bounded: nesting depth,
// atom length, and every count checked against the bytes left before
// anything is allocated for it, so a short input cannot claim a huge term.

import Glibc

public enum ExternalTermFormat {
    /// Why bytes are not a term.
    public struct DecodeError: Error, Sendable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "not a term at byte \(offset): \(reason)" }
    }

    /// Limits for decoding untrusted bytes.
    public struct Limits: Sendable {
        /// Terms nested deeper (tuples, lists, maps) are refused.
        public var maxDepth = 512
        public init() {}
    }

    static let version: UInt8 = 131

    enum Tag {
        static let newFloat: UInt8 = 70
        static let bitBinary: UInt8 = 77
        static let newPid: UInt8 = 88
        static let newPort: UInt8 = 89
        static let newerReference: UInt8 = 90
        static let smallInteger: UInt8 = 97
        static let integer: UInt8 = 98
        static let float: UInt8 = 99
        static let atom: UInt8 = 100
        static let port: UInt8 = 102
        static let pid: UInt8 = 103
        static let smallTuple: UInt8 = 104
        static let largeTuple: UInt8 = 105
        static let `nil`: UInt8 = 106
        static let string: UInt8 = 107
        static let list: UInt8 = 108
        static let binary: UInt8 = 109
        static let smallBig: UInt8 = 110
        static let largeBig: UInt8 = 111
        static let export: UInt8 = 113
        static let newReference: UInt8 = 114
        static let smallAtom: UInt8 = 115
        static let map: UInt8 = 116
        static let atomUTF8: UInt8 = 118
        static let smallAtomUTF8: UInt8 = 119
        static let v4Port: UInt8 = 120
        static let compressed: UInt8 = 80
    }

    // MARK: Encoding

    /// The term as term_to_binary would write it (version byte first).
    public static func encode(_ term: Term) -> [UInt8] {
        var out: [UInt8] = [version]
        encode(term, into: &out)
        return out
    }

    /// The term without the version byte (as it follows a distribution header).
    public static func encode(_ term: Term, into out: inout [UInt8]) {
        switch term {
        case .atom(let name):
            putAtom(name, &out)
        case .integer(let value):
            if value >= 0 && value <= 255 {
                out.append(Tag.smallInteger)
                out.append(UInt8(value))
            } else if value >= Int64(Int32.min) && value <= Int64(Int32.max) {
                out.append(Tag.integer)
                put32(UInt32(bitPattern: Int32(value)), &out)
            } else {
                var magnitude = value.magnitude
                var bytes: [UInt8] = []
                while magnitude > 0 {
                    bytes.append(UInt8(truncatingIfNeeded: magnitude))
                    magnitude >>= 8
                }
                putBig(negative: value < 0, magnitude: bytes, &out)
            }
        case .bigInteger(let negative, let magnitude):
            putBig(negative: negative, magnitude: magnitude, &out)
        case .float(let value):
            out.append(Tag.newFloat)
            put64(value.bitPattern, &out)
        case .binary(let bytes):
            out.append(Tag.binary)
            put32(UInt32(bytes.count), &out)
            out.append(contentsOf: bytes)
        case .bitstring(let bytes, let bits):
            out.append(Tag.bitBinary)
            put32(UInt32(bytes.count), &out)
            out.append(bits)
            out.append(contentsOf: bytes)
        case .tuple(let elements):
            if elements.count <= 255 {
                out.append(Tag.smallTuple)
                out.append(UInt8(elements.count))
            } else {
                out.append(Tag.largeTuple)
                put32(UInt32(elements.count), &out)
            }
            for element in elements { encode(element, into: &out) }
        case .list(let elements):
            putList(elements, tail: nil, &out)
        case .improperList(let elements, let tail):
            putList(elements, tail: tail, &out)
        case .map(let pairs):
            out.append(Tag.map)
            put32(UInt32(pairs.count), &out)
            for (key, value) in pairs {
                encode(key, into: &out)
                encode(value, into: &out)
            }
        case .pid(let pid):
            out.append(Tag.newPid)
            putAtom(pid.node, &out)
            put32(pid.id, &out)
            put32(pid.serial, &out)
            put32(pid.creation, &out)
        case .reference(let ref):
            out.append(Tag.newerReference)
            put16(UInt16(ref.ids.count), &out)
            putAtom(ref.node, &out)
            put32(ref.creation, &out)
            for id in ref.ids { put32(id, &out) }
        case .port(let port):
            if port.id <= UInt64(UInt32.max) {
                out.append(Tag.newPort)
                putAtom(port.node, &out)
                put32(UInt32(port.id), &out)
            } else {
                out.append(Tag.v4Port)
                putAtom(port.node, &out)
                put64(port.id, &out)
            }
            put32(port.creation, &out)
        case .export(let module, let function, let arity):
            out.append(Tag.export)
            putAtom(module, &out)
            putAtom(function, &out)
            out.append(Tag.smallInteger)
            out.append(arity)
        }
    }

    private static func putList(_ elements: [Term], tail: Term?, _ out: inout [UInt8]) {
        if elements.isEmpty && tail == nil { return out.append(Tag.nil) }
        // A short list of bytes is a STRING_EXT, as Erlang writes "abc".
        if tail == nil && elements.count < 65_536, let bytes = byteList(elements) {
            out.append(Tag.string)
            put16(UInt16(bytes.count), &out)
            return out.append(contentsOf: bytes)
        }
        out.append(Tag.list)
        put32(UInt32(elements.count), &out)
        for element in elements { encode(element, into: &out) }
        if let tail { encode(tail, into: &out) } else { out.append(Tag.nil) }
    }

    private static func byteList(_ elements: [Term]) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(elements.count)
        for element in elements {
            guard case .integer(let value) = element, value >= 0 && value <= 255 else { return nil }
            bytes.append(UInt8(value))
        }
        return bytes
    }

    private static func putAtom(_ name: String, _ out: inout [UInt8]) {
        let bytes = Array(name.utf8)
        if bytes.count <= 255 {
            out.append(Tag.smallAtomUTF8)
            out.append(UInt8(bytes.count))
        } else {
            out.append(Tag.atomUTF8)
            put16(UInt16(truncatingIfNeeded: bytes.count), &out)
        }
        out.append(contentsOf: bytes)
    }

    private static func putBig(negative: Bool, magnitude: [UInt8], _ out: inout [UInt8]) {
        var bytes = magnitude
        while bytes.last == 0 { bytes.removeLast() }
        if bytes.count <= 255 {
            out.append(Tag.smallBig)
            out.append(UInt8(bytes.count))
        } else {
            out.append(Tag.largeBig)
            put32(UInt32(bytes.count), &out)
        }
        out.append(negative ? 1 : 0)
        out.append(contentsOf: bytes)
    }

    private static func put16(_ value: UInt16, _ out: inout [UInt8]) {
        out.append(UInt8(value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }

    private static func put32(_ value: UInt32, _ out: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func put64(_ value: UInt64, _ out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    // MARK: Decoding

    /// The term in `bytes` (version byte first, nothing after the term).
    public static func decode(_ bytes: some Collection<UInt8>, limits: Limits = Limits()) throws(DecodeError) -> Term {
        let buffer = Array(bytes)
        var reader = Reader(bytes: buffer, limits: limits)
        guard reader.left > 0 else { throw DecodeError(offset: 0, reason: "no bytes") }
        let first = try reader.byte()
        if first != version {
            throw DecodeError(offset: 0, reason: "the first byte is \(first), not the format's version (131)")
        }
        let term = try reader.term(depth: 0)
        if reader.left > 0 { throw DecodeError(offset: reader.offset, reason: "\(reader.left) bytes after the term") }
        return term
    }

    /// A term at `offset` of `bytes`, without a version byte (as in a
    /// distribution frame); returns it and the offset after it.
    public static func decode(_ bytes: [UInt8], at offset: Int, limits: Limits = Limits()) throws(DecodeError)
        -> (Term, Int)
    {
        var reader = Reader(bytes: bytes, limits: limits)
        reader.offset = offset
        let term = try reader.term(depth: 0)
        return (term, reader.offset)
    }

    struct Reader {
        let bytes: [UInt8]
        let limits: Limits
        var offset = 0

        init(bytes: [UInt8], limits: Limits) {
            self.bytes = bytes
            self.limits = limits
        }

        var left: Int { bytes.count - offset }

        func fail(_ reason: String) -> DecodeError { DecodeError(offset: offset, reason: reason) }

        mutating func need(_ count: Int, _ what: String) throws(DecodeError) {
            if count > left { throw fail("\(what) needs \(count) bytes, \(left) left") }
        }

        mutating func byte() throws(DecodeError) -> UInt8 {
            try need(1, "a byte")
            offset += 1
            return bytes[offset - 1]
        }

        mutating func u16() throws(DecodeError) -> UInt16 {
            try need(2, "a 16-bit number")
            offset += 2
            return UInt16(bytes[offset - 2]) << 8 | UInt16(bytes[offset - 1])
        }

        mutating func u32() throws(DecodeError) -> UInt32 {
            try need(4, "a 32-bit number")
            var value: UInt32 = 0
            for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
            offset += 4
            return value
        }

        mutating func u64() throws(DecodeError) -> UInt64 {
            try need(8, "a 64-bit number")
            var value: UInt64 = 0
            for i in 0..<8 { value = value << 8 | UInt64(bytes[offset + i]) }
            offset += 8
            return value
        }

        mutating func take(_ count: Int, _ what: String) throws(DecodeError) -> [UInt8] {
            try need(count, what)
            offset += count
            return Array(bytes[offset - count..<offset])
        }

        /// `count` elements of at least `each` bytes must fit in what is left.
        mutating func plausible(_ count: Int, each: Int, _ what: String) throws(DecodeError) {
            if count > left / max(each, 1) { throw fail("\(what) of \(count) elements in \(left) bytes") }
        }

        mutating func term(depth: Int) throws(DecodeError) -> Term {
            if depth > limits.maxDepth { throw fail("nested deeper than \(limits.maxDepth)") }
            let tag = try byte()
            switch tag {
            case Tag.smallInteger:
                return .integer(Int64(try byte()))
            case Tag.integer:
                return .integer(Int64(Int32(bitPattern: try u32())))
            case Tag.smallBig, Tag.largeBig:
                let count = tag == Tag.smallBig ? Int(try byte()) : Int(try u32())
                let sign = try byte()
                guard sign <= 1 else { throw fail("a big integer's sign byte is \(sign)") }
                return ExternalTermFormat.integer(negative: sign == 1, magnitude: try take(count, "a big integer"))
            case Tag.newFloat:
                return .float(Double(bitPattern: try u64()))
            case Tag.float:
                let text = try take(31, "an old float")
                let digits = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
                guard let value = Double(digits.trimmingSpaces) else { throw fail("an old float \"\(digits)\"") }
                return .float(value)
            case Tag.atom, Tag.smallAtom, Tag.atomUTF8, Tag.smallAtomUTF8:
                offset -= 1
                return .atom(try atom())
            case Tag.smallTuple, Tag.largeTuple:
                let arity = tag == Tag.smallTuple ? Int(try byte()) : Int(try u32())
                try plausible(arity, each: 1, "a tuple")
                var elements: [Term] = []
                elements.reserveCapacity(arity)
                for _ in 0..<arity { elements.append(try term(depth: depth + 1)) }
                return .tuple(elements)
            case Tag.nil:
                return .list([])
            case Tag.string:
                let count = Int(try u16())
                return .list(try take(count, "a string").map { .integer(Int64($0)) })
            case Tag.list:
                let count = Int(try u32())
                try plausible(count, each: 1, "a list")
                var elements: [Term] = []
                elements.reserveCapacity(count)
                for _ in 0..<count { elements.append(try term(depth: depth + 1)) }
                let tail = try term(depth: depth + 1)
                if case .list(let rest) = tail { return .list(elements + rest) }
                return .improperList(elements, tail: tail)
            case Tag.binary:
                let count = Int(try u32())
                return .binary(try take(count, "a binary"))
            case Tag.bitBinary:
                let count = Int(try u32())
                let bits = try byte()
                guard bits >= 1 && bits <= 8 && count > 0 else { throw fail("a bitstring of \(count) bytes, \(bits) bits") }
                let data = try take(count, "a bitstring")
                return bits == 8 ? .binary(data) : .bitstring(data, bits: bits)
            case Tag.map:
                let count = Int(try u32())
                try plausible(count, each: 2, "a map")
                var pairs: [Term: Term] = [:]
                pairs.reserveCapacity(count)
                for _ in 0..<count {
                    let key = try term(depth: depth + 1)
                    pairs[key] = try term(depth: depth + 1)
                }
                return .map(pairs)
            case Tag.pid, Tag.newPid:
                let node = try atom()
                let id = try u32()
                let serial = try u32()
                let creation = tag == Tag.pid ? UInt32(try byte()) : try u32()
                return .pid(ErlangPid(node: node, id: id, serial: serial, creation: creation))
            case Tag.newReference, Tag.newerReference:
                let count = Int(try u16())
                guard count >= 1 && count <= 5 else { throw fail("a reference of \(count) words") }
                let node = try atom()
                let creation = tag == Tag.newReference ? UInt32(try byte()) : try u32()
                var ids: [UInt32] = []
                for _ in 0..<count { ids.append(try u32()) }
                return .reference(ErlangRef(node: node, creation: creation, ids: ids))
            case Tag.port, Tag.newPort, Tag.v4Port:
                let node = try atom()
                let id = tag == Tag.v4Port ? try u64() : UInt64(try u32())
                let creation = tag == Tag.port ? UInt32(try byte()) : try u32()
                return .port(ErlangPort(node: node, id: id, creation: creation))
            case Tag.export:
                let module = try atom()
                let function = try atom()
                guard case .integer(let arity) = try term(depth: depth + 1), arity >= 0 && arity <= 255 else {
                    throw fail("an export's arity is not a small integer")
                }
                return .export(module: module, function: function, arity: UInt8(arity))
            case Tag.compressed:
                throw fail("compressed terms are not supported (term_to_binary without `compressed`)")
            default:
                throw fail("tag \(tag) is not a term this codec reads")
            }
        }

        /// An atom in any of its four forms (ATOM_EXT and SMALL_ATOM_EXT are
        /// Latin-1).
        mutating func atom() throws(DecodeError) -> String {
            let tag = try byte()
            let count: Int
            switch tag {
            case Tag.atom, Tag.atomUTF8: count = Int(try u16())
            case Tag.smallAtom, Tag.smallAtomUTF8: count = Int(try byte())
            default: throw fail("tag \(tag) where an atom was expected")
            }
            let bytes = try take(count, "an atom")
            if tag == Tag.atom || tag == Tag.smallAtom {
                guard count <= 255 else { throw fail("an atom of \(count) characters") }
                return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
            }
            let name = String(decoding: bytes, as: UTF8.self)
            guard name.unicodeScalars.count <= 255 else { throw fail("an atom of more than 255 characters") }
            return name
        }
    }

    /// A big integer's value: Int64 when it fits (Erlang writes small ones
    /// as bignums too), else sign and magnitude.
    static func integer(negative: Bool, magnitude: [UInt8]) -> Term {
        var bytes = magnitude
        while bytes.last == 0 { bytes.removeLast() }
        if bytes.count <= 8 {
            var value: UInt64 = 0
            for byte in bytes.reversed() { value = value << 8 | UInt64(byte) }
            if !negative && value <= UInt64(Int64.max) { return .integer(Int64(value)) }
            if negative && value <= UInt64(Int64.max) + 1 { return .integer(value == UInt64(Int64.max) + 1 ? .min : -Int64(value)) }
        }
        return .bigInteger(negative: negative, magnitude: bytes)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var scalars = Array(unicodeScalars)
        while scalars.last == " " { scalars.removeLast() }
        while scalars.first == " " { scalars.removeFirst() }
        return String(String.UnicodeScalarView(scalars))
    }
}
