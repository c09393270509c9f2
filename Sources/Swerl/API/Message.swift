import CSwerl

/// One message as a handler sees it. Its bytes are borrowed from the
/// runtime for the duration of the callback, so a `Message` cannot leave it:
/// it is non-escapable, and keeping one (in a property, an array, a `Task`)
/// is a compile error. `bytes`, `text` and `reason` are owned copies, and
/// `ref` and `from` are plain values: keep those.
public struct Message: ~Escapable {
    /// What a message is (`swerl_message.kind`).
    public enum Kind: UInt32, Sendable {
        /// Bytes sent with `send` or a timer.
        case message = 0
        /// A trapped exit signal: `from`, `reason`.
        case exit = 1
        /// A monitor fired: `from` (the monitored pid), `ref`, `reason`.
        case down = 2
        /// The receive timeout expired.
        case timeout = 3
        /// A request: answer with `context.reply(to:with:)`.
        case call = 4
        /// The answer to `context.sendRequest(...)`: `ref`, `error` or `bytes`.
        case reply = 5
        /// Sockets (`socket` says which): bytes read (a chunk, a frame or a line).
        case socketData = 6
        /// The peer closed (`socketError` nil) or the connection broke.
        case socketClosed = 7
        /// An activity given as a count ran out.
        case socketPassive = 8
        /// A connection accepted on a listener this process owns: `socket` is the new one.
        case socketAccepted = 9
        /// A connect's outcome: `socketError` nil, or why it failed.
        case socketConnected = 10
        /// A send refused as `sendQueueFull` may be retried.
        case socketWritable = 11
    }

    /// What this message is.
    public let kind: Kind
    /// The sender; nil when sent from outside any process or by a timer.
    public let from: Pid?
    /// The monitor (DOWN), the call (CALL, REPLY) or the timer; else nil.
    public let ref: Ref?
    /// The payload (or, for EXIT/DOWN, the reason's detail), valid during the callback.
    public let payload: UnsafeRawBufferPointer
    let rawReason: Int32
    /// SWERL_MESSAGE_TERM, SWERL_MESSAGE_SHARED, or 0.
    let flags: UInt32

    // Made only here, for a handler's parameter, which it cannot outlive (a
    // non-escapable parameter stays in its call): the lifetime the compiler
    // cannot see is the callback's.
    @_lifetime(immortal)
    init(_ raw: UnsafePointer<swerl_message>) {
        kind = Kind(rawValue: raw.pointee.kind) ?? .message
        from = raw.pointee.from == 0 ? nil : Pid(rawValue: raw.pointee.from)
        ref = raw.pointee.ref == 0 ? nil : Ref(rawValue: raw.pointee.ref)
        payload = UnsafeRawBufferPointer(start: raw.pointee.data, count: raw.pointee.len)
        rawReason = raw.pointee.reason
        flags = raw.pointee.flags
    }

    /// A copy of the payload.
    public var bytes: [UInt8] { Array(payload) }

    /// Whether the payload is the bytes of a shared binary (sent with
    /// `send(_:to:)` and a `SharedBinary`): `sharedBinary` keeps it without
    /// a copy.
    public var isShared: Bool { flags & UInt32(SWERL_MESSAGE_SHARED) != 0 }

    /// The payload as a binary to keep past the callback: the binary itself
    /// when the message carries one (`isShared`: one more reference, no
    /// copy), else a new binary holding a copy of the payload.
    public var sharedBinary: SharedBinary {
        if isShared, let binary = SharedBinaries.keep(shared: payload.baseAddress, count: payload.count) {
            return SharedBinary(adopting: binary)
        }
        return SharedBinary(copying: payload)
    }

    /// The payload as UTF-8 text.
    public var text: String { String(decoding: payload, as: UTF8.self) }

    /// EXIT and DOWN: the exit reason, with its detail.
    public var reason: ExitReason? {
        kind == .exit || kind == .down ? ExitReason(code: rawReason, detail: bytes) : nil
    }

    /// REPLY: the failure (timed out, no process, server exited), or nil.
    public var error: SwerlError? {
        kind == .reply && rawReason < 0 ? SwerlError(.init(rawValue: rawReason)) : nil
    }
}
