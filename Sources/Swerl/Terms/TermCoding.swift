/// Codable values as Erlang terms: what a typed Swift message is on the
/// wire, so a Swift process and an Elixir process exchange the same values.
///
/// | Swift | term (as Elixir writes it) |
/// |---|---|
/// | a struct, a dictionary keyed by strings | a map with atom keys: `%{name: "ann", age: 3}` |
/// | an enum case without payload | an atom: `:get` |
/// | an enum case with unlabeled values | a tagged tuple: `{:put, "k", 3}` |
/// | an enum case with labels | a tagged map: `%{put: %{key: "k", value: 3}}` |
/// | an array | a list |
/// | `String` | a binary (UTF-8) |
/// | `[UInt8]` | a binary |
/// | integers, `Double`, `Float` | integers, floats |
/// | `Bool`, `nil` | `true`/`false`, `nil` |
///
/// Decoding takes what encoding makes, and an Erlang term of the same
/// shape: string keys as well as atom keys, a charlist for a `String`.
public enum TermCoding {
    /// Why a term is not the value asked for: what was expected, and where.
    public struct DecodingFailure: Error, Sendable, CustomStringConvertible {
        /// Where in the value, as coding keys joined by dots ("" for the top).
        public let path: String
        /// What was expected, and what was found.
        public let reason: String
        /// "cannot decode path: reason".
        public var description: String { "cannot decode \(path.isEmpty ? "the term" : path): \(reason)" }
    }

    /// What encoders and decoders offer as `userInfo` while a task encodes
    /// or decodes: a distributed actor's ID finds its actor system there.
    @TaskLocal static var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// `value` as a term.
    ///
    /// - Parameter value: The value to encode.
    /// - Returns: The term, as the table above shapes it.
    /// - Throws: What the value's `encode(to:)` throws; the encoder itself
    ///   throws nothing.
    public static func term(of value: some Encodable) throws -> Term {
        if let term = leafTerm(value) { return term }
        let slot = TermSlot()
        try value.encode(to: TermEncoding(slot: slot, path: []))
        return slot.resolved()
    }

    /// A `T` from `term`.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - term: The term to read.
    /// - Returns: The value.
    /// - Throws: `DecodingFailure` (not a `T`: what was expected, where), or
    ///   what the type's `init(from:)` throws.
    public static func value<T: Decodable>(_ type: T.Type, from term: Term) throws -> T {
        try decodeChild(type, term, [])
    }

    /// `value` as External Term Format bytes (what a term message carries),
    /// written straight from the encoded containers (no `Term` in between).
    ///
    /// - Parameter value: The value to encode.
    /// - Returns: Its term's bytes, version byte first.
    /// - Throws: What the value's `encode(to:)` throws.
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        var out: [UInt8] = [ExternalTermFormat.version]
        if let term = leafTerm(value) {
            ExternalTermFormat.encode(term, into: &out)
            return out
        }
        let slot = TermSlot()
        try value.encode(to: TermEncoding(slot: slot, path: []))
        slot.write(into: &out)
        return out
    }

    /// A `T` from External Term Format bytes.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - bytes: The term's bytes, version byte first.
    /// - Returns: The value.
    /// - Throws: `ExternalTermFormat.DecodeError` (not a term), then as
    ///   `value(_:from:)`.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try value(type, from: try ExternalTermFormat.decode(bytes))
    }
}

// MARK: - Encoding

/// One value being encoded: a term, or a container filled later.
private final class TermSlot {
    var term: Term?
    var keyed: [(String, TermSlot)]?
    var unkeyed: [TermSlot]?

    /// An enum case (synthesized Codable): one key holding the case's
    /// values, keyed _0, _1... (unlabeled) or nothing.
    private var enumCase: (name: String, values: [TermSlot])? {
        guard let keyed, keyed.count == 1, let payload = keyed[0].1.keyed else { return nil }
        for (index, (key, _)) in payload.enumerated() where key != "_\(index)" { return nil }
        return (keyed[0].0, payload.map(\.1))
    }

    func resolved() -> Term {
        if let unkeyed { return .list(unkeyed.map { $0.resolved() }) }
        if let (name, values) = enumCase {
            return values.isEmpty ? .atom(name) : .tuple([.atom(name)] + values.map { $0.resolved() })
        }
        if let keyed {
            var map: [Term: Term] = [:]
            for (key, value) in keyed { map[.atom(key)] = value.resolved() }
            return .map(map)
        }
        return term ?? .atom("nil")
    }

    /// The same term as External Term Format, written directly.
    func write(into out: inout [UInt8]) {
        if let unkeyed {
            if !unkeyed.isEmpty {
                ExternalTermFormat.putListHeader(unkeyed.count, &out)
                for element in unkeyed { element.write(into: &out) }
            }
            out.append(ExternalTermFormat.Tag.nil)
        } else if let (name, values) = enumCase {
            if !values.isEmpty { ExternalTermFormat.putTupleHeader(values.count + 1, &out) }
            ExternalTermFormat.putAtom(name, &out)
            for value in values { value.write(into: &out) }
        } else if let keyed {
            ExternalTermFormat.putMapHeader(keyed.count, &out)
            for (key, value) in keyed {
                ExternalTermFormat.putAtom(key, &out)
                value.write(into: &out)
            }
        } else {
            ExternalTermFormat.encode(term ?? .atom("nil"), into: &out)
        }
    }
}

private struct TermEncoding: Encoder {
    let slot: TermSlot
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { TermCoding.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if slot.keyed == nil { slot.keyed = [] }
        return KeyedEncodingContainer(KeyedTermEncoding<Key>(slot: slot, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if slot.unkeyed == nil { slot.unkeyed = [] }
        return UnkeyedTermEncoding(slot: slot, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleTermEncoding(slot: slot, path: path) }
}

/// The term of a leaf value, or nil for one that encodes itself. The type
/// is compared first (a metadata compare): a cast to an existential
/// (`as any BinaryInteger`) costs a conformance lookup per value.
private func leafTerm<T: Encodable>(_ value: T) -> Term? {
    // After a type compare the value is that type: a bit cast, not a
    // dynamic cast (which costs as much as the rest of the leaf).
    if T.self == String.self { return .binary(Array(unsafeBitCast(value, to: String.self).utf8)) }
    if T.self == Int.self { return .integer(Int64(unsafeBitCast(value, to: Int.self))) }
    if T.self == Double.self { return .float(unsafeBitCast(value, to: Double.self)) }
    if T.self == Bool.self { return .atom(unsafeBitCast(value, to: Bool.self) ? "true" : "false") }
    if T.self == [UInt8].self { return .binary(unsafeBitCast(value, to: [UInt8].self)) }
    if T.self == Term.self { return value as? Term }  // a term as it is
    if T.self == Int64.self { return .integer(unsafeBitCast(value, to: Int64.self)) }
    if T.self == Float.self { return .float(Double(unsafeBitCast(value, to: Float.self))) }
    switch value {
    case let number as Int32: return .integer(Int64(number))
    case let number as Int16: return .integer(Int64(number))
    case let number as Int8: return .integer(Int64(number))
    case let number as UInt: return integerTerm(number)
    case let number as UInt64: return integerTerm(number)
    case let number as UInt32: return .integer(Int64(number))
    case let number as UInt16: return .integer(Int64(number))
    case let number as UInt8: return .integer(Int64(number))
    default: return nil
    }
}

private func integerTerm(_ number: some BinaryInteger) -> Term {
    if let small = Int64(exactly: number) { return .integer(small) }
    var magnitude = number.magnitude
    var bytes: [UInt8] = []
    while magnitude > 0 {
        bytes.append(UInt8(truncatingIfNeeded: magnitude & 0xff))
        magnitude >>= 8
    }
    return .bigInteger(negative: number < 0, magnitude: bytes)
}

/// The coding path is made only for a value that encodes itself (a leaf
/// needs none): an array per field costs more than the field.
private func encodeChild(_ value: some Encodable, into slot: TermSlot,
                         path: @autoclosure () -> [any CodingKey]) throws {
    if let term = leafTerm(value) {
        slot.term = term
    } else {
        try value.encode(to: TermEncoding(slot: slot, path: path()))
    }
}

private struct KeyedTermEncoding<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: TermSlot
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }

    private func child(_ key: Key) -> TermSlot {
        let child = TermSlot()
        slot.keyed!.append((key.stringValue, child))
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).term = .atom("nil") }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeChild(value, into: child(key), path: path + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = child(key)
        nested.keyed = []
        return KeyedEncodingContainer(KeyedTermEncoding<NestedKey>(slot: nested, path: path + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = child(key)
        nested.unkeyed = []
        return UnkeyedTermEncoding(slot: nested, path: path + [key])
    }

    mutating func superEncoder() -> any Encoder { TermEncoding(slot: child(Key(stringValue: "super")!), path: path) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { TermEncoding(slot: child(key), path: path + [key]) }
}

private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedTermEncoding: UnkeyedEncodingContainer {
    let slot: TermSlot
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }
    var count: Int { slot.unkeyed!.count }

    private func child() -> TermSlot {
        let child = TermSlot()
        slot.unkeyed!.append(child)
        return child
    }

    mutating func encodeNil() throws { child().term = .atom("nil") }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeChild(value, into: child(), path: path + [IndexKey(count)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = child()
        nested.keyed = []
        return KeyedEncodingContainer(KeyedTermEncoding<NestedKey>(slot: nested, path: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = child()
        nested.unkeyed = []
        return UnkeyedTermEncoding(slot: nested, path: path)
    }

    mutating func superEncoder() -> any Encoder { TermEncoding(slot: child(), path: path) }
}

private struct SingleTermEncoding: SingleValueEncodingContainer {
    let slot: TermSlot
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }

    mutating func encodeNil() throws { slot.term = .atom("nil") }

    mutating func encode<T: Encodable>(_ value: T) throws { try encodeChild(value, into: slot, path: path) }
}

// MARK: - Decoding

private func failure(_ path: [any CodingKey], _ reason: String) -> TermCoding.DecodingFailure {
    TermCoding.DecodingFailure(path: path.map(\.stringValue).joined(separator: "."), reason: reason)
}

private struct TermDecoding: Decoder {
    let term: Term
    let path: [any CodingKey]
    /// `term` is a tuple of an enum case's values, read as keys _0, _1...
    var positional = false
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { TermCoding.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(KeyedTermDecoding<Key>(fields: try fields(), path: path))
    }

    /// The fields of a map (atom or string keys); an enum case's from an
    /// atom or a tagged tuple (its values by position, keyed _0, _1...).
    /// A list of pairs: maps of values are small, and a search through a
    /// few beats hashing every key.
    private func fields() throws -> [Field] {
        if positional, case .tuple(let values) = term {
            return values.enumerated().map { Field(key: "_\($0.offset)", term: $0.element) }
        }
        switch term {
        case .map(let map):
            return try map.map { key, value in
                switch key {
                case .atom(let name): return Field(key: name, term: value)
                case .binary(let bytes): return Field(key: String(decoding: bytes, as: UTF8.self), term: value)
                default: throw failure(path, "a map key that is not an atom or a string: \(key)")
                }
            }
        case .atom(let name):
            return [Field(key: name, term: .tuple([]), positional: true)]
        case .tuple(let elements):
            guard case .atom(let name)? = elements.first else { throw failure(path, "a tuple not tagged by an atom") }
            return [Field(key: name, term: .tuple(Array(elements.dropFirst())), positional: true)]
        default:
            throw failure(path, "expected a map, an atom or a tagged tuple, found \(term)")
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch term {
        case .list(let elements), .tuple(let elements): return UnkeyedTermDecoding(elements: elements, path: path)
        case .binary(let bytes): return UnkeyedTermDecoding(elements: bytes.map { .integer(Int64($0)) }, path: path)
        default: throw failure(path, "expected a list, found \(term)")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleTermDecoding(term: term, path: path)
    }
}

/// A leaf value of type `T` from `term`, or nil when `T` decodes itself.
/// Types are compared as metadata (no existential casts: see leafTerm).
private func leafValue<T>(_ type: T.Type, _ term: Term, _ path: [any CodingKey]) throws -> T? {
    if type == String.self { return try stringValue(term, path) as? T }
    if type == Int.self { return try integerValue(Int.self, term, path) as? T }
    if type == Double.self { return try doubleValue(term, path) as? T }
    if type == Bool.self {
        guard case .atom(let name) = term, name == "true" || name == "false" else {
            throw failure(path, "expected true or false, found \(term)")
        }
        return (name == "true") as? T
    }
    if type == Term.self { return term as? T }  // the term as it is
    if type == [UInt8].self {
        guard case .binary(let bytes) = term else { return nil }  // else as a list of integers
        return bytes as? T
    }
    if type == Int64.self { return try integerValue(Int64.self, term, path) as? T }
    if type == Float.self { return Float(try doubleValue(term, path)) as? T }
    if type == Int32.self { return try integerValue(Int32.self, term, path) as? T }
    if type == Int16.self { return try integerValue(Int16.self, term, path) as? T }
    if type == Int8.self { return try integerValue(Int8.self, term, path) as? T }
    if type == UInt.self { return try integerValue(UInt.self, term, path) as? T }
    if type == UInt64.self { return try integerValue(UInt64.self, term, path) as? T }
    if type == UInt32.self { return try integerValue(UInt32.self, term, path) as? T }
    if type == UInt16.self { return try integerValue(UInt16.self, term, path) as? T }
    if type == UInt8.self { return try integerValue(UInt8.self, term, path) as? T }
    return nil
}

private func stringValue(_ term: Term, _ path: [any CodingKey]) throws -> String {
    switch term {
    case .binary(let bytes): return String(decoding: bytes, as: UTF8.self)
    case .atom(let name): return name
    case .list(let codes):  // a charlist
        var text = ""
        for code in codes {
            guard case .integer(let value) = code, let scalar = UnicodeScalar(UInt32(clamping: value)) else {
                throw failure(path, "expected a string, found \(term)")
            }
            text.unicodeScalars.append(scalar)
        }
        return text
    default: throw failure(path, "expected a string, found \(term)")
    }
}

private func doubleValue(_ term: Term, _ path: [any CodingKey]) throws -> Double {
    switch term {
    case .float(let value): return value
    case .integer(let value): return Double(value)
    default: throw failure(path, "expected a number, found \(term)")
    }
}

private func integerValue<I: FixedWidthInteger>(_ type: I.Type, _ term: Term, _ path: [any CodingKey]) throws -> I {
    switch term {
    case .integer(let value):
        guard let exact = I(exactly: value) else { throw failure(path, "\(value) does not fit \(I.self)") }
        return exact
    case .bigInteger(let negative, let magnitude):
        var value: I = 0
        for byte in magnitude.reversed() {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 256)
            guard !overflow else { throw failure(path, "the integer does not fit \(I.self)") }
            value = shifted | I(byte)
        }
        if negative {
            guard I.isSigned else { throw failure(path, "a negative integer for \(I.self)") }
            value = 0 - value
        }
        return value
    default:
        throw failure(path, "expected an integer, found \(term)")
    }
}

/// As encodeChild: the path is made for a failure or a nested value only.
private func decodeChild<T: Decodable>(_ type: T.Type, _ term: Term,
                                       _ path: @autoclosure () -> [any CodingKey]) throws -> T {
    do {
        if let leaf = try leafValue(type, term, []) { return leaf }
    } catch let failed as TermCoding.DecodingFailure {
        throw TermCoding.DecodingFailure(path: (path().map(\.stringValue) + (failed.path.isEmpty ? [] : [failed.path]))
                                            .joined(separator: "."), reason: failed.reason)
    }
    return try T(from: TermDecoding(term: term, path: path()))
}

private func isNil(_ term: Term) -> Bool { term == .atom("nil") || term == .atom("undefined") }

/// One field of a keyed container: its key and term; `positional` when the
/// term is an enum case's values by position.
private struct Field {
    let key: String
    let term: Term
    var positional = false
}

private struct KeyedTermDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [Field]
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }
    var allKeys: [Key] { fields.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    private func lookup(_ key: Key) -> Field? {
        let name = key.stringValue
        return fields.first { $0.key == name }
    }

    private func field(_ key: Key) throws -> Field {
        guard let field = lookup(key) else { throw failure(path + [key], "no such key") }
        return field
    }

    func decodeNil(forKey key: Key) throws -> Bool { isNil(try field(key).term) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeChild(type, try field(key).term, path + [key])
    }

    private func nested(_ key: Key) throws -> TermDecoding {
        let field = try field(key)
        return TermDecoding(term: field.term, path: path + [key], positional: field.positional)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try nested(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try nested(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        TermDecoding(term: fields.first { $0.key == "super" }?.term ?? .map([:]), path: path)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try nested(key) }
}

private struct UnkeyedTermDecoding: UnkeyedDecodingContainer {
    let elements: [Term]
    let path: [any CodingKey]
    var currentIndex = 0
    var codingPath: [any CodingKey] { path }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(elements: [Term], path: [any CodingKey]) {
        self.elements = elements
        self.path = path
    }

    private mutating func next() throws -> (Term, [any CodingKey]) {
        guard !isAtEnd else { throw failure(path + [IndexKey(currentIndex)], "the list has only \(elements.count)") }
        defer { currentIndex += 1 }
        return (elements[currentIndex], path + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, isNil(elements[currentIndex]) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (term, where_) = try next()
        return try decodeChild(type, term, where_)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        let (term, where_) = try next()
        return try TermDecoding(term: term, path: where_).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (term, where_) = try next()
        return try TermDecoding(term: term, path: where_).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (term, where_) = try next()
        return TermDecoding(term: term, path: where_)
    }
}

private struct SingleTermDecoding: SingleValueDecodingContainer {
    let term: Term
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }

    func decodeNil() -> Bool { isNil(term) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeChild(type, term, path) }
}

/// A `Term` is Codable: as itself in a term (`TermCoding`), so a typed
/// message may hold a raw term; as its External Term Format bytes in any
/// other coder.
extension Term: Codable {
    /// The term itself from a `TermCoding` decoder; from any other, a term
    /// read from the External Term Format bytes it holds.
    ///
    /// - Parameter decoder: The decoder to read from.
    /// - Throws: What the decoder throws for a value that is not bytes;
    ///   `ExternalTermFormat.DecodeError` for bytes that are not a term.
    public init(from decoder: any Decoder) throws {
        if let decoding = decoder as? TermDecoding {
            self = decoding.term
            return
        }
        let bytes = try decoder.singleValueContainer().decode([UInt8].self)
        self = try ExternalTermFormat.decode(bytes)
    }

    /// The term itself into a `TermCoding` encoder; into any other, its
    /// External Term Format bytes.
    ///
    /// - Parameter encoder: The encoder to write to.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        if let encoding = encoder as? TermEncoding {
            encoding.slot.term = self
            return
        }
        var container = encoder.singleValueContainer()
        try container.encode(ExternalTermFormat.encode(self))
    }
}
