/// A process identifier: unique for the life of the runtime; a pid whose
/// process exited never reaches another process.
public struct Pid: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C `swerl_pid` (or `swerl_ref`) value.
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Erlang-style `<0.slot.generation>`, as the runtime's reports print it.
    public var description: String { Pids.format(rawValue) }
}

/// A reference to a monitor, a timer or a call.
public struct Ref: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C `swerl_pid` (or `swerl_ref`) value.
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Printed as `#Ref<n>`.
    public var description: String { "#Ref<\(rawValue)>" }
}
