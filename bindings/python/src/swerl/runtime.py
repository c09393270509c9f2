"""The idiomatic Python API over libswerl: Runtime, processes, Message, Ctx."""

import atexit
import ctypes
import enum
import itertools
import logging
import sys
import threading
import time
import traceback
import weakref
from _thread import get_ident
from ctypes import byref, c_size_t, c_uint32, c_void_p
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Set, Tuple, Union

from . import _ffi
from ._ffi import lib, quick
from .errors import InProcess, InvalidArgument, Stopped, check

__all__ = [
    "Runtime", "Ctx", "Message", "Kind", "Reason", "Pid", "Ref", "Process",
    "CONTINUE", "SKIP", "STOP", "IGNORE", "INFINITY",
]

log = logging.getLogger("swerl")

CONTINUE = _ffi.SWERL_CONTINUE
SKIP = _ffi.SWERL_SKIP
STOP = _ffi.SWERL_STOP
IGNORE = _ffi.SWERL_IGNORE  #: init's return value: exit NORMAL at once
INFINITY = None  #: "no timeout" wherever a timeout in seconds is taken


class Kind(enum.IntEnum):
    """Message kinds (``swerl_message.kind``)."""

    MESSAGE = 0
    EXIT = 1
    DOWN = 2
    TIMEOUT = 3
    CALL = 4
    REPLY = 5


class Reason(enum.IntEnum):
    """Exit reasons below SWERL_REASON_USER. User reasons are plain ints >= 256."""

    NORMAL = 0
    SHUTDOWN = 1
    KILL = 2
    KILLED = 3
    NOPROC = 4
    ERROR = 5
    MAILBOX_FULL = 6
    USER = 256


def _reason(code: int) -> Union[Reason, int]:
    return _REASONS.get(code, code)


class Pid(int):
    """A process id (an int). 0 is never a pid. Printed as Erlang prints
    pids, ``<node.slot.generation>``, as the runtime's own reports do."""

    __slots__ = ()

    def __repr__(self) -> str:
        v = int(self)
        return "<%d.%d.%d>" % (v >> 54, v & 0xFFFFFF, (v >> 24) & 0x3FFFFFFF)


Ref = int  #: monitor, timer and call references are plain ints

_U64 = 1 << 64
_PID_TYPES = (int, Pid)
_send = quick.swerl_send


def _pid(pid: Any) -> int:
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise TypeError("a pid is an int (swerl.Pid), not %s" % type(pid).__name__)
    if not 0 <= pid < _U64:
        raise InvalidArgument("pid %d is out of range" % pid)
    return pid


def _bytes(data: Any, what: str = "data") -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError("%s must be bytes, bytearray or memoryview, not %s" % (what, type(data).__name__))


def _name(name: Any) -> bytes:
    if isinstance(name, str):
        name = name.encode("utf-8")
    elif not isinstance(name, bytes):
        raise TypeError("a name is a str, not %s" % type(name).__name__)
    if not 0 < len(name) <= _ffi.SWERL_NAME_MAX or b"\0" in name:
        raise InvalidArgument("a name is 1..%d bytes without NUL: %r" % (_ffi.SWERL_NAME_MAX, name))
    return name


def _ms(seconds: Optional[float], what: str = "timeout") -> int:
    """Seconds (None: infinity) -> milliseconds for C."""
    if seconds is None:
        return _ffi.SWERL_INFINITY
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("%s is in seconds (a number or None), not %s" % (what, type(seconds).__name__))
    if seconds < 0:
        raise InvalidArgument("%s must not be negative: %r" % (what, seconds))
    ms = int(round(seconds * 1000))
    if ms >= _ffi.SWERL_INFINITY:
        raise InvalidArgument("%s is too long: %r s (use None for no timeout)" % (what, seconds))
    return ms


class Message(NamedTuple):
    """A message as a handler sees it: a copy, valid after the callback
    (an immutable tuple: kind, reason, sender, ref, data)."""

    kind: Kind
    reason: Union[Reason, int]
    sender: Pid
    ref: int
    data: bytes

    @property
    def from_(self) -> Pid:
        """The sender (``from`` in C)."""
        return self.sender

    def __repr__(self) -> str:
        return "Message(kind=%s, reason=%r, sender=%r, ref=%d, data=%r)" % (
            getattr(self.kind, "name", self.kind), self.reason, self.sender, self.ref, self.data)


_KINDS = {int(k): k for k in Kind}
_REASONS = {int(r): r for r in Reason}


_read_message = _ffi.MESSAGE_LAYOUT.unpack_from
_MEMORY = _ffi.MEMORY
_new_tuple = tuple.__new__


def _message(address: int) -> Message:
    """A copy of the swerl_message at `address` (valid during the callback)."""
    kind, reason, sender, ref, data, n = _read_message(_MEMORY, address)
    if kind == 1 or kind == 2:  # EXIT, DOWN: an exit reason
        reason = _REASONS.get(reason, reason)
    return _new_tuple(Message, (_KINDS.get(kind, kind), reason, Pid(sender), ref,
                                _MEMORY[data:data + n].tobytes() if n else b""))


# thread id -> the Ctx of the callback running on that thread (callbacks nest
# when a supervisor starts a child synchronously). A dict, not a
# threading.local: this is on every callback's path and costs a quarter.
_running: Dict[int, "Ctx"] = {}


def _in_callback() -> bool:
    return get_ident() in _running


class Ctx:
    """The calling process's context, valid only inside the callback that got
    it (on that thread). Methods raise swerl.ContextInvalid elsewhere."""

    __slots__ = ("_ptr", "runtime", "_valid", "_thread", "_rt")

    def __init__(self, ptr: int, runtime: "Runtime", thread: int) -> None:
        self._ptr = ptr
        self.runtime = runtime
        self._valid = True
        self._thread = thread
        self._rt = runtime._raw  # valid while any callback runs: free waits for them

    def _p(self) -> int:
        if not self._valid or get_ident() != self._thread:
            from .errors import ContextInvalid
            raise ContextInvalid("ctx used outside its callback")
        return self._ptr

    def self_pid(self) -> Pid:
        """The calling process's pid."""
        return Pid(quick.swerl_self(self._p()))

    @property
    def pid(self) -> Pid:
        return self.self_pid()

    def send(self, to: Union[int, str], data: bytes) -> None:
        """Send from this process (the receiver sees it as the sender)."""
        if not self._valid or get_ident() != self._thread:
            self._p()  # raises
        if type(data) is bytes and type(to) in _PID_TYPES and 0 < to < _U64:  # type: ignore[operator]
            rc = _send(self._rt, to, data, len(data))
            if rc < 0:
                check(rc, "send")
        else:
            self.runtime.send(to, data)

    def spawn(self, proc: Any, **kwargs: Any) -> Any:
        """rt.spawn from inside this process (link=/monitor= allowed here)."""
        self._p()
        return self.runtime.spawn(proc, **kwargs)

    def link(self, pid: int) -> None:
        check(quick.swerl_link(self._p(), _pid(pid)), "link")

    def unlink(self, pid: int) -> None:
        check(quick.swerl_unlink(self._p(), _pid(pid)), "unlink")

    def monitor(self, pid: int) -> Ref:
        """Monitor `pid`; returns the monitor ref (DOWN carries it)."""
        ref = _ffi.swerl_ref()
        check(quick.swerl_monitor(self._p(), _pid(pid), byref(ref)), "monitor")
        return ref.value

    def demonitor(self, ref: int, flush: bool = False, info: bool = False) -> Optional[bool]:
        flags = (_ffi.SWERL_DEMONITOR_FLUSH if flush else 0) | (_ffi.SWERL_DEMONITOR_INFO if info else 0)
        rc = check(quick.swerl_demonitor(self._p(), ref, flags), "demonitor")
        return bool(rc) if info else None

    def trap_exit(self, on: bool = True) -> bool:
        """Turn exit signals into EXIT messages (or not); returns the previous value."""
        return bool(check(quick.swerl_trap_exit(self._p(), 1 if on else 0), "trap_exit"))

    def receive_timeout(self, seconds: Optional[float]) -> None:
        """A TIMEOUT message comes if nothing is accepted within `seconds`
        (None clears it; 0 polls)."""
        check(quick.swerl_receive_timeout(self._p(), _ms(seconds)), "receive_timeout")

    def reply(self, msg: Union[Message, int], data: bytes) -> None:
        """Answer a CALL message (or its ref) with `data`."""
        self._p()
        self.runtime.reply(msg, data)

    def call_async(self, to: int, data: bytes, timeout: Optional[float] = 5.0) -> Ref:
        """Send a CALL; the answer comes as a REPLY message with the returned ref."""
        data = _bytes(data)
        ref = _ffi.swerl_ref()
        check(quick.swerl_call_async(self._p(), _pid(to), data, len(data), _ms(timeout), byref(ref)),
              "call_async")
        return ref.value

    def fail(self, reason: int = Reason.ERROR, detail: Union[bytes, str] = b"") -> None:
        """Set the exit reason used when the handler returns STOP (or init fails)."""
        if isinstance(detail, str):
            detail = detail.encode("utf-8", "replace")
        detail = _bytes(detail, "detail")
        check(quick.swerl_fail(self._p(), int(reason), detail, len(detail)), "fail")


class Process:
    """Base class for process classes: override what you need.

    ``init(ctx)`` runs first (return None, or swerl.IGNORE); ``handle(msg,
    ctx)`` runs once per message and returns None/CONTINUE, SKIP or STOP (for
    a CALL it may return bytes: the reply); ``terminate(reason, ctx)`` runs
    last. An exception in any of them is a crash whose detail is the
    traceback."""

    def init(self, ctx: Ctx) -> Optional[int]:
        return None

    def handle(self, msg: Message, ctx: Ctx) -> Optional[Union[int, bytes]]:
        return None

    def terminate(self, reason: Union[Reason, int], ctx: Ctx) -> None:
        return None


class _FunctionProcess:
    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Message, Ctx], Any]) -> None:
        self.fn = fn

    def handle(self, msg: Message, ctx: Ctx) -> Any:
        return self.fn(msg, ctx)

    def __repr__(self) -> str:
        return "<function process %r>" % (self.fn,)


_live_runtimes: "weakref.WeakSet[Runtime]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for rt in list(_live_runtimes):
        try:
            rt.close()
        except Exception:  # pragma: no cover
            pass


def _attach_thread(state: Dict[int, int]) -> None:
    """on_thread_start: keep this scheduler thread's Python thread state for
    the thread's lifetime (one extra PyGILState_Ensure, released by
    on_thread_stop), so each later callback reuses it (~0.25 us) instead of
    creating and destroying one (~8 us)."""
    state[threading.get_ident()] = ctypes.pythonapi.PyGILState_Ensure()


def _detach_thread(state: Dict[int, int]) -> None:
    gs = state.pop(threading.get_ident(), None)
    if gs is not None:
        ctypes.pythonapi.PyGILState_Release(gs)


# Idents of the scheduler threads of every runtime, while they run (the
# thread hooks keep it). From them a runtime is never stopped or freed: the
# library refuses (EINPROC) inside a callback, and swerl_runtime_free would
# then release a runtime whose threads still call its Python callbacks.
_scheduler_threads: Set[int] = set()


def _on_scheduler_thread() -> bool:
    return get_ident() in _scheduler_threads or get_ident() in _running


def _forget_dummy_thread() -> None:
    """on_thread_stop: threading.current_thread() on a thread Python did not
    start (a logging record made in a callback calls it) registers a
    threading._DummyThread, which CPython 3.11 never removes:
    threading.enumerate() would list every scheduler thread that ever
    logged, as alive, after its runtime is gone."""
    active = getattr(threading, "_active", None)
    dummy = getattr(threading, "_DummyThread", None)
    if active is not None and dummy is not None and isinstance(active.get(get_ident()), dummy):
        active.pop(get_ident(), None)


ctypes.pythonapi.PyGILState_Ensure.restype = ctypes.c_int
ctypes.pythonapi.PyGILState_Ensure.argtypes = []
ctypes.pythonapi.PyGILState_Release.restype = None
ctypes.pythonapi.PyGILState_Release.argtypes = [ctypes.c_int]


class _RuntimePointer(int):
    """The ``swerl_runtime *`` (an int, as ctypes passes a c_void_p argument
    at no extra cost), as the first argument of every C call.

    Runtime._p() hands out this one object and each call holds it (a local,
    or the foreign call's argument tuple) until the C function has returned.
    Runtime.close() frees the runtime only when it holds the last reference:
    freeing it while another thread is about to enter, or is still inside, a
    call with it is a use-after-free (a segfault under calls racing close)."""

    __slots__ = ()


def _references(pointer: _RuntimePointer) -> int:
    return sys.getrefcount(pointer)


def _idle_references() -> int:
    """_references(p) when the calling frame's local `p` is the only one
    (measured, not assumed: interpreters count borrowed references differently)."""
    pointer = _RuntimePointer()
    return _references(pointer)


_IDLE_REFERENCES = _idle_references()


class Runtime:
    """A running Swerl runtime. Use it as a context manager::

        with swerl.Runtime(schedulers=2) as rt:
            pid = rt.spawn(MyProcess())
            rt.send(pid, b"hello")

    close() (stop + free) is idempotent; __del__ closes a forgotten runtime.
    Every Python object C may call (callbacks, process objects) is held by
    the runtime until swerl_runtime_free has returned.
    """

    def __init__(self, schedulers: int = 0, max_processes: int = 0, max_message_size: int = 0,
                 attach_threads: bool = True, stop_timeout: Optional[float] = 5.0,
                 max_memory: int = 0) -> None:
        self._ptr: Optional[_RuntimePointer] = None
        self._raw = 0
        self._closed = True
        self._lock = threading.Lock()
        self._procs: Dict[int, Any] = {}  # key (C arg/state) -> process object
        self._keys = itertools.count(1)
        self._factories: Dict[int, Any] = {}  # key (supervisor child arg) -> process factory
        self._natives: Dict[int, Any] = {}  # NativeProcess objects C may start, until close
        self._bridge: Any = None  # swerl.aio.Bridge, made by the first call_async
        self._thread_state: Dict[int, int] = {}
        self.callback_errors: List[str] = []  # errors C could not be told about (terminate, hooks)
        self.stop_timeout = stop_timeout
        self.logs: List[Tuple[int, str]] = []

        # One set of C callbacks per runtime; `arg`/`state` is a key into _procs.
        self._c_init = _ffi.INIT_FN(self._on_init)
        self._c_handle = _ffi.HANDLE_FN(self._on_handle)
        self._c_terminate = _ffi.TERMINATE_FN(self._on_terminate)
        b = _ffi.SwerlBehavior()
        b.size = ctypes.sizeof(_ffi.SwerlBehavior)
        b.init, b.handle, b.terminate = self._c_init, self._c_handle, self._c_terminate
        self._behavior = b

        cfg = _ffi.SwerlConfig()
        lib.swerl_config_init(byref(cfg))
        cfg.schedulers = schedulers
        cfg.max_processes = max_processes
        cfg.max_message_size = max_message_size
        ts = self._thread_state
        errs = self.callback_errors

        def on_start(user: Any) -> None:
            try:
                _scheduler_threads.add(get_ident())
                if attach_threads:
                    _attach_thread(ts)
            except BaseException:
                errs.append(traceback.format_exc())

        def on_stop(user: Any) -> None:
            try:
                _forget_dummy_thread()
                _detach_thread(ts)
                _scheduler_threads.discard(get_ident())
            except BaseException:
                errs.append(traceback.format_exc())

        self._c_thread_start = _ffi.THREAD_FN(on_start)
        self._c_thread_stop = _ffi.THREAD_FN(on_stop)
        cfg.on_thread_start = self._c_thread_start
        cfg.on_thread_stop = self._c_thread_stop
        logs = self.logs

        def on_log(user: Any, level: int, message: int, length: int) -> None:
            try:
                text = ctypes.string_at(message, length).decode("utf-8", "replace")
                logs.append((level, text))
                log.log({0: logging.ERROR, 1: logging.WARNING}.get(level, logging.INFO), "%s", text)
            except BaseException:  # a logging handler that raised: C cannot be told
                errs.append(traceback.format_exc())

        self._c_log = _ffi.LOG_FN(on_log)
        cfg.on_log = self._c_log

        ptr = c_void_p()
        check(lib.swerl_runtime_start(byref(cfg), byref(ptr)), "runtime_start")
        self._ptr = _RuntimePointer(ptr.value or 0)
        self._raw = ptr.value or 0  # never cleared: what callbacks use (they end before free)
        self._closed = False
        _live_runtimes.add(self)
        if max_memory:
            self.set_max_memory(max_memory)

    # -- lifetime ------------------------------------------------------------

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _p(self) -> _RuntimePointer:
        ptr = self._ptr
        if ptr is None:
            raise Stopped("the runtime is closed")
        return ptr

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop every process (SHUTDOWN; killed after `timeout` s) and the
        scheduler threads. Calls afterwards raise swerl.Stopped."""
        if _on_scheduler_thread():
            raise InProcess("Runtime.stop on a scheduler thread (in a process callback or a "
                            "log hook) would wait for itself")
        t = self.stop_timeout if timeout is None else timeout
        check(lib.swerl_runtime_stop(self._p(), _ms(t)), "runtime_stop")

    def close(self) -> None:
        """Stop (if running) and free the runtime, then release every Python
        callback and process object. Idempotent. Calls other threads have in
        flight end with swerl.Stopped; the runtime is freed once they have
        let go of it."""
        if _on_scheduler_thread():
            raise InProcess("Runtime.close on a scheduler thread (in a process callback or a "
                            "log hook) would wait for itself")
        with self._lock:
            ptr, self._ptr = self._ptr, None
            if ptr is None:
                return
            self._closed = True
        try:
            lib.swerl_runtime_stop(ptr, _ms(self.stop_timeout))  # ESTOPPED if already stopped
        finally:
            # Other threads' calls that got the pointer before _ptr was
            # cleared now return ESTOPPED at once (blocked calls too): wait
            # for them to let go of it before freeing.
            while _references(ptr) > _IDLE_REFERENCES:
                time.sleep(0.001)
            lib.swerl_runtime_free(ptr)  # waits for the scheduler threads
            # Only now can nothing call back into Python.
            self._procs.clear()
            self._factories.clear()
            self._natives.clear()
            _live_runtimes.discard(self)

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is None:
            return
        if _on_scheduler_thread():
            # Collected on a scheduler thread (of any runtime, in a handler,
            # a log hook or a thread hook): free from another thread, which
            # keeps `self` (and so every callback) alive until it is done.
            threading.Thread(target=self.close, name="swerl-close", daemon=True).start()
            return
        try:
            self.close()
        except Exception:  # pragma: no cover
            pass

    def __repr__(self) -> str:
        return "<swerl.Runtime %s>" % ("closed" if self._closed else "running")

    # -- callbacks from C ----------------------------------------------------

    def _crash(self, ctx: int, what: str) -> int:
        tb = traceback.format_exc()
        if what == "child start":
            # A supervisor keeps a failed start's reason to itself (it
            # retries, or start_supervisor fails with ESTART): the log is
            # where its traceback can be seen.
            log.error("a supervised child failed to start:\n%s", tb)
        detail = tb.encode("utf-8", "replace")
        try:
            quick.swerl_fail(ctx, Reason.ERROR, detail, len(detail))
        except BaseException:
            self.callback_errors.append(traceback.format_exc())
        return -1

    def _on_init(self, ctx: int, arg: int, state: Any, what: str = "init") -> int:
        key = arg or 0
        tid = get_ident()
        c = Ctx(ctx, self, tid)
        prev = _running.get(tid)
        _running[tid] = c
        try:
            proc = self._procs[key]
            fn = getattr(proc, "init", None)
            r = fn(c) if fn is not None else None
            if r is None:
                r = 0
            elif isinstance(r, bool) or not isinstance(r, int):
                raise TypeError("%s.init returned %r: expected None or swerl.IGNORE" % (
                    type(proc).__name__, r))
            elif r != 0 and r != IGNORE:
                raise ValueError("%s.init returned %r: expected None or swerl.IGNORE" % (
                    type(proc).__name__, r))
            if r != 0:
                self._procs.pop(key, None)  # IGNORE: no terminate will run
            return r
        except BaseException:
            self._procs.pop(key, None)  # a failed init gets no terminate
            return self._crash(ctx, what)
        finally:
            c._valid = False
            if prev is None:
                del _running[tid]
            else:
                _running[tid] = prev

    def _on_handle(self, ctx: int, msg: Any, state: Any) -> int:
        tid = get_ident()
        c = Ctx(ctx, self, tid)
        prev = _running.get(tid)
        _running[tid] = c
        try:
            m = _message(msg)
            r = self._procs[state or 0].handle(m, c)
            if r is None:
                return 0
            if isinstance(r, (bytes, bytearray, memoryview)) and m.kind == Kind.CALL:
                self.reply(m.ref, bytes(r))
                return 0
            if isinstance(r, bool) or not isinstance(r, int) or r not in (CONTINUE, SKIP, STOP):
                raise TypeError("handle returned %r: expected None, swerl.CONTINUE, swerl.SKIP, "
                                "swerl.STOP (or bytes for a CALL)" % (r,))
            return r
        except BaseException:
            return self._crash(ctx, "handle")
        finally:
            c._valid = False
            if prev is None:
                del _running[tid]
            else:
                _running[tid] = prev

    def _on_terminate(self, ctx: int, reason: int, state: Any) -> None:
        tid = get_ident()
        c = Ctx(ctx, self, tid)
        prev = _running.get(tid)
        _running[tid] = c
        try:
            proc = self._procs.pop(state or 0, None)
            fn = getattr(proc, "terminate", None)
            if fn is not None:
                fn(_reason(reason), c)
        except BaseException:
            tb = traceback.format_exc()
            self.callback_errors.append(tb)
            log.error("exception in terminate (the process exits anyway):\n%s", tb)
        finally:
            c._valid = False
            if prev is None:
                del _running[tid]
            else:
                _running[tid] = prev

    # -- processes -----------------------------------------------------------

    def spawn(self, proc: Any, link: bool = False, monitor: bool = False, trap_exit: bool = False,
              name: Optional[str] = None, mailbox_limit: int = 0,
              overflow: int = _ffi.SWERL_OVERFLOW_REJECT) -> Any:
        """Start a process: a Process-like object (init/handle/terminate), a
        class (instantiated with no arguments), a function handle(msg, ctx),
        or a swerl.NativeProcess (a behaviour written in C).

        link/monitor tie it to the calling process, so they are allowed only
        inside a handler. Returns the Pid, or (pid, monitor_ref) with
        monitor=True (Erlang's spawn_monitor)."""
        from .native import NativeProcess

        if isinstance(proc, type):
            proc = proc()
        if isinstance(proc, NativeProcess):
            pass
        elif not callable(getattr(proc, "handle", None)):
            if callable(proc):
                proc = _FunctionProcess(proc)
            else:
                raise TypeError("spawn needs an object with a handle(msg, ctx) method or a "
                                "function handle(msg, ctx), not %r" % (proc,))
        if (link or monitor) and not _in_callback():
            raise InvalidArgument("spawn(link=True/monitor=True) ties the new process to the "
                                  "calling process: call it inside a handler (ctx.spawn)")
        ref = _ffi.swerl_ref()
        opts: Any = None  # NULL: the defaults, without building the struct
        if (link or monitor or trap_exit or name is not None or mailbox_limit
                or overflow != _ffi.SWERL_OVERFLOW_REJECT):
            opts = _ffi.SwerlSpawnOpts()
            lib.swerl_spawn_opts_init(byref(opts))
            opts.flags = ((_ffi.SWERL_SPAWN_LINK if link else 0)
                          | (_ffi.SWERL_SPAWN_MONITOR if monitor else 0)
                          | (_ffi.SWERL_SPAWN_TRAP_EXIT if trap_exit else 0))
            if name is not None:
                opts.name = _name(name)
            opts.mailbox_limit = mailbox_limit
            opts.overflow = overflow
            if monitor:
                opts.monitor_ref = ctypes.pointer(ref)
            opts = byref(opts)
        ptr = self._p()
        out = _ffi.swerl_pid()
        if isinstance(proc, NativeProcess):
            self._natives[id(proc)] = proc
            check(lib.swerl_spawn(ptr, proc.behavior, proc.arg, opts, byref(out)), "spawn")
        else:
            key = next(self._keys)
            self._procs[key] = proc
            rc = lib.swerl_spawn(ptr, byref(self._behavior), key, opts, byref(out))
            if rc < 0:
                self._procs.pop(key, None)
                check(rc, "spawn")
        pid = Pid(out.value)
        return (pid, ref.value) if monitor else pid

    def send(self, to: Union[int, str], data: bytes) -> None:
        """Send a copy of `data` to a pid or a registered name."""
        if type(data) is not bytes:
            data = _bytes(data)
        if isinstance(to, str):
            rc = quick.swerl_send_named(self._p(), _name(to), data, len(data))
        else:
            rc = quick.swerl_send(self._p(), _pid(to), data, len(data))
        if rc < 0:
            check(rc, "send")

    def exit(self, pid: int, reason: int = Reason.SHUTDOWN, detail: Union[bytes, str] = b"") -> None:
        """Send an exit signal (Erlang's exit/2)."""
        if isinstance(detail, str):
            detail = detail.encode("utf-8", "replace")
        detail = _bytes(detail, "detail")
        check(quick.swerl_exit(self._p(), _pid(pid), int(reason), detail, len(detail)), "exit")

    # -- request / reply ------------------------------------------------------

    def call(self, pid: Union[int, str], data: bytes, timeout: Optional[float] = 5.0) -> bytes:
        """Send `data` as a CALL and wait (at most `timeout` s; None: forever)
        for the reply. Not allowed inside a handler (swerl.InProcess)."""
        data = _bytes(data)
        if isinstance(pid, str):
            pid = self.whereis(pid) or 0
            if not pid:
                from .errors import NoProcess
                raise NoProcess("call: no process registered under that name")
        buf = _ffi.SwerlBuffer()
        check(lib.swerl_call(self._p(), _pid(pid), data, len(data), _ms(timeout), byref(buf)), "call")
        try:
            return ctypes.string_at(buf.data, buf.len) if buf.len else b""
        finally:
            lib.swerl_buffer_free(byref(buf))

    async def call_async(self, pid: Union[int, str], data: bytes,
                         timeout: Optional[float] = 5.0) -> bytes:
        """asyncio: ``await rt.call_async(pid, b"...")`` — call() without
        blocking the event loop (no thread waits; see swerl.aio). Raises as
        call() does: Timeout, NoProcess, ServerExited, Stopped."""
        from .aio import Bridge

        data = _bytes(data)
        _ms(timeout)  # the same checks as call()
        if isinstance(pid, str):
            pid = self.whereis(pid) or 0
            if not pid:
                from .errors import NoProcess
                raise NoProcess("call_async: no process registered under that name")
        to = _pid(pid)
        self._p()
        with self._lock:
            if self._bridge is None:
                self._bridge = Bridge(self)
        return await self._bridge.call(to, data, timeout)

    def reply(self, call: Union[Message, int], data: bytes) -> None:
        """Answer a CALL (a Message or its ref), now or later, from anywhere."""
        ref = call.ref if isinstance(call, Message) else call
        data = _bytes(data)
        check(quick.swerl_reply(self._p(), ref, data, len(data)), "reply")

    # -- names -------------------------------------------------------------------

    def register(self, name: str, pid: int) -> None:
        check(lib.swerl_register(self._p(), _name(name), _pid(pid)), "register")

    def unregister(self, name: str) -> None:
        check(lib.swerl_unregister(self._p(), _name(name)), "unregister")

    def whereis(self, name: str) -> Optional[Pid]:
        """The pid registered as `name`, or None."""
        out = _ffi.swerl_pid()
        rc = lib.swerl_whereis(self._p(), _name(name), byref(out))
        if rc == -6:  # ENONAME
            return None
        check(rc, "whereis")
        return Pid(out.value)

    def registered(self) -> List[str]:
        buf = _ffi.SwerlBuffer()
        count = c_size_t()
        check(lib.swerl_registered(self._p(), byref(buf), byref(count)), "registered")
        try:
            raw = ctypes.string_at(buf.data, buf.len) if buf.len else b""
        finally:
            lib.swerl_buffer_free(byref(buf))
        names = [n.decode("utf-8", "replace") for n in raw.split(b"\0")[: count.value]]
        return names

    # -- timers --------------------------------------------------------------

    def send_after(self, pid: int, delay: float, data: bytes) -> Ref:
        """Deliver `data` to `pid` after `delay` seconds; returns the timer ref
        (the message's ref)."""
        data = _bytes(data)
        ms = _ms(delay, "delay")
        ref = _ffi.swerl_ref()
        check(quick.swerl_send_after(self._p(), _pid(pid), ms, data, len(data), byref(ref)), "send_after")
        return ref.value

    def cancel_timer(self, ref: int) -> Optional[float]:
        """Cancel a timer: the seconds it had left, or None if it had already
        fired, was cancelled or never existed (Erlang's false)."""
        remaining = c_uint32()
        rc = quick.swerl_cancel_timer(self._p(), ref, byref(remaining))
        if rc == -12:  # EREF
            return None
        check(rc, "cancel_timer")
        return remaining.value / 1000.0

    # -- supervisors -----------------------------------------------------------

    def start_supervisor(self, spec: Any, name: Optional[str] = None) -> Any:
        """Start a supervisor from a swerl.SupervisorSpec (and its children,
        left to right); returns a swerl.Supervisor. See swerl.supervisor."""
        from .supervisor import start_supervisor
        return start_supervisor(self, spec, name)

    # -- introspection ---------------------------------------------------------

    def set_max_memory(self, max_memory: int) -> None:
        """The memory ceiling: bytes messages and call requests may hold in
        all, each counted as its payload + 64 (0: none). A send over it raises
        swerl.MemoryLimit and is counted in stats()["messages_rejected"]."""
        if max_memory < 0:
            raise InvalidArgument("max_memory must be >= 0")
        check(lib.swerl_runtime_set_max_memory(self._p(), max_memory), "set_max_memory")

    def stats(self) -> Dict[str, int]:
        s = _ffi.SwerlStats()
        s.size = ctypes.sizeof(s)
        check(lib.swerl_runtime_stats(self._p(), byref(s)), "stats")
        return {f[0]: getattr(s, f[0]) for f in _ffi.SwerlStats._fields_ if f[0] != "size"}

    def process_info(self, pid: int) -> Optional[Dict[str, Any]]:
        """A snapshot of a live process, or None if it is not alive."""
        info = _ffi.SwerlProcessInfo()
        info.size = ctypes.sizeof(info)
        rc = lib.swerl_process_get_info(self._p(), _pid(pid), byref(info))
        if rc == -2:  # ENOPROC
            return None
        check(rc, "process_info")
        d: Dict[str, Any] = {f[0]: getattr(info, f[0]) for f in _ffi.SwerlProcessInfo._fields_
                             if f[0] not in ("size", "name")}
        d["name"] = info.name.decode("utf-8", "replace")
        return d

    def processes(self) -> List[Pid]:
        count = c_size_t()
        check(lib.swerl_processes(self._p(), None, 0, byref(count)), "processes")
        while True:
            cap = count.value + 16
            buf = (_ffi.swerl_pid * cap)()
            check(lib.swerl_processes(self._p(), buf, cap, byref(count)), "processes")
            if count.value <= cap:
                return [Pid(p) for p in buf[: count.value]]
