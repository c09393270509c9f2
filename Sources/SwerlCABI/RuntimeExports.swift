// Version, errors and the runtime's lifecycle (swerl.h, first sections).

import CSwerl
import CSwerlSupport
import Swerl

private let versionString: StaticString = "1.4.0"

@c public func swerl_version() -> CUnsignedInt {
    CUnsignedInt((SWERL_VERSION_MAJOR << 16) | (SWERL_VERSION_MINOR << 8) | SWERL_VERSION_PATCH)
}

@c public func swerl_version_string() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(versionString.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c public func swerl_strerror(_ code: CInt) -> UnsafePointer<CChar>? {
    swerlrt_strerror(code)
}

@c public func swerl_err_name(_ code: CInt) -> UnsafePointer<CChar>? {
    swerlrt_err_name(code)
}

@c public func swerl_last_error_detail() -> UnsafePointer<CChar>? {
    swerlrt_error_get()
}

@c public func swerl_config_init(_ cfg: UnsafeMutablePointer<swerl_config>?) {
    guard let cfg else { return }
    cfg.pointee = swerl_config()
    cfg.pointee.size = UInt32(MemoryLayout<swerl_config>.size)
}

@c public func swerl_runtime_start(_ cfg: UnsafePointer<swerl_config>?,
                                   _ out: UnsafeMutablePointer<OpaquePointer?>?) -> CInt {
    handedOut {
        guard let out else { return null("swerl_runtime_start", "out") }
        var config = swerl_config()
        swerl_config_init(&config)
        if let cfg {
            guard let given = StructSizes.read(cfg, minimum: StructSizes.configMinimum, defaults: config) else {
                return badSize("swerl_runtime_start", "cfg", cfg.pointee.size, "swerl_config",
                               expected: MemoryLayout<swerl_config>.size)
            }
            config = given
        }
        let valid = Engine.validate(config)
        if valid != 0 { return valid }
        let engine = Engine(config: config)
        engine.start()
        out.pointee = OpaquePointer(Unmanaged.passRetained(engine).toOpaque())
        return 0
    }
}

@c public func swerl_runtime_stop(_ rt: OpaquePointer?, _ timeoutMillis: UInt32) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_runtime_stop") { engine in
            return engine.stop(timeoutMillis: timeoutMillis)
        }
    }
}

@c public func swerl_runtime_free(_ rt: OpaquePointer?) {
    guard let rt, let engine = engine(rt) else { return }
    // The one release policy (the Swift Runtime's too); inside its own
    // callback it would wait for itself: ignored, the caller still holds rt.
    guard engine.shutDownForRelease(keepingFromOwnCallback: true) else { return }
    Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(rt)).release()
}

@c public func swerl_runtime_stats(_ rt: OpaquePointer?, _ out: UnsafeMutablePointer<swerl_stats>?) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_runtime_stats") { engine in
            guard let out else { return null("swerl_runtime_stats", "out") }
            guard StructSizes.write(engine.stats(), to: out, minimum: StructSizes.statsMinimum) else {
                return badSize("swerl_runtime_stats", "out", out.pointee.size, "swerl_stats",
                               expected: MemoryLayout<swerl_stats>.size)
            }
            return 0
        }
    }
}

@c public func swerl_runtime_set_max_memory(_ rt: OpaquePointer?, _ bytes: UInt64) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_runtime_set_max_memory") { engine in
            return engine.setMaxMemory(bytes)
        }
    }
}

@c public func swerl_runtime_set_long_turn(_ rt: OpaquePointer?, _ reportMillis: UInt32) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_runtime_set_long_turn") { engine in
            return engine.setLongTurn(millis: reportMillis)
        }
    }
}

@c public func swerl_runtime_set_blocking_threads(_ rt: OpaquePointer?, _ max: UInt32) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_runtime_set_blocking_threads") { engine in
            return engine.setBlockingThreads(max)
        }
    }
}

@c public func swerl_runtime_scheduler_usage(_ rt: OpaquePointer?, _ buffer: UnsafeMutablePointer<swerl_scheduler_usage>?,
                                     _ capacity: Int, _ count: UnsafeMutablePointer<Int>?) -> CInt {
    handedOut {
        let function = "swerl_runtime_scheduler_usage"
        return withEngine(rt, function) { engine in
            guard let count else { return null(function, "count") }
            guard capacity == 0 || buffer != nil else { return invalid(function, "buf is NULL with cap \(capacity)") }
            if let buffer, capacity > 0, StructSizes.size(buffer) < MemoryLayout<swerl_scheduler_usage>.size {
                return badSize(function, "buf[0]", buffer.pointee.size, "swerl_scheduler_usage",
                               expected: MemoryLayout<swerl_scheduler_usage>.size)
            }
            let usage = engine.schedulerUsage()
            if let buffer, capacity > 0 { _ = StructSizes.writeArray(usage, to: buffer, capacity: capacity) }
            count.pointee = usage.count
            return 0
        }
    }
}
