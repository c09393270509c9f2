// Distribution (swerl.h "Distribution"): arguments checked and translated;
// the node (Sources/Swerl/Dist) decides everything else.

import CSwerl
import Glibc
import Swerl

@c public func swerl_node_opts_init(_ opts: UnsafeMutablePointer<swerl_node_opts>?) {
    guard let opts else { return }
    opts.pointee = swerl_node_opts()
    opts.pointee.size = UInt32(MemoryLayout<swerl_node_opts>.size)
}

@c public func swerl_node_start(_ rt: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                _ opts: UnsafePointer<swerl_node_opts>?) -> CInt {
    handedOut {
        let function = "swerl_node_start"
        return withEngine(rt, function) { engine in
            guard let name else { return null(function, "name") }
            var options = Engine.NodeOptions()
            if let opts {
                var defaults = swerl_node_opts()
                swerl_node_opts_init(&defaults)
                guard let given = StructSizes.read(opts, defaults: defaults) else {
                    return badSize(function, "opts", opts.pointee.size, "swerl_node_opts",
                                   expected: MemoryLayout<swerl_node_opts>.size)
                }
                if given.flags & ~UInt32(SWERL_NODE_START_EPMD) != 0 {
                    return invalid(function, "opts->flags: unknown bits 0x\(String(given.flags & ~UInt32(SWERL_NODE_START_EPMD), radix: 16))")
                }
                options.startEPMD = given.flags & UInt32(SWERL_NODE_START_EPMD) != 0
                guard given.listen_port <= 65535, given.epmd_port <= 65535 else {
                    return invalid(function, "a port is from 0 to 65535")
                }
                options.cookie = given.cookie.map { String(cString: $0) }
                if let host = given.listen_host { options.listenHost = String(cString: host) }
                options.listenPort = UInt16(given.listen_port)
                options.epmdPort = UInt16(given.epmd_port)
                if given.tick_ms != 0 { options.tickMillis = given.tick_ms }
                if given.connect_timeout_ms != 0 { options.connectTimeoutMillis = given.connect_timeout_ms }
                if given.max_frame != 0 { options.maxFrame = Int(clamping: given.max_frame) }
            }
            return engine.startNode(name: String(cString: name), options: options)
        }
    }
}

/// snprintf's way: the text into buf (truncated, NUL-terminated), its length.
private func copyOut(_ text: String, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> CInt {
    let utf8 = Array(text.utf8)
    if let buf, cap > 0 {
        let count = min(utf8.count, cap - 1)
        utf8.withUnsafeBytes { UnsafeMutableRawPointer(buf).copyMemory(from: $0.baseAddress!, byteCount: count) }
        buf[count] = 0
    }
    return CInt(utf8.count)
}

@c public func swerl_node_name(_ rt: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_node_name") { engine in
            if buf == nil && cap > 0 { return null("swerl_node_name", "buf") }
            guard let name = engine.nodeName else { return invalid("swerl_node_name", "this runtime is not a node") }
            return copyOut(name, buf, cap)
        }
    }
}

@c public func swerl_node_connect(_ rt: OpaquePointer?, _ node: UnsafePointer<CChar>?, _ timeoutMs: UInt32) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_node_connect") { engine in
            guard let node else { return null("swerl_node_connect", "node") }
            return engine.connectNode(String(cString: node), timeoutMillis: timeoutMs)
        }
    }
}

@c public func swerl_node_list(_ rt: OpaquePointer?, _ out: UnsafeMutablePointer<swerl_buffer>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_node_list") { engine in
            guard let out else { return null("swerl_node_list", "out") }
            out.pointee = swerl_buffer(data: nil, len: 0)
            let bytes: [UInt8] = engine.connectedNodes().reduce(into: []) { $0 += Array($1.utf8) + [0] }
            guard !bytes.isEmpty else { return 0 }
            guard let memory = malloc(bytes.count) else { return CInt(SWERL_ENOMEM) }
            bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            out.pointee = swerl_buffer(data: memory, len: bytes.count)
            return 0
        }
    }
}

@c public func swerl_pid_node(_ rt: OpaquePointer?, _ pid: swerl_pid, _ buf: UnsafeMutablePointer<CChar>?,
                              _ cap: Int) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_pid_node") { engine in
            if buf == nil && cap > 0 { return null("swerl_pid_node", "buf") }
            guard let node = engine.nodeOf(pid) else { return engine.absentPid(pid) }
            return copyOut(node, buf, cap)
        }
    }
}

private func sendRemote(_ function: String, _ rt: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                        _ node: UnsafePointer<CChar>?, _ data: UnsafeRawPointer?, _ len: Int, term: Bool) -> CInt {
    handedOut {
        return withEngine(rt, function) { engine in
            guard let name else { return null(function, "name") }
            guard let node else { return null(function, "node") }
            guard let payload = bytes(data, len) else { return nullData(function, "data", len) }
            return engine.sendRemote(name: String(cString: name), node: String(cString: node), bytes: payload, term: term)
        }
    }
}

@c public func swerl_send_remote(_ rt: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ node: UnsafePointer<CChar>?,
                                 _ data: UnsafeRawPointer?, _ len: Int) -> CInt {
    sendRemote("swerl_send_remote", rt, name, node, data, len, term: false)
}

@c public func swerl_send_remote_term(_ rt: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                      _ node: UnsafePointer<CChar>?, _ etf: UnsafeRawPointer?, _ len: Int) -> CInt {
    sendRemote("swerl_send_remote_term", rt, name, node, etf, len, term: true)
}

@c public func swerl_reply_term(_ rt: OpaquePointer?, _ call: swerl_ref, _ etf: UnsafeRawPointer?, _ len: Int) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_reply_term") { engine in
            guard let payload = bytes(etf, len) else { return nullData("swerl_reply_term", "etf", len) }
            return engine.replyTerm(call, bytes: payload)
        }
    }
}

@c public func swerl_monitor_nodes(_ ctx: OpaquePointer?, _ on: CInt) -> CInt {
    handedOut { Engine.monitorNodes(UnsafeRawPointer(ctx), on != 0) }
}

@c public func swerl_monitor_name(_ ctx: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ node: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    handedOut {
        guard Engine.contextPid(UnsafeRawPointer(ctx)) != nil else { return Engine.badContext() }
        guard let name else { return null("swerl_monitor_name", "name") }
        guard let node else { return null("swerl_monitor_name", "node") }
        guard let out else { return null("swerl_monitor_name", "out") }
        let (code, ref) = Engine.monitorName(UnsafeRawPointer(ctx), String(cString: name), node: String(cString: node))
        if code == 0 { out.pointee = ref }
        return code
    }
}
