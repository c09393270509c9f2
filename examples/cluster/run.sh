#!/usr/bin/env bash
# The cluster example: a private EPMD on a free loopback port, the Swerl
# node (swerl_node.py: C and Python processes) and the Elixir node
# (cluster.exs), both on 127.0.0.1 with a cookie made for this run. Prints
# the dialogue of both sides as it happens ("swerl  | ", "elixir | "),
# stops everything, and exits 0 only if every step worked on both sides.
#
#   examples/cluster/run.sh                  # make cluster runs it against the staged library
#
# Needs erl, epmd and elixir on PATH, a C compiler, python3 that can import
# swerl (PYTHON=... to choose it; SWERL_LIBRARY and PYTHONPATH as the
# swerl package wants them), and pkg-config finding swerl (PKG_CONFIG_PATH),
# unless SWERL_CLUSTER_PROCS names the C processes' shared object already
# built. RUN_TIMEOUT (60) bounds the whole run, in seconds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
swerl_node=swerl@127.0.0.1
elixir_node=elixir@127.0.0.1

for tool in epmd elixir "$PYTHON"; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is not on PATH" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/swerl-cluster.XXXXXX")
epmd_pid= swerl_pid= elixir_pid= cat_pid=
stop() {
    local p
    for p in "$elixir_pid" "$swerl_pid" "$epmd_pid"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
    done
    for p in "$elixir_pid" "$swerl_pid" "$epmd_pid"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null || true
    done
    if [ -n "$cat_pid" ]; then  # the last lines out, then the pipe's end
        exec 1>&3 3>&-
        wait "$cat_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

# Both nodes write their lines into one pipe, each line with one write(2)
# as it happens (the Elixir node opens /dev/stdout for that: the pipe
# again, not a file with an offset of its own), so the dialogue reads in
# the order it happened, whatever this script's output is.
mkfifo "$work/out"
cat "$work/out" &
cat_pid=$!
exec 3>&1 1>"$work/out"

# The C processes, as a user builds them: pkg-config, swerl.h, libswerl.so.1.
if [ -z "${SWERL_CLUSTER_PROCS:-}" ]; then
    SWERL_CLUSTER_PROCS=$work/libcluster_procs.so
    # shellcheck disable=SC2046
    ${CC:-cc} -std=c99 -Wall -Wextra -Werror -O2 -shared -fPIC -o "$SWERL_CLUSTER_PROCS" "$here/cluster_procs.c" \
        $(pkg-config --cflags --libs swerl) -Wl,-rpath,"$(pkg-config --variable=libdir swerl)"
fi

# Waits until `$1` (a command) succeeds, at most $2 seconds, while the
# process $3 (if given) is alive.
wait_for() {
    local deadline=$((SECONDS + $2))
    until eval "$1" >/dev/null 2>&1; do
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then return 1; fi
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.02
    done
}

# A free loopback port for EPMD, and a cookie for this run.
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export ERL_EPMD_PORT=$port ERL_EPMD_ADDRESS=127.0.0.1

echo "run.sh: EPMD on 127.0.0.1:$port; nodes $swerl_node and $elixir_node; a cookie of this run"
epmd -port "$port" -address 127.0.0.1 >"$work/epmd.log" 2>&1 &
epmd_pid=$!
wait_for "epmd -port $port -names" 10 "$epmd_pid" || { echo "run.sh: EPMD did not start" >&2; cat "$work/epmd.log" >&2; exit 1; }

# The Swerl node; it writes $work/ready once its node and processes are up.
SWERL_CLUSTER_PROCS=$SWERL_CLUSTER_PROCS SWERL_CLUSTER_COOKIE=$cookie SWERL_CLUSTER_NODE=$swerl_node \
SWERL_CLUSTER_PEER=$elixir_node SWERL_CLUSTER_READY=$work/ready \
    "$PYTHON" -u "$here/swerl_node.py" 2>"$work/swerl.err" &
swerl_pid=$!
if ! wait_for "test -e '$work/ready'" 20 "$swerl_pid"; then
    echo "run.sh: the Swerl node did not come up; its stderr:" >&2
    cat "$work/swerl.err" >&2
    exit 1
fi

# The Elixir node drives the story; it ends by telling the Swerl node "done".
SWERL_CLUSTER_NODE=$swerl_node elixir --name "$elixir_node" --cookie "$cookie" \
    --erl "-kernel inet_dist_use_interface {127,0,0,1}" "$here/cluster.exs" 2>"$work/elixir.err" &
elixir_pid=$!

# Both end by themselves: Elixir after its last step, the Swerl node once
# Elixir said "done" (at most 10 s after Elixir ends; at once if Elixir
# failed). RUN_TIMEOUT bounds the whole.
deadline=$((SECONDS + RUN_TIMEOUT))
elixir_rc= swerl_rc=
while kill -0 "$swerl_pid" 2>/dev/null || [ -z "$elixir_rc" ]; do
    if [ -z "$elixir_rc" ] && ! kill -0 "$elixir_pid" 2>/dev/null; then
        elixir_rc=0; wait "$elixir_pid" 2>/dev/null || elixir_rc=$?
        if [ "$elixir_rc" -ne 0 ]; then
            kill -9 "$swerl_pid" 2>/dev/null || true
            wait "$swerl_pid" 2>/dev/null || true  # reaped here: no "Killed" line
            swerl_rc="killed (the Elixir side failed)" swerl_pid=
            break
        elif [ $((SECONDS + 10)) -lt $deadline ]; then deadline=$((SECONDS + 10)); fi
    fi
    if [ $SECONDS -ge $deadline ]; then
        echo "run.sh: FAILED: still running after the time allowed (RUN_TIMEOUT=${RUN_TIMEOUT} s); stopping everything" >&2
        for side in elixir swerl; do
            if [ -s "$work/$side.err" ]; then echo "--- $side stderr:" >&2; cat "$work/$side.err" >&2; fi
        done
        exit 1
    fi
    sleep 0.05
done
if [ -n "$swerl_pid" ]; then
    swerl_rc=0; wait "$swerl_pid" 2>/dev/null || swerl_rc=$?
fi
elixir_pid= swerl_pid=

if [ "$elixir_rc" != 0 ] || [ "$swerl_rc" != 0 ]; then
    echo "run.sh: FAILED: the Elixir node exited $elixir_rc, the Swerl node $swerl_rc" >&2
    for side in elixir swerl; do
        if [ -s "$work/$side.err" ]; then echo "--- $side stderr:" >&2; cat "$work/$side.err" >&2; fi
    done
    exit 1
fi
echo "run.sh: both nodes finished; every step ok"
