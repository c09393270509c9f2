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
        public let path: String
        public let reason: String
        public var description: String { "cannot decode \(path.isEmpty ? "the term" : path): \(reason)" }
    }

    /// `value` as a term.
    public static func term(of value: some Encodable) throws -> Term {
        if let term = leafTerm(value) { return term }
        let slot = TermSlot()
        try value.encode(to: TermEncoding(slot: slot, path: []))
        return slot.resolved()
    }

    /// A `T` from `term`.
    public static func value<T: Decodable>(_ type: T.Type, from term: Term) throws -> T {
        try decodeChild(type, term, [])
    }

    /// `value` as External Term Format bytes (what a term message carries).
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        ExternalTermFormat.encode(try term(of: value))
    }

    /// A `T` from External Term Format bytes.
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

    func resolved() -> Term {
        if let unkeyed { return .list(unkeyed.map { $0.resolved() }) }
        if let keyed {
            // An enum case (synthesized Codable): one key holding the case's
            // values, keyed _0, _1... (unlabeled) or nothing.
            if keyed.count == 1, let payload = keyed[0].1.keyed,
               payload.enumerated().allSatisfy({ $0.element.0 == "_\($0.offset)" }) {
                if payload.isEmpty { return .atom(keyed[0].0) }
                return .tuple([.atom(keyed[0].0)] + payload.map { $0.1.resolved() })
            }
            var map: [Term: Term] = [:]
            for (key, value) in keyed { map[.atom(key)] = value.resolved() }
            return .map(map)
        }
        return term ?? .atom("nil")
    }
}

private struct TermEncoding: Encoder {
    let slot: TermSlot
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

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

/// The term of a leaf value, or nil for one that encodes itself.
private func leafTerm(_ value: some Encodable) -> Term? {
    switch value {
    case let term as Term: return term  // a term as it is
    case let text as String: return .binary(Array(text.utf8))
    case let flag as Bool: return .atom(flag ? "true" : "false")
    case let number as Double: return .float(number)
    case let number as Float: return .float(Double(number))
    case let bytes as [UInt8]: return .binary(bytes)
    case let number as any BinaryInteger: return integerTerm(number)
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

private func encodeChild(_ value: some Encodable, into slot: TermSlot, path: [any CodingKey]) throws {
    if let term = leafTerm(value) {
        slot.term = term
    } else {
        try value.encode(to: TermEncoding(slot: slot, path: path))
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
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(KeyedTermDecoding<Key>(fields: try fields(), path: path))
    }

    /// The fields of a map (atom or string keys); an enum case's from an
    /// atom or a tagged tuple.
    private func fields() throws -> [String: Term] {
        switch term {
        case .map(let map):
            var fields: [String: Term] = [:]
            for (key, value) in map {
                switch key {
                case .atom(let name): fields[name] = value
                case .binary(let bytes): fields[String(decoding: bytes, as: UTF8.self)] = value
                default: throw failure(path, "a map key that is not an atom or a string: \(key)")
                }
            }
            return fields
        case .atom(let name):
            return [name: .map([:])]
        case .tuple(let elements):
            guard case .atom(let name)? = elements.first else { throw failure(path, "a tuple not tagged by an atom") }
            var payload: [Term: Term] = [:]
            for (index, element) in elements.dropFirst().enumerated() { payload[.atom("_\(index)")] = element }
            return [name: .map(payload)]
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
private func leafValue<T>(_ type: T.Type, _ term: Term, _ path: [any CodingKey]) throws -> T? {
    switch type {
    case is Term.Type: return term as? T  // the term as it is
    case is String.Type:
        switch term {
        case .binary(let bytes): return String(decoding: bytes, as: UTF8.self) as? T
        case .atom(let name): return name as? T
        case .list(let codes):  // a charlist
            let scalars = try codes.map { code -> Character in
                guard case .integer(let value) = code, let scalar = UnicodeScalar(UInt32(clamping: value)) else {
                    throw failure(path, "expected a string, found \(term)")
                }
                return Character(scalar)
            }
            return String(scalars) as? T
        default: throw failure(path, "expected a string, found \(term)")
        }
    case is Bool.Type:
        guard case .atom(let name) = term, name == "true" || name == "false" else {
            throw failure(path, "expected true or false, found \(term)")
        }
        return (name == "true") as? T
    case is Double.Type, is Float.Type:
        let number: Double
        switch term {
        case .float(let value): number = value
        case .integer(let value): number = Double(value)
        default: throw failure(path, "expected a number, found \(term)")
        }
        return (type == Float.self ? Float(number) as Any : number as Any) as? T
    case is [UInt8].Type:
        guard case .binary(let bytes) = term else { return nil }  // else as a list of integers
        return bytes as? T
    case let integer as any FixedWidthInteger.Type:
        return try integerValue(integer, term, path) as? T
    default:
        return nil
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

private func decodeChild<T: Decodable>(_ type: T.Type, _ term: Term, _ path: [any CodingKey]) throws -> T {
    if let leaf = try leafValue(type, term, path) { return leaf }
    return try T(from: TermDecoding(term: term, path: path))
}

private func isNil(_ term: Term) -> Bool { term == .atom("nil") || term == .atom("undefined") }

private struct KeyedTermDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [String: Term]
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }
    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

    private func field(_ key: Key) throws -> Term {
        guard let term = fields[key.stringValue] else { throw failure(path + [key], "no such key") }
        return term
    }

    func decodeNil(forKey key: Key) throws -> Bool { isNil(try field(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeChild(type, try field(key), path + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try TermDecoding(term: try field(key), path: path + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TermDecoding(term: try field(key), path: path + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { TermDecoding(term: fields["super"] ?? .map([:]), path: path) }
    func superDecoder(forKey key: Key) throws -> any Decoder { TermDecoding(term: try field(key), path: path + [key]) }
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
    public init(from decoder: any Decoder) throws {
        if let decoding = decoder as? TermDecoding {
            self = decoding.term
            return
        }
        let bytes = try decoder.singleValueContainer().decode([UInt8].self)
        self = try ExternalTermFormat.decode(bytes)
    }

    public func encode(to encoder: any Encoder) throws {
        if let encoding = encoder as? TermEncoding {
            encoding.slot.term = self
            return
        }
        var container = encoder.singleValueContainer()
        try container.encode(ExternalTermFormat.encode(self))
    }
}
