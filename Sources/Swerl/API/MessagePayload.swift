/// Anything whose bytes can be sent as a message (copied at the call).
public protocol MessagePayload {
    /// Calls `body` with the bytes to send, which it must not keep.
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    func withPayloadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: MessagePayload where Element == UInt8 {
    /// Calls `body` with the array's bytes.
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withPayloadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension ArraySlice: MessagePayload where Element == UInt8 {
    /// Calls `body` with the slice's bytes.
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withPayloadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension ContiguousArray: MessagePayload where Element == UInt8 {
    /// Calls `body` with the array's bytes.
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withPayloadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension UnsafeRawBufferPointer: MessagePayload {
    /// Calls `body` with these bytes; they are copied when sent.
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withPayloadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(self)
    }
}

/// A string is sent as its UTF-8 bytes.
extension String: MessagePayload {
    /// Calls `body` with the string's UTF-8 bytes (no NUL).
    ///
    /// - Parameter body: Reads the bytes during the call.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withPayloadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
