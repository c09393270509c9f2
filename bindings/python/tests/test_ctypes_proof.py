"""Minimal proof that Python can drive libswerl.so.1 through ctypes alone.

No C code of our own: every process below is a Python object whose init,
handle and terminate run as ctypes callbacks on the runtime's scheduler
threads. The full `swerl` package is a later issue; this module is the proof
that the C contract (include/swerl.h) is usable from Python as designed:

  * one place declares every argtypes/restype (``_SIGNATURES``);
  * structure layouts match the header (natural alignment, ``size`` fields
    set to ``ctypes.sizeof``), checked against the library's own ``_init``;
  * every callback is guarded: a Python exception becomes
    ``swerl_fail(ctx, SWERL_REASON_ERROR, traceback)`` and ``-1``, never an
    undefined return value;
  * callback objects live in the runtime's ``keep`` dict until
    ``swerl_runtime_free`` has returned, so C can never call a freed thunk.

The library is the one the ``swerl`` package loads (``SWERL_LIBRARY``, the
copy bundled in its wheel, or the system's), so a missing library fails
every test with the package's message; nothing is skipped.
"""

import ctypes
import gc
import itertools
import os
import queue
import threading
import traceback
import weakref
from collections import namedtuple
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    byref,
    c_char_p,
    c_int,
    c_int32,
    c_size_t,
    c_uint,
    c_uint32,
    c_uint64,
    c_void_p,
)

import pytest

TIMEOUT = 10  # seconds: every wait in this module is bounded by this

# ---------------------------------------------------------------------------
# Constants from swerl.h
# ---------------------------------------------------------------------------

SWERL_OK = 0
SWERL_ENOPROC = -2
SWERL_ESTOPPED = -10

SWERL_REASON_NORMAL = 0
SWERL_REASON_SHUTDOWN = 1
SWERL_REASON_ERROR = 5
SWERL_REASON_USER = 256

SWERL_MESSAGE = 0
SWERL_EXIT = 1
SWERL_DOWN = 2
SWERL_TIMEOUT = 3
SWERL_CALL = 4
SWERL_REPLY = 5

SWERL_CONTINUE = 0
SWERL_SKIP = 1
SWERL_STOP = 2

SWERL_SPAWN_MONITOR = 1 << 1

# ---------------------------------------------------------------------------
# Types from swerl.h (natural alignment: ctypes inserts the same padding as C)
# ---------------------------------------------------------------------------

swerl_pid = c_uint64
swerl_ref = c_uint64


class SwerlMessage(Structure):
    _fields_ = [
        ("kind", c_uint32),
        ("reason", c_int32),
        ("from_", swerl_pid),  # `from` in C; a Python keyword
        ("ref", swerl_ref),
        ("data", c_void_p),
        ("len", c_size_t),
    ]


# swerl_ctx * and void * arrive in Python as int (or None for NULL).
INIT_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(c_void_p))
HANDLE_FN = CFUNCTYPE(c_int, c_void_p, POINTER(SwerlMessage), c_void_p)
TERMINATE_FN = CFUNCTYPE(None, c_void_p, c_int32, c_void_p)
THREAD_FN = CFUNCTYPE(None, c_void_p)


class SwerlBehavior(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("init", INIT_FN),
        ("handle", HANDLE_FN),
        ("terminate", TERMINATE_FN),
    ]


class SwerlConfig(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("schedulers", c_uint32),
        ("max_processes", c_uint32),
        # (4 bytes of padding, inserted by ctypes as by the C compiler)
        ("max_message_size", c_uint64),
        ("on_thread_start", THREAD_FN),
        ("on_thread_stop", THREAD_FN),
        ("thread_user", c_void_p),
        ("on_log", CFUNCTYPE(None, c_void_p, c_int, c_void_p, c_size_t)),
        ("log_user", c_void_p),
    ]


class SwerlSpawnOpts(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("flags", c_uint32),
        ("name", c_char_p),
        ("mailbox_limit", c_uint32),
        ("overflow", c_uint32),
        ("monitor_ref", POINTER(swerl_ref)),
    ]


class SwerlBuffer(Structure):
    _fields_ = [("data", c_void_p), ("len", c_size_t)]


# ---------------------------------------------------------------------------
# The one place that declares argtypes/restype
# ---------------------------------------------------------------------------

_SIGNATURES = {
    # name: (restype, argtypes)
    "swerl_version": (c_uint, []),
    "swerl_version_string": (c_char_p, []),
    "swerl_strerror": (c_char_p, [c_int]),
    "swerl_err_name": (c_char_p, [c_int]),
    "swerl_config_init": (None, [POINTER(SwerlConfig)]),
    "swerl_runtime_start": (c_int, [POINTER(SwerlConfig), POINTER(c_void_p)]),
    "swerl_runtime_stop": (c_int, [c_void_p, c_uint32]),
    "swerl_runtime_free": (None, [c_void_p]),
    "swerl_spawn_opts_init": (None, [POINTER(SwerlSpawnOpts)]),
    "swerl_spawn": (
        c_int,
        [c_void_p, POINTER(SwerlBehavior), c_void_p, POINTER(SwerlSpawnOpts), POINTER(swerl_pid)],
    ),
    "swerl_self": (swerl_pid, [c_void_p]),
    "swerl_ctx_runtime": (c_void_p, [c_void_p]),
    "swerl_fail": (c_int, [c_void_p, c_int32, c_void_p, c_size_t]),
    "swerl_send": (c_int, [c_void_p, swerl_pid, c_void_p, c_size_t]),
    "swerl_monitor": (c_int, [c_void_p, swerl_pid, POINTER(swerl_ref)]),
    "swerl_call": (
        c_int,
        [c_void_p, swerl_pid, c_void_p, c_size_t, c_uint32, POINTER(SwerlBuffer)],
    ),
    "swerl_reply": (c_int, [c_void_p, swerl_ref, c_void_p, c_size_t]),
    "swerl_buffer_free": (None, [POINTER(SwerlBuffer)]),
}


def _declare(lib):
    missing = []
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        pytest.fail(
            "%s does not export: %s" % (lib._name, ", ".join(missing)), pytrace=False
        )
    return lib


@pytest.fixture(scope="session")
def lib():
    # The library the swerl package found (SWERL_LIBRARY, its bundled copy,
    # or the system's): these tests drive the very same file by hand.
    import swerl

    path = swerl._ffi.lib._name
    try:
        handle = ctypes.CDLL(path)  # CDLL: the GIL is released during every call
    except OSError as e:
        pytest.fail("cannot load %s: %s" % (path, e), pytrace=False)
    return _declare(handle)


# ---------------------------------------------------------------------------
# A tiny Python-side runtime wrapper (the proof's stand-in for the package)
# ---------------------------------------------------------------------------

Message = namedtuple("Message", "kind reason from_ ref data")


def _message(msg_ptr):
    """Copy a borrowed swerl_message into Python objects."""
    m = msg_ptr.contents
    data = ctypes.string_at(m.data, m.len) if m.len else b""
    return Message(m.kind, m.reason, m.from_, m.ref, data)


class Process:
    """Base class of the test processes. Override what you need."""

    def init(self, ctx, arg):
        return 0

    def handle(self, ctx, msg):
        return SWERL_CONTINUE

    def terminate(self, ctx, reason):
        pass


class Runtime:
    """A started runtime plus everything C may call back into.

    `keep` holds every ctypes callback object (and the Python object it is
    bound to) handed to C. It is cleared only after swerl_runtime_free has
    returned, when no scheduler thread exists any more.
    """

    def __init__(self, lib, schedulers=2):
        self.lib = lib
        self.keep = {}
        self._keys = itertools.count(1)
        self.callback_errors = []  # exceptions C could not be told about
        self.crashes = []  # exceptions turned into swerl_fail (for diagnostics)
        self.schedulers = schedulers
        self.thread_cond = threading.Condition()
        self.thread_starts = []  # thread idents, one entry per on_thread_start call
        self.thread_stops = []
        self.stopped = False
        self.freed = False

        on_start = THREAD_FN(self._hook(self.thread_starts))
        on_stop = THREAD_FN(self._hook(self.thread_stops))
        self.keep["thread_hooks"] = (on_start, on_stop)

        cfg = SwerlConfig()
        lib.swerl_config_init(byref(cfg))
        self.config_init_size = cfg.size
        cfg.size = ctypes.sizeof(SwerlConfig)
        cfg.schedulers = schedulers
        cfg.on_thread_start = on_start
        cfg.on_thread_stop = on_stop
        cfg.thread_user = None

        ptr = c_void_p()
        rc = lib.swerl_runtime_start(byref(cfg), byref(ptr))
        if rc != SWERL_OK:
            raise AssertionError("swerl_runtime_start: %d (%s)" % (rc, lib.swerl_strerror(rc)))
        assert ptr.value, "swerl_runtime_start returned 0 but no runtime"
        self.ptr = ptr.value

    # -- callbacks ---------------------------------------------------------

    def _hook(self, record):
        def hook(user):
            try:
                with self.thread_cond:
                    record.append(threading.get_ident())
                    self.thread_cond.notify_all()
            except BaseException:
                self.callback_errors.append(traceback.format_exc())

        return hook

    def _guarded(self, ctx, what, fn):
        """Run fn(); any exception or non-int result becomes a crash."""
        try:
            r = fn()
            if r is None:
                return 0
            if isinstance(r, bool) or not isinstance(r, int) or not -(2**31) <= r < 2**31:
                raise TypeError("%s returned %r, not an int" % (what, r))
            return r
        except BaseException:
            tb = traceback.format_exc()
            self.crashes.append(tb)
            detail = tb.encode("utf-8", "replace")
            try:
                self.lib.swerl_fail(ctx, SWERL_REASON_ERROR, detail, len(detail))
            except BaseException:
                self.callback_errors.append(traceback.format_exc())
            return -1

    def behavior(self, proc):
        """Build a swerl_behavior bound to `proc`; its callbacks are kept alive
        in self.keep. Returns (behavior, callbacks)."""

        def init(ctx, arg, state):
            return self._guarded(ctx, "init", lambda: proc.init(ctx, arg or 0))

        def handle(ctx, msg, state):
            return self._guarded(ctx, "handle", lambda: proc.handle(ctx, _message(msg)))

        def terminate(ctx, reason, state):
            try:
                proc.terminate(ctx, reason)
            except BaseException:
                self.callback_errors.append(traceback.format_exc())

        callbacks = (INIT_FN(init), HANDLE_FN(handle), TERMINATE_FN(terminate))
        self.keep[next(self._keys)] = (proc, callbacks)
        b = SwerlBehavior()
        b.size = ctypes.sizeof(SwerlBehavior)
        b.init, b.handle, b.terminate = callbacks
        return b, callbacks

    # -- API -----------------------------------------------------------------

    def spawn(self, proc, arg=0, flags=0, monitor_ref=None):
        b, _ = self.behavior(proc)
        return self.spawn_behavior(b, arg, flags, monitor_ref)

    def spawn_behavior(self, b, arg=0, flags=0, monitor_ref=None):
        opts = SwerlSpawnOpts()
        self.lib.swerl_spawn_opts_init(byref(opts))
        opts.size = ctypes.sizeof(SwerlSpawnOpts)
        opts.flags = flags
        if monitor_ref is not None:
            opts.monitor_ref = ctypes.pointer(monitor_ref)
        pid = swerl_pid()
        rc = self.lib.swerl_spawn(self.ptr, byref(b), arg, byref(opts), byref(pid))
        if rc != SWERL_OK:
            raise RuntimeError("swerl_spawn: %d (%s)" % (rc, self.lib.swerl_strerror(rc)))
        assert pid.value != 0
        return pid.value

    def send(self, pid, data):
        return self.lib.swerl_send(self.ptr, pid, data, len(data))

    def call(self, pid, req, timeout_ms=TIMEOUT * 1000):
        buf = SwerlBuffer()
        rc = self.lib.swerl_call(self.ptr, pid, req, len(req), timeout_ms, byref(buf))
        assert rc == SWERL_OK, "swerl_call: %d (%s)" % (rc, self.lib.swerl_strerror(rc))
        data = ctypes.string_at(buf.data, buf.len) if buf.len else b""
        self.lib.swerl_buffer_free(byref(buf))
        assert (buf.data, buf.len) == (None, 0), "swerl_buffer_free did not reset the buffer"
        return data

    def get(self, q):
        """q.get with the module's timeout; on timeout, say what crashed."""
        try:
            return q.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(
                "nothing arrived within %ss; Python callbacks that crashed: %s"
                % (TIMEOUT, "\n".join(self.crashes + self.callback_errors) or "none")
            ) from None

    def wait_thread_starts(self, n):
        with self.thread_cond:
            return self.thread_cond.wait_for(lambda: len(self.thread_starts) >= n, TIMEOUT)

    def stop(self, timeout_ms=5000):
        rc = self.lib.swerl_runtime_stop(self.ptr, timeout_ms)
        self.stopped = True
        return rc

    def close(self):
        """Stop if needed, free, then (only then) release the callbacks."""
        rc = None
        if not self.freed:
            if not self.stopped:
                rc = self.stop()
            self.lib.swerl_runtime_free(self.ptr)
            self.freed = True
            self.keep.clear()
        return rc


@pytest.fixture
def runtime(lib):
    rt = Runtime(lib, schedulers=2)
    try:
        yield rt
    finally:
        rc = rt.close()
    assert rc in (None, SWERL_OK), "swerl_runtime_stop at teardown: %d (%s)" % (
        rc,
        lib.swerl_strerror(rc),
    )
    assert not rt.callback_errors, "callbacks raised:\n" + "\n".join(rt.callback_errors)


# ---------------------------------------------------------------------------
# Test processes
# ---------------------------------------------------------------------------


def _check(lib, rc, what):
    if rc != SWERL_OK:
        raise RuntimeError("%s: %d (%s)" % (what, rc, lib.swerl_strerror(rc)))


class Echo(Process):
    """MESSAGE: put it in `q`. CALL: reply with the bytes reversed."""

    def __init__(self, lib, q, terminated=None):
        self.lib, self.q, self.terminated = lib, q, terminated

    def handle(self, ctx, msg):
        if msg.kind == SWERL_MESSAGE:
            self.q.put(msg)
        elif msg.kind == SWERL_CALL:
            answer = msg.data[::-1]
            rt = self.lib.swerl_ctx_runtime(ctx)
            _check(self.lib, self.lib.swerl_reply(rt, msg.ref, answer, len(answer)), "swerl_reply")
        return SWERL_CONTINUE

    def terminate(self, ctx, reason):
        if self.terminated is not None:
            self.terminated.put(reason)


class Watcher(Process):
    """init monitors the pid given as arg; DOWN messages go to `q`."""

    def __init__(self, lib, q):
        self.lib, self.q = lib, q

    def init(self, ctx, arg):
        ref = swerl_ref()
        _check(self.lib, self.lib.swerl_monitor(ctx, arg, byref(ref)), "swerl_monitor")
        self.q.put(("monitoring", arg, ref.value))
        return 0

    def handle(self, ctx, msg):
        if msg.kind == SWERL_DOWN:
            self.q.put(("down", msg))
        return SWERL_CONTINUE


def _watch(runtime, target):
    """Spawn a Watcher of `target`; return (queue, monitor ref) once it monitors."""
    q = queue.Queue()
    runtime.spawn(Watcher(runtime.lib, q), arg=target)
    tag, pid, ref = runtime.get(q)
    assert (tag, pid) == ("monitoring", target)
    assert ref != 0
    return q, ref


def _down(runtime, q):
    tag, msg = runtime.get(q)
    assert tag == "down"
    return msg


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_struct_layouts_match_header(lib):
    # LP64 layouts of swerl.h with natural alignment.
    assert ctypes.sizeof(c_void_p) == 8, "these offsets are for 64-bit platforms"
    assert ctypes.sizeof(SwerlMessage) == 40
    assert [SwerlMessage.kind.offset, SwerlMessage.reason.offset, SwerlMessage.from_.offset,
            SwerlMessage.ref.offset, SwerlMessage.data.offset, SwerlMessage.len.offset] == [
        0, 4, 8, 16, 24, 32]
    assert ctypes.sizeof(SwerlBehavior) == 32
    assert [SwerlBehavior.init.offset, SwerlBehavior.handle.offset,
            SwerlBehavior.terminate.offset] == [8, 16, 24]
    assert ctypes.sizeof(SwerlConfig) == 64
    assert [SwerlConfig.max_message_size.offset, SwerlConfig.on_thread_start.offset,
            SwerlConfig.on_thread_stop.offset, SwerlConfig.thread_user.offset,
            SwerlConfig.on_log.offset, SwerlConfig.log_user.offset] == [16, 24, 32, 40, 48, 56]
    assert ctypes.sizeof(SwerlSpawnOpts) == 32
    assert [SwerlSpawnOpts.name.offset, SwerlSpawnOpts.mailbox_limit.offset,
            SwerlSpawnOpts.overflow.offset, SwerlSpawnOpts.monitor_ref.offset] == [8, 16, 20, 24]

    # The library's own _init functions agree on the sizes.
    cfg = SwerlConfig()
    lib.swerl_config_init(byref(cfg))
    assert cfg.size == ctypes.sizeof(SwerlConfig)
    opts = SwerlSpawnOpts()
    lib.swerl_spawn_opts_init(byref(opts))
    assert opts.size == ctypes.sizeof(SwerlSpawnOpts)
    assert (opts.flags, opts.name, opts.mailbox_limit) == (0, None, 0)


def test_version_and_strerror(lib):
    v = lib.swerl_version()
    assert v >> 16 == 1, "swerl_version() = %#x: major is not 1" % v
    assert lib.swerl_version_string().startswith(b"1.")
    assert lib.swerl_strerror(-2) == b"no such process"
    assert lib.swerl_err_name(-2) == b"ENOPROC"
    assert lib.swerl_strerror(-10) == b"runtime stopped"


def test_thread_hooks_once_per_scheduler_thread(runtime):
    assert runtime.config_init_size == ctypes.sizeof(SwerlConfig)
    assert runtime.wait_thread_starts(2), (
        "on_thread_start: expected 2 calls (one per scheduler) within %ss, got %d"
        % (TIMEOUT, len(runtime.thread_starts))
    )
    assert len(set(runtime.thread_starts)) == 2, "on_thread_start ran twice on one thread"
    assert threading.get_ident() not in runtime.thread_starts

    assert runtime.stop(5000) == SWERL_OK
    # The scheduler threads have ended: each ran its stop hook, last.
    assert len(runtime.thread_starts) == 2, runtime.thread_starts
    assert sorted(runtime.thread_stops) == sorted(runtime.thread_starts)


def test_python_process_receives_sent_bytes(runtime):
    q = queue.Queue()
    pid = runtime.spawn(Echo(runtime.lib, q))
    for payload in (b"hello, swerl", b"\x00binary\xff\x00", b""):
        assert runtime.send(pid, payload) == SWERL_OK
        msg = runtime.get(q)
        assert msg.kind == SWERL_MESSAGE
        assert msg.data == payload
        assert msg.from_ == 0, "sent from outside any process: from must be 0"
        assert msg.ref == 0


def test_call_from_main_thread(runtime):
    pid = runtime.spawn(Echo(runtime.lib, queue.Queue()))
    assert runtime.call(pid, b"abc\x00def") == b"fed\x00cba"
    assert runtime.call(pid, b"x" * 100000) == b"x" * 100000
    assert runtime.call(pid, b"") == b""


def test_crash_becomes_down_with_reason_and_detail(runtime):
    lib = runtime.lib

    class Crasher(Process):
        def handle(self, ctx, msg):
            _check(lib, lib.swerl_fail(ctx, SWERL_REASON_USER + 1, b"boom", 4), "swerl_fail")
            return -1

    target = runtime.spawn(Crasher())
    q, ref = _watch(runtime, target)
    assert runtime.send(target, b"crash now") == SWERL_OK
    down = _down(runtime, q)
    assert down.kind == SWERL_DOWN
    assert down.reason == SWERL_REASON_USER + 1 == 257
    assert down.from_ == target
    assert down.ref == ref
    assert down.data == b"boom"
    # The crashed process is gone.
    assert runtime.send(target, b"anyone?") == SWERL_ENOPROC


def test_exception_in_handler_is_a_crash_with_traceback(runtime):
    class Raiser(Process):
        def handle(self, ctx, msg):
            raise ValueError("kaboom from a python handler")

    target = runtime.spawn(Raiser())
    q, ref = _watch(runtime, target)
    assert runtime.send(target, b"go") == SWERL_OK
    down = _down(runtime, q)
    assert (down.kind, down.from_, down.ref) == (SWERL_DOWN, target, ref)
    assert down.reason == SWERL_REASON_ERROR, "expected reason 5 (ERROR), got %d" % down.reason
    assert b"ValueError: kaboom from a python handler" in down.data, down.data
    assert down.data.startswith(b"Traceback"), down.data


def test_non_int_return_is_a_crash_not_garbage(runtime):
    class BadReturn(Process):
        def handle(self, ctx, msg):
            return "continue, please"

    target = runtime.spawn(BadReturn())
    q, _ = _watch(runtime, target)
    assert runtime.send(target, b"go") == SWERL_OK
    down = _down(runtime, q)
    assert (down.from_, down.reason) == (target, SWERL_REASON_ERROR)
    assert b"TypeError" in down.data and b"not an int" in down.data, down.data


def test_exception_in_init_is_a_crash_seen_by_spawn_monitor(runtime):
    class Child(Process):
        def init(self, ctx, arg):
            raise RuntimeError("init exploded")

    class Parent(Process):
        def __init__(self, q):
            self.q = q

        def handle(self, ctx, msg):
            if msg.kind == SWERL_MESSAGE:
                ref = swerl_ref()
                pid = runtime.spawn(Child(), flags=SWERL_SPAWN_MONITOR, monitor_ref=ref)
                self.q.put(("spawned", pid, ref.value))
            elif msg.kind == SWERL_DOWN:
                self.q.put(("down", msg))
            return SWERL_CONTINUE

    q = queue.Queue()
    parent = runtime.spawn(Parent(q))
    assert runtime.send(parent, b"spawn") == SWERL_OK
    tag, child, ref = runtime.get(q)
    assert tag == "spawned" and child != 0 and ref != 0
    down = _down(runtime, q)
    assert (down.kind, down.from_, down.ref) == (SWERL_DOWN, child, ref)
    assert down.reason == SWERL_REASON_ERROR, "expected reason 5 (ERROR), got %d" % down.reason
    assert b"RuntimeError: init exploded" in down.data, down.data


def test_callbacks_outlive_local_references(runtime):
    q = queue.Queue()
    proc = Echo(runtime.lib, q)
    b, callbacks = runtime.behavior(proc)
    proc_ref = weakref.ref(proc)
    callback_refs = [weakref.ref(cb) for cb in callbacks]
    pid = runtime.spawn_behavior(b)
    del proc, b, callbacks
    gc.collect()

    for i in range(3):
        payload = b"still here %d" % i
        assert runtime.send(pid, payload) == SWERL_OK
        assert runtime.get(q).data == payload
        gc.collect()
    assert proc_ref() is not None and all(r() is not None for r in callback_refs)

    # ...and exactly as long: once the runtime is freed nothing holds them.
    assert runtime.close() == SWERL_OK
    gc.collect()
    assert proc_ref() is None, "process object leaked after swerl_runtime_free"
    assert all(r() is None for r in callback_refs), "callbacks leaked after swerl_runtime_free"


def test_stop_runs_terminate_then_everything_is_stopped(runtime):
    lib = runtime.lib
    terminated = queue.Queue()
    pids = [runtime.spawn(Echo(lib, queue.Queue(), terminated)) for _ in range(3)]
    # Make sure every init has run: each answers a call.
    for pid in pids:
        assert runtime.call(pid, b"ready?") == b"?ydaer"

    assert runtime.stop(5000) == SWERL_OK
    # stop has returned: every terminate has run, with reason SHUTDOWN.
    reasons = [terminated.get_nowait() for _ in range(terminated.qsize())]
    assert reasons == [SWERL_REASON_SHUTDOWN] * 3, (
        "expected 3 terminate calls with reason SHUTDOWN (1), got %r" % reasons
    )
    assert sorted(runtime.thread_stops) == sorted(runtime.thread_starts)
    assert len(runtime.thread_stops) == 2

    assert runtime.send(pids[0], b"too late") == SWERL_ESTOPPED
    assert lib.swerl_runtime_stop(runtime.ptr, 5000) == SWERL_ESTOPPED
    runtime.close()  # swerl_runtime_free
    assert runtime.freed and not runtime.keep
