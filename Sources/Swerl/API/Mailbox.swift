/// A message kept past its callback: an owned copy of a `Message` (which
/// cannot leave its callback). `message.owned()` makes one.
public struct OwnedMessage: Sendable, Hashable {
    /// What kind of message it is.
    public let kind: Message.Kind
    /// The sender; nil from outside any process or from a timer.
    public let from: Pid?
    /// The monitor (DOWN), the call (CALL, REPLY) or the timer; else nil.
    public let ref: Ref?
    /// The payload (for EXIT and DOWN the reason's detail).
    public let bytes: [UInt8]
    /// EXIT and DOWN: the exit reason, with its detail.
    public let reason: ExitReason?
    /// REPLY: the failure, or nil.
    public let error: SwerlError?
    /// Whether the payload is an Erlang term.
    public let isTerm: Bool

    /// The payload as UTF-8 text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The payload as a term when the message is one, else nil.
    public var term: Term? { isTerm ? try? ExternalTermFormat.decode(bytes) : nil }

    /// The payload decoded as a `T` (see `Message.decode`).
    ///
    /// - Parameter type: The type to decode.
    /// - Returns: The decoded value.
    /// - Throws: `TermCoding.DecodingFailure` (not a `T`),
    ///   `ExternalTermFormat.DecodeError` (not a term at all).
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T { try TermCoding.decode(type, from: bytes) }
}

extension Message {
    /// An owned copy of this message, to keep or hand to another task.
    ///
    /// - Returns: The copy: kind, sender, ref, bytes, reason and error.
    public func owned() -> OwnedMessage {
        OwnedMessage(kind: kind, from: from, ref: ref, bytes: bytes, reason: reason, error: error, isTerm: isTerm)
    }
}

/// A process whose messages a Swift task reads as an `AsyncSequence`: the
/// task acts as the process (others send to `pid`, link to it and monitor
/// it), as Erlang code sits in `receive`.
///
///     let mailbox = try runtime.openMailbox()
///     try runtime.send("hi", to: mailbox.pid)
///     for await message in mailbox { print(message.text); break }
///
/// The process exits (reason normal) when the mailbox is closed: `close()`,
/// the `Mailbox` released, or the reading task cancelled. The sequence ends
/// when the process exits (closed, killed, a linked crash it does not trap,
/// the runtime's stop). Messages wait in the sequence's buffer until read:
/// nothing is dropped.
public final class Mailbox: AsyncSequence, Sendable {
    /// Each message, as an owned copy.
    public typealias Element = OwnedMessage

    /// The process: send to it, link to it, monitor it.
    public let pid: Pid
    private let stream: AsyncStream<OwnedMessage>
    private let runtime: Runtime

    init(pid: Pid, stream: AsyncStream<OwnedMessage>, runtime: Runtime) {
        self.pid = pid
        self.stream = stream
        self.runtime = runtime
    }

    /// The iterator over the messages, oldest first.
    ///
    /// - Returns: An iterator that ends when the process exits.
    public func makeAsyncIterator() -> AsyncStream<OwnedMessage>.Iterator { stream.makeAsyncIterator() }

    /// Ends the process (reason normal); the sequence ends after the
    /// messages already read into it.
    public func close() { MailboxProcess.close(pid, on: runtime.engine) }

    deinit { close() }
}

extension Runtime {
    /// A new process read by a Swift task (`Mailbox`); with `trapExits`
    /// exit signals come as `.exit` messages instead of ending it.
    ///
    /// - Parameters:
    ///   - trapExits: Exit signals come as `.exit` messages.
    ///   - name: A name registered atomically with the spawn, or nil.
    /// - Returns: The mailbox; its process lives until it is closed or exits.
    /// - Throws: as `spawn`.
    public func openMailbox(trapExits: Bool = false, name: String? = nil) throws(SwerlError) -> Mailbox {
        let (stream, continuation) = AsyncStream<OwnedMessage>.makeStream()
        let pid = try spawn(MailboxProcess(continuation: continuation),
                            options: SpawnOptions(trapExits: trapExits, name: name))
        // The reading task cancelled: the process ends too. (The engine,
        // not the Runtime: a process may not keep its runtime's last
        // reference alive.)
        let engine = self.engine
        continuation.onTermination = { termination in
            guard case .cancelled = termination else { return }
            MailboxProcess.close(pid, on: engine)
        }
        return Mailbox(pid: pid, stream: stream, runtime: self)
    }
}

/// The process behind a `Mailbox`: every message goes into the stream.
struct MailboxProcess: Behavior {
    static let closeAtom = "$swerl_mailbox_close"
    let continuation: AsyncStream<OwnedMessage>.Continuation

    /// Asks the process to end (a reserved atom, from any thread).
    static func close(_ pid: Pid, on engine: Engine) {
        let bytes = ExternalTermFormat.encode(.atom(closeAtom))
        _ = bytes.withUnsafeBytes { engine.sendTerm(to: pid.rawValue, bytes: $0) }
    }

    mutating func handle(_ message: Message, _ context: Context) throws -> Next {
        if message.isTerm, message.term == .atom(Self.closeAtom) { return .stop }
        continuation.yield(message.owned())
        return .continue
    }

    mutating func terminate(_ reason: ExitReason, _ context: Context) { continuation.finish() }
}
