#!/bin/sh
# Build the demo's Swift process as OUTDIR/libdemo_swift_worker.so against an
# installed Swerl (its header in INCLUDEDIR, libswerl.so in LIBDIR, by default
# INCLUDEDIR/../lib). The Swift runtime is embedded (-static-stdlib) and only
# demo_swift_stats_behavior is exported (exports.map), so the object loads
# next to libswerl.so.1 and needs no libswift*.so at run time.
#
#   examples/demo/swift-worker/build.sh OUTDIR INCLUDEDIR [LIBDIR]
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 OUTDIR INCLUDEDIR [LIBDIR]" >&2
    exit 2
fi
out=$1
include=$2
libdir=${3:-$include/../lib}
here=$(cd "$(dirname "$0")" && pwd)
swiftc=${SWIFTC:-swiftc}
lib="$out/libdemo_swift_worker.so"

for file in "$include/swerl.h" "$libdir/libswerl.so"; do
    [ -f "$file" ] || { echo "error: $file is missing (is Swerl installed there?)" >&2; exit 1; }
done
mkdir -p "$out"
libdir=$(cd "$libdir" && pwd)

# Swift 6 language mode (complete concurrency checking); a warning fails the
# build, as -Werror does for the C workers. -z defs: every undefined symbol
# must come from the libraries named here, libswerl.so.1 above all.
"$swiftc" -swift-version 6 -warnings-as-errors -O -module-name DemoSwiftWorker \
    -emit-library -static-stdlib -o "$lib.tmp" \
    -import-objc-header "$include/swerl.h" -module-cache-path "$out/module-cache" \
    -L "$libdir" -lswerl -Xlinker -rpath -Xlinker "$libdir" \
    -Xlinker --version-script="$here/exports.map" -Xlinker -z -Xlinker defs \
    "$here/StatsWorker.swift"
# Replace, never overwrite in place: a running program may map the old file.
mv -f "$lib.tmp" "$lib"

deps=$(ldd "$lib")
if printf '%s\n' "$deps" | grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found'; then
    printf '%s\n' "$deps" >&2
    echo "error: $lib must embed the Swift runtime and find every library it needs" >&2
    exit 1
fi
exports=$(nm -D --defined-only "$lib" | awk '{ print $NF }')
if [ "$exports" != demo_swift_stats_behavior ]; then
    printf 'exports:\n%s\n' "$exports" >&2
    echo "error: $lib must export demo_swift_stats_behavior only" >&2
    exit 1
fi
echo "ok: $lib (exports demo_swift_stats_behavior only, Swift runtime embedded)"
