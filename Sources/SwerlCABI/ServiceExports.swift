// Names, timers and request/reply (swerl.h).

import CSwerl
import Glibc
import Swerl

@c public func swerl_register(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?, _ pid: swerl_pid) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_register") { engine in
            guard let registered = name(rawName) else { return invalid("swerl_register", nameProblem(rawName)) }
            return engine.register(name: registered, pid: pid)
        }
    }
}

@c public func swerl_unregister(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_unregister") { engine in
            guard let registered = name(rawName) else { return invalid("swerl_unregister", nameProblem(rawName)) }
            return engine.unregister(name: registered)
        }
    }
}

@c public func swerl_whereis(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?,
                             _ out: UnsafeMutablePointer<swerl_pid>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_whereis") { engine in
            guard let out else { return null("swerl_whereis", "out") }
            guard let registered = name(rawName) else { return invalid("swerl_whereis", nameProblem(rawName)) }
            let (code, pid) = engine.whereis(registered)
            if code == 0 || code == CInt(SWERL_ENONAME) { out.pointee = pid }
            return code
        }
    }
}

@c public func swerl_registered(_ rt: OpaquePointer?, _ out: UnsafeMutablePointer<swerl_buffer>?,
                                _ count: UnsafeMutablePointer<Int>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_registered") { engine in
            guard let out else { return null("swerl_registered", "out") }
            guard let count else { return null("swerl_registered", "count") }
            let (code, names) = engine.registeredNames()
            guard code == 0 else { return code }
            let total = names.reduce(0) { $0 + $1.utf8.count + 1 }
            out.pointee = swerl_buffer(data: nil, len: 0)
            count.pointee = names.count
            guard total > 0 else { return 0 }
            guard let memory = malloc(total) else { return CInt(SWERL_ENOMEM) }
            var offset = 0
            for registered in names {
                for byte in registered.utf8 {
                    memory.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
                    offset += 1
                }
                memory.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
                offset += 1
            }
            out.pointee = swerl_buffer(data: memory, len: total)
            return 0
        }
    }
}

@c public func swerl_send_after(_ rt: OpaquePointer?, _ to: swerl_pid, _ ms: UInt32, _ data: UnsafeRawPointer?,
                                _ len: Int, _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_send_after") { engine in
            guard let out else { return null("swerl_send_after", "out") }
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard let payload = bytes(data, len) else { return nullData("swerl_send_after", "data", len) }
            guard ms != SWERL_INFINITY else { return invalid("swerl_send_after", "ms is SWERL_INFINITY: a timer must fire") }
            let (code, ref) = engine.sendAfter(to: to, millis: ms, data: payload)
            if code == 0 { out.pointee = ref }
            return code
        }
    }
}

@c public func swerl_send_after_named(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?, _ ms: UInt32,
                                      _ data: UnsafeRawPointer?, _ len: Int,
                                      _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    handedOut {
        let function = "swerl_send_after_named"
        return withEngine(rt, function) { engine in
            guard let out else { return null(function, "out") }
            guard let registered = name(rawName) else { return invalid(function, nameProblem(rawName)) }
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard let payload = bytes(data, len) else { return nullData(function, "data", len) }
            guard ms != SWERL_INFINITY else { return invalid(function, "ms is SWERL_INFINITY: a timer must fire") }
            let (code, ref) = engine.sendAfter(toName: registered, millis: ms, data: payload)
            if code == 0 { out.pointee = ref }
            return code
        }
    }
}

@c public func swerl_cancel_timer(_ rt: OpaquePointer?, _ timer: swerl_ref,
                                  _ remaining: UnsafeMutablePointer<UInt32>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_cancel_timer") { engine in
            let (code, left) = engine.cancelTimer(timer)
            if code == 0 { remaining?.pointee = left }
            return code
        }
    }
}

@c public func swerl_call(_ rt: OpaquePointer?, _ to: swerl_pid, _ request: UnsafeRawPointer?, _ len: Int,
                          _ timeoutMillis: UInt32, _ reply: UnsafeMutablePointer<swerl_buffer>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_call") { engine in
            guard let reply else { return null("swerl_call", "reply") }
            reply.pointee = swerl_buffer(data: nil, len: 0)
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard let payload = bytes(request, len) else { return nullData("swerl_call", "req", len) }
            let (code, data, count, _) = engine.call(to, request: payload, timeoutMillis: timeoutMillis)
            if code == 0 { reply.pointee = swerl_buffer(data: data, len: count) } else if let data { free(data) }
            return code
        }
    }
}

@c public func swerl_call_async(_ ctx: OpaquePointer?, _ to: swerl_pid, _ request: UnsafeRawPointer?, _ len: Int,
                                _ timeoutMillis: UInt32, _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    handedOut {
        guard Engine.contextPid(UnsafeRawPointer(ctx)) != nil else { return Engine.badContext() }
        if len < 0 { return CInt(SWERL_ETOOBIG) }
        guard let out else { return null("swerl_call_async", "out") }
        guard let payload = bytes(request, len) else { return nullData("swerl_call_async", "req", len) }
        let (code, ref) = Engine.callAsync(UnsafeRawPointer(ctx), to, request: payload, timeoutMillis: timeoutMillis)
        if code == 0 { out.pointee = ref }
        return code
    }
}

@c public func swerl_reply(_ rt: OpaquePointer?, _ call: swerl_ref, _ data: UnsafeRawPointer?, _ len: Int) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_reply") { engine in
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard let payload = bytes(data, len) else { return nullData("swerl_reply", "data", len) }
            return engine.reply(call, data: payload)
        }
    }
}

@c public func swerl_buffer_free(_ buffer: UnsafeMutablePointer<swerl_buffer>?) {
    guard let buffer else { return }
    if let data = buffer.pointee.data { free(data) }
    buffer.pointee = swerl_buffer(data: nil, len: 0)
}
