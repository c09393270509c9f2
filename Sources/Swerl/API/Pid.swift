/// A process identifier: unique for the life of the runtime; a pid whose
/// process exited never reaches another process.
public struct Pid: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C `swerl_pid` (or `swerl_ref`) value.
    public let rawValue: UInt64

    /// The pid of a C `swerl_pid` (from the C API or Python): nothing checks it.
    ///
    /// - Parameter rawValue: The C value; 0 is never a pid.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Erlang-style `<0.slot.generation>`, as the runtime's reports print it.
    public var description: String { Pids.format(rawValue) }
}

/// A reference to a monitor, a timer or a call.
public struct Ref: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C `swerl_pid` (or `swerl_ref`) value.
    public let rawValue: UInt64

    /// The ref of a C `swerl_ref`: nothing checks it.
    ///
    /// - Parameter rawValue: The C value; 0 is never a ref.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Printed as `#Ref<n>`.
    public var description: String { "#Ref<\(rawValue)>" }
}
