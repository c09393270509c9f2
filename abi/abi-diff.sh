#!/bin/sh
# The ABI gate (libabigail): the library's exported symbols and the header's
# struct layouts against the baselines committed in abi/. New functions pass;
# any other difference fails: a symbol removed or changed, a field moved,
# resized or retyped. A struct that grows at its end (the header's growth
# rule) is a deliberate change: rewrite the baselines (make abi-baseline)
# in the same commit, and say so.
#   abi/abi-diff.sh LIBRARY CC [--update]
# --update rewrites the baselines (only for a deliberate, noted change).
set -eu
lib=$1 cc=$2 update=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cc" -std=c99 -g -O0 -shared -fPIC -I "$here/../include" -o "$work/libswerl_abi_probe.so" "$here/abi-probe.c"
abidw --no-corpus-path --out-file "$work/library.abi" "$lib"
abidw --no-corpus-path --out-file "$work/header.abi" "$work/libswerl_abi_probe.so"
if [ "$update" = --update ]; then
    cp "$work/library.abi" "$here/libswerl.abi"
    cp "$work/header.abi" "$here/swerl.h.abi"
    echo "abi: baselines rewritten: abi/libswerl.abi, abi/swerl.h.abi"
    exit 0
fi
status=0
for pair in "libswerl.abi library.abi" "swerl.h.abi header.abi"; do
    set -- $pair
    rc=0
    abidiff --no-added-syms "$here/$1" "$work/$2" > "$work/diff.txt" 2>&1 || rc=$?
    # abidiff's exit status is a bit set: 1 error, 2 usage, 4 change, 8 incompatible change.
    if [ $((rc & 3)) -ne 0 ]; then
        cat "$work/diff.txt"; echo "abi: abidiff could not compare abi/$1" >&2; status=1
    elif [ $((rc & 12)) -ne 0 ]; then
        cat "$work/diff.txt"
        echo "abi: the ABI changed against abi/$1 (abidiff status $rc). If deliberate and compatible" \
             "(a struct grew at its end), run 'make abi-baseline' and say so in the commit." >&2
        status=1
    else
        echo "abi: abi/$1: no change"
    fi
done
exit $status
