// Names, timers and request/reply (swerl.h).

import CSwerl
import Glibc
import Swerl

@c public func swerl_register(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?, _ pid: swerl_pid) -> CInt {
    guard let engine = engine(rt), let registered = name(rawName) else { return CInt(SWERL_EINVAL) }
    return engine.register(name: registered, pid: pid)
}

@c public func swerl_unregister(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?) -> CInt {
    guard let engine = engine(rt), let registered = name(rawName) else { return CInt(SWERL_EINVAL) }
    return engine.unregister(name: registered)
}

@c public func swerl_whereis(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?,
                             _ out: UnsafeMutablePointer<swerl_pid>?) -> CInt {
    guard let engine = engine(rt), let out, let registered = name(rawName) else { return CInt(SWERL_EINVAL) }
    if engine.isStopped { return CInt(SWERL_ESTOPPED) }
    guard let pid = engine.whereis(registered) else {
        out.pointee = 0
        return CInt(SWERL_ENONAME)
    }
    out.pointee = pid
    return 0
}

@c public func swerl_registered(_ rt: OpaquePointer?, _ out: UnsafeMutablePointer<swerl_buffer>?,
                                _ count: UnsafeMutablePointer<Int>?) -> CInt {
    guard let engine = engine(rt), let out, let count else { return CInt(SWERL_EINVAL) }
    if engine.isStopped { return CInt(SWERL_ESTOPPED) }
    let names = engine.registeredNames()
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

@c public func swerl_send_after(_ rt: OpaquePointer?, _ to: swerl_pid, _ ms: UInt32, _ data: UnsafeRawPointer?,
                                _ len: Int, _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    guard let engine = engine(rt), let out else { return CInt(SWERL_EINVAL) }
    if len < 0 { return CInt(SWERL_ETOOBIG) }
    guard let payload = bytes(data, len), ms != SWERL_INFINITY else { return CInt(SWERL_EINVAL) }
    let (code, ref) = engine.sendAfter(to: to, millis: ms, data: payload)
    if code == 0 { out.pointee = ref }
    return code
}

@c public func swerl_cancel_timer(_ rt: OpaquePointer?, _ timer: swerl_ref,
                                  _ remaining: UnsafeMutablePointer<UInt32>?) -> CInt {
    guard let engine = engine(rt) else { return CInt(SWERL_EINVAL) }
    let (code, left) = engine.cancelTimer(timer)
    if code == 0 { remaining?.pointee = left }
    return code
}

@c public func swerl_call(_ rt: OpaquePointer?, _ to: swerl_pid, _ request: UnsafeRawPointer?, _ len: Int,
                          _ timeoutMillis: UInt32, _ reply: UnsafeMutablePointer<swerl_buffer>?) -> CInt {
    guard let engine = engine(rt), let reply else { return CInt(SWERL_EINVAL) }
    reply.pointee = swerl_buffer(data: nil, len: 0)
    if len < 0 { return CInt(SWERL_ETOOBIG) }
    guard let payload = bytes(request, len) else { return CInt(SWERL_EINVAL) }
    reply.pointee = swerl_buffer(data: nil, len: 0)
    let (code, data, count) = engine.call(to, request: payload, timeoutMillis: timeoutMillis)
    if code == 0 { reply.pointee = swerl_buffer(data: data, len: count) } else if let data { free(data) }
    return code
}

@c public func swerl_call_async(_ ctx: OpaquePointer?, _ to: swerl_pid, _ request: UnsafeRawPointer?, _ len: Int,
                                _ timeoutMillis: UInt32, _ out: UnsafeMutablePointer<swerl_ref>?) -> CInt {
    guard Engine.contextPid(UnsafeRawPointer(ctx)) != nil else { return CInt(SWERL_ECTX) }
    if len < 0 { return CInt(SWERL_ETOOBIG) }
    guard let out, let payload = bytes(request, len) else { return CInt(SWERL_EINVAL) }
    let (code, ref) = Engine.callAsync(UnsafeRawPointer(ctx), to, request: payload, timeoutMillis: timeoutMillis)
    if code == 0 { out.pointee = ref }
    return code
}

@c public func swerl_reply(_ rt: OpaquePointer?, _ call: swerl_ref, _ data: UnsafeRawPointer?, _ len: Int) -> CInt {
    guard let engine = engine(rt) else { return CInt(SWERL_EINVAL) }
    if len < 0 { return CInt(SWERL_ETOOBIG) }
    guard let payload = bytes(data, len) else { return CInt(SWERL_EINVAL) }
    return engine.reply(call, data: payload)
}

@c public func swerl_buffer_free(_ buffer: UnsafeMutablePointer<swerl_buffer>?) {
    guard let buffer else { return }
    if let data = buffer.pointee.data { free(data) }
    buffer.pointee = swerl_buffer(data: nil, len: 0)
}
