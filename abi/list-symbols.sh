#!/usr/bin/env bash
# Print, sorted, every function the C header declares with SWERL_API: the
# exports libswerl.so.1 must have. Regenerate the committed list with
#     abi/list-symbols.sh > abi/symbols.txt      (or: make abi-symbols)
# Usage: abi/list-symbols.sh [HEADER]   (default: include/swerl.h beside abi/)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
header=${1:-$here/../include/swerl.h}
[[ -r $header ]] || { echo "list-symbols.sh: cannot read $header" >&2; exit 1; }

# Without the preprocessor (macros stay unexpanded, nothing but perl-base is
# needed): drop comments, join continued lines, drop directives, split the
# rest into statements and keep those that start with SWERL_API. The exported
# name is the identifier just before the first '('. Anything else declared
# with SWERL_API (a variable, a function returning a function pointer) is an
# error: the ABI exports plain swerl_* functions only.
symbols=$(LC_ALL=C perl -0777 -ne '
    s{/\*.*?\*/}{ }gs;          # block comments
    s{//[^\n]*}{}g;             # line comments
    s{\\\n}{ }g;                # continued lines
    s{^[ \t]*#[^\n]*}{}mg;      # preprocessor directives
    my $bad = 0;
    for my $stmt (split /[;{}]/) {
        next unless $stmt =~ /\bSWERL_API\b(.*)/s;
        my $decl = $1;
        my $name = $decl =~ /^[^(]*?\b([A-Za-z_]\w*)\s*\(/s ? $1 : "";
        if ($name =~ /^swerl_[a-z0-9_]+$/) {
            print "$name\n";
        } else {
            $decl =~ s/\s+/ /g;
            print STDERR "list-symbols.sh: not a plain swerl_* function declaration: SWERL_API$decl\n";
            $bad = 1;
        }
    }
    exit $bad;
' "$header" | LC_ALL=C sort -u)

if [[ -z $symbols ]]; then
    echo "list-symbols.sh: no SWERL_API function found in $header" >&2
    exit 1
fi
printf '%s\n' "$symbols"
