#!/usr/bin/env bash
# Build the C ABI fuzzer and run it.
#
#   Tests/fuzz/run.sh SECONDS [LIBFUZZER_FLAGS...]
#   e.g. Tests/fuzz/run.sh 60                 (the test command's short run)
#        Tests/fuzz/run.sh 3600 -fork=2       (a long run on both cores)
#
# Builds the ASan + coverage library (Tests/sanitizers/build-asan-lib.sh, into
# build/asan) when it is missing or older than the sources, compiles
# swerl_fuzz.c with clang -fsanitize=fuzzer,address into build/fuzz/, and
# runs it for SECONDS over a fresh copy of Tests/fuzz/corpus (new inputs go to
# the copy, never into the committed corpus). Findings are written to
# build/fuzz/artifacts/ (crash-*, leak-*, timeout-*, oom-*).
#
# Prints the executions, exec/s and coverage, and exits nonzero on any
# finding. A single input taking more than 5 s counts as a hang (each one
# normally takes a few milliseconds; every wait in it is bounded).
#
# Environment: SWIFT (default swift), REBUILD=1 (rebuild the library).
set -euo pipefail

[[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || { echo "usage: $0 SECONDS [LIBFUZZER_FLAGS...]" >&2; exit 2; }
secs=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
stage=$root/build/asan
lib=$stage/lib/libswerl.so.1
out=$root/build/fuzz

if [[ ${REBUILD:-0} == 1 || ! -f $lib ]] ||
   [[ -n $(find "$root/Sources" "$root/include/swerl.h" "$root/Package.swift" -newer "$lib" -print -quit) ]]; then
    "$root/Tests/sanitizers/build-asan-lib.sh" "$stage"
fi

# The toolchain's clang: its libFuzzer and ASan runtime match the
# instrumentation swiftc gave the library.
swift=$(command -v "${SWIFT:-swift}") || { echo "run.sh: no swift on PATH" >&2; exit 2; }
bindir=$(dirname "$(readlink -f "$swift")")
mkdir -p "$out"
"$bindir/clang" -fsanitize=fuzzer,address -fno-omit-frame-pointer -g -O1 -fuse-ld=lld \
    -std=c99 -Wall -Wextra -Werror -I"$stage/include" "$here/swerl_fuzz.c" \
    -L"$stage/lib" -lswerl -Wl,-rpath,"$stage/lib" -o "$out/swerl_fuzz"

work=$out/run
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$here"/corpus/* "$work/corpus/"

# libFuzzer's -jobs runs one worker per core/2 unless told: use as many
# workers as jobs. Its workers write fuzz-N.log in the working directory.
extra=("$@")
jobs_flag=$(printf '%s\n' "${extra[@]+"${extra[@]}"}" | sed -n 's/^-jobs=\([0-9]*\)$/\1/p' | tail -n1)
if [[ -n $jobs_flag ]] && ! printf '%s\n' "${extra[@]}" | grep -q '^-workers='; then
    extra+=("-workers=$jobs_flag")
fi

cd "$work"
status=0
start=$SECONDS
ASAN_OPTIONS=detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS} \
ASAN_SYMBOLIZER_PATH=$bindir/llvm-symbolizer \
    "$out/swerl_fuzz" -max_total_time="$secs" -timeout=5 -max_len=1024 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" ${extra[@]+"${extra[@]}"} corpus 2>&1 | tee fuzz.log || status=$?

# -fork=N: the parent prints running totals ("#EXECS: cov: ... exec/s: ...").
# Otherwise sum the final stats of each process: one, or one per job.
logs=(fuzz.log)
for f in fuzz-*.log; do [[ -e $f ]] && logs+=("$f"); done
last=$(grep -E '^#[0-9]+: cov:' fuzz.log | tail -n1 || true)
if [[ -n $last ]]; then
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
    rate=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")
else
    execs=$(cat "${logs[@]}" | awk '/^stat::number_of_executed_units:/ { n += $2 } END { print n + 0 }')
    rate=$(cat "${logs[@]}" | awk '/^stat::average_exec_per_sec:/ { n += $2 } END { print n + 0 }')
fi
cov=$(cat "${logs[@]}" | grep -Eo 'cov: [0-9]+ ft: [0-9]+' | sort -t' ' -k2,2n | tail -n1 || true)
findings=$(find "$work/artifacts" -type f | wc -l)
echo
echo "fuzz: ${execs:-0} executions in $((SECONDS - start))s (${rate:-?} exec/s), ${cov:-no coverage line}; $findings finding(s)"
if [[ $findings -ne 0 || $status -ne 0 ]]; then
    find "$work/artifacts" -type f | sed 's/^/    /'
    echo "fuzz: FAILED (reproduce: $out/swerl_fuzz FILE; see Tests/fuzz/README.md)" >&2
    exit 1
fi
echo "fuzz: ok"
