#!/usr/bin/env bash
# Compare the dynamic symbols a built libswerl exports with abi/symbols.txt.
# Fails when a listed function is missing, when anything unlisted is
# exported, when an export is not a function, or when an export does not
# carry the SWERL_1 version (abi/swerl.map).
# Usage: abi/check-exports.sh LIBRARY [SYMBOLS_FILE]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib=${1:?usage: check-exports.sh LIBRARY [SYMBOLS_FILE]}
list=${2:-$here/symbols.txt}
version=SWERL_1
[[ -r $lib ]] || { echo "check-exports.sh: cannot read $lib" >&2; exit 1; }
[[ -r $list ]] || { echo "check-exports.sh: cannot read $list" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# nm -D lines: "ADDRESS TYPE NAME[@@VERSION]". The version node itself shows
# up as an absolute symbol ("A SWERL_1"): that one is expected.
nm -D --defined-only "$lib" > "$tmp/nm"
status=0

# Lower-case types are local bindings (the version script's `local: *`):
# present in .dynsym for relocations, invisible to the dynamic linker.
awk -v v="$version" '$2 == "A" && $3 == v { next } $2 ~ /^[a-z]$/ && $2 != "i" { next } { print }' "$tmp/nm" > "$tmp/exports"
# Functions: T (text), W (weak), i (indirect). Anything else is an exported
# variable, which the ABI does not have.
awk '$2 !~ /^[TWi]$/' "$tmp/exports" > "$tmp/nonfunc"
if [[ -s $tmp/nonfunc ]]; then
    echo "check-exports.sh: $lib exports symbols that are not functions:"
    sed 's/^/    /' "$tmp/nonfunc"
    status=1
fi
awk '{ print $3 }' "$tmp/exports" | grep -v "@@$version\$" > "$tmp/unversioned" || true
if [[ -s $tmp/unversioned ]]; then
    echo "check-exports.sh: $lib exports symbols without the default version $version:"
    sed 's/^/    /' "$tmp/unversioned"
    status=1
fi
awk '$2 ~ /^[TWi]$/ { sub(/@.*/, "", $3); print $3 }' "$tmp/exports" | LC_ALL=C sort -u > "$tmp/actual"
LC_ALL=C sort -u "$list" > "$tmp/expected"
if ! diff -u --label "expected ($list)" --label "exported ($lib)" "$tmp/expected" "$tmp/actual" > "$tmp/diff"; then
    echo "check-exports.sh: the functions $lib exports differ from $list"
    echo "    (- declared in the header but not exported, + exported but not declared)"
    sed 's/^/    /' "$tmp/diff"
    status=1
fi

if [[ $status -eq 0 ]]; then
    echo "exports ok: $(wc -l < "$tmp/actual") functions, all $version, nothing else"
fi
exit $status
