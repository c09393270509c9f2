// Terms (swerl.h, "Terms"): C arguments to the core's cursor, writer,
// formatter and term sends, and their answers back. No logic of its own.

import CSwerl
import Glibc
import Swerl

/// EINVAL for bytes that are not a term: at which byte and why.
@inline(never)
func notATerm(_ function: String, _ argument: String, _ problem: ExternalTermFormat.DecodeError) -> CInt {
    invalid(function, "\(argument) is \(problem)")
}

@c public func swerl_send_term(_ rt: OpaquePointer?, _ to: swerl_pid, _ etf: UnsafeRawPointer?, _ len: Int) -> CInt {
    handedOut {
        return withEngine(rt, "swerl_send_term") { engine in
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard let etf = bytes(etf, len) else { return nullData("swerl_send_term", "etf", len) }
            return engine.sendTerm(to: to, bytes: etf)
        }
    }
}

@c public func swerl_send_named_term(_ rt: OpaquePointer?, _ rawName: UnsafePointer<CChar>?,
                                     _ etf: UnsafeRawPointer?, _ len: Int) -> CInt {
    handedOut {
        let function = "swerl_send_named_term"
        return withEngine(rt, function) { engine in
            if len < 0 { return CInt(SWERL_ETOOBIG) }
            guard let etf = bytes(etf, len) else { return nullData(function, "etf", len) }
            guard let registered = name(rawName) else { return invalid(function, nameProblem(rawName)) }
            return engine.sendNamedTerm(registered, bytes: etf)
        }
    }
}

@c public func swerl_term_read(_ rt: OpaquePointer?, _ data: UnsafeRawPointer?, _ len: Int,
                               _ offset: UnsafeMutablePointer<Int>?, _ out: UnsafeMutablePointer<swerl_term>?) -> CInt {
    handedOut {
        let function = "swerl_term_read"
        guard let offset else { return null(function, "offset") }
        guard let out else { return null(function, "out") }
        if len < 0 { return invalid(function, "len is above SSIZE_MAX") }
        guard let data = bytes(data, len) else { return nullData(function, "data", len) }
        guard StructSizes.size(out) >= MemoryLayout<swerl_term>.size else {
            return badSize(function, "out", out.pointee.size, "swerl_term", expected: MemoryLayout<swerl_term>.size)
        }
        switch TermCursor.read(data, at: offset.pointee, engine: engine(rt)) {
        case .success(let (term, next)):
            StructSizes.write(term, to: out)
            offset.pointee = next
            return 0
        case .failure(let problem):
            return notATerm(function, "data", problem)
        }
    }
}

@c public func swerl_term_skip(_ data: UnsafeRawPointer?, _ len: Int, _ offset: UnsafeMutablePointer<Int>?) -> CInt {
    handedOut {
        let function = "swerl_term_skip"
        guard let offset else { return null(function, "offset") }
        if len < 0 { return invalid(function, "len is above SSIZE_MAX") }
        guard let data = bytes(data, len) else { return nullData(function, "data", len) }
        switch TermCursor.skip(data, at: offset.pointee) {
        case .success(let next):
            offset.pointee = next
            return 0
        case .failure(let problem):
            return notATerm(function, "data", problem)
        }
    }
}

@c public func swerl_term_format(_ rt: OpaquePointer?, _ data: UnsafeRawPointer?, _ len: Int,
                                 _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> CInt {
    handedOut {
        let function = "swerl_term_format"
        if len < 0 { return invalid(function, "len is above SSIZE_MAX") }
        guard let data = bytes(data, len) else { return nullData(function, "data", len) }
        if buf == nil && cap != 0 { return invalid(function, "buf is NULL with a capacity") }
        switch TermFormat.format(data, engine: engine(rt)) {
        case .success(let text):
            if let buf, cap != 0 {
                let kept = cap < 0 ? text.count : min(text.count, cap - 1)  // cap above SSIZE_MAX: room enough
                text.withUnsafeBytes { UnsafeMutableRawPointer(buf).copyMemory(from: $0.baseAddress!, byteCount: kept) }
                buf[kept] = 0
            }
            return CInt(clamping: text.count)
        case .failure(let problem):
            return notATerm(function, "data", problem)
        }
    }
}

// MARK: The writer

@inline(__always)
func writer(_ w: OpaquePointer?) -> TermWriter? {
    guard let w else { return nil }
    return Unmanaged<TermWriter>.fromOpaque(UnsafeRawPointer(w)).takeUnretainedValue()
}

@c public func swerl_term_writer_new(_ rt: OpaquePointer?) -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(TermWriter(engine: engine(rt))).toOpaque())
}

@c public func swerl_term_writer_free(_ w: OpaquePointer?) {
    guard let w else { return }
    Unmanaged<TermWriter>.fromOpaque(UnsafeRawPointer(w)).release()
}

@c public func swerl_term_writer_reset(_ w: OpaquePointer?) {
    writer(w)?.reset()
}

/// A put's outcome for C: 0, or EINVAL with the function's name and why.
private func put(_ function: String, _ w: OpaquePointer?, _ body: (TermWriter) -> TermWriter.Outcome) -> CInt {
    handedOut {
        withObject(w, function, "w") { (writer: TermWriter) in
            switch body(writer) {
            case .success: return 0
            case .failure(let problem): return invalid(function, problem.text)
            }
        }
    }
}

@c public func swerl_term_writer_put_atom(_ w: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> CInt {
    guard let name else { return handedOut { null("swerl_term_writer_put_atom", "name") } }
    return put("swerl_term_writer_put_atom", w) { $0.putAtom(UnsafeRawBufferPointer(start: name, count: strlen(name))) }
}

@c public func swerl_term_writer_put_bool(_ w: OpaquePointer?, _ value: CInt) -> CInt {
    let name: StaticString = value != 0 ? "true" : "false"
    return put("swerl_term_writer_put_bool", w) {
        $0.putAtom(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }
}

@c public func swerl_term_writer_put_int(_ w: OpaquePointer?, _ value: Int64) -> CInt {
    put("swerl_term_writer_put_int", w) { $0.putInteger(value) }
}

@c public func swerl_term_writer_put_uint(_ w: OpaquePointer?, _ value: UInt64) -> CInt {
    put("swerl_term_writer_put_uint", w) { $0.putUnsigned(value) }
}

@c public func swerl_term_writer_put_bigint(_ w: OpaquePointer?, _ negative: CInt, _ magnitude: UnsafeRawPointer?,
                                            _ len: Int) -> CInt {
    if len < 0 { return handedOut { invalid("swerl_term_writer_put_bigint", "len is above SSIZE_MAX") } }
    guard let magnitude = bytes(magnitude, len) else {
        return handedOut { nullData("swerl_term_writer_put_bigint", "magnitude", len) }
    }
    return put("swerl_term_writer_put_bigint", w) { $0.putBig(negative: negative != 0, magnitude: magnitude) }
}

@c public func swerl_term_writer_put_float(_ w: OpaquePointer?, _ value: Double) -> CInt {
    put("swerl_term_writer_put_float", w) { $0.putFloat(value) }
}

@c public func swerl_term_writer_put_binary(_ w: OpaquePointer?, _ data: UnsafeRawPointer?, _ len: Int) -> CInt {
    if len < 0 { return handedOut { invalid("swerl_term_writer_put_binary", "len is above SSIZE_MAX") } }
    guard let data = bytes(data, len) else {
        return handedOut { nullData("swerl_term_writer_put_binary", "data", len) }
    }
    return put("swerl_term_writer_put_binary", w) { $0.putBinary(data) }
}

@c public func swerl_term_writer_put_string(_ w: OpaquePointer?, _ text: UnsafePointer<CChar>?) -> CInt {
    guard let text else { return handedOut { null("swerl_term_writer_put_string", "text") } }
    return put("swerl_term_writer_put_string", w) { $0.putBinary(UnsafeRawBufferPointer(start: text, count: strlen(text))) }
}

@c public func swerl_term_writer_put_tuple(_ w: OpaquePointer?, _ arity: UInt32) -> CInt {
    put("swerl_term_writer_put_tuple", w) { $0.putTuple(arity) }
}

@c public func swerl_term_writer_put_list(_ w: OpaquePointer?, _ n: UInt32) -> CInt {
    put("swerl_term_writer_put_list", w) { $0.putList(n) }
}

@c public func swerl_term_writer_put_improper_list(_ w: OpaquePointer?, _ n: UInt32) -> CInt {
    put("swerl_term_writer_put_improper_list", w) { $0.putImproperList(n) }
}

@c public func swerl_term_writer_put_map(_ w: OpaquePointer?, _ pairs: UInt32) -> CInt {
    put("swerl_term_writer_put_map", w) { $0.putMap(pairs) }
}

@c public func swerl_term_writer_put_pid(_ w: OpaquePointer?, _ pid: swerl_pid) -> CInt {
    put("swerl_term_writer_put_pid", w) { $0.putPid(pid) }
}

@c public func swerl_term_writer_put_ref(_ w: OpaquePointer?, _ ref: swerl_ref) -> CInt {
    put("swerl_term_writer_put_ref", w) { $0.putRef(ref) }
}

@c public func swerl_term_writer_bytes(_ w: OpaquePointer?, _ data: UnsafeMutablePointer<UnsafeRawPointer?>?,
                                       _ len: UnsafeMutablePointer<Int>?) -> CInt {
    handedOut {
        let function = "swerl_term_writer_bytes"
        guard let writer = writer(w) else { return null(function, "w") }
        guard let data else { return null(function, "data") }
        guard let len else { return null(function, "len") }
        switch writer.bytes() {
        case .success(let bytes):
            data.pointee = bytes.baseAddress
            len.pointee = bytes.count
            return 0
        case .failure(let problem):
            return invalid(function, "the term is incomplete: \(problem.text)")
        }
    }
}
