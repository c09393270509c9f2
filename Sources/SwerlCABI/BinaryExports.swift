// Shared binaries (swerl.h, "Shared binaries"): the core's SharedBinaries
// behind the C names. No logic of its own.

import CSwerl
import Swerl

/// swerl_binary * as the core's pointer (the same address).
@inline(__always)
private func shared(_ b: OpaquePointer?) -> SharedBinaryPointer? {
    b.map { SharedBinaryPointer($0) }
}

@c public func swerl_binary_new(_ len: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                                _ data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CInt {
    handedOut {
        guard let out else { return null("swerl_binary_new", "out") }
        guard len >= 0, len <= SharedBinaries.maxLength else { return CInt(SWERL_ETOOBIG) }
        guard let binary = SharedBinaries.allocate(length: len) else { return CInt(SWERL_ENOMEM) }
        out.pointee = OpaquePointer(binary)
        data?.pointee = SharedBinaries.data(binary)
        return 0
    }
}

@c public func swerl_binary_copy(_ data: UnsafeRawPointer?, _ len: Int,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> CInt {
    handedOut {
        guard let out else { return null("swerl_binary_copy", "out") }
        guard len >= 0, len <= SharedBinaries.maxLength else { return CInt(SWERL_ETOOBIG) }
        guard let source = bytes(data, len) else { return nullData("swerl_binary_copy", "data", len) }
        guard let binary = SharedBinaries.copy(source) else { return CInt(SWERL_ENOMEM) }
        out.pointee = OpaquePointer(binary)
        return 0
    }
}

@c public func swerl_binary_data(_ b: OpaquePointer?) -> UnsafeRawPointer? {
    shared(b).map { UnsafeRawPointer(SharedBinaries.data($0)) }
}

@c public func swerl_binary_size(_ b: OpaquePointer?) -> Int {
    shared(b)?.pointee.length ?? 0
}

@c public func swerl_binary_retain(_ b: OpaquePointer?) -> OpaquePointer? {
    if let binary = shared(b) { SharedBinaries.retain(binary) }
    return b
}

@c public func swerl_binary_release(_ b: OpaquePointer?) {
    if let binary = shared(b) { SharedBinaries.release(binary) }
}

@c public func swerl_send_binary(_ rt: OpaquePointer?, _ to: swerl_pid, _ b: OpaquePointer?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_send_binary") { engine in
            guard let binary = shared(b) else { return null("swerl_send_binary", "b") }
            return engine.send(to: to, binary: binary)
        }
    }
}

@c public func swerl_send_named_binary(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?,
                                       _ b: OpaquePointer?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_send_named_binary") { engine in
            guard let binary = shared(b) else { return null("swerl_send_named_binary", "b") }
            guard let registered = name(rawName) else { return invalid("swerl_send_named_binary", nameProblem(rawName)) }
            return engine.sendNamed(registered, binary: binary)
        }
    }
}

@c public func swerl_reply_binary(_ rt: OpaquePointer?, _ call: swerl_ref, _ b: OpaquePointer?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_reply_binary") { engine in
            guard let binary = shared(b) else { return null("swerl_reply_binary", "b") }
            return engine.reply(call, binary: binary)
        }
    }
}

@c public func swerl_binary_keep(_ msg: UnsafePointer<swerl_message>?,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> CInt {
    handedOut {
        guard let msg else { return null("swerl_binary_keep", "msg") }
        guard let out else { return null("swerl_binary_keep", "out") }
        if msg.pointee.flags & SWERL_MESSAGE_SHARED != 0 {
            guard let binary = SharedBinaries.keep(shared: msg.pointee.data, count: msg.pointee.len) else {
                return invalid("swerl_binary_keep", "msg->flags says SWERL_MESSAGE_SHARED, but msg->data is not "
                    + "the bytes of a shared message handed to this thread's handler now (call it inside the "
                    + "handler, or while holding the batch, that received the message)")
            }
            out.pointee = OpaquePointer(binary)
            return 0
        }
        guard let source = bytes(msg.pointee.data, msg.pointee.len) else {
            return nullData("swerl_binary_keep", "msg->data", msg.pointee.len)
        }
        guard let binary = SharedBinaries.copy(source) else { return CInt(SWERL_ENOMEM) }
        out.pointee = OpaquePointer(binary)
        return 0
    }
}
