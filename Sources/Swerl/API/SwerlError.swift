import CSwerl
import CSwerlSupport

/// An error from the runtime; its code maps 1:1 to the C `SWERL_E*` codes.
public struct SwerlError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An error code. A struct rather than an enum, so codes can be added.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let invalidArgument = Code(rawValue: Int32(SWERL_EINVAL))
        public static let noProcess = Code(rawValue: Int32(SWERL_ENOPROC))
        public static let timedOut = Code(rawValue: Int32(SWERL_ETIMEDOUT))
        public static let nameTaken = Code(rawValue: Int32(SWERL_ENAMETAKEN))
        public static let alreadyNamed = Code(rawValue: Int32(SWERL_EHASNAME))
        public static let nameNotRegistered = Code(rawValue: Int32(SWERL_ENONAME))
        public static let mailboxFull = Code(rawValue: Int32(SWERL_EFULL))
        public static let messageTooBig = Code(rawValue: Int32(SWERL_ETOOBIG))
        public static let outOfMemory = Code(rawValue: Int32(SWERL_ENOMEM))
        public static let stopped = Code(rawValue: Int32(SWERL_ESTOPPED))
        public static let contextOutsideCallback = Code(rawValue: Int32(SWERL_ECTX))
        public static let unknownReference = Code(rawValue: Int32(SWERL_EREF))
        public static let callingSelf = Code(rawValue: Int32(SWERL_ECALLSELF))
        public static let serverExited = Code(rawValue: Int32(SWERL_EEXITED))
        public static let processLimit = Code(rawValue: Int32(SWERL_ELIMIT))
        public static let insideProcess = Code(rawValue: Int32(SWERL_EINPROC))
        public static let notSupported = Code(rawValue: Int32(SWERL_ENOTSUP))
        /// The runtime's memory ceiling (`Runtime.setMaxMemory(_:)`) is reached.
        public static let memoryLimit = Code(rawValue: Int32(SWERL_EMEMLIMIT))
    }

    public let code: Code

    public init(_ code: Code) { self.code = code }

    /// The C name of the code, e.g. `ENOPROC`.
    public var name: String { String(cString: swerlrt_err_name(code.rawValue)) }

    public var description: String { String(cString: swerlrt_strerror(code.rawValue)) }

    /// Throws for a negative C result.
    @inline(__always)
    static func check(_ result: Int32) throws(SwerlError) {
        if result < 0 { throw SwerlError(Code(rawValue: result)) }
    }
}
