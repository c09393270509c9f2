#!/usr/bin/env bash
# What the compiler must refuse (and accept) in programs that use Swerl:
# each must-fail/*.swift fails to compile with the words on its first line
# (`// expect: ...`), each must-pass/*.swift compiles. The data-race checks
# are SIL passes, so the files are compiled to SIL, not only type-checked.
# Needs `swift build` first (the Swerl module in .build/debug).
#
#   Tests/compile/check.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/.build/debug"
test -f "$build/Modules/Swerl.swiftmodule" || { echo "check.sh: no $build/Modules/Swerl.swiftmodule: run swift build" >&2; exit 1; }
compile() {
    "${SWIFTC:-swiftc}" -swift-version 6 -emit-sil -o /dev/null -I "$build/Modules" -I "$root/include" \
        -I "$root/Sources/CLibUV" -Xcc -fmodule-map-file="$build/CSwerlSupport.build/module.modulemap" "$1" 2>&1
}
passed=0 failed=0
for file in "$here"/must-fail/*.swift; do
    expect=$(sed -n '1s|^// expect: ||p' "$file")
    if out=$(compile "$file"); then
        echo "FAIL $(basename "$file"): it compiled" >&2; failed=$((failed + 1))
    elif ! grep -F -- "error: " <<<"$out" | grep -qF -- "$expect"; then
        echo "FAIL $(basename "$file"): no error saying \"$expect\"; the compiler said:" >&2
        printf '%s\n' "$out" | grep "error: " >&2 || printf '%s\n' "$out" >&2
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
done
for file in "$here"/must-pass/*.swift; do
    if out=$(compile "$file"); then
        passed=$((passed + 1))
    else
        echo "FAIL $(basename "$file"): it does not compile:" >&2; printf '%s\n' "$out" >&2; failed=$((failed + 1))
    fi
done
echo "compile checks: $passed passed, $failed failed"
test "$failed" -eq 0
