// The words behind an error code (swerl_last_error_detail): each place that
// decides an error says what went wrong, in the core or in a front end's
// argument checks, through this one function; each front end counts the
// failures it hands to its caller (`failed`), which is what ties the words
// to their failure. Only failing paths pay for it.

import CSwerlSupport

package enum ErrorDetail {
    /// Records `text` as the calling thread's last-error detail.
    package static func set(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { swerlrt_error_set($0.baseAddress, $0.count) }
        }
    }

    /// The calling thread's last-error detail ("" if none).
    package static var current: String { String(cString: swerlrt_error_get()) }

    /// A front end hands a failure to its caller: the detail set since the
    /// last failure (if any) is this one's.
    @inline(__always)
    package static func failed() { swerlrt_error_failed() }

    /// `code`, counted as a failure handed out when it is one (C exports
    /// return through this).
    @inline(__always)
    package static func handedOut(_ code: Int32) -> Int32 {
        if code < 0 { swerlrt_error_failed() }
        return code
    }

    /// Records `text` and returns `code`: `return failing(Code.invalid, "...")`.
    @inline(never)
    package static func failing(_ code: Int32, _ text: @autoclosure () -> String) -> Int32 {
        set(text())
        return code
    }

    /// At most `limit` bytes of a detail (a reason's detail may be a whole
    /// traceback): its head and its tail, which says what finally went wrong.
    static func excerpt(_ bytes: UnsafeRawBufferPointer, limit: Int = 2048) -> String {
        guard bytes.count > limit else { return String(decoding: bytes, as: UTF8.self) }
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<limit / 4]), as: UTF8.self)
        let tail = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - 3 * limit / 4)...]),
                          as: UTF8.self)
        return head + "\n[... \(bytes.count - limit) bytes left out ...]\n" + tail
    }
}
