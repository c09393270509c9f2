"""Swerl demo: C and Python processes under one supervisor, messages
flowing, a crash restarted.

The C `counter` comes from a small shared object (demo_workers.c); the
`greeter` is a Python process driven through ctypes. Both are children of a
Swerl supervisor (one_for_one): when the counter crashes, the supervisor
restarts it, and its report arrives through the runtime's log hook.

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


class Buffer(Structure):
    _fields_ = [("data", c_void_p), ("len", c_size_t)]


class Config(Structure):
    _fields_ = [("size", c_uint32), ("schedulers", c_uint32), ("max_processes", c_uint32),
                ("max_message_size", c_uint64), ("on_thread_start", c_void_p), ("on_thread_stop", c_void_p),
                ("thread_user", c_void_p), ("on_log", CFUNCTYPE(None, c_void_p, c_int, c_void_p, c_size_t)),
                ("log_user", c_void_p)]


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
    ("swerl_runtime_start", [POINTER(Config), POINTER(c_void_p)], c_int),
    ("swerl_config_init", [POINTER(Config)], None),
    ("swerl_supervisor_spec_init", [POINTER(SupervisorSpec)], None),
    ("swerl_child_spec_init", [POINTER(ChildSpec)], None),
    ("swerl_supervisor_start", [c_void_p, POINTER(SupervisorSpec), c_void_p, POINTER(swerl_pid)], c_int),
    ("swerl_supervisor_which_children", [c_void_p, swerl_pid, POINTER(ChildInfo), c_size_t, POINTER(c_size_t)], c_int),
    ("swerl_supervisor_tree", [c_void_p, swerl_pid, c_uint32, POINTER(Buffer)], c_int),
    ("swerl_runtime_stop", [c_void_p, c_uint32], c_int),
    ("swerl_runtime_free", [c_void_p], None),
    ("swerl_send", [c_void_p, swerl_pid, c_char_p, c_size_t], c_int),
    ("swerl_call", [c_void_p, swerl_pid, c_char_p, c_size_t, c_uint32, POINTER(Buffer)], c_int),
    ("swerl_reply", [c_void_p, c_uint64, c_char_p, c_size_t], c_int),
    ("swerl_buffer_free", [POINTER(Buffer)], None),
    ("swerl_ctx_runtime", [c_void_p], c_void_p),
    ("swerl_self", [c_void_p], swerl_pid),
    ("swerl_fail", [c_void_p, c_int32, c_char_p, c_size_t], c_int),
    ("swerl_strerror", [c_int], c_char_p),
]:
    getattr(lib, name).argtypes = args
    getattr(lib, name).restype = res
workers.demo_counter_behavior.restype = c_void_p

SWERL_CALL = 4
SWERL_CONTINUE = 0
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


def show(pid):
    """Erlang's way to print a pid: <node.slot.generation>."""
    return f"<0.{pid & 0xFFFFFF}.{(pid >> 24) & 0x3FFFFFFF}>"


def greeter_handle(ctx, msg):
    if msg.kind == SWERL_CALL:
        who = ctypes.string_at(msg.data, msg.len).decode()
        answer = f"hello {who}, from Python process {show(lib.swerl_self(ctx))}".encode()
        lib.swerl_reply(lib.swerl_ctx_runtime(ctx), msg.ref, answer, len(answer))
    return SWERL_CONTINUE


def call(rt, pid, request):
    reply = Buffer()
    rc = lib.swerl_call(rt, pid, request, len(request), 5000, byref(reply))
    if rc != 0:
        raise RuntimeError(lib.swerl_strerror(rc).decode())
    try:
        return ctypes.string_at(reply.data, reply.len).decode()
    finally:
        lib.swerl_buffer_free(byref(reply))


def children(rt, sup):
    infos = (ChildInfo * 8)()
    infos[0].size = ctypes.sizeof(ChildInfo)
    count = c_size_t()
    assert lib.swerl_supervisor_which_children(rt, sup, infos, 8, byref(count)) == 0
    return {infos[i].id.decode(): infos[i].pid for i in range(count.value)}


def on_log(user, level, message, length):
    text = ctypes.string_at(message, length).decode()
    print(f"  [supervisor report] {text}")
    if "restarting counter" in text:
        events.put("restarted")


def main():
    config = Config()
    lib.swerl_config_init(byref(config))
    config.on_log = config._fields_[7][1](on_log)
    keep.append(config.on_log)
    rt = c_void_p()
    assert lib.swerl_runtime_start(byref(config), byref(rt)) == 0
    print("Swerl demo: a supervisor with a C child and a Python child")

    specs = (ChildSpec * 2)()
    for spec in specs:
        lib.swerl_child_spec_init(byref(spec))
    specs[0].id, specs[0].behavior = b"counter", workers.demo_counter_behavior()
    specs[1].id, specs[1].behavior = b"greeter", ctypes.addressof(python_behavior(greeter_handle))
    tree = SupervisorSpec()
    lib.swerl_supervisor_spec_init(byref(tree))
    tree.intensity, tree.children, tree.n_children = 3, specs, 2
    sup = swerl_pid()
    assert lib.swerl_supervisor_start(rt, byref(tree), None, byref(sup)) == 0
    kids = children(rt, sup.value)
    print(f"  supervisor {show(sup.value)} started counter {show(kids['counter'])} and greeter {show(kids['greeter'])}")

    print(" ", call(rt, kids["greeter"], b"C and Python"))
    for _ in range(1000):
        lib.swerl_send(rt, kids["counter"], b"tick", 4)
    print(f"  sent 1000 messages to the C counter: {call(rt, kids['counter'], b'?')}")

    print("  asking the C counter to crash...")
    lib.swerl_send(rt, kids["counter"], b"crash", 5)
    assert events.get(timeout=10) == "restarted"
    restarted = children(rt, sup.value)["counter"]
    for _ in range(3):
        lib.swerl_send(rt, restarted, b"tick", 4)
    print(f"  the restarted counter {show(restarted)} works: {call(rt, restarted, b'?')}")

    text = Buffer()
    assert lib.swerl_supervisor_tree(rt, sup.value, 0, byref(text)) == 0
    print("  the tree as JSON:", ctypes.string_at(text.data, text.len).decode())
    lib.swerl_buffer_free(byref(text))

    assert lib.swerl_runtime_stop(rt, 5000) == 0
    lib.swerl_runtime_free(rt)
    print("demo finished: messages flowed between C and Python, a crash was restarted by the supervisor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
