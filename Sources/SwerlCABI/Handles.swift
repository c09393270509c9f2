// Conversions between the C handles and the runtime. No logic of its own.

import CSwerl
import Glibc
import Swerl

@inline(__always)
func engine(_ rt: OpaquePointer?) -> Engine? {
    guard let rt else { return nil }
    return Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(rt)).takeUnretainedValue()
}

@inline(__always)
func bytes(_ data: UnsafeRawPointer?, _ count: Int) -> UnsafeRawBufferPointer? {
    if count > 0 && data == nil { return nil }
    return UnsafeRawBufferPointer(start: count > 0 ? data : nil, count: count)
}

/// A registered name: 1...SWERL_NAME_MAX bytes of UTF-8.
func name(_ raw: UnsafePointer<CChar>?) -> String? {
    guard let raw else { return nil }
    let length = strnlenShim(raw, Int(SWERL_NAME_MAX) + 1)
    guard length > 0 && length <= Int(SWERL_NAME_MAX) else { return nil }
    return String(validatingCString: raw)
}

@inline(__always)
func strnlenShim(_ raw: UnsafePointer<CChar>, _ limit: Int) -> Int { strnlen(raw, limit) }
