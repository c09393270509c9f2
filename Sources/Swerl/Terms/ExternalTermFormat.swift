// Erlang's External Term Format (erts "External Term Format" guide): the
// bytes term_to_binary makes and binary_to_term reads, and the payload of
// Erlang distribution. Decoding untrusted input is bounded: nesting depth,
// atom length, and every count checked against the bytes left before
// anything is allocated for it, so a short input cannot claim a huge term.

import CSwerl

/// Erlang's External Term Format: `Term` to bytes and back (term_to_binary, binary_to_term).
public enum ExternalTermFormat {
    /// Why bytes are not a term.
    public struct DecodeError: Error, Sendable, CustomStringConvertible {
        /// Where in the bytes.
        public let offset: Int
        /// What was wrong there.
        public let reason: String
        /// "not a term at byte n: why".
        public var description: String { "not a term at byte \(offset): \(reason)" }
    }

    /// Limits for decoding untrusted bytes.
    public struct Limits: Sendable {
        /// Terms nested deeper (tuples, lists, maps) are refused.
        public var maxDepth = 512
        /// The defaults (depth 512).
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
    ///
    /// - Parameter term: The term to write.
    /// - Returns: Its External Term Format bytes, uncompressed.
    public static func encode(_ term: Term) -> [UInt8] {
        var out: [UInt8] = [version]
        encode(term, into: &out)
        return out
    }

    /// The term without the version byte (as it follows a distribution header).
    ///
    /// - Parameters:
    ///   - term: The term to write.
    ///   - out: The bytes to append it to.
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
            bytes.withUnsafeBytes { putBinary($0, &out) }
        case .bitstring(let bytes, let bits):
            out.append(Tag.bitBinary)
            put32(UInt32(bytes.count), &out)
            out.append(bits)
            out.append(contentsOf: bytes)
        case .tuple(let elements):
            putTupleHeader(elements.count, &out)
            for element in elements { encode(element, into: &out) }
        case .list(let elements):
            putList(elements, tail: nil, &out)
        case .improperList(let elements, let tail):
            putList(elements, tail: tail, &out)
        case .map(let pairs):
            putMapHeader(pairs.count, &out)
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
        putListHeader(elements.count, &out)
        for element in elements { encode(element, into: &out) }
        if let tail { encode(tail, into: &out) } else { out.append(Tag.nil) }
    }

    // The pieces of a term a writer puts one by one (TermWriter) as the
    // encoder does.

    static func putBinary(_ bytes: UnsafeRawBufferPointer, _ out: inout [UInt8]) {
        out.append(Tag.binary)
        put32(UInt32(bytes.count), &out)
        out.append(contentsOf: bytes)
    }

    static func putTupleHeader(_ arity: Int, _ out: inout [UInt8]) {
        if arity <= 255 {
            out.append(Tag.smallTuple)
            out.append(UInt8(arity))
        } else {
            out.append(Tag.largeTuple)
            put32(UInt32(arity), &out)
        }
    }

    /// LIST_EXT's header; its elements and its tail follow.
    static func putListHeader(_ count: Int, _ out: inout [UInt8]) {
        out.append(Tag.list)
        put32(UInt32(count), &out)
    }

    static func putMapHeader(_ pairs: Int, _ out: inout [UInt8]) {
        out.append(Tag.map)
        put32(UInt32(pairs), &out)
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

    static func putAtom(_ name: String, _ out: inout [UInt8]) {
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

    static func putBig(negative: Bool, magnitude: [UInt8], _ out: inout [UInt8]) {
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

    // MARK: Decoding (on TermCursor, the one reader)

    /// The term in `bytes` (version byte first, nothing after the term).
    ///
    /// - Parameters:
    ///   - bytes: The bytes, untrusted ones included.
    ///   - limits: How deep terms may nest.
    /// - Returns: The term.
    /// - Throws: `DecodeError`, saying at which byte and why: no version
    ///   byte, an unknown tag, a count beyond the bytes left, nesting deeper
    ///   than `limits.maxDepth`, a compressed term, bytes after the term.
    public static func decode(_ bytes: some Collection<UInt8>, limits: Limits = Limits()) throws(DecodeError) -> Term {
        try reading(Array(bytes), at: 0) { (cursor: inout TermCursor) throws(DecodeError) in
            try cursor.version()
            let term = try Builder(limits: limits).term(&cursor, depth: 0)
            if cursor.left > 0 { throw cursor.fail("\(cursor.left) bytes after the term") }
            return term
        }
    }

    /// A term at `offset` of `bytes`, without a version byte (as in a
    /// distribution frame); returns it and the offset after it.
    ///
    /// - Parameters:
    ///   - bytes: The bytes, untrusted ones included.
    ///   - offset: Where the term starts.
    ///   - limits: How deep terms may nest.
    /// - Returns: The term, and the offset of the byte after it.
    /// - Throws: `DecodeError`, saying at which byte and why, as
    ///   `decode(_:limits:)` (bytes after the term are no error here).
    public static func decode(_ bytes: [UInt8], at offset: Int, limits: Limits = Limits()) throws(DecodeError)
        -> (Term, Int)
    {
        try reading(bytes, at: offset) { (cursor: inout TermCursor) throws(DecodeError) in
            (try Builder(limits: limits).term(&cursor, depth: 0), cursor.offset)
        }
    }

    /// The term at the start of `bytes` (version byte first), which may be
    /// followed by other bytes: what a message's payload is read with.
    package static func decode(_ bytes: UnsafeRawBufferPointer, limits: Limits = Limits()) throws(DecodeError) -> Term {
        var cursor = TermCursor(bytes)
        try cursor.version()
        let term = try Builder(limits: limits).term(&cursor, depth: 0)
        if cursor.left > 0 { throw cursor.fail("\(cursor.left) bytes after the term") }
        return term
    }

    private static func reading<T>(_ bytes: [UInt8], at offset: Int,
                                   _ body: (inout TermCursor) throws(DecodeError) -> T) throws(DecodeError) -> T {
        let result: Result<T, DecodeError> = bytes.withUnsafeBytes { raw in
            var cursor = TermCursor(raw, offset: offset)
            do throws(DecodeError) { return .success(try body(&cursor)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Terms from the cursor's headers.
    struct Builder {
        let limits: Limits

        func term(_ cursor: inout TermCursor, depth: Int) throws(DecodeError) -> Term {
            if depth > limits.maxDepth { throw cursor.fail("nested deeper than \(limits.maxDepth)") }
            let header = try cursor.header()
            switch Int(header.type) {
            case SWERL_TERM_INTEGER: return .integer(header.integer)
            case SWERL_TERM_BIGINT: return .bigInteger(negative: header.negative, magnitude: Array(header.bytes))
            case SWERL_TERM_FLOAT: return .float(header.real)
            case SWERL_TERM_ATOM: return .atom(Self.text(header.bytes, latin1: header.latin1))
            case SWERL_TERM_BINARY: return .binary(Array(header.bytes))
            case SWERL_TERM_BITSTRING: return .bitstring(Array(header.bytes), bits: header.bits)
            case SWERL_TERM_TUPLE: return .tuple(try elements(header.count, &cursor, depth))
            case SWERL_TERM_NIL: return .list([])
            case SWERL_TERM_STRING: return .list(header.bytes.map { .integer(Int64($0)) })
            case SWERL_TERM_LIST:
                let elements = try elements(header.count, &cursor, depth)
                let tail = try term(&cursor, depth: depth + 1)
                if case .list(let rest) = tail { return .list(elements + rest) }
                return .improperList(elements, tail: tail)
            case SWERL_TERM_MAP:
                var pairs: [Term: Term] = [:]
                pairs.reserveCapacity(header.count)
                for _ in 0..<header.count {
                    let key = try term(&cursor, depth: depth + 1)
                    pairs[key] = try term(&cursor, depth: depth + 1)
                }
                return .map(pairs)
            case SWERL_TERM_PID:
                return .pid(ErlangPid(node: Self.text(header.bytes, latin1: header.latin1), id: header.id,
                                      serial: header.serial, creation: header.creation))
            case SWERL_TERM_REF:
                return .reference(ErlangRef(node: Self.text(header.bytes, latin1: header.latin1),
                                            creation: header.creation, ids: header.refIDs))
            case SWERL_TERM_PORT:
                return .port(ErlangPort(node: Self.text(header.bytes, latin1: header.latin1),
                                        id: UInt64(bitPattern: header.integer), creation: header.creation))
            default:  // SWERL_TERM_FUN
                return .export(module: Self.text(header.bytes, latin1: header.latin1),
                               function: Self.text(header.name, latin1: header.latin1), arity: UInt8(header.integer))
            }
        }

        private func elements(_ count: Int, _ cursor: inout TermCursor, _ depth: Int) throws(DecodeError) -> [Term] {
            var elements: [Term] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try term(&cursor, depth: depth + 1)) }
            return elements
        }

        /// An atom's text: UTF-8, or Latin-1 as old nodes wrote it.
        static func text(_ bytes: UnsafeRawBufferPointer, latin1: Bool) -> String {
            if latin1 { return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })) }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
