// Terms as messages: a term message carries External Term Format bytes and
// the SWERL_MESSAGE_TERM mark. The rule every front end goes through: the
// bytes are checked with the bounded reader before they are sent, so a
// receiver never gets a marked message it cannot read. Plain bytes do not
// come here and cost nothing more.

import CSwerl

extension Engine {
    /// swerl_send_term: exactly one term (version byte first), checked,
    /// then sent marked. Errors as `send`, and EINVAL saying at which byte
    /// and why the bytes are not a term.
    package func sendTerm(to pid: UInt64, bytes: UnsafeRawBufferPointer) -> Int32 {
        if let refused = refusedTerm(bytes) { return refused }
        return send(to: pid, data: bytes.baseAddress, count: bytes.count, term: true)
    }

    /// swerl_send_named_term.
    package func sendNamedTerm(_ name: String, bytes: UnsafeRawBufferPointer) -> Int32 {
        if let refused = refusedTerm(bytes) { return refused }
        return sendNamed(name, data: bytes.baseAddress, count: bytes.count, term: true)
    }

    /// ETOOBIG before the walk (it is linear in the size), then EINVAL for
    /// bytes that are not one term; nil when they may be sent.
    private func refusedTerm(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        if bytes.count > maxMessageSize { return tooBig(bytes.count) }
        guard let problem = TermCursor.check(bytes) else { return nil }
        return ErrorDetail.failing(Code.invalid, "the bytes are \(problem)")
    }
}

extension Message {
    /// Whether the payload is an Erlang term (sent with `send(term:to:)`,
    /// `swerl_send_term`, or by an Erlang node).
    public var isTerm: Bool { flags & UInt32(SWERL_MESSAGE_TERM) != 0 }

    /// The payload as an Erlang term when the message is one, else nil:
    /// `switch message.term { case .tuple([.atom("get"), let key])?: ... }`.
    public var term: Term? {
        guard isTerm else { return nil }
        return try? ExternalTermFormat.decode(payload)
    }
}

extension Context {
    /// Sends `term` (as Erlang's `!` does: a process that is no longer
    /// alive is no error, it returns false); the receiver sees this process
    /// as `from` and the message marked as a term.
    ///
    /// - Parameters:
    ///   - term: The term, sent in External Term Format.
    ///   - pid: The receiver, local or remote.
    /// - Returns: false when the receiver is not alive, else true.
    /// - Throws: `contextOutsideCallback`, and as `Runtime.send(term:to:)`.
    @discardableResult
    public func send(term: Term, to pid: Pid) throws(SwerlError) -> Bool {
        let engine = try checked().engine
        let bytes = ExternalTermFormat.encode(term)
        let result = bytes.withUnsafeBytes { engine.sendTerm(to: pid.rawValue, bytes: $0) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// This runtime's pid for a pid in a term (a remote pid for another
    /// node's), or nil.
    ///
    /// - Parameter erlang: A pid read from a term.
    /// - Returns: The pid, or nil when it names this node but no pid it
    ///   could have made (or the table of remote pids is full).
    /// - Throws: `contextOutsideCallback`.
    public func pid(_ erlang: ErlangPid) throws(SwerlError) -> Pid? {
        let pid = try checked().engine.pid(of: erlang)
        return pid == 0 ? nil : Pid(rawValue: pid)
    }

    /// `pid` as a term's pid (`Term.pid(...)`), or nil for a pid of another runtime.
    ///
    /// - Parameter pid: A pid of this runtime, or a remote pid it knows.
    /// - Returns: The term's pid, or nil.
    /// - Throws: `contextOutsideCallback`.
    public func erlangPid(_ pid: Pid) throws(SwerlError) -> ErlangPid? {
        try checked().engine.erlangPid(pid.rawValue)
    }
}

extension Runtime {
    /// Sends `term` to `pid`, marked as a term. As `send(_:to:)`: false
    /// when the process is no longer alive; only misuse throws.
    ///
    /// - Parameters:
    ///   - term: The term, sent in External Term Format.
    ///   - pid: The receiver, local or remote.
    /// - Returns: false when the receiver is not alive, else true.
    /// - Throws: `invalidArgument` (a term nested deeper than 512), and as
    ///   `send(_:to:)`: `messageTooBig`, `mailboxFull`, `memoryLimit`,
    ///   `outOfMemory`, `noProcess` (another runtime's pid), `stopped`.
    @discardableResult
    public func send(term: Term, to pid: Pid) throws(SwerlError) -> Bool {
        let bytes = ExternalTermFormat.encode(term)
        let result = bytes.withUnsafeBytes { engine.sendTerm(to: pid.rawValue, bytes: $0) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// Sends `term` to the process registered as `name`.
    ///
    /// - Parameters:
    ///   - term: The term, sent in External Term Format.
    ///   - name: The receiver's registered name, looked up once.
    /// - Throws: `nameNotRegistered`, `invalidArgument` (a bad name, a term
    ///   nested deeper than 512), and as `send(term:to:)` with a pid.
    public func send(term: Term, to name: String) throws(SwerlError) {
        let bytes = ExternalTermFormat.encode(term)
        try SwerlError.check(bytes.withUnsafeBytes { engine.sendNamedTerm(name, bytes: $0) })
    }

    /// This runtime's pid for a pid in a term: a local pid when it names
    /// this node, else a remote pid; nil when none can stand for it.
    ///
    /// - Parameter erlang: A pid read from a term.
    /// - Returns: The pid, or nil.
    public func pid(_ erlang: ErlangPid) -> Pid? {
        let pid = engine.pid(of: erlang)
        return pid == 0 ? nil : Pid(rawValue: pid)
    }

    /// `pid` as a term's pid, for `Term.pid(...)`; nil for a pid of
    /// another runtime.
    ///
    /// - Parameter pid: A pid of this runtime, or a remote pid it knows.
    /// - Returns: The term's pid, or nil.
    public func erlangPid(_ pid: Pid) -> ErlangPid? { engine.erlangPid(pid.rawValue) }

    /// `ref` (a monitor's, a timer's, a call's) as a term's ref.
    ///
    /// - Parameter ref: A ref this runtime made.
    /// - Returns: The term's ref, on this node.
    public func erlangRef(_ ref: Ref) -> ErlangRef { engine.erlangRef(ref.rawValue) }

    /// The ref of a term's ref, or nil for a ref this runtime did not make.
    ///
    /// - Parameter erlang: A ref read from a term.
    /// - Returns: The ref, or nil.
    public func ref(_ erlang: ErlangRef) -> Ref? {
        engine.ref(of: erlang).map { Ref(rawValue: $0) }
    }
}
