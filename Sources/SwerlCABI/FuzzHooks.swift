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
#endif
