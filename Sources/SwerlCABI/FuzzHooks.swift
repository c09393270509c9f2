// Entry points for the fuzzer only: compiled into the sanitizer build
// (Tests/sanitizers/build-asan-lib.sh passes -DSWERL_FUZZ_HOOKS), never
// into the library that ships; swerl.h does not declare them.

#if SWERL_FUZZ_HOOKS
import Swerl

/// The distribution layer's readers of a peer's bytes (DistFuzzing).
@c public func swerl_fuzz_dist(_ data: UnsafePointer<UInt8>?, _ len: Int) {
    guard let data, len > 0 else { return }
    DistFuzzing.run(Array(UnsafeBufferPointer(start: data, count: len)))
}
/// The observer server's request parser (HTTPRequestParser). Three bytes
/// pick the limits and a split, the rest is what a client sent: fed whole,
/// one byte at a time and in chunks, taking every request with next(), it
/// must give the same requests and end the same way, each within the limits.
@c public func swerl_fuzz_http(_ data: UnsafePointer<UInt8>?, _ len: Int) {
    guard let data, len >= 3 else { return }
    let maxHead = data[0] == 255 ? 8192 : 8 + Int(data[0])
    let maxBody = data[1] >= 128 ? 1024 : Int(data[1])
    let bytes = UnsafeRawBufferPointer(start: data + 3, count: len - 3)
    // A server reads at most a request's worth before taking the requests:
    // fed so, the parser never runs out of room and nothing it says depends
    // on the split. Fed all at once, it may (past 2 * that).
    let request = maxHead + maxBody
    var seed = UInt32(data[2])
    let bytewise = httpFuzzRun(bytes, maxHead: maxHead, maxBody: maxBody) { 1 }
    let chunked = httpFuzzRun(bytes, maxHead: maxHead, maxBody: maxBody) {
        seed = seed &* 1_103_515_245 &+ 12345
        return 1 + Int(seed >> 16) % min(request, 97)
    }
    precondition(chunked == bytewise, "HTTP: chunks \(chunked), bytes \(bytewise)")
    let whole = httpFuzzRun(bytes, maxHead: maxHead, maxBody: maxBody) { bytes.count }
    if bytes.count <= 2 * request {
        precondition(whole == bytewise, "HTTP: whole \(whole), bytes \(bytewise)")
    }
}

/// What a parser made of `bytes` fed in pieces of `size()` bytes: each
/// request as text, then how it ended.
private func httpFuzzRun(_ bytes: UnsafeRawBufferPointer, maxHead: Int, maxBody: Int, size: () -> Int) -> [String] {
    var parser = HTTPRequestParser(maxHead: maxHead, maxBody: maxBody)
    var events: [String] = []
    var offset = 0
    var result = HTTPParseResult.needMore
    feeding: while offset < bytes.count {
        let end = offset + min(max(1, size()), bytes.count - offset)
        result = parser.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
        offset = end
        while case .request(let request) = result {
            precondition(request.body.count <= maxBody, "HTTP: a body past maxBody")
            precondition(request.method.utf8.count + request.target.utf8.count < maxHead, "HTTP: a head past maxHead")
            for field in request.headers {
                precondition(!field.name.isEmpty && field.name == field.name.lowercased(), "HTTP: a field name")
                precondition(field.value.first != " " && field.value.last != " ", "HTTP: a value not trimmed")
                precondition(request.header(field.name) != nil, "HTTP: header() misses a field")
            }
            for (name, _) in request.query {
                precondition(request.queryValue(name) != nil, "HTTP: queryValue() misses a name")
            }
            events.append("\(request.method) \(request.target) \(request.path) \(request.query) \(request.headers) "
                + "\(request.body) \(request.keepAlive)")
            result = parser.next()
        }
        if case .failure = result { break feeding }
    }
    switch result {
    case .failure(let status, let reason):
        precondition([400, 413, 414, 431, 501, 505].contains(status) && !reason.isEmpty, "HTTP: status \(status)")
        guard case .failure(status, reason) = parser.next() else { preconditionFailure("HTTP: a failure not final") }
        events.append("failure \(status) \(reason)")
    case .needMore, .request:
        events.append("needMore")
    }
    return events
}
#endif
