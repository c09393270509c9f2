// The demo's Swift process: a "stats" server that lives in the same Swerl
// runtime as the demo's C and Python processes.
//
// Why the C ABI and not `import Swerl`: there is one Swerl per process, the
// one in libswerl.so.1, which the host (here a Python program) loaded and
// started. That library embeds its own Swift runtime and exports only the
// swerl_* C functions of swerl.h, so a process that joins the host's runtime
// reaches it through those functions, whatever language it is written in.
// Importing the Swerl package here would compile a second, separate Swerl
// (and Swift runtime) into this object: its types and globals would not be
// those of libswerl.so.1, and it could not take part in the host's runtime.
// So this file uses swerl.h only (build.sh brings it in with
// -import-objc-header, hence no `import` line for it) and exports one C
// symbol, demo_swift_stats_behavior, exactly as a C worker would. The Swift
// runtime this object embeds (-static-stdlib) is hidden behind a version
// script, so it coexists with libswerl's: neither exports a Swift symbol.
// A Swift program that hosts the runtime itself uses `import Swerl` instead
// and writes its processes against the typed Swift API.
//
// The protocol:
//   - a MESSAGE holding a decimal integer in ASCII ("42", "-7") is added to
//     the statistics; any other message, and a number whose addition would
//     overflow the sum, is ignored;
//   - a CALL "stats" is answered with "count=3 sum=60 min=10 max=30"
//     ("count=0 sum=0 min=none max=none" before the first number);
//   - a CALL "crash" fails the process (reason SWERL_REASON_ERROR, detail
//     "asked to crash") without answering: the caller gets SWERL_EEXITED and
//     links, monitors and supervisors see the crash;
//   - any other CALL is answered with "unknown request".

import Glibc

/// The process state: allocated by `statsInit`, released by `statsTerminate`.
private struct Stats {
    var count: Int64 = 0
    var sum: Int64 = 0
    var min: Int64 = .max
    var max: Int64 = .min

    /// Adds `value` unless the sum would overflow; returns whether it did.
    mutating func add(_ value: Int64) -> Bool {
        let (newSum, overflow) = sum.addingReportingOverflow(value)
        if overflow { return false }
        sum = newSum
        count += 1
        min = Swift.min(min, value)
        max = Swift.max(max, value)
        return true
    }

    var summary: String {
        if count == 0 { return "count=0 sum=0 min=none max=none" }
        return "count=\(count) sum=\(sum) min=\(min) max=\(max)"
    }
}

/// Erlang's way to print a pid, as the other demo processes do: <node.slot.generation>.
private func describe(_ pid: swerl_pid) -> String {
    "<0.\(pid & 0xFF_FFFF).\((pid >> 24) & 0x3FFF_FFFF)>"
}

/// One line of demo output, flushed at once so that it interleaves with the
/// C and Python processes' lines in the order things happen.
private func report(_ ctx: OpaquePointer?, _ text: String) {
    print("  [Swift stats \(describe(swerl_self(ctx)))] \(text)")
    fflush(nil)
}

private func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
    bytes.elementsEqual(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
}

private func statsInit(_ ctx: OpaquePointer?, _ arg: UnsafeMutableRawPointer?,
                       _ state: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CInt {
    guard let state else { return -1 }
    let stats = UnsafeMutablePointer<Stats>.allocate(capacity: 1)
    stats.initialize(to: Stats())
    state.pointee = UnsafeMutableRawPointer(stats)
    report(ctx, "started")
    return 0
}

private func statsHandle(_ ctx: OpaquePointer?, _ message: UnsafePointer<swerl_message>?,
                         _ state: UnsafeMutableRawPointer?) -> CInt {
    guard let message, let state else { return -1 }
    let stats = state.assumingMemoryBound(to: Stats.self)
    let payload = UnsafeRawBufferPointer(start: message.pointee.data, count: message.pointee.len)

    switch Int(message.pointee.kind) {
    case SWERL_MESSAGE:
        if let value = Int64(String(decoding: payload, as: UTF8.self)) {
            _ = stats.pointee.add(value)
        }
        return CInt(SWERL_CONTINUE)

    case SWERL_CALL:
        if bytesEqual(payload, "crash") {
            report(ctx, "asked to crash")
            let why: StaticString = "asked to crash"
            _ = swerl_fail(ctx, CInt(SWERL_REASON_ERROR), why.utf8Start, why.utf8CodeUnitCount)
            return -1
        }
        var answer = bytesEqual(payload, "stats") ? stats.pointee.summary : "unknown request"
        // EREF (the caller gave up) needs nothing from us: the answer is dropped.
        _ = answer.withUTF8 { utf8 in
            swerl_reply(swerl_ctx_runtime(ctx), message.pointee.ref, utf8.baseAddress, utf8.count)
        }
        return CInt(SWERL_CONTINUE)

    default:
        // EXIT, DOWN, TIMEOUT and REPLY: this process asked for none of them.
        return CInt(SWERL_CONTINUE)
    }
}

private func statsTerminate(_ ctx: OpaquePointer?, _ reason: Int32, _ state: UnsafeMutableRawPointer?) {
    report(ctx, "terminate, reason \(reason)")
    guard let state else { return }
    let stats = state.assumingMemoryBound(to: Stats.self)
    stats.deinitialize(count: 1)
    stats.deallocate()
}

/// The behaviour lives at one address for the life of the program: callers
/// may keep the pointer (swerl_spawn and child specs copy the struct anyway).
/// Swift initialises a global once, thread-safely, on first use; it is never
/// written afterwards, which is why sharing it across threads is sound.
nonisolated(unsafe) private let statsBehavior: UnsafePointer<swerl_behavior> = {
    let behavior = UnsafeMutablePointer<swerl_behavior>.allocate(capacity: 1)
    behavior.initialize(to: swerl_behavior(size: UInt32(MemoryLayout<swerl_behavior>.size),
                                           init: statsInit, handle: statsHandle,
                                           terminate: statsTerminate))
    return UnsafePointer(behavior)
}()

/// `const swerl_behavior *demo_swift_stats_behavior(void)`: the stats
/// process, for swerl_spawn or a swerl_child_spec. Any thread.
@c public func demo_swift_stats_behavior() -> UnsafePointer<swerl_behavior> {
    statsBehavior
}
