#!/usr/bin/env bash
# Builds and runs the Swift example, and checks what it prints: every line,
# in order, with pids masked (they depend on the runtime's slot reuse). The
# crash report must reach the Logger (standard error). Exits non-zero on any
# difference. Usage: cd examples/swift && bash check.sh
set -euo pipefail
cd "$(dirname "$0")"

"${SWIFT:-swift}" build
binary="$("${SWIFT:-swift}" build --show-bin-path)/swerl-example"

out="$(mktemp)"
err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT

if ! timeout 120 "$binary" >"$out" 2>"$err"; then
    echo "check.sh: swerl-example failed" >&2
    cat "$out" "$err" >&2
    exit 1
fi

expected='runtime: started with 2 schedulers
supervisor: 2 of 2 children running
store: get apples -> 3
adder: 1 2 3 -> 6
watcher: monitoring the adder
adder: 1 x -> call failed: EEXITED (the server exited before replying: error: not a number: x)
watcher: <pid> exited: error: not a number: x
supervisor: adder restarted 1 time(s), new pid: true
adder: 4 5 -> 9
store: get apples -> 3 (not restarted)
visitor: exited normal
store: get visits -> 1
runtime: stopped
processes after stop: ESTOPPED
store: call after stop failed: ESTOPPED'

if ! diff -u <(printf '%s\n' "$expected") <(sed -E 's/<[0-9]+\.[0-9]+\.[0-9]+>/<pid>/g' "$out"); then
    echo "check.sh: the example's output differs from the expected lines (- expected, + actual)" >&2
    exit 1
fi

for report in 'child_terminated: adder <[0-9.]+> exited error: not a number: x' 'restarting adder'; do
    if ! grep -Eq "$report" "$err"; then
        echo "check.sh: no log line matching '$report' on standard error:" >&2
        cat "$err" >&2
        exit 1
    fi
done

echo "check.sh: swift example OK"
