// Version, errors and the runtime's lifecycle (swerl.h, first sections).

import CSwerl
import CSwerlSupport
import Swerl

private let versionString: StaticString = "1.1.0"

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

@c public func swerl_config_init(_ cfg: UnsafeMutablePointer<swerl_config>?) {
    guard let cfg else { return }
    cfg.pointee = swerl_config()
    cfg.pointee.size = UInt32(MemoryLayout<swerl_config>.size)
}

@c public func swerl_runtime_start(_ cfg: UnsafePointer<swerl_config>?,
                                   _ out: UnsafeMutablePointer<OpaquePointer?>?) -> CInt {
    guard let out else { return CInt(SWERL_EINVAL) }
    var config = swerl_config()
    if let cfg {
        config = cfg.pointee
    } else {
        swerl_config_init(&config)
    }
    let valid = Engine.validate(config)
    if valid != 0 { return valid }
    let engine = Engine(config: config)
    engine.start()
    out.pointee = OpaquePointer(Unmanaged.passRetained(engine).toOpaque())
    return 0
}

@c public func swerl_runtime_stop(_ rt: OpaquePointer?, _ timeoutMillis: UInt32) -> CInt {
    guard let engine = engine(rt) else { return CInt(SWERL_EINVAL) }
    return engine.stop(timeoutMillis: timeoutMillis)
}

@c public func swerl_runtime_free(_ rt: OpaquePointer?) {
    guard let rt, let engine = engine(rt) else { return }
    if engine.isInsideCallback { return }  // it would wait for itself (1.0: ignored)
    // Inside another runtime's callback it cannot wait either: a background
    // thread stops it and drops the last reference. Releasing it unstopped
    // would leave its threads running callbacks whose owner thinks them gone.
    if Engine.isInsideAnyCallback {
        engine.stopInBackground()
        Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(rt)).release()
        return
    }
    let result = engine.stop(timeoutMillis: 5000)
    if result == CInt(SWERL_ETIMEDOUT) || (result == CInt(SWERL_ESTOPPED) && !engine.threadsJoined) {
        engine.joinAfterTimeout()
    }
    Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(rt)).release()
}

@c public func swerl_runtime_stats(_ rt: OpaquePointer?, _ out: UnsafeMutablePointer<swerl_stats>?) -> CInt {
    guard let engine = engine(rt), let out else { return CInt(SWERL_EINVAL) }
    // A 1.0 caller's struct ends before the 1.1 fields: fill the whole
    // fields it has (all 8 bytes wide after the first two).
    let size = Int(out.pointee.size)
    guard size >= MemoryLayout<swerl_stats>.offset(of: \.messages_rejected)! else { return CInt(SWERL_EINVAL) }
    var stats = engine.stats()
    stats.size = out.pointee.size
    withUnsafeBytes(of: &stats) { bytes in
        UnsafeMutableRawPointer(out).copyMemory(from: bytes.baseAddress!, byteCount: min(size, bytes.count) & ~7)
    }
    return 0
}

@c public func swerl_runtime_set_max_memory(_ rt: OpaquePointer?, _ bytes: UInt64) -> CInt {
    guard let engine = engine(rt) else { return CInt(SWERL_EINVAL) }
    return engine.setMaxMemory(bytes)
}
