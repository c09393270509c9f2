"""Swerl demo: C and Python processes in one runtime, messages flowing, a
crash noticed and the crashed process restarted.

The C `counter` comes from a small shared object (demo_workers.c); the
`keeper` and the `greeter` are Python processes driven through ctypes. The
keeper traps exits and restarts the counter when it crashes, the way a
supervisor does (Swerl's own supervisors arrive with issue 3).

Run it with `make demo`.
"""

import ctypes
import os
import queue
import sys
import traceback
from ctypes import CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int, c_int32, c_size_t, c_uint32, c_uint64, c_void_p

lib = ctypes.CDLL(os.environ.get("SWERL_LIBRARY", "libswerl.so.1"))
workers = ctypes.CDLL(os.environ["SWERL_DEMO_WORKERS"])

swerl_pid = c_uint64
INIT = CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(c_void_p))


class Message(Structure):
    _fields_ = [("kind", c_uint32), ("reason", c_int32), ("sender", c_uint64), ("ref", c_uint64),
                ("data", c_void_p), ("len", c_size_t)]


HANDLE = CFUNCTYPE(c_int, c_void_p, POINTER(Message), c_void_p)
TERMINATE = CFUNCTYPE(None, c_void_p, c_int32, c_void_p)


class Behavior(Structure):
    _fields_ = [("size", c_uint32), ("init", INIT), ("handle", HANDLE), ("terminate", TERMINATE)]


class SpawnOpts(Structure):
    _fields_ = [("size", c_uint32), ("flags", c_uint32), ("name", c_char_p), ("mailbox_limit", c_uint32),
                ("overflow", c_uint32), ("monitor_ref", POINTER(c_uint64))]


class Buffer(Structure):
    _fields_ = [("data", c_void_p), ("len", c_size_t)]


for name, args, res in [
    ("swerl_runtime_start", [c_void_p, POINTER(c_void_p)], c_int),
    ("swerl_runtime_stop", [c_void_p, c_uint32], c_int),
    ("swerl_runtime_free", [c_void_p], None),
    ("swerl_spawn", [c_void_p, c_void_p, c_void_p, POINTER(SpawnOpts), POINTER(swerl_pid)], c_int),
    ("swerl_spawn_opts_init", [POINTER(SpawnOpts)], None),
    ("swerl_send", [c_void_p, swerl_pid, c_char_p, c_size_t], c_int),
    ("swerl_send_named", [c_void_p, c_char_p, c_char_p, c_size_t], c_int),
    ("swerl_call", [c_void_p, swerl_pid, c_char_p, c_size_t, c_uint32, POINTER(Buffer)], c_int),
    ("swerl_reply", [c_void_p, c_uint64, c_char_p, c_size_t], c_int),
    ("swerl_buffer_free", [POINTER(Buffer)], None),
    ("swerl_whereis", [c_void_p, c_char_p, POINTER(swerl_pid)], c_int),
    ("swerl_ctx_runtime", [c_void_p], c_void_p),
    ("swerl_self", [c_void_p], swerl_pid),
    ("swerl_trap_exit", [c_void_p, c_int], c_int),
    ("swerl_fail", [c_void_p, c_int32, c_char_p, c_size_t], c_int),
    ("swerl_strerror", [c_int], c_char_p),
]:
    getattr(lib, name).argtypes = args
    getattr(lib, name).restype = res
workers.demo_counter_behavior.restype = c_void_p

SWERL_CALL, SWERL_EXIT, SWERL_MESSAGE = 4, 1, 0
SWERL_CONTINUE, SWERL_STOP = 0, 2
SWERL_SPAWN_LINK = 1
keep = []  # ctypes callbacks live as long as the runtime
events = queue.Queue()


def python_behavior(handle, init=None):
    """A Python process: exceptions become crashes with the traceback as detail."""
    def guarded_handle(ctx, msg, state):
        try:
            return handle(ctx, msg.contents)
        except BaseException:
            detail = traceback.format_exc().encode()
            lib.swerl_fail(ctx, 5, detail, len(detail))
            return -1

    def guarded_init(ctx, arg, state):
        try:
            return init(ctx) if init else 0
        except BaseException:
            detail = traceback.format_exc().encode()
            lib.swerl_fail(ctx, 5, detail, len(detail))
            return -1

    behavior = Behavior(ctypes.sizeof(Behavior), INIT(guarded_init), HANDLE(guarded_handle), TERMINATE(0))
    keep.append(behavior)
    return behavior


def spawn_counter(ctx_or_none, rt):
    opts = SpawnOpts()
    lib.swerl_spawn_opts_init(byref(opts))
    opts.name = b"counter"
    opts.flags = SWERL_SPAWN_LINK if ctx_or_none else 0
    pid = swerl_pid()
    rc = lib.swerl_spawn(rt, workers.demo_counter_behavior(), None, byref(opts), byref(pid))
    if rc != 0:
        raise RuntimeError(lib.swerl_strerror(rc).decode())
    return pid.value


def show(pid):
    """Erlang's way to print a pid: <node.slot.generation>."""
    return f"<0.{pid & 0xFFFFFF}.{(pid >> 24) & 0x3FFFFFFF}>"


def keeper_init(ctx):
    lib.swerl_trap_exit(ctx, 1)
    spawn_counter(ctx, lib.swerl_ctx_runtime(ctx))
    events.put("counter started")
    return 0


def keeper_handle(ctx, msg):
    if msg.kind != SWERL_EXIT:
        return SWERL_CONTINUE
    if msg.sender == 0:
        return SWERL_STOP  # the runtime is stopping: so do we (and the counter, linked)
    if msg.reason != 0:
        detail = ctypes.string_at(msg.data, msg.len).decode() if msg.len else ""
        print(f"  [Python keeper] counter {show(msg.sender)} exited (reason {msg.reason}: {detail}); restarting it")
        spawn_counter(ctx, lib.swerl_ctx_runtime(ctx))
        events.put("restarted")
    return SWERL_CONTINUE


def greeter_handle(ctx, msg):
    if msg.kind == SWERL_CALL:
        who = ctypes.string_at(msg.data, msg.len).decode()
        answer = f"hello {who}, from Python process {show(lib.swerl_self(ctx))}".encode()
        lib.swerl_reply(lib.swerl_ctx_runtime(ctx), msg.ref, answer, len(answer))
    return 0


def call(rt, pid, request):
    reply = Buffer()
    rc = lib.swerl_call(rt, pid, request, len(request), 5000, byref(reply))
    if rc != 0:
        raise RuntimeError(lib.swerl_strerror(rc).decode())
    try:
        return ctypes.string_at(reply.data, reply.len).decode()
    finally:
        lib.swerl_buffer_free(byref(reply))


def whereis(rt, name):
    pid = swerl_pid()
    return pid.value if lib.swerl_whereis(rt, name, byref(pid)) == 0 else 0


def main():
    rt = c_void_p()
    assert lib.swerl_runtime_start(None, byref(rt)) == 0
    print("Swerl demo: one runtime, C and Python processes")
    pid = swerl_pid()
    assert lib.swerl_spawn(rt, byref(python_behavior(keeper_handle, keeper_init)), None, None, byref(pid)) == 0
    assert lib.swerl_spawn(rt, byref(python_behavior(greeter_handle)), None, None, byref(pid)) == 0
    greeter = pid.value
    print(" ", call(rt, greeter, b"C and Python"))

    assert events.get(timeout=10) == "counter started"
    counter = whereis(rt, b"counter")
    for _ in range(1000):
        lib.swerl_send_named(rt, b"counter", b"tick", 4)
    print(f"  sent 1000 messages to the C counter {show(counter)}: {call(rt, counter, b'?')}")

    print("  asking the C counter to crash...")
    lib.swerl_send(rt, counter, b"crash", 5)
    assert events.get(timeout=10) == "restarted"
    restarted = whereis(rt, b"counter")
    for _ in range(3):
        lib.swerl_send_named(rt, b"counter", b"tick", 4)
    print(f"  the new counter {show(restarted)} works: {call(rt, restarted, b'?')}")

    assert lib.swerl_runtime_stop(rt, 5000) == 0
    lib.swerl_runtime_free(rt)
    print("demo finished: messages flowed between C and Python, a crash was restarted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
