/// An Erlang term: what Erlang and Elixir processes send and pattern-match,
/// and the structured form of a Swerl message (External Term Format on the
/// wire: `ExternalTermFormat`). A `switch` matches it as Elixir's `case` does:
///
///     switch term {
///     case .tuple(let elements) where elements.first == .atom("get"): ...
///     case .tuple([.atom("put"), .binary("k")]): ...   // a whole value
///     case .atom("stop"): ...
///     default: ...
///     }
public indirect enum Term: Hashable, Sendable {
    /// An atom (`:ok`, `'EXIT'`), by its text.
    case atom(String)
    /// An integer that fits 64 bits.
    case integer(Int64)
    /// A larger one: its sign and magnitude (little-endian bytes, no
    /// trailing zero bytes), as Erlang's bignums travel.
    case bigInteger(negative: Bool, magnitude: [UInt8])
    /// A float.
    case float(Double)
    /// A binary: bytes (Elixir's strings are UTF-8 binaries).
    case binary([UInt8])
    /// A bitstring whose last byte holds `bits` bits (1...7), high bits first.
    case bitstring([UInt8], bits: UInt8)
    /// A tuple of its elements (`{ok, Value}`).
    case tuple([Term])
    /// A proper list (`[]` is `.list([])`); Erlang's "strings" are lists of
    /// integers.
    case list([Term])
    /// `[a, b | tail]` with a tail that is not a list.
    case improperList([Term], tail: Term)
    /// A map, any term a key.
    case map([Term: Term])
    /// A pid, as it travels (`Runtime.pid(_:)` makes it a `Pid`).
    case pid(ErlangPid)
    /// A reference (`Runtime.ref(_:)` makes it a `Ref` when this runtime made it).
    case reference(ErlangRef)
    /// A port of a node.
    case port(ErlangPort)
    /// `fun Module:Function/Arity`.
    case export(module: String, function: String, arity: UInt8)
}

/// A process id of a node: the node's name, and the numbers that make it
/// unique there (`<0.ID.SERIAL>` on that node).
public struct ErlangPid: Hashable, Sendable {
    /// The node's name ("name@host").
    public var node: String
    /// The number the node gave it.
    public var id: UInt32
    /// The serial, with `id`, as the node counts them.
    public var serial: UInt32
    /// Which incarnation of the node made it.
    public var creation: UInt32

    /// A pid as it travels.
    ///
    /// - Parameters:
    ///   - node: The node's name ("name@host").
    ///   - id: The number the node gave it.
    ///   - serial: The serial, as the node counts them.
    ///   - creation: Which incarnation of the node made it.
    public init(node: String, id: UInt32, serial: UInt32, creation: UInt32) {
        self.node = node
        self.id = id
        self.serial = serial
        self.creation = creation
    }
}

/// A reference of a node (make_ref), as it travels.
public struct ErlangRef: Hashable, Sendable {
    /// The node's name ("name@host").
    public var node: String
    /// Which incarnation of the node made it.
    public var creation: UInt32
    /// 1 to 5 words.
    public var ids: [UInt32]

    /// A reference as it travels.
    ///
    /// - Parameters:
    ///   - node: The node's name ("name@host").
    ///   - creation: Which incarnation of the node made it.
    ///   - ids: 1 to 5 words.
    public init(node: String, creation: UInt32, ids: [UInt32]) {
        self.node = node
        self.creation = creation
        self.ids = ids
    }
}

/// A port of a node, as it travels.
public struct ErlangPort: Hashable, Sendable {
    /// The node's name ("name@host").
    public var node: String
    /// The number the node gave it.
    public var id: UInt64
    /// Which incarnation of the node made it.
    public var creation: UInt32

    /// A port as it travels.
    ///
    /// - Parameters:
    ///   - node: The node's name ("name@host").
    ///   - id: The number the node gave it.
    ///   - creation: Which incarnation of the node made it.
    public init(node: String, id: UInt64, creation: UInt32) {
        self.node = node
        self.id = id
        self.creation = creation
    }
}

extension Term {
    /// Text as Erlang binaries carry it (UTF-8), the usual form of strings
    /// sent from Elixir.
    ///
    /// - Parameter text: The text, as UTF-8 bytes.
    /// - Returns: A `.binary` of those bytes.
    public static func binary(_ text: String) -> Term { .binary(Array(text.utf8)) }

    /// A binary's bytes as UTF-8 text, or nil for other terms.
    public var text: String? {
        guard case .binary(let bytes) = self else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
