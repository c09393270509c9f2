// What a frame from a peer does here: its control message applied with
// OTP's semantics, on the connection's process. Messages go to local
// processes as plain bytes when they are binaries and marked as terms
// otherwise; `{'$gen_call', From, Request}` becomes a CALL that swerl_reply
// answers; `{Ref, Reply}` for a call made here settles it. A frame that
// does not decode, or an unknown control message, ends the connection.

import CSwerl

enum Inbound {
    enum Outcome {
        case done
        /// The memory ceiling refused a delivery: try the frame again later.
        case refused([UInt8])
        case malformed(String)
    }

    /// A frame taken apart: its control message's operation and elements,
    /// and the message after it (version byte first), if any.
    struct Parsed {
        var op: Int64
        var items: [Term]
        var message: ArraySlice<UInt8>?
    }

    /// Takes a frame apart, or says why it is not a frame (bounded: the
    /// term decoder's limits).
    static func parse(_ frame: [UInt8]) -> Result<Parsed, MalformedFrame> {
        guard frame.count >= 3, frame[0] == passThrough, frame[1] == 131 else {
            return .failure(MalformedFrame("not a pass-through frame (the atom cache is not offered, so none should come)"))
        }
        let control: Term
        let end: Int
        do {
            (control, end) = try ExternalTermFormat.decode(frame, at: 2)
        } catch {
            return .failure(MalformedFrame("control message: \(error)"))
        }
        var message: ArraySlice<UInt8>? = nil
        if end < frame.count {
            guard frame[end] == 131 else { return .failure(MalformedFrame("the message does not start with the version byte")) }
            message = frame[end...]
        }
        guard case .tuple(let items) = control, let first = items.first, case .integer(let op) = first else {
            return .failure(MalformedFrame("the control message is not a tuple starting with an operation"))
        }
        return .success(Parsed(op: op, items: items, message: message))
    }

    struct MalformedFrame: Error {
        let why: String
        init(_ why: String) { self.why = why }
    }

    static func apply(_ frame: [UInt8], on process: ConnectionProcess) -> Outcome {
        switch parse(frame) {
        case .failure(let malformed):
            return .malformed(malformed.why)
        case .success(let parsed):
            var apply = Applier(process: process, node: process.node, engine: process.engine,
                                connection: process.connection!, frame: frame)
            return apply.run(op: parsed.op, parsed.items, message: parsed.message)
        }
    }

    struct Applier {
        let process: ConnectionProcess
        let node: DistNode
        let engine: Engine
        let connection: DistConnection
        let frame: [UInt8]

        mutating func run(op: Int64, _ items: [Term], message: ArraySlice<UInt8>?) -> Outcome {
            func bad() -> Outcome { .malformed("control message \(op) with \(items.count) elements") }
            switch op {
            case DistOp.link:
                guard items.count == 3, let from = pid(items[1]), let to = pid(items[2]) else { return bad() }
                link(from: from, to: to)
            case DistOp.send, DistOp.sendTT, DistOp.sendSender, DistOp.sendSenderTT:
                guard items.count >= 3, let to = pid(items[2]), let message else { return bad() }
                let from = op == DistOp.sendSender || op == DistOp.sendSenderTT ? pid(items[1]) ?? 0 : 0
                return deliver(message, from: from, to: to)
            case DistOp.regSend, DistOp.regSendTT:
                guard items.count >= 4, let from = pid(items[1]), case .atom(let name) = items[3], let message else {
                    return bad()
                }
                guard let to = engine.registry.whereis(name) else {
                    engine.deadLetters.add(1, ordering: .relaxed)  // Erlang drops it too
                    return .done
                }
                return deliver(message, from: from, to: to)
            case DistOp.exit, DistOp.exitTT, DistOp.exit2, DistOp.exit2TT:
                guard items.count >= 4, let from = pid(items[1]), let to = pid(items[2]) else { return bad() }
                exit(from: from, to: to, reason: items[items.count - 1], viaLink: op == DistOp.exit || op == DistOp.exitTT)
            case DistOp.payloadExit, DistOp.payloadExitTT, DistOp.payloadExit2, DistOp.payloadExit2TT:
                guard items.count >= 3, let from = pid(items[1]), let to = pid(items[2]), let message,
                      let reason = try? ExternalTermFormat.decode(message) else { return bad() }
                exit(from: from, to: to, reason: reason, viaLink: op == DistOp.payloadExit || op == DistOp.payloadExitTT)
            case DistOp.unlink:
                guard items.count == 3, let from = pid(items[1]), let to = pid(items[2]) else { return bad() }
                unlink(from: from, to: to)
            case DistOp.unlinkId:
                guard items.count == 4, let from = pid(items[2]), let to = pid(items[3]) else { return bad() }
                // The acknowledgement goes before anything else this node
                // sends about the pair (the link protocol's rule).
                let id = items[1]
                node.control(connection) { frame in
                    frame.tuple(4)
                    frame.integer(DistOp.unlinkIdAck)
                    frame.term(id)
                    node.writePid(to, into: &frame, via: connection)
                    node.writePid(from, into: &frame, via: connection)
                }
                unlink(from: from, to: to)
            case DistOp.unlinkIdAck, DistOp.groupLeader:
                break
            case DistOp.monitorP:
                guard items.count == 4, let from = pid(items[1]) else { return bad() }
                monitor(watcher: from, named: items[2], erlangRef: items[3])
            case DistOp.demonitorP:
                guard items.count == 4 else { return bad() }
                demonitor(erlangRef: items[3])
            case DistOp.monitorPExit:
                guard items.count == 5, let to = pid(items[2]) else { return bad() }
                down(named: items[1], watcher: to, erlangRef: items[3], reason: items[4])
            case DistOp.payloadMonitorPExit:
                guard items.count == 4, let to = pid(items[2]), let message,
                      let reason = try? ExternalTermFormat.decode(message) else { return bad() }
                down(named: items[1], watcher: to, erlangRef: items[3], reason: reason)
            case DistOp.aliasSend, DistOp.aliasSendTT:
                // Aliases are not offered (no DFLAG_ALIAS): only a reply to a
                // call made here can use one, as its ref.
                guard items.count >= 3, let message else { return bad() }
                if case .reference(let alias) = items[2], let ref = engine.ref(of: alias),
                   TermCursor.check(message.withUnsafeBytes { $0 }) == nil {
                    settleReply(ref: ref, reply: Array(message))
                }
            default:
                return .malformed("unknown control message \(op)")
            }
            return .done
        }

        private func pid(_ term: Term) -> UInt64? {
            guard case .pid(let erlang) = term else { return nil }
            let pid = engine.pid(of: erlang)
            return pid == 0 ? nil : pid
        }

        // MARK: Links and exits

        private func link(from remote: UInt64, to local: UInt64) {
            guard engine.table.lookup(local) != nil else {
                // Not alive: the link answers with an exit signal noproc.
                engine.signal(NodeKind.sigExit, to: remote, from: local, aux: ExitFlags.viaLink, reason: Reason.noproc)
                return
            }
            connection.relations.withLock { _ = $0.links.insert(Relations.Link(local: local, remote: remote)) }
            engine.signal(NodeKind.sigLink, to: local, from: remote)
        }

        private func unlink(from remote: UInt64, to local: UInt64) {
            connection.relations.withLock { _ = $0.links.remove(Relations.Link(local: local, remote: remote)) }
            engine.signal(NodeKind.sigUnlink, to: local, from: remote)
        }

        private func exit(from remote: UInt64, to local: UInt64, reason term: Term, viaLink: Bool) {
            if viaLink {
                let known = connection.relations.withLock { $0.links.remove(Relations.Link(local: local, remote: remote)) }
                guard known != nil else { return }  // unlinked already: dropped (OTP-21a)
            }
            let (reason, detail) = ExitReasons.reason(term)
            detail.withUnsafeBytes { bytes in
                engine.signal(NodeKind.sigExit, to: local, from: remote, aux: viaLink ? ExitFlags.viaLink : 0,
                              reason: reason, detail: bytes)
            }
        }

        // MARK: Monitors

        private func monitor(watcher: UInt64, named: Term, erlangRef: Term) {
            var target: UInt64? = nil
            switch named {
            case .pid: target = pid(named)
            case .atom(let name): target = engine.registry.whereis(name)
            default: break
            }
            guard let target, engine.table.lookup(target) != nil else {
                sendDown(named: named, to: watcher, erlangRef: erlangRef, reason: .atom("noproc"))
                return
            }
            let ref = engine.newRef()
            connection.relations.withLock {
                $0.incoming[ref] = Relations.Incoming(watcher: watcher, target: target, named: named, erlangRef: erlangRef)
                $0.incomingByRef[erlangRef] = ref
            }
            engine.signal(NodeKind.sigMonitor, to: target, from: watcher, ref: ref, aux: watcher)
        }

        private func sendDown(named: Term, to watcher: UInt64, erlangRef: Term, reason: Term) {
            node.control(connection) { frame in
                frame.tuple(5)
                frame.integer(DistOp.monitorPExit)
                frame.term(named)
                node.writePid(watcher, into: &frame, via: connection)
                frame.term(erlangRef)
                frame.term(reason)
            }
        }

        private func demonitor(erlangRef: Term) {
            let found = connection.relations.withLock { relations -> (UInt64, Relations.Incoming)? in
                guard let ref = relations.incomingByRef.removeValue(forKey: erlangRef),
                      let monitor = relations.incoming.removeValue(forKey: ref) else { return nil }
                return (ref, monitor)
            }
            guard let (ref, monitor) = found else { return }
            engine.signal(NodeKind.sigDemonitor, to: monitor.target, from: monitor.watcher, ref: ref)
        }

        /// A monitor held here fired on the peer.
        private func down(named: Term, watcher: UInt64, erlangRef: Term, reason term: Term) {
            guard case .reference(let erlang) = erlangRef, let ref = engine.ref(of: erlang),
                  let monitor = connection.relations.withLock({ $0.outgoing.removeValue(forKey: ref) }) else { return }
            let (reason, detail) = ExitReasons.reason(term)
            detail.withUnsafeBytes { bytes in
                if monitor.watcher == 0 {
                    engine.waiters.down(ref, reason: reason, detail: bytes)
                } else {
                    engine.signal(NodeKind.sigDown, to: watcher, from: monitor.name == nil ? monitor.target : 0, ref: ref,
                                  reason: reason, detail: bytes)
                }
            }
        }

        // MARK: Messages and calls

        private mutating func deliver(_ message: ArraySlice<UInt8>, from: UInt64, to: UInt64) -> Outcome {
            if let binary = Self.binaryBody(message) {
                return sent(binary.withUnsafeBytes {
                    engine.send(to: to, data: $0.baseAddress, count: $0.count, term: false, sender: from)
                })
            }
            if Self.mayBeCall(message) || Self.mayBeReply(message), let term = try? ExternalTermFormat.decode(message) {
                // The request or reply goes on as the peer wrote it (a map's
                // keys in their order), not decoded and written again.
                if case .tuple(let items) = term, items.count == 3, case .atom("$gen_call") = items[0],
                   case .tuple(let fromTag) = items[1], fromTag.count == 2, let caller = pid(fromTag[0]),
                   let parts = Self.elements(message), parts.count == 3 {
                    return call(to: to, caller: caller, tag: fromTag[1], request: parts[2])
                }
                if case .tuple(let items) = term, items.count == 2, let ref = ourRef(items[0]),
                   let parts = Self.elements(message), parts.count == 2, settleReply(ref: ref, reply: parts[1]) {
                    return .done
                }
            }
            // Marked as a term only when it is one: readers trust the mark.
            if let problem = message.withUnsafeBytes({ TermCursor.check($0) }) {
                return .malformed("a message that is not a term: \(problem)")
            }
            return sent(message.withUnsafeBytes {
                engine.send(to: to, data: $0.baseAddress, count: $0.count, term: true, sender: from)
            })
        }

        private func sent(_ code: Int32) -> Outcome {
            code == Code.memoryLimit ? .refused(frame) : .done
        }

        /// The bytes of a message that is exactly one binary.
        static func binaryBody(_ message: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
            let start = message.startIndex
            guard message.count >= 6, message[start + 1] == 109 else { return nil }
            let length = message[(start + 2)..<(start + 6)].reduce(0) { $0 << 8 | Int($1) }
            guard message.count == 6 + length else { return nil }
            return message[(start + 6)...]
        }

        /// A 3-tuple whose first element is an atom: maybe `'$gen_call'`.
        static func mayBeCall(_ message: ArraySlice<UInt8>) -> Bool {
            let start = message.startIndex
            return message.count > 4 && message[start + 1] == 104 && message[start + 2] == 3
                && (message[start + 3] == 119 || message[start + 3] == 118 || message[start + 3] == 100)
        }

        /// A 2-tuple whose first element is a ref or a list (`[alias | Ref]`).
        static func mayBeReply(_ message: ArraySlice<UInt8>) -> Bool {
            let start = message.startIndex
            return message.count > 4 && message[start + 1] == 104 && message[start + 2] == 2
                && (message[start + 3] == 90 || message[start + 3] == 108)
        }

        private func ourRef(_ term: Term) -> UInt64? {
            switch term {
            case .reference(let erlang): return engine.ref(of: erlang)
            case .improperList(let items, let tail) where items == [.atom("alias")]:
                if case .reference(let erlang) = tail { return engine.ref(of: erlang) }
                return nil
            default: return nil
            }
        }

        /// The elements of a message that is a tuple, each as a term of its
        /// own (version byte first), or nil.
        static func elements(_ message: ArraySlice<UInt8>) -> [[UInt8]]? {
            let bytes = Array(message)
            return bytes.withUnsafeBytes { all -> [[UInt8]]? in
                var cursor = TermCursor(all)
                guard (try? cursor.version()) != nil, let tuple = try? cursor.header(),
                      tuple.type == UInt32(SWERL_TERM_TUPLE) else { return nil }
                var parts: [[UInt8]] = []
                var offset = cursor.offset
                for _ in 0..<tuple.count {
                    guard case .success(let end) = TermCursor.skip(all, at: offset) else { return nil }
                    parts.append([131] + bytes[offset..<end])
                    offset = end
                }
                return parts
            }
        }

        /// `{Ref, Reply}` for a call made here: settles it with the reply's
        /// bytes (a binary's body, else the term). false: no such call is
        /// waiting, so it is an ordinary message.
        @discardableResult
        private func settleReply(ref: UInt64, reply: [UInt8]) -> Bool {
            let body = Self.binaryBody(reply[...])
            let bytes = body.map { Array($0) } ?? reply
            return bytes.withUnsafeBytes { engine.waiters.reply(ref, data: $0, term: body == nil) } == Code.ok
        }

        /// gen_server:call from the peer: a CALL to `to`, whose swerl_reply
        /// goes back as `{Tag, Reply}` to the caller, as gen_server:reply does.
        private func call(to: UInt64, caller: UInt64, tag: Term, request: [UInt8]) -> Outcome {
            let body = Self.binaryBody(request[...])
            let bytes = body.map { Array($0) } ?? request
            let node = self.node
            let connection = self.connection
            let server = to
            let code = bytes.withUnsafeBytes { request in
                engine.deliverRemoteCall(to: to, from: caller, request: request, term: body == nil) { ref in
                    connection.relations.withLock { _ = $0.callsIn.insert(ref) }
                } answer: { ref, outcome in
                    connection.relations.withLock { _ = $0.callsIn.remove(ref) }
                    guard case .reply(let data, let isTerm) = outcome else { return }
                    // {Tag, Reply}: the reply's own bytes after the tuple's header.
                    var message: [UInt8] = [131, 104, 2]
                    ExternalTermFormat.encode(tag, into: &message)
                    if isTerm && data.count > 1 {
                        message += data.dropFirst()
                    } else {
                        message += [109] + withUnsafeBytes(of: UInt32(data.count).bigEndian) { Array($0) } + data
                    }
                    message.withUnsafeBytes { _ = node.send(to: caller, from: server, bytes: $0, term: true) }
                }
            }
            return sent(code)
        }
    }
}
