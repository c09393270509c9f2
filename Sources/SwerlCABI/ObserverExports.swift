// swerl.h "The observer page": C's entry to Observer (docs/OBSERVER.md).

import CSwerl
import Swerl

@c public func swerl_observer_opts_init(_ opts: UnsafeMutablePointer<swerl_observer_opts>?) {
    guard let opts else { return }
    opts.pointee = swerl_observer_opts()
    opts.pointee.size = UInt32(MemoryLayout<swerl_observer_opts>.size)
}

@c public func swerl_observer_start(_ rt: OpaquePointer?, _ opts: UnsafePointer<swerl_observer_opts>?,
                                    _ url: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> CInt {
    handedOut {
        let function = "swerl_observer_start"
        return withEngine(rt, function) { engine in
            guard capacity == 0 || url != nil else { return invalid(function, "url is NULL with url_cap \(capacity)") }
            var options = swerl_observer_opts()
            swerl_observer_opts_init(&options)
            if let opts {
                guard opts.pointee.size == UInt32(MemoryLayout<swerl_observer_opts>.size) else {
                    return badSize(function, "opts", opts.pointee.size, "swerl_observer_opts",
                                   expected: MemoryLayout<swerl_observer_opts>.size)
                }
                options = opts.pointee
            }
            if options.reserved != 0 { return invalid(function, "opts.reserved must be 0") }
            if options.flags & ~UInt32(SWERL_OBSERVE_ACTIONS) != 0 {
                return invalid(function, "unknown flags 0x\(String(options.flags, radix: 16))")
            }
            let address = options.address.map { String(cString: $0) }
            let token = options.token.map { String(cString: $0) }
            if let token, token.utf8.count > 128 { return invalid(function, "the token is longer than 128 characters") }
            let (code, text) = engine.observe(address: address, token: token, actions: options.flags != 0,
                                              maxConnections: options.max_connections)
            guard code == 0, let text else { return code }
            let utf8 = Array(text.utf8)
            guard capacity > utf8.count, let url else {
                _ = engine.stopObserving()
                return ErrorDetail.failing(CInt(SWERL_ETOOBIG), "\(function): the URL takes \(utf8.count + 1) bytes, "
                    + "url_cap is \(capacity): nothing is served")
            }
            utf8.withUnsafeBufferPointer { bytes in
                UnsafeMutableRawPointer(url).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
            url[utf8.count] = 0
            return 0
        }
    }
}

@c public func swerl_observer_stop(_ rt: OpaquePointer?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_observer_stop") { engine in
            return engine.stopObserving()
        }
    }
}
