/// Codable values as messages: sent as Erlang terms (`TermCoding`), so an
/// Elixir process reads them as it reads its own (`%{name: "ann"}`,
/// `{:put, "k", 3}`), and decoded into the receiver's type.
///
///     enum Command: Codable { case put(String, Int), get(String) }
///     try runtime.send(value: Command.put("apples", 3), to: store)
///     // in the store's handler:
///     switch try message.decode(Command.self) { case .put(let key, let n): ...; case .get(let key): ... }

extension Message {
    /// The payload as a `T` (a term message, or a CALL's term request).
    ///
    /// - Parameter type: The type to decode.
    /// - Returns: The decoded value.
    /// - Throws: `TermCoding.DecodingFailure` (not a `T`: what was expected,
    ///   where), `ExternalTermFormat.DecodeError` (not a term at all).
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try TermCoding.decode(type, from: payload)
    }
}

extension Context {
    /// Sends `value` as a term from this process; as `send(_:to:)`, false
    /// when the receiver is no longer alive.
    ///
    /// - Parameters:
    ///   - value: The value, sent as a term (`TermCoding`).
    ///   - pid: The receiver, local or remote.
    /// - Returns: false when the receiver is not alive, else true.
    /// - Throws: an `EncodingError`-like error of the value's `encode`;
    ///   `SwerlError` for misuse (as `send(_:to:)`).
    @discardableResult
    public func send(value: some Encodable, to pid: Pid) throws -> Bool {
        let engine = try checked().engine
        let bytes = try TermCoding.encode(value)
        let result = bytes.withUnsafeBytes { engine.sendTerm(to: pid.rawValue, bytes: $0) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// Answers a `.call` message with `value` as a term.
    ///
    /// - Parameters:
    ///   - call: The `.call` message to answer.
    ///   - value: The answer, sent as a term (`TermCoding`).
    /// - Returns: false when nobody waits for the answer any more, else true.
    /// - Throws: What the value's `encode(to:)` throws; `SwerlError`:
    ///   `invalidArgument` (not a `.call`, or a term nested deeper than 512),
    ///   `contextOutsideCallback`, `messageTooBig`, `stopped`.
    @discardableResult
    public func reply(to call: Message, value: some Encodable) throws -> Bool {
        guard call.kind == .call, let ref = call.ref else {
            throw SwerlError(.invalidArgument, detail: "reply(to:value:): the message is not a CALL")
        }
        let engine = try checked().engine
        let bytes = try TermCoding.encode(value)
        return try SwerlError.answered(bytes.withUnsafeBytes { engine.replyTerm(ref.rawValue, bytes: $0) })
    }
}

extension Runtime {
    /// Sends `value` as a term; false when the receiver is no longer alive.
    ///
    /// - Parameters:
    ///   - value: The value, sent as a term (`TermCoding`).
    ///   - pid: The receiver, local or remote.
    /// - Returns: false when the receiver is not alive, else true.
    /// - Throws: What the value's `encode(to:)` throws; `SwerlError` as
    ///   `send(term:to:)`.
    @discardableResult
    public func send(value: some Encodable, to pid: Pid) throws -> Bool {
        let bytes = try TermCoding.encode(value)
        let result = bytes.withUnsafeBytes { engine.sendTerm(to: pid.rawValue, bytes: $0) }
        return try SwerlError.delivered(result, to: pid, on: engine)
    }

    /// Calls `pid` with `request` as a term (a GenServer of another node
    /// gets the term itself) and decodes the reply as a `Reply`.
    ///
    /// - Parameters:
    ///   - pid: The server.
    ///   - request: The request, sent as a term (`TermCoding`).
    ///   - reply: The type to decode the reply as.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The decoded reply.
    /// - Throws: as `call(_:_:timeout:)`, what the request's `encode(to:)`
    ///   throws, and a decoding failure for a reply that is not a `Reply`.
    nonisolated(nonsending)
    public func call<Reply: Decodable>(_ pid: Pid, value request: some Encodable, as reply: Reply.Type = Reply.self,
                                       timeout: Duration? = .seconds(5)) async throws -> Reply {
        let bytes = try TermCoding.encode(request)
        return try TermCoding.decode(reply, from: try await call(pid, bytes, timeout: timeout, term: true))
    }

    /// The same to the process registered as `name` on `node`
    /// (GenServer.call({name, node}, request)).
    ///
    /// - Parameters:
    ///   - name: The server's registered name on `node`.
    ///   - node: The node's name, `name@host`; may be this node's.
    ///   - request: The request, sent as a term (`TermCoding`).
    ///   - reply: The type to decode the reply as.
    ///   - timeout: The deadline; nil: none.
    /// - Returns: The decoded reply.
    /// - Throws: as `call(_:on:_:timeout:)`, what the request's
    ///   `encode(to:)` throws, and a decoding failure for a reply that is
    ///   not a `Reply`.
    nonisolated(nonsending)
    public func call<Reply: Decodable>(_ name: String, on node: String, value request: some Encodable,
                                       as reply: Reply.Type = Reply.self,
                                       timeout: Duration? = .seconds(5)) async throws -> Reply {
        let bytes = try TermCoding.encode(request)
        return try TermCoding.decode(reply, from: try await call(name, on: node, bytes, timeout: timeout, term: true))
    }
}
