"""Smoke test of the demo's Swift process, in one Python process with
libswerl.so.1 (and, when given, the C demo workers: three Swift-or-C objects,
two embedded Swift runtimes, one Swerl runtime).

    SWERL_LIBRARY=build/stage/lib/libswerl.so.1 \
    SWERL_DEMO_SWIFT_WORKER=build/demo/libdemo_swift_worker.so \
    [SWERL_DEMO_WORKERS=build/demo/libdemo_workers.so] \
    python3 examples/demo/swift-worker/smoke.py [ROUNDS]

Each round starts a runtime, checks the stats protocol, a crash seen by a
monitor, a restart under a supervisor (next to the C counter when it is
loaded) and many stats processes at once, then stops the runtime. Exits 0
when every check passed.
"""

import ctypes
import os
import queue
import sys
import time
from ctypes import CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int, c_int32, c_size_t, c_uint32, c_uint64, c_void_p

lib = ctypes.CDLL(os.environ.get("SWERL_LIBRARY", "libswerl.so.1"))
swift_worker = ctypes.CDLL(os.environ["SWERL_DEMO_SWIFT_WORKER"])
c_workers_path = os.environ.get("SWERL_DEMO_WORKERS")
c_workers = ctypes.CDLL(c_workers_path) if c_workers_path else None

swerl_pid = c_uint64
INIT = CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(c_void_p))


class Message(Structure):
    _fields_ = [("kind", c_uint32), ("reason", c_int32), ("sender", c_uint64), ("ref", c_uint64),
                ("data", c_void_p), ("len", c_size_t)]


HANDLE = CFUNCTYPE(c_int, c_void_p, POINTER(Message), c_void_p)
TERMINATE = CFUNCTYPE(None, c_void_p, c_int32, c_void_p)


class Behavior(Structure):
    _fields_ = [("size", c_uint32), ("init", INIT), ("handle", HANDLE), ("terminate", TERMINATE)]


class Buffer(Structure):
    _fields_ = [("data", c_void_p), ("len", c_size_t)]


class ChildSpec(Structure):
    _fields_ = [("size", c_uint32), ("id", c_char_p), ("behavior", c_void_p), ("arg", c_void_p),
                ("arg_free", c_void_p), ("restart", c_uint32), ("shutdown_ms", c_uint32), ("type", c_uint32),
                ("significant", c_uint32), ("supervisor", c_void_p)]


class SupervisorSpec(Structure):
    _fields_ = [("size", c_uint32), ("strategy", c_uint32), ("intensity", c_uint32), ("period_ms", c_uint32),
                ("auto_shutdown", c_uint32), ("children", POINTER(ChildSpec)), ("n_children", c_size_t)]


class ChildInfo(Structure):
    _fields_ = [("size", c_uint32), ("state", c_uint32), ("type", c_uint32), ("restart", c_uint32),
                ("pid", c_uint64), ("restarts", c_uint64), ("id", ctypes.c_char * 256)]


for name, args, res in [
    ("swerl_runtime_start", [c_void_p, POINTER(c_void_p)], c_int),
    ("swerl_runtime_stop", [c_void_p, c_uint32], c_int),
    ("swerl_runtime_free", [c_void_p], None),
    ("swerl_spawn", [c_void_p, c_void_p, c_void_p, c_void_p, POINTER(swerl_pid)], c_int),
    ("swerl_send", [c_void_p, swerl_pid, c_char_p, c_size_t], c_int),
    ("swerl_call", [c_void_p, swerl_pid, c_char_p, c_size_t, c_uint32, POINTER(Buffer)], c_int),
    ("swerl_buffer_free", [POINTER(Buffer)], None),
    ("swerl_monitor", [c_void_p, swerl_pid, POINTER(c_uint64)], c_int),
    ("swerl_supervisor_spec_init", [POINTER(SupervisorSpec)], None),
    ("swerl_child_spec_init", [POINTER(ChildSpec)], None),
    ("swerl_supervisor_start", [c_void_p, POINTER(SupervisorSpec), c_void_p, POINTER(swerl_pid)], c_int),
    ("swerl_supervisor_which_children", [c_void_p, swerl_pid, POINTER(ChildInfo), c_size_t, POINTER(c_size_t)], c_int),
    ("swerl_err_name", [c_int], c_char_p),
]:
    getattr(lib, name).argtypes = args
    getattr(lib, name).restype = res
swift_worker.demo_swift_stats_behavior.argtypes = []
swift_worker.demo_swift_stats_behavior.restype = c_void_p
if c_workers:
    c_workers.demo_counter_behavior.restype = c_void_p

SWERL_DOWN, SWERL_CALL = 2, 4
SWERL_CONTINUE, SWERL_STOP = 0, 2
SWERL_REASON_ERROR = 5
SWERL_EEXITED = -14
STATS = swift_worker.demo_swift_stats_behavior()


def check(rc, what):
    if rc != 0:
        raise AssertionError(f"{what}: {lib.swerl_err_name(rc).decode()}")


def call(rt, pid, request):
    """(rc, answer): the answer is None unless rc is 0."""
    reply = Buffer()
    rc = lib.swerl_call(rt, pid, request, len(request), 5000, byref(reply))
    if rc != 0:
        return rc, None
    try:
        return 0, ctypes.string_at(reply.data, reply.len).decode()
    finally:
        lib.swerl_buffer_free(byref(reply))


def expect_answer(rt, pid, request, expected):
    rc, answer = call(rt, pid, request)
    check(rc, f"call {request!r}")
    if answer != expected:
        raise AssertionError(f"call {request!r}: {answer!r}, expected {expected!r}")


def spawn(rt, behavior, arg=None):
    pid = swerl_pid()
    check(lib.swerl_spawn(rt, behavior, arg, None, byref(pid)), "spawn")
    return pid.value


# A Python process that monitors the pid given as its arg and reports its DOWN.
watching, downs = queue.Queue(), queue.Queue()


def watcher_init(ctx, arg, state):
    ref = c_uint64()
    rc = lib.swerl_monitor(ctx, arg or 0, byref(ref))
    watching.put(rc)
    return rc


def watcher_handle(ctx, msg, state):
    if msg.contents.kind != SWERL_DOWN:
        return SWERL_CONTINUE
    downs.put((msg.contents.reason, ctypes.string_at(msg.contents.data, msg.contents.len)))
    return SWERL_STOP


WATCHER = Behavior(ctypes.sizeof(Behavior), INIT(watcher_init), HANDLE(watcher_handle), TERMINATE(0))


def protocol_and_crash(rt):
    stats = spawn(rt, STATS)
    expect_answer(rt, stats, b"stats", "count=0 sum=0 min=none max=none")
    for text in [b"10", b"30", b"not a number", b"", b"20"]:
        check(lib.swerl_send(rt, stats, text, len(text)), "send")
    expect_answer(rt, stats, b"stats", "count=3 sum=60 min=10 max=30")
    for text in [b"-5", b"9223372036854775807", b"+7"]:  # the second would overflow the sum
        check(lib.swerl_send(rt, stats, text, len(text)), "send")
    expect_answer(rt, stats, b"stats", "count=5 sum=62 min=-5 max=30")
    expect_answer(rt, stats, b"what", "unknown request")

    spawn(rt, ctypes.byref(WATCHER), c_void_p(stats))
    check(watching.get(timeout=5), "monitor")  # init runs concurrently: wait for the monitor
    rc, _ = call(rt, stats, b"crash")
    if rc != SWERL_EEXITED:
        raise AssertionError(f"call b'crash': {lib.swerl_err_name(rc).decode()}, expected EEXITED")
    reason, detail = downs.get(timeout=5)
    if (reason, detail) != (SWERL_REASON_ERROR, b"asked to crash"):
        raise AssertionError(f"DOWN {reason} {detail!r}, expected {SWERL_REASON_ERROR} b'asked to crash'")
    if lib.swerl_send(rt, stats, b"1", 1) != -2:
        raise AssertionError("the crashed stats process still takes messages")


def children(rt, sup):
    infos = (ChildInfo * 4)()
    infos[0].size = ctypes.sizeof(ChildInfo)
    count = c_size_t()
    check(lib.swerl_supervisor_which_children(rt, sup, infos, 4, byref(count)), "which_children")
    return {infos[i].id.decode(): (infos[i].pid, infos[i].restarts) for i in range(count.value)}


def supervised_restart(rt):
    """The Swift child crashes and is restarted, next to the C counter."""
    specs = (ChildSpec * 2)()
    for spec in specs:
        lib.swerl_child_spec_init(byref(spec))
    specs[0].id, specs[0].behavior = b"stats", STATS
    n = 1
    if c_workers:
        specs[1].id, specs[1].behavior = b"counter", c_workers.demo_counter_behavior()
        n = 2
    tree = SupervisorSpec()
    lib.swerl_supervisor_spec_init(byref(tree))
    tree.intensity, tree.children, tree.n_children = 3, specs, n
    sup = swerl_pid()
    check(lib.swerl_supervisor_start(rt, byref(tree), None, byref(sup)), "supervisor_start")
    kids = children(rt, sup.value)
    stats = kids["stats"][0]
    for i in range(1, 101):
        check(lib.swerl_send(rt, stats, str(i).encode(), len(str(i))), "send")
    expect_answer(rt, stats, b"stats", "count=100 sum=5050 min=1 max=100")
    if c_workers:
        counter = kids["counter"][0]
        for _ in range(10):
            check(lib.swerl_send(rt, counter, b"tick", 4), "send")
        expect_answer(rt, counter, b"?", "count=10")

    rc, _ = call(rt, stats, b"crash")
    if rc != SWERL_EEXITED:
        raise AssertionError(f"call b'crash': {lib.swerl_err_name(rc).decode()}, expected EEXITED")
    deadline = time.monotonic() + 5
    while children(rt, sup.value)["stats"][1] != 1:
        if time.monotonic() > deadline:
            raise AssertionError("the stats child was not restarted")
        time.sleep(0.001)
    restarted = children(rt, sup.value)["stats"][0]
    if restarted in (0, stats):
        raise AssertionError(f"restarted stats pid {restarted:#x}")
    expect_answer(rt, restarted, b"stats", "count=0 sum=0 min=none max=none")
    check(lib.swerl_send(rt, restarted, b"7", 1), "send")
    expect_answer(rt, restarted, b"stats", "count=1 sum=7 min=7 max=7")
    if c_workers:
        expect_answer(rt, kids["counter"][0], b"?", "count=10")  # one_for_one: the C counter was left alone


def many_at_once(rt, processes=32, numbers=200):
    pids = [spawn(rt, STATS) for _ in range(processes)]
    for n in range(numbers):
        text = str(n - 50).encode()
        for pid in pids:
            check(lib.swerl_send(rt, pid, text, len(text)), "send")
    total = sum(n - 50 for n in range(numbers))
    for pid in pids:
        expect_answer(rt, pid, b"stats", f"count={numbers} sum={total} min=-50 max={numbers - 51}")


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    for _ in range(rounds):
        rt = c_void_p()
        check(lib.swerl_runtime_start(None, byref(rt)), "runtime_start")
        protocol_and_crash(rt)
        supervised_restart(rt)
        many_at_once(rt)
        check(lib.swerl_runtime_stop(rt, 5000), "runtime_stop")
        lib.swerl_runtime_free(rt)
    with_c = " and the C demo workers" if c_workers else ""
    print(f"smoke: ok, {rounds} round(s), the Swift stats process{with_c} in one runtime", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
