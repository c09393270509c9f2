// Time, in one place: monotonic nanoseconds (libuv's uv_hrtime:
// clock_gettime(CLOCK_MONOTONIC), no syscall via vDSO), the wall clock for
// timestamps, and the conversions
// between the header's milliseconds and the runtime's deadlines.

import CLibUV
import CSwerl
import Glibc

@inline(__always)
func monotonicNanos() -> UInt64 { uv_hrtime() }

/// Milliseconds since the Unix epoch (the wall clock: timestamps for
/// people and browsers, never for deadlines).
func wallClockMillis() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
}

enum Deadline {
    static let never = UInt64.max

    /// The deadline `millis` from now; SWERL_INFINITY: never.
    @inline(__always)
    static func after(millis: UInt32, from now: UInt64 = monotonicNanos()) -> UInt64 {
        millis == SWERL_INFINITY ? never : now + UInt64(millis) * 1_000_000
    }

    /// As `after`, with nil for never (for waits that take an optional).
    static func optional(afterMillis millis: UInt32) -> UInt64? {
        millis == SWERL_INFINITY ? nil : after(millis: millis)
    }

    /// Whole milliseconds left until `deadline`, rounded up (0 if passed).
    static func millisLeft(until deadline: UInt64, now: UInt64 = monotonicNanos()) -> UInt64 {
        deadline > now ? (deadline - now + 999_999) / 1_000_000 : 0
    }

    /// A monotonic deadline as a timespec (for pthread_cond_timedwait on a
    /// CLOCK_MONOTONIC condition).
    static func timespec(_ deadline: UInt64) -> Glibc.timespec {
        Glibc.timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    }
}

/// Nanoseconds as whole milliseconds (for reports).
@inline(__always)
func millis(_ nanos: UInt64) -> UInt64 { nanos / 1_000_000 }
