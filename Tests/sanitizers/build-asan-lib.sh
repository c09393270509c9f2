#!/usr/bin/env bash
# Build libswerl.so.1 with AddressSanitizer and libFuzzer's coverage, and
# stage it like `make stage` does:
#
#   Tests/sanitizers/build-asan-lib.sh OUTDIR
#     -> OUTDIR/include/swerl.h, OUTDIR/lib/libswerl.so.1, OUTDIR/lib/libswerl.so,
#        OUTDIR/lib/pkgconfig/swerl.pc
#
# The flags are the Makefile's `lib` recipe (embedded Swift runtime, the
# version script, the soname: the same exports, checked below) plus
#   --sanitize=address   ASan for the Swift and C targets (SwiftPM passes
#                        -sanitize=address / -fsanitize=address to each);
#   -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table
#                        the counters, PC table and comparison hooks libFuzzer
#                        reads (what clang's -fsanitize=fuzzer-no-link adds).
# The library leaves the ASan runtime and the coverage hooks undefined, as
# clang does for any -shared sanitized object: the program that loads it must
# carry them (built with clang -fsanitize=address, or -fsanitize=fuzzer,address).
#
# Scratch path: .build-asan (release configuration; `make check-all`'s
# `swift test --sanitize=address` uses its debug side). Environment: SWIFT
# (default swift).
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
swift=${SWIFT:-swift}
mkdir -p "$1"
out=$(cd "$1" && pwd)
scratch=$root/.build-asan
soname=libswerl.so.1

cd "$root"
"$swift" build -c release --product SwerlC --scratch-path "$scratch" \
    --sanitize=address \
    -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
    -Xswiftc -static-stdlib -Xswiftc -DSWERL_FUZZ_HOOKS \
    -Xlinker --version-script="$root/abi/swerl.map" -Xlinker -soname=$soname
built=$("$swift" build -c release --scratch-path "$scratch" --show-bin-path)/libSwerlC.so

# The exports must be exactly the normal library's (abi/symbols.txt).
# The fuzzer's hooks (SWERL_FUZZ_HOOKS) are this build's only extra exports.
hooks=$(mktemp)
trap 'rm -f "$hooks"' EXIT
{ cat abi/symbols.txt; echo swerl_fuzz_dist; echo swerl_fuzz_http; } | LC_ALL=C sort > "$hooks"
abi/check-exports.sh "$built" "$hooks"

mkdir -p "$out/include" "$out/lib/pkgconfig"
install -m 644 include/swerl.h "$out/include/swerl.h"
# Replace, never overwrite in place: a running program may map the old file.
install -m 755 "$built" "$out/lib/$soname.tmp"
mv -f "$out/lib/$soname.tmp" "$out/lib/$soname"
ln -sfn $soname "$out/lib/libswerl.so"

version=$(awk '$1 ~ /define$/ && $2 ~ /^SWERL_VERSION_(MAJOR|MINOR|PATCH)$/ { v[$2] = $3; n++ }
    END { if (n == 3) print v["SWERL_VERSION_MAJOR"] "." v["SWERL_VERSION_MINOR"] "." v["SWERL_VERSION_PATCH"] }' include/swerl.h)
[[ -n $version ]] || { echo "build-asan-lib.sh: cannot read the version from include/swerl.h" >&2; exit 1; }
sed -e "s|@PREFIX@|$out|g" -e 's|@LIBDIR@|${prefix}/lib|g' \
    -e 's|@INCLUDEDIR@|${prefix}/include|g' -e "s|@VERSION@|$version|g" \
    swerl.pc.in > "$out/lib/pkgconfig/swerl.pc.tmp"
mv -f "$out/lib/pkgconfig/swerl.pc.tmp" "$out/lib/pkgconfig/swerl.pc"
echo "ok: $out/lib/$soname (ASan + libFuzzer coverage, $(du -h "$out/lib/$soname" | cut -f1))"
