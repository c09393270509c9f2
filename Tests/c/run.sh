#!/usr/bin/env bash
# Build and run Swerl's C tests against an installed (or staged) libswerl.
#
#   Tests/c/run.sh PREFIX        e.g. Tests/c/run.sh build/stage
#
# Every Tests/c/test_*.c is built twice, with the flags of PREFIX's swerl.pc:
#   as C99:   cc  -std=c99   -Wall -Wextra -Werror -pthread  -> bin/NAME
#   as C++17: c++ -x c++ -std=c++17 -Wall -Wextra -Werror -pthread -> bin/NAME.cpp
# Each C binary runs with LD_LIBRARY_PATH=PREFIX/lib, and so does the C++
# build of test_api (the other C++ builds only have to compile and link).
# Each program ends with "N passed, N failed"; this script adds them up and
# ends with the same line. Exit status: nonzero if anything failed, crashed,
# printed no summary, or did not build (a failed build counts as one failure).
#
# Environment: CC, CXX (default cc, c++); SWERL_TEST_CFLAGS (more flags for
# every build, e.g. -fsanitize=address: Tests/sanitizers/run-c-asan.sh);
# SWERL_TEST_BIN (where the programs go, default Tests/c/bin);
# SWERL_TEST_TIMEOUT (seconds per program, default 1800); SWERL_TEST_ONLY (a
# substring: run only matching programs).
set -u -o pipefail

usage() { echo "usage: $0 PREFIX" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
prefix=$(cd "$1" 2>/dev/null && pwd) || { echo "run.sh: no such directory: $1" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${SWERL_TEST_BIN:-$here/bin}
cc=${CC:-cc}
cxx=${CXX:-c++}
timeout_s=${SWERL_TEST_TIMEOUT:-1800}
only=${SWERL_TEST_ONLY:-}
extra_flags=${SWERL_TEST_CFLAGS:-}

if ! flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs swerl); then
    echo "run.sh: pkg-config cannot find swerl in $prefix/lib/pkgconfig" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p "$bin"

passed=0
failed=0
build_failures=()
run_failures=()

# build LANG SRC OUT: compile one program; 0 on success
build() {
    local lang=$1 src=$2 out=$3 log
    log=$(mktemp)
    if [[ $lang == c ]]; then
        # shellcheck disable=SC2086
        "$cc" -std=c99 -Wall -Wextra -Werror -pthread $extra_flags -I"$here" "$src" -o "$out" $flags >"$log" 2>&1
    else
        # shellcheck disable=SC2086
        "$cxx" -x c++ -std=c++17 -Wall -Wextra -Werror -pthread $extra_flags -I"$here" "$src" -o "$out" $flags >"$log" 2>&1
    fi
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "BUILD FAILED ($lang): $(basename "$src")"
        sed 's/^/    /' "$log"
    fi
    rm -f "$log"
    return $rc
}

# run NAME BINARY: run one program, add its counts
run() {
    local name=$1 exe=$2 log rc line p f
    log=$(mktemp)
    echo
    echo "=== $name"
    LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
        timeout --signal=KILL "$timeout_s" "$exe" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [[ -n $line ]]; then
        p=${line%% passed*}
        f=${line#*, }
        f=${f%% failed*}
        passed=$((passed + p))
        failed=$((failed + f))
        if [[ $rc -ne 0 && $f -eq 0 ]]; then
            echo "FAIL $name: exit status $rc with no failed check"
            failed=$((failed + 1))
            run_failures+=("$name (exit $rc)")
        elif [[ $f -ne 0 ]]; then
            run_failures+=("$name ($f failed)")
        fi
    else
        if [[ $rc -eq 137 ]]; then
            echo "FAIL $name: killed after ${timeout_s}s (timeout) before its summary"
        else
            echo "FAIL $name: exit status $rc and no summary line (crashed?)"
        fi
        failed=$((failed + 1))
        run_failures+=("$name (no summary, exit $rc)")
    fi
    rm -f "$log"
}

shopt -s nullglob
sources=("$here"/test_*.c)
if [[ ${#sources[@]} -eq 0 ]]; then
    echo "run.sh: no tests in $here" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

echo "== building ${#sources[@]} programs as C99 and C++17 against $prefix"
declare -A built_c=() built_cxx=()
for src in "${sources[@]}"; do
    name=$(basename "$src" .c)
    [[ -n $only && $name != *"$only"* ]] && continue
    if build c "$src" "$bin/$name"; then built_c[$name]=1; else
        failed=$((failed + 1)); build_failures+=("$name (C)"); fi
    if build cxx "$src" "$bin/$name.cpp"; then built_cxx[$name]=1; else
        failed=$((failed + 1)); build_failures+=("$name (C++)"); fi
done

for src in "${sources[@]}"; do
    name=$(basename "$src" .c)
    [[ -n $only && $name != *"$only"* ]] && continue
    [[ -n ${built_c[$name]:-} ]] && run "$name" "$bin/$name"
    if [[ $name == test_api && -n ${built_cxx[$name]:-} ]]; then
        run "$name (C++ build)" "$bin/$name.cpp"
    fi
done

echo
if [[ ${#build_failures[@]} -gt 0 ]]; then echo "did not build: ${build_failures[*]}"; fi
if [[ ${#run_failures[@]} -gt 0 ]]; then echo "failures in: ${run_failures[*]}"; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
