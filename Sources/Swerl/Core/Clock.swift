import CLibUV

/// Monotonic nanoseconds (libuv's uv_hrtime: clock_gettime, no syscall via vDSO).
@inline(__always)
func monotonicNanos() -> UInt64 { uv_hrtime() }
