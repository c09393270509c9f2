// Conversions between the C handles and the runtime, and the words of the
// argument errors (swerl_last_error_detail). No logic of its own.

import CSwerl
import Glibc
import Swerl

@inline(__always)
func engine(_ rt: OpaquePointer?) -> Engine? {
    guard let rt else { return nil }
    return Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(rt)).takeUnretainedValue()
}

/// `body` with the runtime of handle `rt` borrowed, not retained: held
/// through a strong reference, every call retained and released the engine
/// (about 40 instructions, on a line every thread's calls share). A NULL
/// `rt` is `function`'s EINVAL.
@inline(__always)
func withEngine(_ rt: OpaquePointer?, _ function: String, _ body: (Engine) -> CInt) -> CInt {
    withObject(rt, function, "rt", body)
}

/// `body` with the object behind handle `raw` (a runtime, a turn group, a
/// term writer) borrowed, not retained; a NULL `raw` is `function`'s
/// EINVAL naming `argument`.
@inline(__always)
func withObject<Object: AnyObject>(_ raw: OpaquePointer?, _ function: String, _ argument: String,
                                   _ body: (Object) -> CInt) -> CInt {
    guard let raw else { return null(function, argument) }
    return Unmanaged<Object>.fromOpaque(UnsafeRawPointer(raw))._withUnsafeGuaranteedRef(body)
}

@inline(__always)
func bytes(_ data: UnsafeRawPointer?, _ count: Int) -> UnsafeRawBufferPointer? {
    if count > 0 && data == nil { return nil }
    return UnsafeRawBufferPointer(start: count > 0 ? data : nil, count: count)
}

/// A name argument (the core's rule, NameRule), or nil.
func name(_ raw: UnsafePointer<CChar>?) -> String? {
    try? NameRule.fromC(raw).get()
}

/// Why a name argument that `name` refused is not a name.
func nameProblem(_ raw: UnsafePointer<CChar>?) -> String {
    if case .failure(let problem) = NameRule.fromC(raw) { return problem.text }
    return "the name is valid"
}

/// EINVAL, with which argument of `function` was wrong and why.
@inline(never)
func invalid(_ function: String, _ why: String) -> CInt {
    ErrorDetail.failing(CInt(SWERL_EINVAL), "\(function): \(why)")
}

/// EINVAL for a NULL pointer argument.
@inline(never)
func null(_ function: String, _ argument: String) -> CInt {
    invalid(function, "\(argument) is NULL")
}

/// Fills `out`, a struct the caller sized, with what `produce` returns when
/// its code is 0: the `_get_info`-style entry points. NULL or too small an
/// `out` is `function`'s EINVAL, and `produce` is not called.
@inline(__always)
func fillSized<Info>(_ out: UnsafeMutablePointer<Info>?, _ function: String, _ type: String,
                     _ produce: () -> (CInt, Info)) -> CInt {
    guard let out else { return null(function, "out") }
    let given = StructSizes.size(out)
    guard given >= MemoryLayout<Info>.size else {
        return badSize(function, "out", UInt32(truncatingIfNeeded: given), type, expected: MemoryLayout<Info>.size)
    }
    let (code, info) = produce()
    if code == 0 { StructSizes.write(info, to: out) }
    return code
}

/// EINVAL for a struct whose `size` was not set (its _init not called).
@inline(never)
func badSize(_ function: String, _ argument: String, _ size: UInt32, _ type: String, expected: Int) -> CInt {
    invalid(function, "\(argument)->size is \(size), not \(expected) (sizeof(\(type)))"
        + (type.hasSuffix("_opts") || type.hasSuffix("_spec") || type == "swerl_config"
           ? ": call \(type)_init first" : ": set it to sizeof(\(type))"))
}

/// EINVAL for data NULL with a length.
@inline(never)
func nullData(_ function: String, _ argument: String, _ count: Int) -> CInt {
    invalid(function, "\(argument) is NULL with a length of \(count)")
}

/// Runs an export's body and hands its result to the C caller, counting a
/// failure (which ties swerl_last_error_detail's words to it).
@inline(__always)
func handedOut(_ body: () -> CInt) -> CInt {
    ErrorDetail.handedOut(body())
}
