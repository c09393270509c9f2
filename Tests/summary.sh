#!/usr/bin/env bash
# The totals under `make test`'s summary: each test runner's own closing
# line, read from the stage logs, and the sum of the tests that passed.
#
#   bash Tests/summary.sh [LOGDIR]      (default: build/test-logs)
#
# Prints to stdout; the Makefile appends it to LOGDIR/summary after the
# stage lines. A log without the line it looks for is named, and its tests
# are left out of the total.
set -eu -o pipefail

logdir=${1:-build/test-logs}
total=0
unknown=

# C suite (Tests/c/run.sh): "[...: ]N passed, M failed".
c=$(grep -E '^(.*: )?[0-9]+ passed, [0-9]+ failed' "$logdir/test-c.log" | tail -n1 || true)
if [ -n "$c" ]; then total=$(( total + $(sed -E 's/^(.*: )?([0-9]+) passed, .*/\2/' <<<"$c") )); else unknown+=" test-c"; fi

# swift test: Swift Testing's and XCTest's closing lines.
st=$(grep -Eo 'Test run with [0-9]+ tests?.* passed.*' "$logdir/test-swift.log" | tail -n1 || true)
xc=$(grep -Eo 'Executed [0-9]+ tests?, with 0 failures.*' "$logdir/test-swift.log" | tail -n1 || true)
if [ -n "$st" ]; then total=$(( total + $(sed -E 's/Test run with ([0-9]+).*/\1/' <<<"$st") )); fi
if [ -n "$xc" ]; then total=$(( total + $(sed -E 's/Executed ([0-9]+).*/\1/' <<<"$xc") )); fi
[ -n "$st$xc" ] || unknown+=" test-swift"
cc=$(grep -E '^compile checks: [0-9]+ passed, 0 failed' "$logdir/test-swift.log" | tail -n1 || true)
if [ -n "$cc" ]; then total=$(( total + $(sed -E 's/^compile checks: ([0-9]+) passed.*/\1/' <<<"$cc") )); else unknown+=" compile-checks"; fi

# pytest: "=== N passed ... ===".
py=$(grep -E '^=* ?[0-9]+ passed' "$logdir/test-python.log" | tail -n1 || true)
if [ -n "$py" ]; then total=$(( total + $(sed -E 's/^=* ?([0-9]+) passed.*/\1/' <<<"$py") )); else unknown+=" test-python"; fi

# The C suite under ASan + LSan: "N passed, M failed".
ca=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logdir/test-c-asan.log" | tail -n1 || true)
if [ -n "$ca" ]; then total=$(( total + $(sed -E 's/^([0-9]+) passed, .*/\1/' <<<"$ca") )); else unknown+=" test-c-asan"; fi

# The fuzzer's closing line (no test count).
fz=$(grep -E '^fuzz: [0-9]+ executions' "$logdir/fuzz.log" | tail -n1 || true)

# The examples: examples/c/check.sh's count, and one line per other program checked.
ce=$(grep -E '^C examples: [0-9]+ passed, 0 failed' "$logdir/test-examples.log" | tail -n1 || true)
ne=$(grep -cE '^(python quickstart: ok|python echo_server: ok|python line_chat: ok|readme python example: ok|demo: ok|check.sh: swift example OK)$' "$logdir/test-examples.log" || true)
if [ -n "$ce" ]; then total=$(( total + $(sed -E 's/^C examples: ([0-9]+) passed.*/\1/' <<<"$ce") )); else unknown+=" test-examples"; fi
total=$(( total + ne ))

echo
echo "C:      ${c:-(no closing line found)}"
echo "C/ASan: ${ca:-(no closing line found)} (AddressSanitizer + LeakSanitizer: no report)"
echo "Swift:  ${st:-(no Swift Testing closing line)}"
echo "XCTest: ${xc:-(no XCTest closing line)}"
echo "Python: ${py:-(no closing line found)}"
echo "Examples: ${ce:-(no closing line found)}; and $ne of 6 programs checked (Python quickstart, echo_server and line_chat, README Python, demo, Swift)"
echo "Fuzz:   ${fz:-(no closing line found)}"
[ -z "$unknown" ] || echo "note: no test count could be read from:$unknown (not included below)"
echo "total: $total passed, 0 failed"
