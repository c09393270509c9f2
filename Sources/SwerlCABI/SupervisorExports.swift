// Supervisors (swerl.h).

import CSwerl
import Glibc
import Swerl

@c public func swerl_supervisor_spec_init(_ spec: UnsafeMutablePointer<swerl_supervisor_spec>?) {
    guard let spec else { return }
    spec.pointee = swerl_supervisor_spec()
    spec.pointee.size = UInt32(MemoryLayout<swerl_supervisor_spec>.size)
    spec.pointee.strategy = UInt32(SWERL_ONE_FOR_ONE)
    spec.pointee.intensity = 1
    spec.pointee.period_ms = 5000
    spec.pointee.auto_shutdown = UInt32(SWERL_AUTO_SHUTDOWN_NEVER)
}

@c public func swerl_child_spec_init(_ spec: UnsafeMutablePointer<swerl_child_spec>?) {
    guard let spec else { return }
    spec.pointee = swerl_child_spec()
    spec.pointee.size = UInt32(MemoryLayout<swerl_child_spec>.size)
    spec.pointee.restart = UInt32(SWERL_PERMANENT)
    spec.pointee.shutdown_ms = 5000
    spec.pointee.type = UInt32(SWERL_WORKER)
}

@c public func swerl_supervisor_start(_ rt: OpaquePointer?, _ spec: UnsafePointer<swerl_supervisor_spec>?,
                                      _ opts: UnsafePointer<swerl_spawn_opts>?,
                                      _ out: UnsafeMutablePointer<swerl_pid>?) -> CInt {
    handedOut {
        guard let engine = engine(rt), let spec, let out else { return CInt(SWERL_EINVAL) }
        var registered: String? = nil
        if let opts {
            var defaults = swerl_spawn_opts()
            swerl_spawn_opts_init(&defaults)
            guard let options = StructSizes.read(opts, defaults: defaults) else {
                return badSize("swerl_supervisor_start", "opts", opts.pointee.size, "swerl_spawn_opts",
                               expected: MemoryLayout<swerl_spawn_opts>.size)
            }
            guard options.flags == 0, options.mailbox_limit == 0 else {
                return invalid("swerl_supervisor_start", "opts may only give a name (no flags, no mailbox limit)")
            }
            if options.name != nil {
                guard let valid = name(options.name) else {
                    return invalid("swerl_supervisor_start", nameProblem(options.name))
                }
                registered = valid
            }
        }
        let (code, pid, _) = engine.startSupervisor(spec, name: registered)
        if code == 0 { out.pointee = pid }
        return code
    }
}

@c public func swerl_supervisor_start_child(_ rt: OpaquePointer?, _ sup: swerl_pid,
                                            _ spec: UnsafePointer<swerl_child_spec>?,
                                            _ out: UnsafeMutablePointer<swerl_pid>?) -> CInt {
    handedOut {
        guard let engine = engine(rt), let spec else { return CInt(SWERL_EINVAL) }
        let (code, pid) = engine.supervisorStartChild(sup, spec)
        if code == 0 || code == CInt(SWERL_ESTARTED) { out?.pointee = pid }
        return code
    }
}

@c public func swerl_supervisor_spawn_child(_ rt: OpaquePointer?, _ sup: swerl_pid, _ arg: UnsafeMutableRawPointer?,
                                            _ out: UnsafeMutablePointer<swerl_pid>?) -> CInt {
    handedOut {
        guard let engine = engine(rt) else { return CInt(SWERL_EINVAL) }
        let (code, pid) = engine.supervisorSpawnChild(sup, arg: arg)
        if code == 0 { out?.pointee = pid }
        return code
    }
}

@c public func swerl_supervisor_terminate_child(_ rt: OpaquePointer?, _ sup: swerl_pid,
                                                _ id: UnsafePointer<CChar>?) -> CInt {
    handedOut {
        guard let engine = engine(rt), let child = name(id) else { return CInt(SWERL_EINVAL) }
        return engine.supervisorTerminateChild(sup, id: child)
    }
}

@c public func swerl_supervisor_terminate_pid(_ rt: OpaquePointer?, _ sup: swerl_pid, _ pid: swerl_pid) -> CInt {
    handedOut {
        guard let engine = engine(rt) else { return CInt(SWERL_EINVAL) }
        return engine.supervisorTerminatePid(sup, pid: pid)
    }
}

@c public func swerl_supervisor_restart_child(_ rt: OpaquePointer?, _ sup: swerl_pid, _ id: UnsafePointer<CChar>?,
                                              _ out: UnsafeMutablePointer<swerl_pid>?) -> CInt {
    handedOut {
        guard let engine = engine(rt), let child = name(id) else { return CInt(SWERL_EINVAL) }
        let (code, pid) = engine.supervisorRestartChild(sup, id: child)
        if code == 0 { out?.pointee = pid }
        return code
    }
}

@c public func swerl_supervisor_delete_child(_ rt: OpaquePointer?, _ sup: swerl_pid,
                                             _ id: UnsafePointer<CChar>?) -> CInt {
    handedOut {
        guard let engine = engine(rt), let child = name(id) else { return CInt(SWERL_EINVAL) }
        return engine.supervisorDeleteChild(sup, id: child)
    }
}

@c public func swerl_supervisor_count_children(_ rt: OpaquePointer?, _ sup: swerl_pid,
                                               _ out: UnsafeMutablePointer<swerl_child_counts>?) -> CInt {
    handedOut {
        let function = "swerl_supervisor_count_children"
        return withEngine(rt, function) { engine in
            fillSized(out, function, "swerl_child_counts") { engine.supervisorCountChildren(sup) }
        }
    }
}

@c public func swerl_supervisor_which_children(_ rt: OpaquePointer?, _ sup: swerl_pid,
                                               _ buffer: UnsafeMutablePointer<swerl_child_info>?, _ capacity: Int,
                                               _ count: UnsafeMutablePointer<Int>?) -> CInt {
    handedOut {
        let function = "swerl_supervisor_which_children"
        return withEngine(rt, function) { engine in
            guard let count else { return null(function, "count") }
            guard capacity == 0 || buffer != nil else { return invalid(function, "buf is NULL with cap \(capacity)") }
            if let buffer, capacity > 0, StructSizes.size(buffer) < MemoryLayout<swerl_child_info>.size {
                return badSize(function, "buf[0]", buffer.pointee.size, "swerl_child_info",
                               expected: MemoryLayout<swerl_child_info>.size)
            }
            let (code, children) = engine.supervisorWhichChildren(sup)
            guard code == 0 else { return code }
            // Records at the caller's stride: a newer caller's are larger.
            if let buffer, capacity > 0 { _ = StructSizes.writeArray(children, to: buffer, capacity: capacity) }
            count.pointee = children.count
            return 0
        }
    }
}

@c public func swerl_supervisor_tree(_ rt: OpaquePointer?, _ sup: swerl_pid, _ format: UInt32,
                                     _ out: UnsafeMutablePointer<swerl_buffer>?) -> CInt {
    handedOut {
        guard let engine = engine(rt), let out else { return CInt(SWERL_EINVAL) }
        out.pointee = swerl_buffer(data: nil, len: 0)
        let (code, text) = engine.supervisionTree(sup, format: format)
        guard code == 0 else { return code }
        let utf8 = Array(text.utf8)
        guard let memory = malloc(utf8.count + 1) else { return CInt(SWERL_ENOMEM) }
        memory.copyMemory(from: utf8, byteCount: utf8.count)
        memory.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
        out.pointee = swerl_buffer(data: memory, len: utf8.count)
        return 0
    }
}
