/// A process identifier: unique for the life of the runtime; a pid whose
/// process exited never reaches another process.
public struct Pid: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Erlang-style `<node.slot.generation>`.
    public var description: String {
        "<\(rawValue >> Pids.nodeShift).\(Pids.slot(rawValue)).\(Pids.generation(rawValue))>"
    }
}

/// A reference to a monitor, a timer or a call.
public struct Ref: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public var description: String { "#Ref<\(rawValue)>" }
}
