import Distributed

// A distributed call on the wire, as Erlang terms in a CALL (so it crosses
// nodes over the distribution protocol as any gen_server call does):
//   request: {'$swerl_invoke', Target, [GenericType], [Argument]}
//   reply:   ok | {ok, Value} | {error, ErrorType, Text, ErrorValue | nil}
// Target and types are Swift mangled names (binaries); arguments and
// values are `TermCoding` terms.
enum Invocation {
    static let tag = Term.atom("$swerl_invoke")

    static func request(target: String, generics: [String], arguments: [Term]) -> Term {
        .tuple([tag, .binary(target), .list(generics.map { .binary($0) }), .list(arguments)])
    }

    /// The target, generic types and arguments of a request; nil: not one.
    static func parse(_ term: Term) -> (target: String, generics: [String], arguments: [Term])? {
        guard case .tuple(let parts) = term, parts.count == 4, parts[0] == tag,
              let target = parts[1].text, case .list(let generics) = parts[2], case .list(let arguments) = parts[3]
        else { return nil }
        let names = generics.compactMap(\.text)
        guard names.count == generics.count else { return nil }
        return (target, names, arguments)
    }

    static func failure(_ error: any Error) -> Term {
        if let remote = error as? SwerlActorSystem.RemoteError {  // passed on as it came
            return .tuple([.atom("error"), .binary(remote.type), .binary(remote.message), .atom("nil")])
        }
        let type = type(of: error as Any)
        let value = (error as? any Encodable).flatMap { try? TermCoding.term(of: $0) }
        return .tuple([.atom("error"), .binary(_mangledTypeName(type) ?? String(reflecting: type)),
                       .binary(String(describing: error)), value ?? .atom("nil")])
    }

    /// The value of a reply (nil for `ok`), or its error thrown: the
    /// thrower's own error type when this program has it and it is
    /// Decodable, else `SwerlActorSystem.RemoteError`.
    static func value(of reply: Term) throws -> Term? {
        switch reply {
        case .atom("ok"): return nil
        case .tuple(let parts) where parts.count == 2 && parts[0] == .atom("ok"): return parts[1]
        case .tuple(let parts) where parts.count == 4 && parts[0] == .atom("error"):
            let typeName = parts[1].text ?? "?"
            if parts[3] != .atom("nil"), let type = _typeByName(typeName) as? any (Error & Decodable).Type,
               let error = try? decodeError(type, from: parts[3]) {
                throw error
            }
            throw SwerlActorSystem.RemoteError(type: typeName, message: parts[2].text ?? "")
        default:
            throw SwerlActorSystem.RemoteError(type: "", message: "not a distributed call's reply: \(reply)")
        }
    }

    private static func decodeError<E: Error & Decodable>(_ type: E.Type, from term: Term) throws -> any Error {
        try TermCoding.value(type, from: term)
    }
}

/// Records a distributed call's generic types and arguments as terms.
public struct SwerlInvocationEncoder: DistributedTargetInvocationEncoder {
    /// Arguments are encoded as `TermCoding` terms: they must be `Codable`.
    public typealias SerializationRequirement = any Codable

    let system: SwerlActorSystem
    var generics: [String] = []
    var arguments: [Term] = []

    init(system: SwerlActorSystem) { self.system = system }

    /// Records a generic type of the call by its mangled name.
    ///
    /// - Parameter type: The type substituted for a generic parameter.
    /// - Throws: `RemoteError` for a type that has no mangled name.
    public mutating func recordGenericSubstitution<T>(_ type: T.Type) throws {
        guard let name = _mangledTypeName(type) else {
            throw SwerlActorSystem.RemoteError(type: "", message: "\(type) has no mangled name to send")
        }
        generics.append(name)
    }

    /// Records an argument's value as a `TermCoding` term.
    ///
    /// - Parameter argument: The argument.
    /// - Throws: the argument's `encode(to:)` errors.
    public mutating func recordArgument<Value: Codable>(_ argument: RemoteCallArgument<Value>) throws {
        let system = self.system
        arguments.append(try TermCoding.$userInfo.withValue(system.codingInfo) {
            try TermCoding.term(of: argument.value)
        })
    }

    /// Records nothing: a thrown error's reply carries its type.
    ///
    /// - Parameter type: The method's error type.
    /// - Throws: Nothing; it never throws.
    public mutating func recordErrorType<E: Error>(_ type: E.Type) throws {}
    /// Records nothing: the caller decodes the reply as the type it expects.
    ///
    /// - Parameter type: The method's return type.
    /// - Throws: Nothing; it never throws.
    public mutating func recordReturnType<R: Codable>(_ type: R.Type) throws {}
    /// Does nothing: the recorded types and arguments are the call.
    ///
    /// - Throws: Nothing; it never throws.
    public mutating func doneRecording() throws {}
}

/// Hands a received call's generic types and arguments to the target.
public struct SwerlInvocationDecoder: DistributedTargetInvocationDecoder {
    /// Arguments are decoded from `TermCoding` terms: they must be `Codable`.
    public typealias SerializationRequirement = any Codable

    let generics: [String]
    var arguments: ArraySlice<Term>

    /// The call's generic types, found by their mangled names.
    ///
    /// - Returns: The types, in the order the caller recorded them.
    /// - Throws: `RemoteError` for a type this program does not have.
    public mutating func decodeGenericSubstitutions() throws -> [Any.Type] {
        try generics.map { name in
            guard let type = _typeByName(name) else {
                throw SwerlActorSystem.RemoteError(type: name, message: "no such type in this program")
            }
            return type
        }
    }

    /// The call's next argument, decoded from its term.
    ///
    /// - Returns: The argument, as an `Argument`.
    /// - Throws: `RemoteError` when the call has fewer arguments;
    ///   `TermCoding.DecodingFailure` for one of another type.
    public mutating func decodeNextArgument<Argument: Codable>() throws -> Argument {
        guard let term = arguments.popFirst() else {
            throw SwerlActorSystem.RemoteError(type: "", message: "the call has too few arguments")
        }
        return try TermCoding.value(Argument.self, from: term)
    }

    /// Always nil: a call does not carry its error type.
    ///
    /// - Returns: nil.
    /// - Throws: Nothing; it never throws.
    public mutating func decodeErrorType() throws -> Any.Type? { nil }
    /// Always nil: a call does not carry its return type.
    ///
    /// - Returns: nil.
    /// - Throws: Nothing; it never throws.
    public mutating func decodeReturnType() throws -> Any.Type? { nil }
}

/// Makes the reply of a call the target answered.
public final class SwerlResultHandler: DistributedTargetInvocationResultHandler, @unchecked Sendable {
    /// Results are encoded as `TermCoding` terms: they must be `Codable`.
    public typealias SerializationRequirement = any Codable

    /// The reply; set once, by the call's task.
    var reply: Term = .atom("ok")
    /// A thrown `ExitReason`: the process exits with it instead of replying.
    var exit: ExitReason?

    init() {}

    /// Makes the reply `{ok, Value}`, the value as a `TermCoding` term.
    ///
    /// - Parameter value: The method's result.
    /// - Throws: What the value's `encode(to:)` throws; the caller then
    ///   gets that error (or a `RemoteError`) instead of the result.
    public func onReturn<Success: Codable>(value: Success) async throws {
        reply = .tuple([.atom("ok"), try TermCoding.term(of: value)])
    }

    /// Makes the reply `ok`.
    ///
    /// - Throws: Nothing; it never throws.
    public func onReturnVoid() async throws { reply = .atom("ok") }

    /// Makes the reply `{error, Type, Text, Value}` for the caller to throw
    /// (Value is the error as a term when it is `Encodable`, else nil). A
    /// thrown `ExitReason` makes the process exit with it instead: no reply.
    ///
    /// - Parameter error: The error the method threw.
    /// - Throws: Nothing; it never throws.
    public func onThrow<Err: Error>(error: Err) async throws {
        if let reason = error as? ExitReason {
            exit = reason
        } else {
            reply = Invocation.failure(error)
        }
    }
}
