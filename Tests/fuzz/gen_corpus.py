#!/usr/bin/env python3
"""Write the seed programs of swerl_fuzz.c into a directory.

    Tests/fuzz/gen_corpus.py DIR

Each seed is a small, meaningful program in the harness's input format (see
swerl_fuzz.c: two config bytes, then main-thread operations whose operands
follow in the order the harness reads them). The fuzzer mutates from here;
Tests/fuzz/corpus is these seeds minimized with `-merge=1` (README.md).
Keep the numbering below in step with the enums in swerl_fuzz.c.
"""
import os
import sys

# main-thread operations (enum M_* in swerl_fuzz.c)
(M_SPAWN, M_SEND, M_SEND_NAMED, M_SEND_BAD, M_EXIT, M_REGISTER, M_UNREGISTER,
 M_WHEREIS, M_REGISTERED, M_SEND_AFTER, M_CANCEL, M_CALL, M_REPLY,
 M_SUP_START, M_SUP_START_CHILD, M_SUP_SPAWN_CHILD, M_SUP_TERMINATE,
 M_SUP_TERMINATE_PID, M_SUP_RESTART, M_SUP_DELETE, M_SUP_COUNT, M_SUP_WHICH,
 M_SUP_TREE, M_INFO, M_PROCESSES, M_STATS, M_SLEEP, M_STALE_CTX,
 M_STOP, M_SET_MAX_MEMORY,
 # since 1.2
 M_CALL_NOTIFY, M_WATCH_EXIT, M_CANCEL_NOTIFY, M_WAIT_EXIT, M_SEND_AFTER_NAMED,
 M_PID_FORMAT, M_LONG_TURN, M_BLOCKING_THREADS, M_OTHER_RUNTIME,
 # terms, the distribution parsers, node calls, since 1.2
 M_TERM, M_TERM_WRITER, M_DIST, M_NODE,
 # turn groups, since 1.2
 M_GROUP_CREATE, M_GROUP_SPAWN, M_GROUP_RUN, M_GROUP_BATCH, M_GROUP_RESUME, M_GROUP_MISC,
 # the observer's HTTP request parser
 M_HTTP,
 # shared binaries, since 1.4
 M_BIN_NEW, M_BIN_RETAIN, M_BIN_RELEASE, M_BIN_SEND, M_BIN_BAD) = range(55)
# what a message asks a process to do (enum H_* in swerl_fuzz.c)
(H_CONTINUE, H_STOP, H_SKIP, H_CRASH, H_FAIL, H_LINK, H_UNLINK, H_MONITOR,
 H_DEMONITOR, H_TRAP, H_SPAWN, H_SEND, H_EXIT, H_CALL_ASYNC, H_REPLY,
 H_RECEIVE_TIMEOUT, H_REGISTER, H_SEND_AFTER, H_CANCEL, H_INFO, H_IN_PROC,
 H_SAVE_CTX, H_SELF,
 # since 1.2
 H_SET_BLOCKING, H_BLOCKING_CALL, H_WAIT_EXIT, H_SLEEP, H_CALL_NOTIFY,
 H_WATCH_EXIT, H_CANCEL_NOTIFY, H_SEND_AFTER_NAMED, H_SOCKET,
 # turn groups, since 1.2
 H_SET_GROUP, H_GROUP,
 # shared binaries, since 1.4
 H_BIN_NEW, H_BIN_SEND, H_BIN_KEEP, H_BIN_RELEASE) = range(38)
# what a swerl_call_notify / swerl_watch_exit done does (enum DONE_*)
DONE_NOTHING, DONE_SEND, DONE_CANCEL_SELF, DONE_WATCH, DONE_CALL = range(5)
# names (pick_name): index into "a", "b", "c", "sup", "w", "", max, too long, NULL
N_A, N_B, N_C, N_SUP, N_W, N_EMPTY, N_MAX, N_LONG, N_NULL = range(9)
PID_ZERO = 205          # pick_pid selectors beyond the pool
PID_ALL_ONES = 212      # the remote flag set
PID_OTHER_TAG = 220     # a pool pid with another runtime tag (bit 60)
PID_GARBAGE = 250       # eight bytes follow
REF_ZERO = 205
BLOCKING = 0x08         # SWERL_SPAWN_BLOCKING
PAUSE = bytes([M_SLEEP, 15] * 10)   # 15 ms: what processes were sent is done before the stop


def cfg(schedulers=1, max_procs=16, max_msg=None, log=True):
    c0 = (schedulers - 1) | (((max_procs - 1) % 32) << 1) | (0x80 if log else 0)
    c1 = 0 if max_msg is None else 1 | (((max_msg - 16) // 8) << 1)
    return bytes([c0, c1])


def spawn(mode=0, flags=0, name=None, limit=0, overflow=0, unknown=False):
    t = (flags & 0x0f) | (0x10 if name is not None else 0) | ((limit % 4) << 5) | (0x80 if unknown else 0)
    out = [M_SPAWN, 5 | (mode << 4), t]
    if name is not None:
        out.append(name)
    out.append(overflow)
    return bytes(out)


def op(h, a=0, b=0, c=0, pid=0, ref=0):
    """A process message: op, operands, a pid and a ref selector (the
    selectors that read garbage get eight bytes of it)."""
    return (bytes([h, a, b, c, pid]) + (b"\x5a" * 8 if pid >= 240 else b"")
            + bytes([ref]) + (b"\xa5" * 8 if ref >= 230 else b""))


def send(to, *args, **kw):
    return bytes([M_SEND, to]) + op(*args, **kw)


def child(sel=2, arg=1, restart=0, shutdown=0, ident=N_A, significant=0, nested=None, blocks_in_init=False):
    """build_child's bytes: s, t, id, [nested spec], last (0xff: size too
    small, 0xfe: init calls swerl_set_blocking)."""
    s = (sel % 16) | ((restart % 4) << 4)
    t = arg | ((shutdown % 4) << 4) | (significant << 6)
    out = bytes([s | (0x40 if nested is not None else 0), t, ident])
    if nested is not None:
        strategy, kids = nested
        out += bytes([strategy, len(kids)]) + b"".join(kids)
    return out + bytes([0xfe if blocks_in_init else 0])


def sup_start(strategy=0, intensity=1, kids=(), name=None, auto=0):
    s = strategy | (intensity << 3) | (len(kids) << 5)
    t = 1 | (auto << 4)
    out = bytes([M_SUP_START, 1 if name is not None else 0, s, t]) + b"".join(kids)
    if name is not None:
        out += bytes([name])
    return out


def call_notify(pid, req, s=5, act=DONE_NOTHING):
    """M_CALL_NOTIFY: s (0x80 rt NULL, 0x40 req NULL, 0x20 done NULL, 0x10
    out NULL, s % 8 the timeout, 7: infinity), pid, request, done's action."""
    return bytes([M_CALL_NOTIFY, s, pid]) + req + bytes([act])


def watch(pid, s=0, act=DONE_NOTHING):
    """M_WATCH_EXIT: s (0x80 rt NULL, 0x40 done NULL, 0x20 out NULL)."""
    return bytes([M_WATCH_EXIT, s, pid, act])


def cancel_notify(s=0, k=0, ref=None):
    """M_CANCEL_NOTIFY: s % 4 < 2 record k's ref, 2 a ref selector, 3 ref 0."""
    return bytes([M_CANCEL_NOTIFY, s, k] + ([ref] if s % 4 == 2 else []))


def term(data, s=0xC0, pid=0):
    """M_TERM: s (0x80 the version byte first, 0x40 swerl_send_term to pid,
    0x20 swerl_send_named_term), the length, the pid selector, the bytes."""
    return bytes([M_TERM, s, len(data), pid]) + data


def writer(steps, s=0x04, pid=0):
    """M_TERM_WRITER: s (0x01 no runtime, 0x02 bytes' data NULL, 0x04 send
    the term to pid), the steps (op, value, operands), then the pid selector."""
    return bytes([M_TERM_WRITER, s, len(steps)]) + b"".join(steps) + bytes([pid])


SEEDS = {
    "spawn-send-stop": cfg() + spawn() + send(0, H_CONTINUE) + send(0, H_STOP),
    "two-schedulers": cfg(schedulers=2) + spawn() + spawn() + send(0, H_SEND, c=H_CONTINUE, pid=1) + send(1, H_SELF),
    "link-crash": cfg() + spawn() + spawn(mode=4) + send(1, H_LINK, pid=0) + send(0, H_CRASH) + bytes([M_SLEEP, 5]),
    "link-unlink": cfg() + spawn() + spawn() + send(0, H_LINK, pid=1) + send(0, H_UNLINK, pid=1) + send(1, H_STOP),
    "monitor-down": cfg() + spawn() + spawn() + send(0, H_MONITOR, pid=1) + send(1, H_FAIL, a=9, b=3, c=1)
                    + send(0, H_DEMONITOR, a=3, ref=0) + bytes([M_SLEEP, 3]),
    "monitor-dead": cfg() + spawn() + send(0, H_MONITOR, pid=PID_ZERO) + send(0, H_MONITOR, pid=230),
    "trap-exit": cfg() + spawn() + send(0, H_TRAP, a=1) + bytes([M_EXIT, 9, 0]) + bytes([M_EXIT, 2, 0]),
    "spawn-link-in-proc": cfg() + spawn() + send(0, H_SPAWN, a=3, b=0x80 | N_B, c=1) + bytes([M_SLEEP, 3])
                          + bytes([M_PROCESSES, 0x48]),
    "names": cfg() + spawn(name=N_A) + bytes([M_REGISTER, N_B, 0, M_WHEREIS, N_B, M_SEND_NAMED, N_B])
             + op(H_CONTINUE) + bytes([M_UNREGISTER, N_B, M_REGISTERED, 0]),
    "bad-names": cfg() + spawn() + bytes([M_REGISTER, N_EMPTY, 0, M_REGISTER, N_LONG, 0, M_REGISTER, N_MAX, 0,
                                          M_REGISTER, N_NULL, 0, M_WHEREIS, N_NULL, M_UNREGISTER, N_C]),
    "timers": cfg() + spawn() + bytes([M_SEND_AFTER, 2, 0]) + op(H_CONTINUE) + bytes([M_SEND_AFTER, 6, 0])
              + op(H_CONTINUE) + bytes([M_CANCEL, 0, 1, M_CANCEL, 0, 0, M_SLEEP, 8]),
    "timer-in-proc": cfg() + spawn() + spawn() + send(0, H_SEND_AFTER, a=1, pid=1) + send(0, H_CANCEL, ref=0),
    "call-reply": cfg() + spawn() + bytes([M_CALL, 5, 0]) + op(H_CONTINUE, a=0),
    "call-timeout": cfg() + spawn() + bytes([M_CALL, 2, 0]) + op(H_CONTINUE, a=2),
    "call-deferred": cfg() + spawn() + bytes([M_CALL, 1, 0]) + op(H_CONTINUE, a=1) + bytes([M_REPLY, 0, 0]),
    "call-stop": cfg() + spawn() + bytes([M_CALL, 6, 0]) + op(H_STOP, a=2) + bytes([M_CALL, 6, 0]) + op(H_CONTINUE),
    "call-async": cfg() + spawn() + spawn() + send(0, H_CALL_ASYNC, a=0, b=3, pid=1) + bytes([M_SLEEP, 4])
                  + send(0, H_CALL_ASYNC, pid=0),
    "reply-in-proc": cfg() + spawn() + spawn() + send(0, H_CALL_ASYNC, b=5, c=H_CONTINUE, pid=1)
                     + send(1, H_REPLY, ref=0) + bytes([M_SLEEP, 5]),
    "receive-timeout": cfg() + spawn() + send(0, H_RECEIVE_TIMEOUT, a=1) + bytes([M_SLEEP, 10]),
    "skip": cfg() + spawn() + send(0, H_SKIP) + send(0, H_SKIP) + send(0, H_CONTINUE),
    "bounded-mailbox": cfg() + spawn(limit=1, overflow=0) + spawn(limit=1, overflow=1) + spawn(limit=1, overflow=2)
                       + b"".join(send(i, H_CONTINUE) for i in (0, 0, 1, 1, 2, 2)),
    "process-limit": cfg(max_procs=2) + spawn() + spawn() + spawn() + spawn(),
    "bad-spawns": cfg() + bytes([M_SPAWN, 0, 0, 0, M_SPAWN, 1, 0, 0, M_SPAWN, 2, 0, 0, M_SPAWN, 3, 0, 0,
                                 M_SPAWN, 4, 0, 0, M_SPAWN, 5, 0x80, 0, M_SPAWN, 5, 0x01, 0, M_SPAWN, 5, 0, 3]),
    "init-modes": cfg() + spawn(mode=1) + spawn(mode=2) + spawn(mode=3) + spawn(mode=4),
    "bad-sends": cfg(max_msg=32) + spawn() + bytes([M_SEND_BAD, 0, 0, M_SEND_BAD, 1, 0, M_SEND_BAD, 2, 0,
                                                    M_SEND_BAD, 3, 0]),
    "exit-reasons": cfg() + spawn() + spawn() + spawn() + bytes([M_EXIT, 0, 0, M_EXIT, 1, 1, M_EXIT, 0x85, 2]),
    "info-stats": cfg() + spawn() + bytes([M_INFO, 0, 0, M_INFO, 1, 0, M_INFO, 2, 0, M_STATS, 0, M_STATS, 1,
                                           M_STATS, 2, M_PROCESSES, 0x08, M_PROCESSES, 0x10, M_PROCESSES, 0x20]),
    "in-proc-refused": cfg() + spawn() + b"".join(send(0, H_IN_PROC, a=a) for a in range(4)),
    "stale-ctx": cfg() + spawn() + send(0, H_SAVE_CTX) + bytes([M_SLEEP, 2, M_STALE_CTX, 0]),
    "stop-then-calls": cfg() + spawn() + bytes([M_STOP, 4, M_STOP, 1]) + send(0, H_CONTINUE)
                       + bytes([M_STATS, 0, M_INFO, 0, 0, M_SUP_COUNT, 0, 0]),
    "sup-one-for-one": cfg() + sup_start(0, 2, [child(ident=N_A), child(ident=N_B, arg=0)])
                       + bytes([M_SUP_WHICH, 0x08, 0, M_SUP_COUNT, 0, 0, M_SUP_TREE, 0, 0, M_SUP_TREE, 1, 0,
                                M_SUP_TERMINATE, 0, N_A, M_SUP_RESTART, 0, N_A, M_SUP_TERMINATE, 0, N_B,
                                M_SUP_DELETE, 0, N_B]),
    "sup-crash-restart": cfg() + sup_start(2, 3, [child(ident=N_A), child(ident=N_B), child(ident=N_C)])
                         + bytes([M_PROCESSES, 0x48]) + send(1, H_CRASH) + bytes([M_SLEEP, 5, M_SUP_WHICH, 0x08, 0]),
    "sup-one-for-all": cfg() + sup_start(1, 1, [child(ident=N_A, restart=1), child(ident=N_B, restart=2)])
                       + bytes([M_PROCESSES, 0x48]) + send(1, H_STOP) + send(2, H_CRASH) + bytes([M_SLEEP, 5]),
    "sup-simple": cfg() + sup_start(3, 1, [child(ident=N_W)]) + bytes([M_SUP_SPAWN_CHILD, 0, 1, M_SUP_SPAWN_CHILD, 0, 0,
                                                                    M_SUP_TERMINATE_PID, 0, 1, M_SUP_WHICH, 0x08, 0,
                                                                    M_SUP_TERMINATE, 0, N_W]),
    "sup-nested": cfg() + sup_start(0, 1, [child(ident=N_A, nested=(0, [child(ident=N_B), child(ident=N_C)]))])
                  + bytes([M_SUP_TREE, 0, 0, M_SUP_TERMINATE, 0, N_A, M_SUP_RESTART, 0, N_A]),
    "sup-start-child": cfg() + sup_start(0, 1, [], name=N_SUP) + bytes([M_SUP_START_CHILD, 0, 0]) + child(ident=N_C)
                       + bytes([M_SUP_START_CHILD, 0, 0]) + child(ident=N_C)
                       + bytes([M_SUP_TERMINATE, 0, N_C, M_SUP_START_CHILD, 0, 0]) + child(ident=N_C),
    "sup-bad-specs": cfg() + sup_start(4) + sup_start(0, 1, [child(ident=N_A), child(ident=N_A)])
                     + sup_start(0, 1, [child(sel=0)]) + sup_start(0, 1, [child(significant=1)])
                     + sup_start(3, 1, []) + sup_start(0, 1, [child(ident=N_NULL)]),
    "sup-init-fail": cfg() + sup_start(0, 1, [child(ident=N_A, arg=1 | (2 << 1))])
                     + sup_start(0, 1, [child(ident=N_A, arg=1 | (1 << 1)), child(ident=N_B)]),
    "sup-not-a-sup": cfg() + spawn() + bytes([M_SUP_COUNT, 0, 200, M_SUP_WHICH, 0, 200, M_SUP_TERMINATE, 200, N_A]),
    "sup-escalate": cfg() + sup_start(0, 0, [child(ident=N_A)]) + bytes([M_PROCESSES, 0x48]) + send(1, H_CRASH)
                    + bytes([M_SLEEP, 8, M_SUP_COUNT, 0, 0]),
    "memory-ceiling": cfg() + spawn() + spawn() + bytes([M_SET_MAX_MEMORY, 3]) + send(0, H_SKIP) + send(0, H_SKIP)
                      + send(0, H_SEND, c=H_CONTINUE, pid=1) + bytes([M_CALL, 5, 0]) + op(H_CONTINUE)
                      + bytes([M_SET_MAX_MEMORY, 1, M_SET_MAX_MEMORY, 0x80, M_SET_MAX_MEMORY, 0]) + send(1, H_CONTINUE),
    "garbage-pids": cfg() + spawn() + bytes([M_SEND, 250]) + bytes(8) + op(H_CONTINUE)
                    + bytes([M_EXIT, 1, 212, M_INFO, 0, 220]) + send(0, H_LINK, pid=250),
    # since 1.2: handlers that block
    "blocking-spawn-call": cfg(schedulers=2) + spawn(flags=BLOCKING) + spawn()
                           + send(0, H_BLOCKING_CALL, b=3, c=H_CONTINUE, pid=1)
                           + send(1, H_BLOCKING_CALL, b=3, pid=0)
                           + send(0, H_BLOCKING_CALL, b=0x82)
                           + send(0, H_WAIT_EXIT, b=2, pid=1) + send(1, H_WAIT_EXIT, b=2, pid=0)
                           + send(0, H_IN_PROC, a=0, pid=1) + send(0, H_IN_PROC, a=3, pid=1)
                           + send(0, H_WAIT_EXIT, b=0x81) + PAUSE + PAUSE,
    "blocking-call-dies": cfg() + spawn(flags=BLOCKING) + spawn() + send(0, H_BLOCKING_CALL, a=1, b=6, c=H_CRASH, pid=1)
                          + send(0, H_WAIT_EXIT, b=5, pid=1) + PAUSE + PAUSE,
    "set-blocking": cfg() + spawn() + send(0, H_SET_BLOCKING, a=1) + send(0, H_BLOCKING_CALL, b=1, pid=PID_ZERO)
                    + send(0, H_SET_BLOCKING, a=1) + send(0, H_SLEEP, a=2) + send(0, H_SET_BLOCKING, a=0)
                    + send(0, H_WAIT_EXIT, b=1, pid=PID_ZERO) + PAUSE,
    "blocking-spawn-in-proc": cfg() + spawn() + send(0, H_SPAWN, a=BLOCKING, b=0) + send(0, H_SPAWN, a=0x10)
                              + bytes([M_SLEEP, 2]) + send(1, H_BLOCKING_CALL, b=2, pid=0)
                              + send(1, H_WAIT_EXIT, b=1, pid=0) + spawn(unknown=True) + PAUSE,
    "sup-blocking-child": cfg() + sup_start(0, 1, [child(ident=N_A, blocks_in_init=True),
                                                   child(ident=N_B, arg=0, blocks_in_init=True)])
                          + bytes([M_PROCESSES, 0x48]) + send(1, H_BLOCKING_CALL, b=2, pid=2)
                          + send(1, H_WAIT_EXIT, b=1, pid=2) + send(2, H_SET_BLOCKING, a=0) + PAUSE,
    "long-turn": cfg(schedulers=2) + bytes([M_LONG_TURN, 1]) + spawn() + spawn() + spawn(flags=BLOCKING)
                 + send(0, H_SLEEP, a=15) + send(1, H_CONTINUE) + send(2, H_SLEEP, a=12)
                 + PAUSE + PAUSE + bytes([M_LONG_TURN, 0x80, M_LONG_TURN, 0, M_LONG_TURN, 7, 0, 0, 0, 3]),
    "blocking-threads": cfg() + bytes([M_BLOCKING_THREADS, 0, M_BLOCKING_THREADS, 0x81, M_BLOCKING_THREADS, 1])
                        + spawn(flags=BLOCKING) + spawn(flags=BLOCKING) + send(0, H_SLEEP, a=5) + send(1, H_SLEEP, a=5)
                        + send(0, H_BLOCKING_CALL, b=2, pid=1)
                        + bytes([M_BLOCKING_THREADS, 5, M_BLOCKING_THREADS, 7, 0, 0, 0, 0]) + PAUSE,
    # outcomes told by callback; waiting from outside
    "call-notify": cfg() + spawn() + call_notify(0, op(H_CONTINUE, a=0)) + call_notify(0, op(H_CONTINUE, a=1), s=7)
                   + bytes([M_SLEEP, 2, M_REPLY, 0, 1]) + call_notify(0, op(H_CONTINUE, a=2), s=2)
                   + call_notify(PID_ZERO, op(H_CONTINUE)) + call_notify(0, op(H_CONTINUE), s=0x80)
                   + call_notify(0, op(H_CONTINUE), s=0x20) + call_notify(0, op(H_CONTINUE), s=0x10)
                   + call_notify(0, op(H_CONTINUE), s=0x41) + bytes([M_SLEEP, 10]),
    "call-notify-stop": cfg() + spawn() + call_notify(0, op(H_CONTINUE, a=2), s=7, act=DONE_SEND)
                        + call_notify(0, op(H_STOP, a=2), s=7) + spawn() + call_notify(2, op(H_CONTINUE, a=2), s=7)
                        + bytes([M_STOP, 20]),
    "call-notify-cancel": cfg() + spawn() + call_notify(0, op(H_CONTINUE, a=1), s=7) + cancel_notify(0, 0)
                          + cancel_notify(0, 0) + bytes([M_SLEEP, 1, M_REPLY, 0, 1]) + cancel_notify(0x80, 0)
                          + cancel_notify(3) + cancel_notify(2, ref=230) + bytes(8),
    # a call_async's ref while its server sleeps: swerl_cancel_notify must not
    # stop it (finding 10)
    "cancel-notify-other-refs": cfg() + spawn() + spawn(flags=BLOCKING) + send(1, H_SLEEP, a=10)
                                + send(0, H_CALL_ASYNC, b=7, c=H_CONTINUE, pid=1) + bytes([M_WAIT_EXIT, 1, 0])
                                + cancel_notify(2, ref=0) + send(0, H_CANCEL_NOTIFY, ref=0) + PAUSE,
    "watch-exit": cfg() + spawn() + spawn() + watch(0) + watch(1) + cancel_notify(1, 1) + send(0, H_FAIL, a=9, b=3, c=1)
                  + bytes([M_EXIT, 2, 1, M_SLEEP, 3]) + watch(0) + watch(PID_ZERO) + watch(PID_ALL_ONES)
                  + watch(0, s=0x80) + watch(0, s=0x40) + watch(0, s=0x20),
    "done-actions": cfg(schedulers=2) + spawn() + spawn() + call_notify(0, op(H_CONTINUE), act=DONE_SEND)
                    + call_notify(0, op(H_CONTINUE), act=DONE_CANCEL_SELF) + watch(1, act=DONE_WATCH)
                    + watch(PID_ZERO, act=DONE_CALL) + call_notify(0, op(H_CONTINUE, a=2), s=1, act=DONE_CALL)
                    + send(1, H_STOP) + PAUSE,
    "reply-in-proc-settles-notify": cfg() + spawn() + spawn() + call_notify(0, op(H_CONTINUE, a=1), s=7, act=DONE_SEND)
                                    + bytes([M_SLEEP, 1]) + send(1, H_REPLY, ref=1) + bytes([M_SLEEP, 3]),
    "notify-in-proc": cfg() + spawn() + spawn() + send(0, H_CALL_NOTIFY, a=DONE_SEND, b=3, c=H_CONTINUE, pid=1)
                      + send(0, H_CALL_NOTIFY, b=0x80) + send(0, H_WATCH_EXIT, a=DONE_WATCH, pid=1)
                      + send(0, H_WATCH_EXIT, b=0x80) + send(1, H_CANCEL_NOTIFY, a=1, b=2)
                      + send(1, H_CANCEL_NOTIFY, ref=0) + send(1, H_STOP) + bytes([M_SLEEP, 5]),
    "wait-exit": cfg() + spawn() + bytes([M_WAIT_EXIT, 2, 0, M_WAIT_EXIT, 0x40, PID_ZERO, M_WAIT_EXIT, 0x20, PID_ZERO,
                                           M_WAIT_EXIT, 0x80, 0]) + send(0, H_STOP)
                 + bytes([M_WAIT_EXIT, 7, 0, M_WAIT_EXIT, 0, 0]),
    "send-after-named": cfg() + spawn(name=N_A)
                        + bytes([M_SEND_AFTER_NAMED, 1, N_A]) + op(H_SELF)
                        + bytes([M_SEND_AFTER_NAMED, 6, N_B]) + op(H_CONTINUE) + bytes([M_CANCEL, 0, 1])
                        + bytes([M_SEND_AFTER_NAMED, 7, N_A]) + op(H_CONTINUE)
                        + bytes([M_SEND_AFTER_NAMED, 1, N_EMPTY]) + op(H_CONTINUE)
                        + bytes([M_SEND_AFTER_NAMED, 1, N_NULL]) + op(H_CONTINUE)
                        + bytes([M_SEND_AFTER_NAMED, 1, N_LONG]) + op(H_CONTINUE)
                        + bytes([M_SEND_AFTER_NAMED, 0x21, N_A]) + op(H_CONTINUE)
                        + bytes([M_SEND_AFTER_NAMED, 0x51, N_A]) + op(H_CONTINUE)
                        + bytes([M_SEND_AFTER_NAMED, 0x11, N_A]) + op(H_CONTINUE)
                        + send(0, H_SEND_AFTER_NAMED, a=1, b=N_A, c=H_SELF) + bytes([M_SLEEP, 8]),
    "pid-format": cfg() + spawn() + b"".join(bytes([M_PID_FORMAT, s, p]) for s, p in
                                              ((3, 0), (0, 0), (0x80, 0), (0x84, 0), (5 << 2, 0), (9 << 2, 0),
                                               (3, PID_ZERO), (3, PID_ALL_ONES), (1 << 2, PID_ALL_ONES),
                                               (3, PID_OTHER_TAG)))
                  + bytes([M_PID_FORMAT, 23 << 2, PID_GARBAGE]) + bytes([0xff] * 8),
    "bad-input-1.2": cfg() + spawn() + call_notify(0, op(H_CONTINUE), s=0x80) + watch(0, s=0x40) + cancel_notify(0x80)
                     + bytes([M_WAIT_EXIT, 0x80, 0, M_LONG_TURN, 0x80, M_BLOCKING_THREADS, 0, M_BLOCKING_THREADS, 0x80,
                              M_PID_FORMAT, 0x84, 0, M_SEND_AFTER_NAMED, 0x87, N_NULL]) + op(H_CONTINUE),
    "other-runtime": cfg() + spawn() + spawn() + bytes([M_OTHER_RUNTIME, 0x0c, 0, M_OTHER_RUNTIME, 0x05, 1,
                                                        M_OTHER_RUNTIME, 0x06, 0, M_OTHER_RUNTIME, 0x07, 1])
                     + send(0, H_SEND, c=H_CONTINUE, pid=2) + send(0, H_LINK, pid=2) + send(0, H_MONITOR, pid=2)
                     + send(1, H_TRAP, a=1) + send(1, H_LINK, pid=2) + send(0, H_EXIT, pid=2)
                     + send(0, H_CALL_ASYNC, b=1, pid=2) + bytes([M_CALL, 1, 2]) + op(H_CONTINUE)
                     + PAUSE + send(1, H_STOP),
    "other-runtime-blocking": cfg(schedulers=2) + spawn(flags=BLOCKING) + bytes([M_OTHER_RUNTIME, 0x0c, 0])
                              + send(0, H_BLOCKING_CALL, b=2, pid=1) + send(0, H_WAIT_EXIT, b=2, pid=1)
                              + send(0, H_CALL_NOTIFY, b=2, pid=1) + send(0, H_WATCH_EXIT, pid=1) + PAUSE,
    # terms, since 1.2: {ok,1,<<"x">>} checked, read, formatted, sent; a
    # writer's {a, 42, [Pid]} sent; bytes that are not a term
    "term-send": cfg() + spawn() + term(bytes([104, 3, 100, 0, 2, 111, 107, 97, 1, 109, 0, 0, 0, 1, 120]))
                 + PAUSE,
    "term-writer": cfg() + spawn() + writer([bytes([6, 3]), bytes([0, N_A]), bytes([1, 0]) + (42).to_bytes(8, "big"),
                                              bytes([7, 1]), bytes([10, 0, 0])]) + PAUSE,
    "term-bad": cfg() + spawn() + term(bytes([108, 127, 255, 255, 255, 106])) + term(bytes([104, 1] * 20), s=0x40),
}


# turn groups: pick_group selectors (14 the second runtime's group, 15 NULL)
G0, G1, G_OTHER, G_NULL = 0, 1, 14, 15
# a batch's plan bytes (batch_handle): what handle() returns, or forced
P_HANDLE, P_CONTINUE, P_SKIP, P_STOP, P_FAIL = 0, 4, 5, 6, 7
P_NO_CURRENT = 0x18     # leave `current` as it was


def group_create(s=0):
    """M_GROUP_CREATE: s % 8 == 7 bad arguments ((s >> 3) % 5 which), 0x40
    the second runtime's group, s % 8 == 6 with 0x80 up to the limit."""
    return bytes([M_GROUP_CREATE, s])


def group_spawn(g=G0, s=7, t=0, overflow=0):
    """M_GROUP_SPAWN: s % 16 (0..4 bad, 5 swerl_spawn joining in init, 6
    blocking in init), t the flags as M_SPAWN's."""
    return bytes([M_GROUP_SPAWN, s, t, g, overflow])


def group_run(g=G0, turns=4, wake=False):
    return bytes([M_GROUP_RUN, turns % 5 | (0x40 if wake else 0), g])


def group_batch(plan, g=G0, s=0, m=7, handed=0, misuse=None, aside=None):
    """M_GROUP_BATCH: s (see group_batch), m % 8 max_messages (7: 1024), the
    plan bytes, with 0x10 the set-aside byte (and what it does), with 0x80
    the misuse byte, then the handed-back byte."""
    out = bytes([M_GROUP_BATCH, s, m, g]) + bytes(plan)
    if aside is not None:
        out += aside
    if misuse is not None:
        out += bytes([misuse])
    return out + bytes([handed])


def group_resume(s=0, k=0, plan=(), handed=0, misuse=None):
    """M_GROUP_RESUME: s & 1 on a helper thread (then the handed-back byte
    and 24 plan bytes follow instead), 0x80 misuse; k which batch."""
    return (bytes([M_GROUP_RESUME, s, k]) + bytes(plan) + (bytes([misuse]) if misuse is not None else b"")
            + bytes([handed]))


def group_misc(s, g=G0, extra=b""):
    return bytes([M_GROUP_MISC, s]) + (bytes([g]) if not s & 0x80 else b"") + extra


def helper(handed=0):
    """What a helper thread reads: the handed-back byte, 24 plan bytes."""
    return bytes([handed]) + bytes([P_HANDLE] * 24)


GROUP_SEEDS = {
    # group processes driven with their callbacks: they send, link, monitor, crash
    "group-run": cfg() + group_create() + group_spawn() + group_spawn() + spawn()
                 + send(0, H_SEND, c=H_CONTINUE, pid=1) + send(1, H_LINK, pid=2) + send(0, H_MONITOR, pid=1)
                 + group_run(turns=4) + send(1, H_CRASH) + group_run(turns=4) + group_run(turns=4, wake=True)
                 + bytes([M_SLEEP, 3]) + group_run(turns=4),
    # batches answered per message: handle's results, CONTINUE, SKIP (an
    # accept after it ends the batch), STOP; past a STOP; fewer handed back;
    # more than the batch has (EINVAL)
    "group-batch": cfg() + group_create() + group_spawn() + group_spawn(s=7 | (4 << 4)) + group_run(turns=4)
                   + send(0, H_SELF) + send(0, H_SEND, c=H_CONTINUE, pid=0) + send(0, H_CONTINUE) + send(0, H_SKIP)
                   + send(1, H_CALL_ASYNC, b=3, pid=0) + send(1, H_STOP)
                   + group_batch([P_HANDLE, P_HANDLE, P_CONTINUE, P_SKIP])
                   + group_batch([P_HANDLE, P_SKIP])
                   + group_batch([P_SKIP, P_CONTINUE])
                   + group_batch([P_STOP, P_HANDLE], s=0x08, handed=6)
                   + send(1, H_CONTINUE) + group_batch([P_HANDLE] * 3, handed=5 | (1 << 3))
                   + send(1, H_CONTINUE) + send(1, H_CONTINUE) + group_batch([P_HANDLE] * 2, m=1, handed=7),
    # a batch set aside after one message; another handled meanwhile; taken
    # back here; then one set aside while its process is sent an exit, with
    # misuse while holding it
    "group-suspend": cfg() + group_create() + group_spawn() + group_spawn() + group_run(turns=4)
                     + send(0, H_SEND, c=H_CONTINUE, pid=1) + send(0, H_CONTINUE) + send(1, H_SELF)
                     + group_batch([P_HANDLE], s=0x10, m=7 | (1 << 3),
                                   aside=bytes([2]) + group_batch([P_HANDLE, P_HANDLE], handed=0x40)[1:]
                                   + bytes([P_HANDLE]))
                     + send(0, H_CONTINUE) + send(0, H_CONTINUE)
                     + group_batch([P_HANDLE], s=0x90, m=7 | (1 << 3), aside=bytes([3, P_HANDLE]), misuse=0x60)
                     + group_run(turns=4),
    # kept aside across operations (a call to its process times out
    # meanwhile); one taken back by M_GROUP_RESUME, one by the stop
    "group-suspend-kept": cfg() + group_create() + group_create(1 << 3) + group_spawn() + group_spawn(g=G1)
                          + group_run(turns=4) + group_run(g=G1, turns=4) + send(0, H_CONTINUE) + send(0, H_SELF)
                          + send(1, H_CONTINUE)
                          + group_batch([P_HANDLE], s=0x30, m=7 | (1 << 3), aside=bytes([0]))[:-1]
                          + group_batch([], s=0x30, g=G1, m=7, aside=bytes([1]))[:-1]
                          + send(0, H_CONTINUE) + bytes([M_CALL, 2, 0]) + op(H_CONTINUE)
                          + group_resume(s=0x80, k=0, plan=[P_HANDLE], misuse=0x20)
                          + bytes([M_EXIT, 2, 1, M_STOP, 40]),
    # a helper thread takes a batch back and finishes it while the main
    # thread runs the group; then one kept aside, taken back by a helper
    "group-resume-thread": cfg(schedulers=2) + group_create() + group_spawn() + group_spawn() + group_run(turns=4)
                           + send(0, H_CONTINUE) + send(0, H_SLEEP, a=2) + send(1, H_SEND, c=H_CONTINUE, pid=0)
                           + group_batch([], s=0x50, m=0x87, aside=bytes([0]) + helper())[:-1]
                           + send(0, H_CONTINUE) + send(0, H_CONTINUE)
                           + group_batch([P_HANDLE], s=0x30, m=7 | (1 << 3), aside=bytes([0]))[:-1]
                           + group_resume(s=1)[:-1] + helper() + group_run(turns=4),
    # swerl_set_group from handlers: in (a blocking process too, whose
    # calls are then refused), the second runtime's (EINVAL), out; an init
    # that joins; a supervised child stays out
    "group-set-group": cfg() + group_create() + spawn() + spawn(flags=BLOCKING) + group_create(0x40)
                       + send(0, H_SET_GROUP, b=G0) + send(1, H_SET_GROUP, b=G0) + bytes([M_SLEEP, 2])
                       + send(0, H_CONTINUE) + send(1, H_BLOCKING_CALL, b=2, pid=0) + group_run(turns=4)
                       + send(0, H_SET_GROUP, b=G_OTHER) + send(0, H_SET_GROUP, b=G_NULL) + group_run(turns=4)
                       + bytes([M_SLEEP, 2]) + send(0, H_SELF) + group_spawn(s=5) + bytes([M_SLEEP, 2])
                       + send(3, H_SELF) + group_run(turns=4)
                       + sup_start(0, 1, [child(ident=N_A)]) + bytes([M_PROCESSES, 0x48])
                       + b"".join(send(k, H_SET_GROUP, b=G0) for k in range(4, 8)) + PAUSE + group_run(turns=4),
    # group calls from handlers: a scheduler process's, a group process's
    # in callbacks and in a batch (drive: EINPROC, or EINVAL for the batch's
    # own group), spawn into, wake, batch minimum, turns it does not hold, fd
    "group-in-handler": cfg() + group_create() + spawn() + group_spawn() + group_run(turns=4)
                        + b"".join(send(0, H_GROUP, a=a, b=G0, c=c) for a, c in ((0, 0), (1, 0), (1, 3), (2, 0),
                                                                                  (3, 1), (3, 8), (5, 1), (5, 4),
                                                                                  (6, 0), (6, 7), (7, 0)))
                        + b"".join(send(1, H_GROUP, a=a, b=G0) for a in (0, 1, 2, 3, 5, 6, 7)) + group_run(turns=1)
                        + b"".join(send(1, H_GROUP, a=a, b=G0) for a in (0, 1, 2, 6)) + group_batch([P_HANDLE] * 4)
                        + send(1, H_GROUP, a=4, b=G0) + PAUSE + group_run(turns=4) + group_run(turns=4),
    # batch minimum, the descriptor, wake, bad turns and arguments, a chain
    # through next, the limit of 64 groups
    "group-misc": cfg() + group_create() + group_spawn() + group_spawn() + group_run(turns=4)
                  + group_misc(0 | (2 << 3)) + group_misc(1) + group_misc(1) + group_misc(0x80 | 1)
                  + send(0, H_CONTINUE) + send(1, H_CONTINUE) + send(1, H_CONTINUE)
                  + group_batch([P_HANDLE] * 2) + group_misc(3) + group_misc(0x13) + group_misc(4)
                  + group_misc(0x14) + group_misc(5) + group_misc(0x15) + group_misc(0 | (6 << 3))
                  + group_misc(0 | (1 << 3))
                  + send(0, H_CONTINUE) + send(1, H_CONTINUE) + send(0, H_CONTINUE) + send(1, H_CONTINUE)
                  + group_batch([P_HANDLE], s=3, handed=0) + bytes([P_HANDLE, 0, P_HANDLE, 0])
                  + group_batch([], s=2) + group_create(7) + group_create(7 | (1 << 3)) + group_create(7 | (3 << 3))
                  + group_create(7 | (4 << 3)) + group_create(0x86),
}
SEEDS.update(GROUP_SEEDS)


def http(request, head=255, body=128, seed=0):
    """M_HTTP: what a client sends, with the parser's limits (head 255:
    8192 bytes, else 8 + head; body 128 and more: 1024, else body) and the
    chunks' seed."""
    data = bytes([head, body, seed]) + request
    assert len(data) <= 255
    return bytes([M_HTTP, len(data)]) + data


HTTP_SEEDS = {
    # a GET with a query, percent-encoding and keep-alive
    "http-get": cfg() + http(b"GET /processes?sort=memory&q=a+b%C3%A9 HTTP/1.1\r\nHost: localhost:8080\r\n"
                             b"Connection: keep-alive\r\nAccept: */*\r\n\r\n"),
    # pipelined: a POST with a body, an HTTP/1.0 request with bare LFs after
    # an empty line, the start of a third
    "http-pipelined": cfg() + http(b"POST /kill?pid=%3C0.5.0%3E HTTP/1.1\r\nHost: h\r\nX-Swerl-Action: 1\r\n"
                                   b"Content-Length: 4\r\n\r\nbody\r\nGET http://h/x HTTP/1.0\nConnection: close\n\n"
                                   b"GET /y HTTP/1.1\r\nHo", seed=7),
    # refusals: chunked (501), two lengths, obs-fold, HTTP/2.0 (505), bad
    # percent-encoding, no Host
    "http-refusals": cfg() + http(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                     + http(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\nab")
                     + http(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n")
                     + http(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n")
                     + http(b"GET /%zz?a=%C3 HTTP/1.1\r\nHost: h\r\n\r\n")
                     + http(b"GET / HTTP/1.1\r\n\r\n"),
    # the limits, small: a head of 48 bytes exactly then one past (431), a
    # body of 4 then 5 (413), a request line past 48 (414), more pipelined
    # than the parser holds
    "http-limits": cfg() + http(b"GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdef\r\n\r\n"
                                b"GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdefg\r\n\r\n", head=40, body=4)
                   + http(b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n1234"
                          b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n12345", head=60, body=4, seed=3)
                   + http(b"GET /" + b"a" * 40 + b" HTTP/1.1\r\n", head=40, body=0)
                   + http(b"GET / HTTP/1.0\r\n\r\n" * 8, head=24, body=0, seed=1),
}
SEEDS.update(HTTP_SEEDS)


# shared binaries: bin_len selectors (L_MAX: max_message_size, L_ABOVE: one past it)
L0, L1, L8, L64, L100, L1000, L1024, L4096, L6000, L_MAX, L_ABOVE = 0, 1, 3, 8, 9, 11, 12, 14, 15, 17, 18
# salts: what a receiving handler does with a shared message (bin_receive)
DROP, HOLD, OWN, BOTH, SKIP_IT = 0x00, 0x02, 0x04, 0x06, 0x01
CEILING_1000, CEILING_100000 = 4, 5     # M_SET_MAX_MEMORY selectors


def bin_new(length, salt, s=0):
    """M_BIN_NEW: s % 3 new with *data, new written through swerl_binary_data,
    copy; 0x04 copy of NULL when empty; 0x80 let go at once."""
    return bytes([M_BIN_NEW, s, length, salt])


def bin_send(pids, k=0, s=0):
    """M_BIN_SEND to up to four pid selectors: s 0x80 rt NULL, 0x40 binary
    NULL, 0x20 from a thread of its own."""
    out = bytes([M_BIN_SEND, (s & 0xe0) | (len(pids) - 1), k])
    for p in pids:
        out += bytes([p]) + (b"\x5a" * 8 if p >= 240 else b"")
    return out


def bin_send_named(name, k=0, s=0):
    return bytes([M_BIN_SEND, 0x10 | (s & 0xe0), k, name])


BIN_SEEDS = {
    # a fan-out from the main thread and from a thread of its own under a
    # ceiling; the receivers hold, keep and drop their references; the
    # held ones let go of after the stop
    "bin-fan-out": cfg(schedulers=2) + bytes([M_SET_MAX_MEMORY, CEILING_100000]) + spawn() + spawn() + spawn()
                   + bin_new(L1000, HOLD) + bin_new(L64, OWN, s=1) + bin_new(L4096, BOTH, s=2)
                   + bin_send([0, 1, 2], k=0) + bin_send([0, 1], k=1, s=0x20) + bin_send([2], k=2)
                   + bytes([M_BIN_RETAIN, 0, 0, M_BIN_RELEASE, 0, 1]) + PAUSE + bytes([M_STATS, 0]),
    # a process makes a binary, sends it and exits while it is in flight;
    # the receiver's reference outlives it and is let go of later
    "bin-sender-exits": cfg() + bytes([M_SET_MAX_MEMORY, CEILING_100000]) + spawn() + spawn() + spawn()
                        + send(0, H_BIN_NEW, a=L1000, b=HOLD, c=2, pid=1)
                        + send(2, H_BIN_NEW, a=L100, b=OWN, c=1 | 2 | (1 << 3), pid=1) + PAUSE
                        + bytes([M_BIN_RELEASE, 0, 0, M_SLEEP, 2, M_BIN_RELEASE, 0, 0])
                        + send(1, H_BIN_RELEASE, a=1) + bytes([M_SLEEP, 5]),
    # the ceiling refuses (EMEMLIMIT) a binary, then its message; a binary
    # sent twice is charged once
    "bin-ceiling": cfg() + bytes([M_SET_MAX_MEMORY, CEILING_1000]) + spawn() + spawn()
                   + bin_new(L4096, HOLD) + bin_send([0, 1], k=0) + bin_new(L100, HOLD, s=2)
                   + bin_send([0, 1, 0, 1], k=1) + bin_new(L0, HOLD) + bin_send([0], k=2) + PAUSE
                   + bytes([M_SET_MAX_MEMORY, 0]) + bin_send([1], k=0),
    # around max_message_size (ETOOBIG above), empty, bad input
    "bin-limits": cfg(max_msg=32) + spawn() + bin_new(L_MAX, HOLD) + bin_new(L_ABOVE, HOLD, s=1)
                  + bin_new(L0, DROP, s=2 | 4) + bin_send([0], k=0) + bin_send([0], k=1) + bin_send([0], k=2)
                  + bytes([M_BIN_BAD, 0, M_BIN_BAD, 3, M_BIN_RETAIN, 0x80, 0, M_BIN_RELEASE, 0x80, 0])
                  + bin_new(L8, DROP, s=0x80),
    # names, NULLs, dead, stale, forged and foreign pids
    "bin-targets": cfg() + spawn(name=N_A) + spawn() + bin_new(L100, HOLD) + bin_send_named(N_A)
                   + bin_send_named(N_B) + bin_send_named(N_NULL) + bin_send_named(N_EMPTY) + bin_send_named(N_LONG)
                   + bin_send([0], s=0x40) + bin_send([0], s=0x80) + send(1, H_STOP) + bytes([M_SLEEP, 3])
                   + bin_send([1, PID_ZERO, PID_ALL_ONES, PID_OTHER_TAG]) + bin_send([230, PID_GARBAGE])
                   + bytes([M_OTHER_RUNTIME, 0x0c, 0]) + bin_send([2]) + PAUSE,
    # handlers: send a held binary by pid and by name, keep copies of plain
    # messages, forge the SHARED flag (EINVAL), let go of their own
    "bin-handlers": cfg() + spawn(name=N_B) + spawn() + bin_new(L64, OWN) + bin_new(L1024, BOTH, s=1)
                    + send(0, H_BIN_SEND, a=0, pid=1) + send(0, H_BIN_SEND, a=1, b=N_B, c=4)
                    + send(1, H_BIN_KEEP, a=1) + send(1, H_BIN_KEEP, a=2) + send(1, H_BIN_KEEP, a=0x10)
                    + send(0, H_BIN_KEEP, a=0x11) + PAUSE + send(0, H_BIN_RELEASE, a=1) + send(1, H_BIN_RELEASE, a=0)
                    + send(1, H_BIN_NEW, a=L6000, b=DROP, pid=0) + PAUSE,
    # a skipped shared message stays queued until its process exits; a
    # bounded mailbox drops the oldest; a killed process's mailbox
    "bin-mailboxes": cfg() + spawn() + spawn(limit=1, overflow=1) + spawn(mode=4) + bin_new(L100, SKIP_IT)
                     + bin_new(L64, HOLD) + bin_send([0, 1, 2], k=0) + bin_send([0, 1, 1, 2], k=1)
                     + send(0, H_CONTINUE) + send(0, H_STOP) + bytes([M_EXIT, 2, 2]) + PAUSE,
    # group processes get shared messages in batches and with callbacks
    "bin-groups": cfg() + group_create() + group_spawn() + group_spawn() + group_run(turns=4)
                  + bin_new(L100, BOTH) + bin_new(L8, SKIP_IT) + bin_send([0, 1], k=0) + bin_send([0], k=1)
                  + group_batch([P_HANDLE, P_HANDLE]) + group_run(turns=4) + send(1, H_BIN_NEW, a=L64, b=HOLD, pid=0)
                  + group_run(turns=4) + group_batch([P_HANDLE] * 2) + group_run(turns=4),
}
SEEDS.update(BIN_SEEDS)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_corpus.py DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(sys.argv[1], "seed-" + name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {sys.argv[1]}")


if __name__ == "__main__":
    main()
