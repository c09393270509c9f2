// Sockets (swerl.h "Sockets"): arguments checked and translated; the
// socket layer (Sources/Swerl/Net) decides everything else.

import CSwerl
import Glibc
import Swerl

@c public func swerl_socket_opts_init(_ opts: UnsafeMutablePointer<swerl_socket_opts>?) {
    guard let opts else { return }
    opts.pointee = Engine.defaultSocketOptions()
}

/// The options a call was given (NULL: the defaults), or the EINVAL.
private func socketOptions(_ opts: UnsafePointer<swerl_socket_opts>?, _ function: String)
    -> Result<swerl_socket_opts, SocketArgumentError> {
    let defaults = Engine.defaultSocketOptions()
    guard let opts else { return .success(defaults) }
    guard let read = StructSizes.read(opts, defaults: defaults) else {
        return .failure(SocketArgumentError(code: badSize(function, "opts", opts.pointee.size, "swerl_socket_opts",
                                                          expected: MemoryLayout<swerl_socket_opts>.size)))
    }
    return .success(read)
}

private struct SocketArgumentError: Error {
    let code: CInt
}

@c public func swerl_socket_listen(_ rt: OpaquePointer?, _ owner: swerl_pid, _ address: UnsafePointer<CChar>?,
                                   _ opts: UnsafePointer<swerl_socket_opts>?,
                                   _ out: UnsafeMutablePointer<swerl_socket>?) -> CInt {
    handedOut {
        let function = "swerl_socket_listen"
        return withEngine(rt, function) { engine in
            guard let address else { return null(function, "address") }
            guard let out else { return null(function, "out") }
            switch socketOptions(opts, function) {
            case .failure(let error): return error.code
            case .success(let options):
                let (code, id) = engine.socketListen(owner: owner, address: String(decoding: UnsafeRawBufferPointer(
                    start: address, count: strlen(address)), as: UTF8.self), options: options)
                if code == 0 { out.pointee = id }
                return code
            }
        }
    }
}

@c public func swerl_socket_connect(_ ctx: OpaquePointer?, _ address: UnsafePointer<CChar>?, _ timeoutMillis: UInt32,
                                    _ opts: UnsafePointer<swerl_socket_opts>?,
                                    _ out: UnsafeMutablePointer<swerl_socket>?) -> CInt {
    handedOut {
        let function = "swerl_socket_connect"
        guard let address else { return null(function, "address") }
        guard let out else { return null(function, "out") }
        switch socketOptions(opts, function) {
        case .failure(let error): return error.code
        case .success(let options):
            let text = String(decoding: UnsafeRawBufferPointer(start: address, count: strlen(address)), as: UTF8.self)
            let (code, id) = Engine.socketConnect(UnsafeRawPointer(ctx), address: text, timeoutMillis: timeoutMillis,
                                                  options: options)
            if code == 0 { out.pointee = id }
            return code
        }
    }
}

@c public func swerl_socket_send(_ ctx: OpaquePointer?, _ socket: swerl_socket, _ data: UnsafeRawPointer?,
                                 _ len: Int) -> CInt {
    handedOut {
        guard let payload = bytes(data, len) else { return nullData("swerl_socket_send", "data", len) }
        return Engine.socketSend(UnsafeRawPointer(ctx), socket, payload)
    }
}

@c public func swerl_socket_activate(_ ctx: OpaquePointer?, _ socket: swerl_socket, _ n: Int32) -> CInt {
    handedOut { Engine.socketActivate(UnsafeRawPointer(ctx), socket, n) }
}

@c public func swerl_socket_close(_ ctx: OpaquePointer?, _ socket: swerl_socket) -> CInt {
    handedOut { Engine.socketClose(UnsafeRawPointer(ctx), socket) }
}

@c public func swerl_socket_shutdown(_ ctx: OpaquePointer?, _ socket: swerl_socket) -> CInt {
    handedOut { Engine.socketShutdown(UnsafeRawPointer(ctx), socket) }
}

@c public func swerl_socket_set_owner(_ ctx: OpaquePointer?, _ socket: swerl_socket, _ newOwner: swerl_pid) -> CInt {
    handedOut { Engine.socketSetOwner(UnsafeRawPointer(ctx), socket, to: newOwner) }
}

@c public func swerl_socket_setopt(_ ctx: OpaquePointer?, _ socket: swerl_socket, _ option: CInt,
                                   _ value: Int64) -> CInt {
    handedOut { Engine.socketSetOption(UnsafeRawPointer(ctx), socket, option: option, value: value) }
}

@c public func swerl_socket_info_get(_ rt: OpaquePointer?, _ socket: swerl_socket,
                                     _ out: UnsafeMutablePointer<swerl_socket_info>?) -> CInt {
    handedOut {
        let function = "swerl_socket_info_get"
        return withEngine(rt, function) { engine in
            fillSized(out, function, "swerl_socket_info") { engine.socketInfo(socket) }
        }
    }
}
