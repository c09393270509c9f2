#!/bin/sh
# check.sh — run each example and check what it prints.
#
#   sh check.sh [BUILD_DIR]        (default: build)
#   RUN='valgrind -q ...' sh check.sh build   runs each program under RUN
#
# Each program must exit with the expected status and print the expected
# lines in the given order (other lines may come in between: timings, log
# reports and which worker caught which poison job vary from run to run).
# Output and errors of each run are kept in BUILD_DIR/check-N-NAME.out / .err.
set -u

build=${1:-build}
run=${RUN:-}
passed=0
failed=0
runs=0

# expect NAME STATUS [ARGS...] <<lines — run build/NAME ARGS, check it.
expect() {
    name=$1 status=$2
    shift 2
    runs=$((runs + 1))
    label="$name${*:+ $*}"
    out=$build/check-$runs-$name.out err=$build/check-$runs-$name.err want=$build/check-$runs-$name.want
    cat > "$want"
    # $run is deliberately unquoted: it is a command and its options.
    $run "$build/$name" "$@" > "$out" 2> "$err"
    rc=$?
    if [ "$rc" -ne "$status" ]; then
        echo "FAIL $label: exit status $rc, expected $status (stderr: $err)"
        sed 's/^/    /' "$out" "$err" | tail -n 30
        failed=$((failed + 1))
        return
    fi
    missing=$(awk 'NR == FNR { want[n++] = $0; next }
                   i < n && $0 == want[i] { i++ }
                   END { if (i < n) print want[i] }' "$want" "$out")
    if [ -n "$missing" ]; then
        echo "FAIL $label: missing (or out of order): $missing"
        sed 's/^/    /' "$out"
        failed=$((failed + 1))
        return
    fi
    echo "ok   $label"
    passed=$((passed + 1))
}

expect ping_pong 0 <<'END'
round trips: 100000
END

expect ping_pong 0 1 <<'END'
round trips: 1
END

expect ping_pong 2 not-a-number < /dev/null

expect worker_pool 0 <<'END'
pool: 4 workers under a one_for_one supervisor
jobs submitted: 24 (3 poison)
jobs answered: 21, jobs that crashed a worker: 3
answers checksum: ok
restarts: 3 (runtime stats: 3)
workers running: 4 of 4
END

expect chat_room 0 <<'END'
alice joined: 1 member(s)
bob joined: 2 member(s)
carol joined: 3 member(s)
dave joined: 4 member(s)
alice posted: reached 4 member(s)
room: carol is gone (exit reason KILLED), dropped
carol was killed: the room saw exit reason KILLED
bob posted: reached 3 member(s)
dave left: 2 member(s)
members now: 2
  alice received 2 line(s), the last: "bob: where did carol go?"
  bob received 2 line(s), the last: "bob: where did carol go?"
  carol received 1 line(s), the last: "alice: hello, everyone"
  dave received 2 line(s), the last: "bob: where did carol go?"
END

expect mixed_call 0 <<'END'
> PUT colour blue
< ok
> GET colour
< blue
> GET size
< (not found)
> WAIT answer    # deferred: a timer sends "PUT answer 42"
< 42
> WAIT nobody    # 100 ms timeout
! timed out (ETIMEDOUT)
> PUT nobody here
< ok
> STATS
< keys=3 waiting=0 late_replies_discarded=1
> CRASH
! the server exited before replying (EEXITED)
> GET colour    # the store is dead
! no such process (ENOPROC)
swerl_send to the dead store: no such process (ENOPROC)
END

expect echo_server 0 <<'END'
echo server on 127.0.0.1
sent "hello", echoed "hello"
sent "one process per connection", echoed "one process per connection"
sent "bye", echoed "bye"
done: every echo matched
END

expect chat_server 0 <<'END'
alice got: * welcome, alice (1 here)
bob got: * welcome, bob (2 here)
alice got: * bob joined
carol got: * welcome, carol (3 here)
alice got: * carol joined
bob got: * carol joined
bob got: alice: hello, everyone
carol got: alice: hello, everyone
carol: connection closed
alice got: * carol left
bob got: * carol left
alice got: bob: bye
sessions running: 2
done
END

expect game_loop 0 <<'END'
game loop: 3 controllers on the schedulers, the world in a turn group
game over: 60 moves applied, 60 of them on the loop's thread
player 1: position 20
player 2: position 40
player 3: position 60
world stopped on the stopping thread
END

# observe serves the observer page for 2 s (its URL and counts vary).
expect observe 0 2 <<'END'
open it in a browser; it stops by itself
stopped
END

echo "C examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
