// Exit reasons across the wire. A Swerl reason is a code and detail bytes;
// an Erlang reason is any term. The library's codes travel as the atoms
// Erlang uses for them, a crash's detail as `{error, <<Detail>>}` and a user
// code as `{swerl_reason, Code, <<Detail>>}`, so both come back unchanged.
// Any other Erlang reason arrives as ERROR (SHUTDOWN for `{shutdown, _}`)
// with the term, as Erlang prints it, for detail.

import CSwerl

enum ExitReasons {
    static let noconnection = Int32(SWERL_REASON_NOCONNECTION)

    private static let atoms: [Int32: String] = [
        Reason.normal: "normal", Reason.shutdown: "shutdown", Reason.kill: "kill", Reason.killed: "killed",
        Reason.noproc: "noproc", Reason.error: "error", Reason.mailboxFull: "mailbox_full",
        Int32(SWERL_REASON_NOCONNECTION): "noconnection",
    ]
    private static let codes: [String: Int32] = Dictionary(uniqueKeysWithValues: atoms.map { ($0.value, $0.key) })

    static func term(reason: Int32, detail: UnsafeRawBufferPointer) -> Term {
        let bytes = Array(detail)
        if reason >= Int32(SWERL_REASON_USER) || atoms[reason] == nil {
            return bytes.isEmpty ? .tuple([.atom("swerl_reason"), .integer(Int64(reason))])
                : .tuple([.atom("swerl_reason"), .integer(Int64(reason)), .binary(bytes)])
        }
        let atom = Term.atom(atoms[reason]!)
        if bytes.isEmpty || reason == Reason.normal || reason == Reason.kill { return atom }
        return .tuple([atom, .binary(bytes)])
    }

    /// The code and detail of an Erlang reason.
    static func reason(_ term: Term) -> (Int32, [UInt8]) {
        switch term {
        case .atom(let name):
            if let code = codes[name] { return (code, []) }
        case .tuple(let items) where items.count == 2:
            if case .atom(let name) = items[0], let code = codes[name], case .binary(let detail) = items[1] {
                return (code, detail)
            }
            if case .atom("shutdown") = items[0] { return (Reason.shutdown, text(items[1])) }
        default:
            break
        }
        if case .tuple(let items) = term, items.count >= 2, items.count <= 3, case .atom("swerl_reason") = items[0],
           case .integer(let code) = items[1], code >= Int64(Int32.min), code <= Int64(Int32.max) {
            if items.count == 3, case .binary(let detail) = items[2] { return (Int32(code), detail) }
            if items.count == 2 { return (Int32(code), []) }
        }
        return (Reason.error, text(term))
    }

    /// A term as Erlang prints it (~p), as detail bytes.
    static func text(_ term: Term) -> [UInt8] {
        let encoded = ExternalTermFormat.encode(term)
        return encoded.withUnsafeBytes { (try? TermFormat.format($0, engine: nil).get()) ?? [] }
    }
}
