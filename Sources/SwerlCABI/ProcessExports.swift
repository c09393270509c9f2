// Processes, messages, links, monitors (swerl.h).

import CSwerl
import Swerl

@c public func swerl_spawn_opts_init(_ opts: UnsafeMutablePointer<swerl_spawn_opts>?) {
    guard let opts else { return }
    opts.pointee = swerl_spawn_opts()
    opts.pointee.size = UInt32(MemoryLayout<swerl_spawn_opts>.size)
}

@c public func swerl_spawn(_ rt: OpaquePointer?, _ behavior: UnsafePointer<swerl_behavior>?,
                           _ arg: UnsafeMutableRawPointer?, _ opts: UnsafePointer<swerl_spawn_opts>?,
                           _ out: UnsafeMutablePointer<swerl_pid>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_spawn") { engine in
            return spawn("swerl_spawn", engine, behavior, arg, opts, out, group: nil)
        }
    }
}

/// swerl_spawn and swerl_group_spawn: the arguments checked, then the spawn.
func spawn(_ function: String, _ engine: Engine, _ behavior: UnsafePointer<swerl_behavior>?,
           _ arg: UnsafeMutableRawPointer?, _ opts: UnsafePointer<swerl_spawn_opts>?,
           _ out: UnsafeMutablePointer<swerl_pid>?, group: TurnGroup?) -> CInt {
    guard let behavior else { return null(function, "b (the behaviour)") }
    guard let out else { return null(function, "out") }
    guard let given = StructSizes.read(behavior, defaults: swerl_behavior()) else {
        return badSize(function, "b", behavior.pointee.size, "swerl_behavior",
                       expected: MemoryLayout<swerl_behavior>.size)
    }
    guard given.handle != nil else { return invalid(function, "b->handle is NULL: a behaviour needs one") }
    var options = swerl_spawn_opts()
    swerl_spawn_opts_init(&options)
    if let opts {
        guard let read = StructSizes.read(opts, defaults: options) else {
            return badSize(function, "opts", opts.pointee.size, "swerl_spawn_opts",
                           expected: MemoryLayout<swerl_spawn_opts>.size)
        }
        options = read
    }
    let known = UInt32(SWERL_SPAWN_LINK | SWERL_SPAWN_MONITOR | SWERL_SPAWN_TRAP_EXIT | SWERL_SPAWN_BLOCKING)
    guard options.flags & ~known == 0 else {
        return invalid(function, "opts->flags has unknown bits 0x\(String(options.flags & ~known, radix: 16))")
    }
    if group != nil && options.flags & UInt32(SWERL_SPAWN_BLOCKING) != 0 {
        return invalid(function, "SWERL_SPAWN_BLOCKING puts the process on the blocking pool, not in the group")
    }
    guard options.overflow <= UInt32(SWERL_OVERFLOW_KILL) else {
        return invalid(function, "opts->overflow is \(options.overflow): use SWERL_OVERFLOW_REJECT, "
            + "_DROP_OLDEST or _KILL")
    }
    if options.flags & UInt32(SWERL_SPAWN_MONITOR) != 0 && options.monitor_ref == nil {
        return invalid(function, "SWERL_SPAWN_MONITOR needs opts->monitor_ref (where the monitor's ref goes)")
    }
    var registered: String? = nil
    if options.name != nil {
        guard let valid = name(options.name) else { return invalid(function, nameProblem(options.name)) }
        registered = valid
    }
    let (code, pid) = engine.spawn(behavior: given, arg: arg, flags: options.flags, name: registered,
                                   mailboxLimit: options.mailbox_limit, overflow: options.overflow,
                                   monitorRef: options.monitor_ref, group: group)
    if code == 0 { out.pointee = pid }
    return code
}

@c public func swerl_self(_ ctx: OpaquePointer?) -> swerl_pid {
    Engine.contextPid(UnsafeRawPointer(ctx)) ?? 0
}

@c public func swerl_ctx_runtime(_ ctx: OpaquePointer?) -> OpaquePointer? {
    Engine.contextEngineHandle(UnsafeRawPointer(ctx)).map(OpaquePointer.init)
}

@c public func swerl_fail(_ ctx: OpaquePointer?, _ reason: Int32, _ detail: UnsafeRawPointer?, _ len: Int) -> CInt {
    handedOut {
        guard Engine.contextPid(UnsafeRawPointer(ctx)) != nil else { return Engine.badContext() }
        if len < 0 { return CInt(SWERL_ETOOBIG) }  // above SSIZE_MAX as a size_t
        guard let detail = bytes(detail, len) else { return nullData("swerl_fail", "detail", len) }
        return Engine.fail(UnsafeRawPointer(ctx), reason: reason, detail: detail)
    }
}

@c public func swerl_send(_ rt: OpaquePointer?, _ to: swerl_pid, _ data: UnsafeRawPointer?, _ len: Int) -> CInt {
    // The hot path: one call into the core, where the send inlines.
    guard let rt, len >= 0, len == 0 || data != nil else {
        return handedOut {
            guard rt != nil else { return null("swerl_send", "rt") }
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            return nullData("swerl_send", "data", len)
        }
    }
    return sendThroughHandle(UnsafeRawPointer(rt), to: to, data: data, count: len)
}

@c public func swerl_send_named(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?,
                                _ data: UnsafeRawPointer?, _ len: Int) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_send_named") { engine in
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard len == 0 || data != nil else { return nullData("swerl_send_named", "data", len) }
            guard let registered = name(rawName) else { return invalid("swerl_send_named", nameProblem(rawName)) }
            return engine.sendNamed(registered, data: data, count: len)
        }
    }
}

@c public func swerl_receive_timeout(_ ctx: OpaquePointer?, _ ms: UInt32) -> CInt {
    handedOut {
        Engine.setReceiveTimeout(UnsafeRawPointer(ctx), millis: ms)
    }
}

@c public func swerl_link(_ ctx: OpaquePointer?, _ pid: swerl_pid) -> CInt {
    handedOut {
        Engine.link(UnsafeRawPointer(ctx), pid)
    }
}

@c public func swerl_unlink(_ ctx: OpaquePointer?, _ pid: swerl_pid) -> CInt {
    handedOut {
        Engine.unlink(UnsafeRawPointer(ctx), pid)
    }
}

@c public func swerl_trap_exit(_ ctx: OpaquePointer?, _ on: CInt) -> CInt {
    handedOut {
        Engine.trapExit(UnsafeRawPointer(ctx), on != 0)
    }
}

@c public func swerl_set_blocking(_ ctx: OpaquePointer?, _ on: CInt) -> CInt {
    handedOut {
        Engine.setBlocking(UnsafeRawPointer(ctx), on != 0)
    }
}

@c public func swerl_exit(_ rt: OpaquePointer?, _ pid: swerl_pid, _ reason: Int32,
                          _ detail: UnsafeRawPointer?, _ len: Int) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_exit") { engine in
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard let detail = bytes(detail, len) else { return nullData("swerl_exit", "detail", len) }
            return engine.exit(pid, reason: reason, detail: detail)
        }
    }
}

@c public func swerl_monitor(_ ctx: OpaquePointer?, _ pid: swerl_pid, _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    handedOut {
        guard Engine.contextPid(UnsafeRawPointer(ctx)) != nil else { return Engine.badContext() }
        guard let out else { return null("swerl_monitor", "out") }
        let (code, ref) = Engine.monitor(UnsafeRawPointer(ctx), pid)
        if code == 0 { out.pointee = ref }
        return code
    }
}

@c public func swerl_demonitor(_ ctx: OpaquePointer?, _ ref: swerl_ref, _ flags: UInt32) -> CInt {
    handedOut {
        guard Engine.contextPid(UnsafeRawPointer(ctx)) != nil else { return Engine.badContext() }
        let known = UInt32(SWERL_DEMONITOR_FLUSH | SWERL_DEMONITOR_INFO)
        guard flags & ~known == 0 else {
            return invalid("swerl_demonitor", "flags has unknown bits 0x\(String(flags & ~known, radix: 16))")
        }
        return Engine.demonitor(UnsafeRawPointer(ctx), ref, flush: flags & UInt32(SWERL_DEMONITOR_FLUSH) != 0,
                                info: flags & UInt32(SWERL_DEMONITOR_INFO) != 0)
    }
}

@c public func swerl_process_get_info(_ rt: OpaquePointer?, _ pid: swerl_pid,
                                      _ out: UnsafeMutablePointer<swerl_process_info>?) -> CInt {
    handedOut {
        let function = "swerl_process_get_info"
        return withEngine(rt, function) { engine in
            fillSized(out, function, "swerl_process_info") { engine.processInfo(pid) }
        }
    }
}

@c public func swerl_processes(_ rt: OpaquePointer?, _ buffer: UnsafeMutablePointer<swerl_pid>?, _ capacity: Int,
                               _ count: UnsafeMutablePointer<Int>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_processes") { engine in
            guard let count else { return null("swerl_processes", "count") }
            guard capacity == 0 || buffer != nil else { return invalid("swerl_processes", "buf is NULL with cap \(capacity)") }
            let (code, pids) = engine.processes()
            guard code == 0 else { return code }
            for (index, pid) in pids.prefix(capacity).enumerated() { buffer![index] = pid }
            count.pointee = pids.count
            return 0
        }
    }
}

@c public func swerl_pid_format(_ pid: swerl_pid, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> CInt {
    handedOut {
        guard capacity == 0 || buffer != nil else { return invalid("swerl_pid_format", "buf is NULL with cap \(capacity)") }
        let text = Array(Pid(rawValue: pid).description.utf8)
        if let buffer, capacity > 0 {
            let kept = min(text.count, capacity - 1)
            for index in 0..<kept { buffer[index] = CChar(bitPattern: text[index]) }
            buffer[kept] = 0
        }
        return CInt(text.count)
    }
}
