"""The idiomatic Python API over libswerl: Runtime, Ctx, Process."""

import atexit
import collections
import ctypes
import enum
import logging
import threading
import traceback
import weakref
from _thread import get_ident
from ctypes import byref, c_size_t, c_uint32, c_void_p
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple, Type, Union

from . import _ffi, closing, distribution as _dist, observer as _observer, sockets as _sockets
from ._ffi import lib, quick
from .aio import Bridge
from .arguments import (U64 as _U64, count as _count, data as _bytes, detail as _detail,
                        milliseconds as _ms, name as _name, pid as _pid)
from .closing import RuntimePointer
from .control import CONTINUE, IGNORE, REPLY_TYPES, SKIP, STOP, Control, bad_handle_result, init_code
from .delivery import unanswered, undelivered
from .dispatcher import Dispatcher
from .loop_driver import LoopDriver
from .errors import (ContextInvalid, InProcess, InvalidArgument, NoName, NoProcess, Stopped,
                     SwerlError, check, error)
from .message import Kind, Message, Pid, Reason, Ref, read_message, reason as _reason
from .native import NativeProcess
from .notify import Notifications
from .observer import SchedulerUsage
from .process import Process, build as _build, spawnable as _spawnable
from .registry import ProcessRegistry
from .shared_binary import SharedBinary, for_many
from .supervisor import Supervisor, SupervisorSpec, start_supervisor as _start_supervisor
from .term_messages import (encode as _encode_term, format_term as _format_term, pid_from_term as _pid_from_term,
                            send_term as _send_term)
from .threads import in_callback, log_hook, on_runtime_thread, running as _running, thread_hooks

__all__ = [
    "Runtime", "Ctx", "Message", "Kind", "Reason", "Overflow", "Pid", "Ref", "Process",
    "CONTINUE", "SKIP", "STOP", "IGNORE", "INFINITY",
]

log = logging.getLogger("swerl")

INFINITY = None  #: "no timeout" wherever a timeout in seconds is taken
LOG_LIMIT = 1000  #: rt.logs and rt.callback_errors keep the latest this many


class Overflow(enum.IntEnum):
    """What a bounded mailbox (``spawn(mailbox_limit=n)``) does with a
    message that would exceed it."""

    REJECT = _ffi.SWERL_OVERFLOW_REJECT  #: the sender gets swerl.MailboxFull; nothing is queued
    DROP_OLDEST = _ffi.SWERL_OVERFLOW_DROP_OLDEST  #: the oldest waiting message is dropped (counted)
    KILL = _ffi.SWERL_OVERFLOW_KILL  #: the receiver is killed with Reason.MAILBOX_FULL


# -- arguments (checked by swerl.arguments) and the C calls ---------------------------

_PID_TYPES = (int, Pid)
_send = quick.swerl_send
_reply = quick.swerl_reply
# swerl_group_spawn with every pointer a plain int (Runtime._spawn_in_group)
_group_spawn = ctypes.PyDLL(lib._name).swerl_group_spawn
_group_spawn.restype = ctypes.c_int
_group_spawn.argtypes = [c_void_p, c_void_p, c_void_p, c_void_p, c_void_p]


class _SpawnOut(threading.local):
    """A thread's word for a spawned pid, and its address."""

    def __init__(self) -> None:
        self.word = _ffi.swerl_pid()
        self.address = ctypes.addressof(self.word)


_spawn_out = _SpawnOut()
_CALL = int(Kind.CALL)


def _overflow(value: Any) -> int:
    if type(value) is not Overflow:
        raise TypeError("overflow is a swerl.Overflow (Overflow.REJECT, Overflow.DROP_OLDEST or "
                        "Overflow.KILL), not %r" % (value,))
    return int(value)


# Helpers below take `p`, a function returning the ``swerl_runtime *``, and
# call it inside the C call's argument list: no frame keeps the pointer once
# the call has returned, not even a frame kept by an exception's traceback,
# which would hold close()'s free for ever (see swerl.closing).
Pointer = Callable[[], int]


def _whereis(p: Pointer, name: Any) -> int:
    """The pid registered as `name`, or 0."""
    out = _ffi.swerl_pid()
    rc = lib.swerl_whereis(p(), _name(name), byref(out))
    if rc == -6:  # ENONAME
        return 0
    check(rc, "whereis")
    return out.value


def _target(p: Pointer, to: Any, what: str, missing: Type[SwerlError] = NoProcess) -> Any:
    """A pid, or the pid a name is registered to now (`missing` if none)."""
    if not isinstance(to, str):
        return to
    pid = _whereis(p, to)
    if not pid:
        raise missing("%s: no process is registered as %r" % (what, to))
    return pid


def _send_to(p: Pointer, to: Any, data: Any) -> None:
    """Send to a pid, a name or a (name, node); quiet if it is not alive
    (swerl.delivery). A SharedBinary goes by reference, but to another node
    as its bytes."""
    if type(data) is not bytes:
        if isinstance(data, SharedBinary) and not isinstance(to, tuple):
            _send_shared(p, to, data)
            return
        data = _bytes(data)
    if isinstance(to, tuple):
        _dist.send_remote(p, to, data, term=False)
        return
    if isinstance(to, str):
        rc = quick.swerl_send_named(p(), _name(to), data, len(data))
    else:
        rc = quick.swerl_send(p(), _pid(to), data, len(data))
    if rc < 0:
        undelivered(rc, to, "send")


def _send_shared(p: Pointer, to: Any, binary: SharedBinary) -> None:
    """swerl_send_binary to a pid, swerl_send_named_binary to a name."""
    held = binary._held()  # the binary stays alive through the call
    if isinstance(to, str):
        rc = quick.swerl_send_named_binary(p(), _name(to), held.binary)
    else:
        rc = quick.swerl_send_binary(p(), _pid(to), held.binary)
    if rc < 0:
        undelivered(rc, to, "send")


def _send_many(p: Pointer, targets: Iterable[Any], data: Any) -> None:
    """_send_to each target, with one shared copy from SHARED_THRESHOLD bytes on."""
    message = for_many(data)
    try:
        for to in targets:
            _send_to(p, to, message)
    finally:
        if message is not data and isinstance(message, SharedBinary):
            message.release()  # the messages hold references of their own


def _exit_to(p: Pointer, to: Union[int, str], reason: int, detail: Union[bytes, str]) -> None:
    """An exit signal to a pid or a name (NoName if nobody has it); quiet if
    the process is not alive."""
    detail = _detail(detail)
    pid = _target(p, to, "exit", NoName)
    rc = quick.swerl_exit(p(), _pid(pid), int(reason), detail, len(detail))
    if rc < 0:
        undelivered(rc, pid, "exit")


def _call_here(p: Pointer, pid: int, data: bytes, ms: int) -> bytes:
    """swerl_call on this thread: on a runtime thread the library allows it
    only in a blocking process's callback (else InProcess, with its hint)."""
    buf = _ffi.SwerlBuffer()
    check(lib.swerl_call(p(), _pid(pid), data, len(data), ms, byref(buf)), "call")
    try:
        return ctypes.string_at(buf.data, buf.len) if buf.len else b""
    finally:
        lib.swerl_buffer_free(byref(buf))


def _wait_exit_here(p: Pointer, pid: int, ms: int) -> int:
    """swerl_wait_exit on this thread (a blocking process's callback)."""
    code = ctypes.c_int32()
    check(lib.swerl_wait_exit(p(), _pid(pid), ms, byref(code)), "wait_exit")
    return code.value


def _answer(p: Pointer, call: Union[Message, int], data: Any) -> None:
    """swerl_reply, quiet when the caller is gone (see swerl.delivery)."""
    ref = call.ref if isinstance(call, Message) else call
    if isinstance(data, SharedBinary):  # by reference (swerl_reply_binary)
        held = data._held()  # the binary stays alive through the call
        rc = quick.swerl_reply_binary(p(), ref, held.binary)
    else:
        data = _bytes(data)
        rc = _reply(p(), ref, data, len(data))
    if rc < 0:
        unanswered(rc, "reply")


def _answer_term(p: Pointer, call: Union[Message, int], value: Any) -> None:
    """swerl_reply_term, quiet when the caller is gone."""
    ref = call.ref if isinstance(call, Message) else call
    data = _encode_term(p, value)
    rc = quick.swerl_reply_term(p(), ref, data, len(data))
    if rc < 0:
        unanswered(rc, "reply_term")


# -- processes ----------------------------------------------------------------------


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
            raise ContextInvalid("ctx used outside its callback")
        return self._ptr

    def _runtime(self) -> int:
        """The runtime pointer (a plain int: valid while a callback runs)."""
        return self._rt

    def self_pid(self) -> Pid:
        """The calling process's pid."""
        return Pid(quick.swerl_self(self._p()))

    @property
    def pid(self) -> Pid:
        return self.self_pid()

    def send(self, to: Union[int, str, Tuple[str, str]], data: Union[bytes, SharedBinary]) -> None:
        """Send from this process (the receiver sees it as the sender): a
        copy of `data`, or a swerl.SharedBinary by reference. A send to a
        process that is not alive is quiet (a dead letter)."""
        if not self._valid or get_ident() != self._thread:
            self._p()  # raises
        if type(data) is bytes and type(to) in _PID_TYPES and 0 < to < _U64:  # type: ignore[operator]
            rc = _send(self._rt, to, data, len(data))
            if rc < 0:
                undelivered(rc, to, "send")  # type: ignore[arg-type]
        else:
            _send_to(self._runtime, to, data)

    def send_many(self, targets: Iterable[Union[int, str, Tuple[str, str]]], data: Any) -> None:
        """Send `data` to each target from this process: see Runtime.send_many."""
        self._p()
        _send_many(self._runtime, targets, data)

    def send_term(self, to: Union[int, str, Tuple[str, str]], value: Any) -> None:
        """Send `value` as an Erlang term from this process: see Runtime.send_term."""
        self._p()
        _send_term(self._runtime, to, value)

    def spawn(self, proc: Any, **kwargs: Any) -> Any:
        """rt.spawn from inside this process (link=/monitor= allowed here)."""
        self._p()
        return self.runtime.spawn(proc, **kwargs)

    def exit(self, to: Union[int, str], reason: int = Reason.SHUTDOWN,
             detail: Union[bytes, str] = b"") -> None:
        """Send an exit signal from this process (Erlang's exit/2): see Runtime.exit."""
        self._p()
        _exit_to(self._runtime, to, reason, detail)

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

    def set_blocking(self, on: bool = True) -> bool:
        """Make this process a blocking one (or a scheduled one again) from
        its next turn on: its callbacks then run on the runtime's blocking
        pool, where they may sleep, do blocking I/O and call ctx.call,
        rt.call and rt.wait_exit. Returns the previous value."""
        return bool(check(quick.swerl_set_blocking(self._p(), 1 if on else 0), "set_blocking"))

    def receive_timeout(self, seconds: Optional[float]) -> None:
        """A TIMEOUT message comes if nothing is accepted within `seconds`
        after this callback. 0 is a poll: TIMEOUT comes at once unless a
        message is already waiting. None clears it."""
        check(quick.swerl_receive_timeout(self._p(), _ms(seconds)), "receive_timeout")

    def reply(self, msg: Union[Message, int], data: bytes) -> None:
        """Answer a CALL message (or its ref) with `data`. Quiet if the
        caller is gone (it gave up, or its deadline passed)."""
        self._p()
        _answer(self._runtime, msg, data)

    def reply_term(self, msg: Union[Message, int], value: Any) -> None:
        """Answer a CALL with `value` as an Erlang term (an Elixir
        GenServer.call gets the term itself)."""
        self._p()
        _answer_term(self._runtime, msg, value)

    # Distribution (swerl.distribution): the node's events and names.

    def monitor_nodes(self, on: bool = True) -> None:
        """Get ``(Atom("nodeup"), node)`` and ``(Atom("nodedown"), node)``
        term messages as connections to other nodes come and go
        (net_kernel:monitor_nodes)."""
        _dist.monitor_nodes(self._p(), on)

    def monitor_name(self, name: str, node: str) -> Ref:
        """Monitor the process registered as `name` on `node`
        (monitor(process, {Name, Node})); its DOWN has sender 0."""
        return _dist.monitor_name(self._p(), name, node)

    def call(self, to: Union[int, str], data: bytes, timeout: Optional[float] = 5.0) -> bytes:
        """A synchronous call from this process (Elixir's GenServer.call in
        a handle_call): allowed in a blocking process only (else
        swerl.InProcess: use call_async). Raises as Runtime.call does."""
        self._p()
        data = _bytes(data)
        return _call_here(self._runtime, _target(self._runtime, to, "call"), data, _ms(timeout))

    def call_async(self, to: Union[int, str], data: bytes, timeout: Optional[float] = 5.0) -> Ref:
        """Send a CALL; the answer comes as a REPLY message with the returned
        ref (reason 0 and the reply, or an error code: ETIMEDOUT after
        `timeout` s, which 0 makes at once unless the answer is there).
        A name is looked up now: swerl.NoProcess if nobody has it."""
        ptr = self._p()
        data = _bytes(data)
        ms = _ms(timeout)
        to = _target(self._runtime, to, "call_async")
        ref = _ffi.swerl_ref()
        check(quick.swerl_call_async(ptr, _pid(to), data, len(data), ms, byref(ref)), "call_async")
        return ref.value

    def fail(self, reason: int = Reason.ERROR, detail: Union[bytes, str] = b"") -> None:
        """Set the exit reason used when the handler returns STOP (or init fails)."""
        detail = _detail(detail)
        check(quick.swerl_fail(self._p(), int(reason), detail, len(detail)), "fail")

    # Sockets (swerl.sockets): owned by this process; their events come as
    # SOCKET_* messages with the socket in msg.ref.

    def listen(self, address: str, **options: Any) -> int:
        """Listen on `address` ("127.0.0.1:8080", "[::1]:0", "unix:/path")
        for this process: each connection comes as a SOCKET_ACCEPTED message
        while the listener is active (options: active=N accepts, packet=,
        max_connections=, backlog=, ...: swerl.sockets.options). Returns the
        listener's id; rt.socket_info(id)["local"] tells a port 0's port."""
        self._p()
        return _sockets.listen(self._rt, self.self_pid(), address, options)

    def connect(self, address: str, timeout: Optional[float] = 5.0, **options: Any) -> int:
        """Connect from this process; returns the socket at once, and the
        outcome comes as SOCKET_CONNECTED (reason 0, or the error code).
        Sends before it are queued."""
        return _sockets.connect(self._p(), address, timeout, options)

    def socket_send(self, socket: int, data: bytes) -> None:
        """Send on a socket this process owns (framed as its packet option
        says). swerl.SendQueueFull when too much waits: SOCKET_WRITABLE follows."""
        _sockets.send(self._p(), socket, data)

    def activate(self, socket: int, n: int = _sockets.ACTIVE_ONCE) -> None:
        """Let one more message come (the default), or n more (then
        SOCKET_PASSIVE), or none (0: passive)."""
        _sockets.activate(self._p(), socket, n)

    def socket_close(self, socket: int) -> None:
        """Close it once what was queued is written; no message follows."""
        _sockets.close(self._p(), socket)

    def socket_shutdown(self, socket: int) -> None:
        """Close the sending side after the queue (the peer reads the end)."""
        _sockets.shutdown(self._p(), socket)

    def set_socket_owner(self, socket: int, pid: int) -> None:
        """Hand the socket to another process (gen_tcp's controlling_process)."""
        _sockets.set_owner(self._p(), socket, _pid(pid))

    def setopt(self, socket: int, name: str, value: int) -> None:
        """Change an option: packet, max_frame, send_queue_max, nodelay,
        keepalive, recv_buffer, send_buffer, half_close."""
        _sockets.setopt(self._p(), socket, name, value)


_live_runtimes: "weakref.WeakSet[Runtime]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for rt in list(_live_runtimes):
        try:
            rt.close()
        except Exception:  # pragma: no cover
            pass


def _enter(runtime: "Runtime", ctx: int) -> Tuple[Ctx, int, Optional[Ctx]]:
    tid = get_ident()
    c = Ctx(ctx, runtime, tid)
    prev = _running.get(tid)
    _running[tid] = c
    return c, tid, prev


def _leave(c: Ctx, tid: int, prev: Optional[Ctx]) -> None:
    c._valid = False
    if prev is None:
        del _running[tid]
    else:
        _running[tid] = prev


class Runtime:
    """A running Swerl runtime. Use it as a context manager::

        with swerl.Runtime(schedulers=2) as rt:
            pid = rt.spawn(MyProcess())
            rt.send(pid, b"hello")

    close() (stop + free) is idempotent; __del__ closes a forgotten runtime.
    Every Python object C may call (callbacks, process objects) is held by
    the runtime until swerl_runtime_free has returned.

    ``long_turn``: a handler turn longer than this many seconds is reported
    (a WARNING on the ``swerl`` logger; None or 0: never). ``blocking_threads``:
    the most threads the blocking pool runs at once.

    Where Python handlers run: by default on the runtime's dispatcher
    threads (``dispatcher=True``: a turn group; no scheduler thread runs a
    Python handler); ``loop=`` a running asyncio loop: on that loop, with no
    thread, and a handler may be ``async def`` (close the runtime on the
    loop's thread); ``dispatcher=False``: a ctypes callback per message on a
    scheduler thread, as in 1.1.

    Besides the public methods, swerl.supervisor and swerl.aio use these,
    and no other private attribute (the package's internal interface):

    * ``_p()``: the ``swerl_runtime *`` for one C call, as that call's
      argument (swerl.Stopped once closed; see swerl.closing);
    * ``_registry``: the Python objects C may call, by key (a
      swerl.registry.ProcessRegistry, cleared after the free);
    * ``_child_behavior``: the swerl_behavior of a supervised Python
      worker: its init builds a fresh process object from the factory
      whose registry key is its ``arg``; ``_c_arg_free`` releases that key
      (the child spec's ``arg_free``).
    """

    def __init__(self, schedulers: int = 0, max_processes: int = 0, max_message_size: int = 0,
                 attach_threads: bool = True, stop_timeout: Optional[float] = 5.0,
                 max_memory: int = 0, long_turn: Optional[float] = 0.1,
                 blocking_threads: int = 64, dispatcher: bool = True,
                 loop: Optional[Any] = None) -> None:
        self._ptr: Optional[RuntimePointer] = None
        self._raw = 0
        self._closed = True
        self._group = 0  # the turn group of the Python processes (0: none)
        self._dispatcher: Optional[Dispatcher] = None
        self._loop_driver: Optional[LoopDriver] = None
        _ms(stop_timeout, "stop_timeout")
        long_turn_ms = _long_turn_ms(long_turn)
        _count(blocking_threads, "blocking_threads", 1)
        self._lock = threading.Lock()
        self._registry = ProcessRegistry()  # a C arg/state is a key into it
        self._bridge: Optional[Bridge] = None  # made by the first call_async
        self._thread_state: Dict[int, int] = {}
        self._stop_timed_out = False
        #: errors C could not be told about (terminate, hooks): the latest LOG_LIMIT
        self.callback_errors: Deque[str] = collections.deque(maxlen=LOG_LIMIT)
        self.stop_timeout = stop_timeout
        #: the library's reports, (level, text): the latest LOG_LIMIT
        self.logs: Deque[Tuple[int, str]] = collections.deque(maxlen=LOG_LIMIT)
        self._notify = Notifications(self.callback_errors)

        # One set of C callbacks per runtime; `arg`/`state` is a registry key.
        self._c_init = _ffi.INIT_FN(self._on_init)
        self._c_handle = _ffi.HANDLE_FN(self._on_handle)
        self._c_terminate = _ffi.TERMINATE_FN(self._on_terminate)
        self._behavior = _behavior(self._c_init, self._c_handle, self._c_terminate)
        self._behavior_address = ctypes.addressof(self._behavior)
        # A supervised Python worker: the same but its init (see _on_child_init).
        self._c_child_init = _ffi.INIT_FN(self._on_child_init)
        self._c_arg_free = _ffi.ARG_FREE_FN(self._on_arg_free)
        self._child_behavior = _behavior(self._c_child_init, self._c_handle, self._c_terminate)

        cfg = _ffi.SwerlConfig()
        lib.swerl_config_init(byref(cfg))
        cfg.schedulers = schedulers
        cfg.max_processes = max_processes
        cfg.max_message_size = max_message_size
        on_start, on_stop = thread_hooks(self._thread_state, attach_threads, self.callback_errors)
        self._c_thread_start = _ffi.THREAD_FN(on_start)
        self._c_thread_stop = _ffi.THREAD_FN(on_stop)
        cfg.on_thread_start = self._c_thread_start
        cfg.on_thread_stop = self._c_thread_stop
        self._c_log = _ffi.LOG_FN(log_hook(self.logs, self.callback_errors))
        cfg.on_log = self._c_log

        ptr = c_void_p()
        check(lib.swerl_runtime_start(byref(cfg), byref(ptr)), "runtime_start")
        self._ptr = RuntimePointer(ptr.value or 0)
        self._raw = ptr.value or 0  # never cleared: what callbacks use (they end before free)
        self._closed = False
        _live_runtimes.add(self)
        try:
            check(lib.swerl_runtime_set_long_turn(self._p(), long_turn_ms), "set_long_turn")
            self.set_blocking_threads(blocking_threads)
            if dispatcher or loop is not None:
                group = c_void_p()
                check(lib.swerl_group_create(self._p(), b"python", byref(group)), "group_create")
                self._group = group.value or 0
            if loop is not None:
                self._loop_driver = LoopDriver(self._group, self, Ctx, _answer, self.callback_errors, loop)
            elif dispatcher:
                # A lone message costs less as one callback (which the
                # library makes on the dispatcher thread) than as a batch.
                check(lib.swerl_group_set_batch_min(self._group, 2), "group_set_batch_min")
                self._dispatcher = Dispatcher(self._group, self._p(), self, Ctx, _answer, self.callback_errors)
                self._dispatcher.start()
            if max_memory:
                self.set_max_memory(max_memory)
        except BaseException:
            self.close()
            raise

    # -- lifetime ------------------------------------------------------------

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _p(self) -> RuntimePointer:
        ptr = self._ptr
        if ptr is None:
            raise Stopped("the runtime is closed")
        return ptr

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop every process (SHUTDOWN; killed after `timeout` s, default
        stop_timeout) and the runtime's threads. Calls afterwards raise
        swerl.Stopped. A handler that never returns: swerl.Timeout naming
        it, after about `timeout` s. Ctrl-C interrupts the wait."""
        if on_runtime_thread():
            raise InProcess("Runtime.stop on a runtime thread (in a process callback or a "
                            "log hook) would wait for itself")
        ms = _ms(self.stop_timeout if timeout is None else timeout, "timeout")
        if self._loop_driver is not None and self._ptr is not None:
            self._loop_driver.cancel_all()
            self._loop_driver.detach()
        rc, detail = closing.stop(self._p, ms)
        if rc < 0:
            raise self._stop_error("stop", rc, detail)

    def close(self) -> None:
        """Stop (if running) and free the runtime, then release every Python
        callback and process object. Idempotent. Calls other threads have in
        flight end with swerl.Stopped; the runtime is freed once they have
        let go of it. A handler that never returns makes it raise
        swerl.Timeout naming the process after stop_timeout s (the runtime
        is then freed in the background, if that handler ever returns).
        Ctrl-C interrupts the wait."""
        if on_runtime_thread():
            raise InProcess("Runtime.close on a runtime thread (in a process callback or a "
                            "log hook) would wait for itself")
        ms = _ms(self.stop_timeout, "stop_timeout")
        if self._loop_driver is not None and self._ptr is not None:
            self._loop_driver.cancel_all()
            self._loop_driver.detach()
        with self._lock:
            if self._ptr is None:
                return
            holder = [self._ptr]  # the pointer's only reference here: the free counts them
            self._ptr = None
            self._closed = True
        rc, detail = closing.stop_and_free(holder, ms, self._release, not self._stop_timed_out)
        if rc == closing.ETIMEDOUT:
            raise self._stop_error("close", rc, detail)

    def _stop_error(self, what: str, rc: int, detail: str) -> SwerlError:
        if rc != closing.ETIMEDOUT:
            return error(rc, what, detail)
        self._stop_timed_out = True
        return error(rc, what, detail, "Its thread is left running; the runtime is freed in the "
                     "background if the handler returns. Blocking work belongs in a blocking "
                     "process (rt.spawn(..., blocking=True))")

    def _release(self) -> None:
        """After swerl_runtime_free: nothing can call back into Python now."""
        self._registry.clear()
        _live_runtimes.discard(self)

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is None:
            return
        if on_runtime_thread():
            # Collected on a runtime thread (of any runtime, in a handler,
            # a log hook or a thread hook): free from another thread, which
            # keeps `self` (and so every callback) alive until it is done.
            threading.Thread(target=self._close_quietly, name="swerl-close", daemon=True).start()
            return
        self._close_quietly()

    def _close_quietly(self) -> None:
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

    def _on_init(self, ctx: int, arg: Optional[int], state: Any, what: str = "init") -> int:
        key = arg or 0
        c, tid, prev = _enter(self, ctx)
        try:
            proc = self._registry.objects[key]
            fn = getattr(proc, "init", None)
            r = init_code(type(proc).__name__, fn(c) if fn is not None else None)
            if r != 0:
                self._registry.take(key)  # IGNORE: no terminate will run
            return r
        except BaseException:
            self._registry.take(key)  # a failed init gets no terminate
            return self._crash(ctx, what)
        finally:
            _leave(c, tid, prev)

    def _on_child_init(self, ctx: int, arg: Optional[int], state: Any) -> int:
        """A supervised Python worker's init: a fresh process object from the
        factory behind `arg`, registered, then its own init."""
        try:
            factory, blocking = self._registry.factory(arg or 0)
            proc = _build(factory)
            if blocking or (blocking is None and getattr(proc, "blocking", False)):
                check(quick.swerl_set_blocking(ctx, 1), "set_blocking")
            elif self._group:
                check(quick.swerl_set_group(ctx, self._group), "set_group")
        except BaseException:
            return self._crash(ctx, "child start")
        key = self._registry.register(proc)
        state[0] = key
        return self._on_init(ctx, key, state, "child start")

    def _on_arg_free(self, arg: Optional[int]) -> None:
        """The supervisor is done with a child's factory (its spec is gone)."""
        try:
            self._registry.release(arg or 0)
        except BaseException:  # pragma: no cover
            self.callback_errors.append(traceback.format_exc())

    def _on_handle(self, ctx: int, msg: Any, state: Any) -> int:
        # _enter and _leave inlined: this runs for every message, and the
        # two calls cost 5% of a callback.
        tid = get_ident()
        c = Ctx(ctx, self, tid)
        prev = _running.get(tid)
        _running[tid] = c
        try:
            m = read_message(msg, self)
            r = self._registry.objects[state or 0].handle(m, c)
            if r is None:
                return 0
            if type(r) is Control and r is not IGNORE:
                return r.code
            if m.kind == _CALL and isinstance(r, REPLY_TYPES):
                _answer(c._runtime, m.ref, r)
                return 0
            raise bad_handle_result(r, m.kind == _CALL)
        except BaseException:
            return self._crash(ctx, "handle")
        finally:
            c._valid = False
            if prev is None:
                del _running[tid]
            else:
                _running[tid] = prev

    def _on_terminate(self, ctx: int, reason: int, state: Any) -> None:
        c, tid, prev = _enter(self, ctx)
        try:
            proc = self._registry.take(state or 0)
            fn = getattr(proc, "terminate", None)
            if fn is not None:
                fn(_reason(reason), c)
        except BaseException:
            tb = traceback.format_exc()
            self.callback_errors.append(tb)
            log.error("exception in terminate (the process exits anyway):\n%s", tb)
        finally:
            _leave(c, tid, prev)

    # -- processes -----------------------------------------------------------

    def spawn(self, proc: Any, link: bool = False, monitor: bool = False, trap_exit: bool = False,
              name: Optional[str] = None, mailbox_limit: int = 0,
              overflow: Overflow = Overflow.REJECT, blocking: Optional[bool] = None) -> Any:
        """Start a process: a Process-like object (init/handle/terminate), a
        class (instantiated with no arguments), a function handle(msg, ctx),
        or a swerl.NativeProcess (a behaviour written in C).

        link/monitor tie it to the calling process, so they are allowed only
        inside a handler. ``mailbox_limit`` bounds its mailbox and
        ``overflow`` (a swerl.Overflow) says what happens beyond it.
        ``blocking`` runs its callbacks on the blocking pool, where they may
        block (None: the object's ``blocking`` attribute, False if none).
        Returns the Pid, or (pid, monitor_ref) with monitor=True (Erlang's
        spawn_monitor)."""
        proc = _spawnable(proc)
        if blocking is None:
            blocking = bool(getattr(proc, "blocking", False))
        if (link or monitor) and not in_callback():
            raise InvalidArgument("spawn(link=True/monitor=True) ties the new process to the "
                                  "calling process: call it inside a handler (ctx.spawn)")
        flags = ((_ffi.SWERL_SPAWN_LINK if link else 0)
                 | (_ffi.SWERL_SPAWN_MONITOR if monitor else 0)
                 | (_ffi.SWERL_SPAWN_TRAP_EXIT if trap_exit else 0)
                 | (_ffi.SWERL_SPAWN_BLOCKING if blocking else 0))
        overflow_code = _overflow(overflow)
        if not (flags or name is not None or mailbox_limit or overflow_code) and self._group \
                and not isinstance(proc, NativeProcess):
            return self._spawn_in_group(proc)
        ref = _ffi.swerl_ref()
        opts: Any = None  # NULL: the defaults, without building the struct
        if flags or name is not None or mailbox_limit or overflow_code:
            o = _ffi.SwerlSpawnOpts()
            lib.swerl_spawn_opts_init(byref(o))
            o.flags = flags
            if name is not None:
                o.name = _name(name)
            o.mailbox_limit = _count(mailbox_limit, "mailbox_limit")
            o.overflow = overflow_code
            if monitor:
                o.monitor_ref = ctypes.pointer(ref)
            opts = byref(o)
        out = _ffi.swerl_pid()
        if isinstance(proc, NativeProcess):
            self._registry.keep(proc)
            check(lib.swerl_spawn(self._p(), proc.behavior, proc.arg, opts, byref(out)), "spawn")
        elif self._group and not blocking:
            p = self._p()  # held: the group lives as long as the runtime
            key = self._registry.register(proc)
            rc = quick.swerl_group_spawn(self._group, byref(self._behavior), key, opts, byref(out))
            del p
            if rc < 0:
                self._registry.take(key)
                check(rc, "spawn")
        else:
            key = self._registry.register(proc)
            rc = lib.swerl_spawn(self._p(), byref(self._behavior), key, opts, byref(out))
            if rc < 0:
                self._registry.take(key)
                check(rc, "spawn")
        pid = Pid(out.value)
        return (pid, ref.value) if monitor else pid

    def _spawn_in_group(self, proc: Any) -> Pid:
        """spawn into the group with the default options: no options struct,
        no ctypes objects of its own (the pid comes back in a per-thread
        word), the arguments as plain addresses."""
        p = self._p()  # held: the group lives as long as the runtime
        key = self._registry.register(proc)
        out = _spawn_out
        rc = _group_spawn(self._group, self._behavior_address, key, None, out.address)
        del p
        if rc < 0:
            self._registry.take(key)
            check(rc, "spawn")
        return Pid(out.word.value)

    def send(self, to: Union[int, str, Tuple[str, str]], data: Union[bytes, SharedBinary]) -> None:
        """Send a copy of `data` (bytes-like) to a pid or a registered name;
        a swerl.SharedBinary goes by reference (to another node, as its
        bytes). A send to a process that is not alive is quiet, as Erlang's
        ``!`` (a dead letter, counted in stats()); a name nobody has raises
        swerl.NoName (Erlang's badarg), a pid of another runtime
        swerl.NoProcess, a released SharedBinary swerl.InvalidArgument."""
        _send_to(self._p, to, data)

    def send_many(self, targets: Iterable[Union[int, str, Tuple[str, str]]], data: Any) -> None:
        """Send `data` to each of `targets` (pids, names, (name, node)), in
        order, as send does. From swerl.SHARED_THRESHOLD
        (64 KiB) on, bytes-like `data` is copied once into a SharedBinary
        sent by reference to all (released here afterwards: the messages
        hold it), so the receivers' ``msg.data`` are SharedBinaries of the
        same bytes; below it each gets a plain copy, as bytes. Raises as
        send does, at the first target that fails (those before it have
        their message)."""
        _send_many(self._p, targets, data)

    def send_term(self, to: Union[int, str, Tuple[str, str]], value: Any) -> None:
        """Send `value` as an Erlang term (External Term Format, marked as a
        term) to a pid or a registered name: the receiver's ``msg.term`` is
        the value again, an Erlang process's receive matches it. Values as
        swerl.terms encodes them (str is a UTF-8 binary, as Elixir's
        strings; swerl.terms.Atom an atom); a swerl.Pid is a pid. Quiet when
        the process is not alive, as send is; raises swerl.InvalidArgument
        for a term the library refuses (nested deeper than 512), TypeError
        for a value with no term."""
        _send_term(self._p, to, value)

    def format_term(self, data: bytes) -> str:
        """A term's bytes as Erlang's ~p prints them (``{ok,<<"x">>}``)."""
        return _format_term(self._p, data)

    def _pid_of_term(self, erlang: Any) -> Any:
        """The swerl.Pid of an Erlang pid in a term received here."""
        return _pid_from_term(self._p, erlang)

    def exit(self, to: Union[int, str], reason: int = Reason.SHUTDOWN,
             detail: Union[bytes, str] = b"") -> None:
        """Send an exit signal (Erlang's exit/2) to a pid or a registered
        name (looked up now: swerl.NoName if nobody has it). Quiet if the
        process is not alive."""
        _exit_to(self._p, to, reason, detail)

    def wait_exit(self, pid: Union[int, str], timeout: Optional[float] = None) -> Union[Reason, int]:
        """Wait until `pid` (or the process registered as a name now) exits
        and return its exit reason: Reason.NOPROC if it is not alive.
        swerl.Timeout after `timeout` s (None: no limit; 0: at once unless
        it is already gone). For code outside processes (Ctrl-C interrupts
        the wait) and blocking processes; elsewhere in a handler
        swerl.InProcess (monitor it: ctx.monitor)."""
        ms = _ms(timeout)
        if isinstance(pid, str):
            pid = _whereis(self._p, pid)
            if not pid:
                return Reason.NOPROC
        if on_runtime_thread():
            return _reason(_wait_exit_here(self._p, pid, ms))
        return _reason(self._notify.wait_exit(self._p, _pid(pid), timeout))

    # -- request / reply ------------------------------------------------------

    def call(self, pid: Union[int, str], data: bytes, timeout: Optional[float] = 5.0) -> bytes:
        """Send `data` as a CALL to a pid or a registered name and wait for
        the reply, at most `timeout` s (None: no limit; 0: times out at once
        unless the answer is already there). The timeout is a deadline: a
        reply after it is dropped, and the call raises swerl.Timeout. A
        server that exits first raises swerl.ServerExited with why (its
        exit detail: a Python server's traceback). Ctrl-C interrupts the
        wait and cancels the call. Inside a handler only a blocking process
        may call (else swerl.InProcess: use ctx.call_async)."""
        data = _bytes(data)
        ms = _ms(timeout)
        self._p()  # a closed runtime: Stopped before any lookup
        to = _target(self._p, pid, "call")
        if on_runtime_thread():  # the library allows it in a blocking process only
            return _call_here(self._p, to, data, ms)
        return self._notify.call(self._p, _pid(to), data, ms)

    async def call_async(self, pid: Union[int, str], data: bytes,
                         timeout: Optional[float] = 5.0) -> bytes:
        """asyncio: ``await rt.call_async(pid, b"...")`` — call() without
        blocking the event loop (no thread waits; see swerl.aio). Raises as
        call() does: Timeout, NoProcess, ServerExited, Stopped."""
        data = _bytes(data)
        _ms(timeout)  # the same checks as call()
        self._p()
        to = _pid(_target(self._p, pid, "call_async"))
        with self._lock:
            if self._bridge is None:
                self._bridge = Bridge(self)
            bridge = self._bridge
        return await bridge.call(to, data, timeout)

    def reply(self, call: Union[Message, int], data: bytes) -> None:
        """Answer a CALL (a Message or its ref), now or later, from anywhere.
        Quiet if the caller is gone (it gave up, or its deadline passed:
        the reply is a dead letter), as gen_server:reply."""
        _answer(self._p, call, data)

    def reply_term(self, call: Union[Message, int], value: Any) -> None:
        """Answer a CALL with `value` as an Erlang term (swerl_reply_term)."""
        _answer_term(self._p, call, value)

    # -- distribution --------------------------------------------------------------

    def start_node(self, name: str, cookie: Optional[str] = None, **options: Any) -> None:
        """Make this runtime the node `name` ("py@127.0.0.1") of an Erlang
        cluster: it registers with EPMD (which must run, or start_epmd=True
        to serve one on loopback when none answers) and returns when EPMD
        has answered. cookie None: ~/.erlang.cookie. Options: listen_host
        ("0.0.0.0"), listen_port (0: any), epmd_port (0: ERL_EPMD_PORT or
        4369), tick_ms (60000), connect_timeout_ms (7000), max_frame,
        start_epmd. Then ``rt.send(("kv", "erl@host"), b"...")`` reaches an
        Erlang process, and Erlang's pids arrive as swerl.Pid."""
        _dist.start_node(self._p, name, cookie, options)

    @property
    def node_name(self) -> Optional[str]:
        """This node's name, or None when the runtime is not a node."""
        return _dist.node_name(self._p)

    def connect_node(self, node: str, timeout: Optional[float] = 7.0) -> None:
        """Connect to `node` now (net_kernel:connect_node); raises
        swerl.NetworkError (it could not: the log says why), swerl.Timeout."""
        _dist.connect_node(self._p, node, timeout)

    def nodes(self) -> List[str]:
        """The nodes connected now."""
        return _dist.nodes(self._p)

    def pid_node(self, pid: int) -> str:
        """The node a pid belongs to (this node's name for a local pid)."""
        return _dist.pid_node(self._p, pid)

    # -- names -------------------------------------------------------------------

    def register(self, name: str, pid: int) -> None:
        check(lib.swerl_register(self._p(), _name(name), _pid(pid)), "register")

    def unregister(self, name: str) -> None:
        check(lib.swerl_unregister(self._p(), _name(name)), "unregister")

    def whereis(self, name: str) -> Optional[Pid]:
        """The pid registered as `name`, or None."""
        pid = _whereis(self._p, name)
        return Pid(pid) if pid else None

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

    def send_after(self, to: Union[int, str], delay: float, data: bytes) -> Ref:
        """Deliver `data` to a pid after `delay` seconds (0: as soon as
        possible); returns the timer ref (the message's ref). The timer ends
        with its target (a pid not alive: swerl.NoProcess). To a name, the
        name is looked up when the timer expires, and the message is dropped
        if nobody has it then (Erlang's send_after to an atom)."""
        data = _bytes(data)
        ms = _ms(delay, "delay")
        ref = _ffi.swerl_ref()
        if isinstance(to, str):
            rc = quick.swerl_send_after_named(self._p(), _name(to), ms, data, len(data), byref(ref))
        else:
            rc = quick.swerl_send_after(self._p(), _pid(to), ms, data, len(data), byref(ref))
        check(rc, "send_after")
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

    def start_supervisor(self, spec: SupervisorSpec, name: Optional[str] = None) -> Supervisor:
        """Start a supervisor from a swerl.SupervisorSpec (and its children,
        left to right); returns a swerl.Supervisor. See swerl.supervisor."""
        return _start_supervisor(self, spec, name)

    # -- settings and introspection ----------------------------------------------

    def set_max_memory(self, max_memory: int) -> None:
        """The memory ceiling: bytes messages and call requests may hold in
        all, each counted as its payload + 64 (0: none); a SharedBinary
        counts once, its length + 32, until freed, and each message carrying
        it 72. A send over it raises swerl.MemoryLimit and is counted in
        stats()["messages_rejected"]."""
        if max_memory < 0:
            raise InvalidArgument("max_memory must be >= 0")
        check(lib.swerl_runtime_set_max_memory(self._p(), max_memory), "set_max_memory")

    def set_long_turn(self, seconds: Optional[float]) -> None:
        """Report handler turns longer than `seconds` (None or 0: never) as
        WARNINGs on the ``swerl`` logger (and in rt.logs)."""
        check(lib.swerl_runtime_set_long_turn(self._p(), _long_turn_ms(seconds)), "set_long_turn")

    def set_blocking_threads(self, max_threads: int) -> None:
        """The most threads the blocking pool runs at once (at least 1);
        more blocking processes than that wait their turn."""
        check(lib.swerl_runtime_set_blocking_threads(
            self._p(), _count(max_threads, "blocking_threads", 1)), "set_blocking_threads")

    def listen(self, owner: int, address: str, **options: Any) -> int:
        """Listen on `address` for process `owner` (see Ctx.listen)."""
        return _sockets.listen(self._p(), _pid(owner), address, options)

    def socket_info(self, socket: int) -> Optional[Dict[str, Any]]:
        """The socket's owner, addresses, counters and state, or None when
        it is not open."""
        return _sockets.info(self._p(), socket)

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

    def scheduler_usage(self) -> List[SchedulerUsage]:
        """Each scheduler's busy and wall time since the runtime started, and
        its run queue now: swerl.SchedulerUsage(index, busy_ns, wall_ns,
        run_queue) by index. Utilization over an interval is the difference
        of two readings' busy_ns over that of their wall_ns. Works after
        stop()."""
        return _observer.scheduler_usage(self._p)

    # -- the observer page -------------------------------------------------------

    def observe(self, port: int = 0, host: str = "127.0.0.1", token: Optional[str] = None,
                actions: bool = False, max_connections: int = 16) -> str:
        """Serve the observer page (docs/OBSERVER.md) on host:port (port 0:
        any free one; an IPv6 host such as "::1" is bracketed); returns its
        URL, with ``?token=`` when there is one. A host that is not loopback
        needs a `token` (16 to 128 printable ASCII characters without '&' or
        '%'), which every request must then carry. ``actions=True`` lets the
        page kill processes and restart or terminate children. Served by the
        runtime's own processes until stop_observing() or the runtime's
        stop. Raises swerl.InvalidArgument (a bad option, a token missing off
        loopback, already observing), swerl.AddressInUse,
        swerl.NetworkError, swerl.Stopped."""
        return _observer.start(self._p, port, host, token, actions, max_connections)

    def stop_observing(self) -> None:
        """Stop serving the observer page; its connections are closed.
        swerl.InvalidArgument when none is served."""
        _observer.stop(self._p)


def _behavior(init: Any, handle: Any, terminate: Any) -> _ffi.SwerlBehavior:
    b = _ffi.SwerlBehavior()
    b.size = ctypes.sizeof(_ffi.SwerlBehavior)
    b.init, b.handle, b.terminate = init, handle, terminate
    return b


def _long_turn_ms(seconds: Optional[float]) -> int:
    """long_turn in seconds (None or 0: off) -> milliseconds, at least 1 if on."""
    if seconds is None or (not isinstance(seconds, bool) and seconds == 0):
        return 0
    return max(1, _ms(seconds, "long_turn"))
