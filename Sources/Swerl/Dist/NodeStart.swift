// Becoming a node (swerl_node_start) and the node-wide calls around it:
// its name, connecting on purpose, the nodes connected, node watchers.

import CSwerl
import Glibc

extension Engine {
    package struct NodeOptions {
        package var cookie: String?
        package var listenHost = "0.0.0.0"
        package var listenPort: UInt16 = 0
        package var epmdPort: UInt16 = 0
        package var tickMillis: UInt32 = 60_000
        package var maxFrame = 64 << 20
        package var connectTimeoutMillis: UInt32 = 7_000
        /// SWERL_NODE_START_EPMD: no EPMD listening on the port, start this runtime's own.
        package var startEPMD = false

        package init() {}
    }

    /// swerl_node_start: blocks until EPMD has registered the name (or
    /// refused), as erl's start does.
    package func startNode(name given: String, options: NodeOptions) -> Int32 {
        let function = "swerl_node_start"
        if let refusal = refuseBlocking(function) { return refusal }
        if isStopped { return Code.stopped }
        if let node = distribution.load() {
            return ErrorDetail.failing(Code.invalid, "\(function): this runtime is the node \(node.name) already")
        }
        let name = given.contains("@") ? given : given + "@" + Self.shortHostName()
        guard Handshake.isNodeName(name) else {
            return ErrorDetail.failing(Code.invalid, "\(function): \"\(given)\" is not a node name: write name@host "
                + "(name@127.0.0.1, name@host.example.com, or name@host for a short name)")
        }
        let cookie: String
        if let given = options.cookie {
            guard !given.isEmpty, given.utf8.count <= 255, given.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                return ErrorDetail.failing(Code.invalid, "\(function): a cookie is 1 to 255 printable ASCII characters, "
                    + "no spaces")
            }
            cookie = given
        } else {
            switch Self.homeCookie() {
            case .success(let found): cookie = found
            case .failure(let why): return ErrorDetail.failing(Code.invalid, "\(function): no cookie given, and \(why)")
            }
        }
        let epmdPort = options.epmdPort != 0 ? options.epmdPort : EPMD.port
        if options.startEPMD, let refusal = startOwnEPMD(port: epmdPort, in: function) { return refusal }
        let node = DistNode(engine: self, name: name, options: DistNode.Options(
            cookie: cookie, epmdPort: epmdPort,
            listenPort: options.listenPort, listenHost: options.listenHost, tickMillis: max(options.tickMillis, 100),
            maxFrame: options.maxFrame, connectTimeoutMillis: options.connectTimeoutMillis))
        let start = NodeProcess.Start()
        let spawned = NodeProcess.spawn(node: node, engine: self, start: start)
        if spawned == Code.nameTaken {
            return ErrorDetail.failing(Code.nameTaken, "\(function): a process is registered as net_kernel, the name "
                + "the node's own process takes")
        }
        guard spawned == Code.ok else { return spawned }
        let deadline = monotonicNanos() + UInt64(options.connectTimeoutMillis) * 1_000_000
        let outcome = start.outcome.wait(until: { $0 != nil }, deadline: deadline) { value, _ in value }
        guard let outcome, outcome.code == Code.ok else {
            // Gone before this returns: its name (net_kernel) and its
            // sockets are free for the next attempt.
            _ = exit(node.processPid, reason: Reason.kill, detail: UnsafeRawBufferPointer(start: nil, count: 0))
            _ = waitExit(node.processPid, timeoutMillis: 5_000)
            let (code, detail) = outcome ?? (Code.timedOut, "\(function): EPMD did not answer in "
                                                + "\(options.connectTimeoutMillis) ms")
            return ErrorDetail.failing(code, detail)
        }
        guard distribution.storeIfNil(node) === node else {
            _ = exit(node.processPid, reason: Reason.kill, detail: UnsafeRawBufferPointer(start: nil, count: 0))
            _ = waitExit(node.processPid, timeoutMillis: 5_000)
            return ErrorDetail.failing(Code.invalid, "\(function): this runtime became a node meanwhile")
        }
        _ = Self.published.withUnsafeBytes {
            send(to: node.processPid, data: $0.baseAddress, count: $0.count, runtimeTraffic: true)
        }
        report(level: Int(SWERL_LOG_INFO), "node \(name) started (listening on port \(node.listenPort), hidden)")
        return Code.ok
    }

    private static let published = NodeProcess.published

    /// The host name up to its first dot, as erl's short names use.
    static func shortHostName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let got = buffer.withUnsafeMutableBytes { gethostname($0.baseAddress!.assumingMemoryBound(to: CChar.self), 255) }
        guard got == 0 else { return "localhost" }
        let full = String(decoding: buffer.prefix(while: { $0 != 0 }), as: UTF8.self)
        return String(full.split(separator: ".").first ?? "localhost")
    }

    /// `$HOME/.erlang.cookie`, made as erl makes it when it is missing (20
    /// random capital letters, readable by its owner only).
    static func homeCookie() -> Result<String, CookieError> {
        guard let home = getenvString("HOME"), !home.isEmpty else {
            return .failure(CookieError("HOME is not set (so there is no ~/.erlang.cookie)"))
        }
        let path = home + "/.erlang.cookie"
        if let file = fopen(path, "r") {
            defer { fclose(file) }
            var buffer = [UInt8](repeating: 0, count: 1024)
            let count = fread(&buffer, 1, buffer.count, file)
            let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }
            var bytes = Array(buffer[0..<count])
            while let last = bytes.last, isSpace(last) { bytes.removeLast() }
            while let first = bytes.first, isSpace(first) { bytes.removeFirst() }
            let text = String(decoding: bytes, as: UTF8.self)
            guard !text.isEmpty else { return .failure(CookieError("\(path) is empty")) }
            return .success(text)
        }
        let made = String((0..<20).map { _ in Character(Unicode.Scalar(UInt8.random(in: 65...90))) })
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o400)
        guard descriptor >= 0 else { return .failure(CookieError("\(path) cannot be read or made")) }
        _ = made.utf8CString.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, made.utf8.count) }
        close(descriptor)
        return .success(made)
    }

    package struct CookieError: Error, CustomStringConvertible {
        package let description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Around a node

    /// This runtime's node name, or nil.
    package var nodeName: String? { distribution.load()?.name }

    /// swerl_node_connect: blocks until the connection to `peer` is up, or
    /// failed, or `timeoutMillis` passed.
    package func connectNode(_ peer: String, timeoutMillis: UInt32) -> Int32 {
        let function = "swerl_node_connect"
        if let refusal = refuseBlocking(function) { return refusal }
        if isStopped { return Code.stopped }
        guard let node = distribution.load() else {
            return ErrorDetail.failing(Code.invalid, "\(function): this runtime is not a node (swerl_node_start)")
        }
        guard Handshake.isNodeName(peer) else {
            return ErrorDetail.failing(Code.invalid, "\(function): \"\(peer)\" is not a node name (name@host)")
        }
        if peer == node.name { return Code.ok }
        guard let connection = node.connection(to: remotePids.nodeIndex(peer)) else {
            return ErrorDetail.failing(Code.network, "\(function): cannot connect to \(peer)")
        }
        if connection.waitSettled(untilNanos: Deadline.optional(afterMillis: timeoutMillis)) { return Code.ok }
        if !connection.isDown { return ErrorDetail.failing(Code.timedOut, "\(function): \(peer) did not answer in time") }
        return ErrorDetail.failing(Code.network, "\(function): could not connect to \(peer) (the log hook says why)")
    }

    /// The connected nodes' names.
    package func connectedNodes() -> [String] { distribution.load()?.connectedNodes() ?? [] }

    /// swerl_monitor_nodes: the calling process is told `{nodeup, Node}` and
    /// `{nodedown, Node}` (term messages), as net_kernel:monitor_nodes tells.
    package func monitorNodes(_ pid: UInt64, _ on: Bool) -> Int32 {
        guard let node = distribution.load() else {
            return ErrorDetail.failing(Code.invalid, "swerl_monitor_nodes: this runtime is not a node (swerl_node_start)")
        }
        _ = node.nodeWatchers.withLock { on ? $0.insert(pid).inserted : $0.remove(pid) != nil }
        return Code.ok
    }

    /// The node a pid belongs to: this node's name for a local one.
    package func nodeOf(_ pid: UInt64) -> String? {
        if Pids.isLocal(pid) { return owns(pid) ? nodeIdentity.name : nil }
        return remotePids.erlangPid(pid)?.node
    }
}

extension Engine {
    /// EINVAL naming the byte and the reason when `bytes` is not one whole
    /// term in External Term Format; nil when it is.
    package func malformedTerm(_ bytes: UnsafeRawBufferPointer, in function: String) -> Int32? {
        guard let problem = TermCursor.check(bytes) else { return nil }
        return ErrorDetail.failing(Code.invalid, "\(function): not a term in External Term Format: \(problem)")
    }

    /// swerl_send_remote(_term): `{name, node} ! Message`.
    package func sendRemote(name: String, node nodeName: String, bytes: UnsafeRawBufferPointer, term: Bool) -> Int32 {
        let function = term ? "swerl_send_remote_term" : "swerl_send_remote"
        if bytes.count > maxMessageSize { return tooBig(bytes.count) }
        if isStopped { return Code.stopped }
        if term, let malformed = malformedTerm(bytes, in: function) { return malformed }
        let from = CallbackContexts.current.flatMap { $0.engine === self ? $0.pointee.process?.pointee.ownPid : nil } ?? 0
        guard let node = distribution.load() else {
            if nodeName == nodeIdentity.name, let pid = registry.whereis(name) {
                return send(to: pid, data: bytes.baseAddress, count: bytes.count, term: term)
            }
            return ErrorDetail.failing(Code.invalid, "\(function): this runtime is not a node (swerl_node_start)")
        }
        return node.send(toName: name, node: nodeName, from: from, bytes: bytes, term: term)
    }

    /// swerl_reply_term.
    package func replyTerm(_ ref: UInt64, bytes: UnsafeRawBufferPointer) -> Int32 {
        if let malformed = malformedTerm(bytes, in: "swerl_reply_term") { return malformed }
        return reply(ref, data: bytes, term: true)
    }
}

extension UnsafeMutablePointer where Pointee == CallbackContext {
    /// swerl_monitor_name: monitor(process, {Name, Node}).
    func monitorName(_ name: String, node nodeName: String) -> (Int32, UInt64) {
        let engine = self.engine
        if nodeName == engine.nodeIdentity.name {
            guard let pid = engine.registry.whereis(name) else { return downAtOnce(Reason.noproc) }
            return monitor(pid)
        }
        guard let node = engine.distribution.load() else {
            return (ErrorDetail.failing(Code.invalid, "swerl_monitor_name: this runtime is not a node"), 0)
        }
        guard Handshake.isNodeName(nodeName) else {
            return (ErrorDetail.failing(Code.invalid, "swerl_monitor_name: \"\(nodeName)\" is not a node name"), 0)
        }
        let peer = engine.remotePids.nodeIndex(nodeName)
        let target = node.namedTarget(node: peer)
        let ref = engine.newRef()
        guard node.monitor(watcher: selfPid, target: target, name: name, nodeIndex: peer, ref: ref) else {
            return downAtOnce(ExitReasons.noconnection, ref: ref)
        }
        process.pointee.monitors.insert(MonitorEntry(ref: ref, pid: target))
        process.publishRelations()
        return (Code.ok, ref)
    }

    /// A monitor whose DOWN is due at once (from 0: a name, not a pid).
    private func downAtOnce(_ reason: Int32, ref given: UInt64 = 0) -> (Int32, UInt64) {
        let ref = given != 0 ? given : engine.newRef()
        guard let down = Nodes.make(kind: NodeKind.down, target: selfPid, from: 0, ref: ref, reason: reason,
                                    data: nil, len: 0) else { return (Code.noMemory, 0) }
        process.appendMail(down)
        return (Code.ok, ref)
    }
}

extension Engine {
    package static func monitorName(_ raw: UnsafeRawPointer?, _ name: String, node: String) -> (Int32, UInt64) {
        guard let context = CallbackContexts.validate(raw) else { return (badContext(), 0) }
        return context.monitorName(name, node: node)
    }

    package static func monitorNodes(_ raw: UnsafeRawPointer?, _ on: Bool) -> Int32 {
        guard let context = CallbackContexts.validate(raw) else { return badContext() }
        return context.engine.monitorNodes(context.selfPid, on)
    }
}

extension Engine {
    /// ENOPROC for a pid this runtime cannot name a node for.
    package func absentPid(_ pid: UInt64) -> Int32 { absent(pid) }
}
