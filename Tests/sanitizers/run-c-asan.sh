#!/usr/bin/env bash
# The C suite (Tests/c/run.sh) against an AddressSanitizer build of the
# library, with LeakSanitizer on. Any ASan or LSan report fails the run.
#
#   Tests/sanitizers/run-c-asan.sh
#
# The library comes from build-asan-lib.sh (staged in build/asan; built when
# missing or older than Sources/ or the header; REBUILD=1 forces it).
#
# The test programs are compiled by the toolchain's own clang with
# -fsanitize=address rather than run under LD_PRELOAD of the ASan runtime:
# the library leaves the runtime to the executable, and this way it is
# linked into the executable (first, as ASan requires), its version is the
# one swiftc instrumented the library for, the tests' own accesses to
# borrowed message data are checked too, and nothing else (timeout, tee)
# gets the runtime injected.
#
# LSan checks at process exit, but each test section runs in a forked child
# that leaves with _exit() (Tests/c/check.h), which skips the check; so the
# sections run in-process here (SWERL_TEST_NOFORK=1). Each section still
# starts and frees its own runtime, and run.sh's per-program timeout bounds a
# hang.
#
# Environment: SWIFT (default swift), SWERL_TEST_ONLY, SWERL_TEST_TIMEOUT
# (as run.sh), REBUILD=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
stage=$root/build/asan
lib=$stage/lib/libswerl.so.1

if [[ ${REBUILD:-0} == 1 || ! -f $lib ]] ||
   [[ -n $(find "$root/Sources" "$root/include/swerl.h" "$root/Package.swift" -newer "$lib" -print -quit) ]]; then
    "$here/build-asan-lib.sh" "$stage"
fi

# The clang of the toolchain that built the library: its ASan runtime is the
# one the library's instrumentation expects.
swift=$(command -v "${SWIFT:-swift}") || { echo "run-c-asan.sh: no swift on PATH" >&2; exit 2; }
bindir=$(dirname "$(readlink -f "$swift")")
[[ -x $bindir/clang && -x $bindir/clang++ ]] ||
    { echo "run-c-asan.sh: no clang beside $swift" >&2; exit 2; }

# Reports go to stderr, which run.sh interleaves with the output; a report
# makes the program exit nonzero (exitcode), and run.sh counts that as a
# failure. Keep a copy of the output to name the reports at the end.
#   allocator_may_return_null=1  test_bad_input asks for an INTPTR_MAX-byte
#       message and expects ENOMEM: malloc must fail as glibc's does, not
#       abort the program;
#   quarantine_size_mb=32  freed memory is held back (to catch use after
#       free) up to this much, not the default 256 MiB: test_stress checks
#       that RSS stays flat over 300,000 more processes after two warm-up
#       rounds, and a quarantine still filling up then looks like a leak
#       (LSan checks leaks for real). Since message nodes come from the
#       node arena, fewer free()s fill it early: test_stress and
#       test_overload allow these 32 MiB in their RSS bounds under ASan.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
SWERL_TEST_NOFORK=1 \
SWERL_TEST_BIN=$root/build/asan/c-tests \
SWERL_TEST_CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -fuse-ld=lld" \
ASAN_OPTIONS=detect_leaks=1:exitcode=23:allocator_may_return_null=1:quarantine_size_mb=32:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS} \
LSAN_OPTIONS=suppressions=$here/lsan.supp:print_suppressions=1${LSAN_OPTIONS:+:$LSAN_OPTIONS} \
ASAN_SYMBOLIZER_PATH=$bindir/llvm-symbolizer \
CC=$bindir/clang CXX=$bindir/clang++ \
    bash "$root/Tests/c/run.sh" "$stage" 2>&1 | tee "$log" || status=$?

reports=$(grep -cE '^==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer)' "$log" || true)
echo "run-c-asan.sh: $reports sanitizer report(s)"
if [[ $reports -ne 0 || $status -ne 0 ]]; then
    echo "run-c-asan.sh: FAILED" >&2
    exit 1
fi
echo "run-c-asan.sh: ok (C suite clean under ASan + LSan)"
