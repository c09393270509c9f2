"""The dispatcher: the one Python thread that runs a runtime's Python processes.

Python processes live in a turn group of the runtime (swerl_group_*): no
scheduler thread ever runs their handlers or takes the GIL for them, so C
and Swift processes never wait for Python. This thread drives the group:
one swerl_group_next call hands back the batch it handled and takes the
next one, up to BATCH messages of one process, blocking (the GIL released)
while there is nothing to do. The messages are read straight from the
library's memory, and the handler's answers written back there, so a
message costs no foreign call of its own. init and terminate still come as
callbacks, on this thread, inside swerl_group_next.

The rules of a batch are the library's (swerl.h, swerl_turn): say which
message is being handled (`current`), write each answer, stop after STOP or
a crash, and after a message accepted behind a skipped one; skip withdrawn
ones.

A second thread waits beside it: when a handler blocks (sleeps, waits for
I/O) for long, the library's turn monitor lets another thread take turns
meanwhile, as it hands a blocked scheduler's queue to another thread; when
a waiting thread gets a turn and no other is left waiting, one more is
started (at most MAX_THREADS).

The threads hold no strong reference to the Runtime between batches (a
forgotten runtime is still collected and closed); it holds the
RuntimePointer, so the free waits until it has gone. It ends when the
runtime has stopped (ESTOPPED).
"""

import logging
import threading
import traceback
import weakref
from _thread import get_ident
import ctypes
from ctypes import byref, c_void_p
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from . import _ffi
from ._ffi import lib, quick
from .control import REPLY_TYPES, Control, IGNORE, bad_handle_result
from .message import Message, Pid, _KINDS, _REASONS, flagged_payload, reason as _reason
from .threads import mark_runtime_thread, running as _running

__all__ = ["Dispatcher", "BATCH", "crash"]

log = logging.getLogger("swerl")

BATCH = 256  #: messages of one process per swerl_group_next, at most
MAX_THREADS = 16  #: dispatcher threads at most (all but one wait while handlers block)

_ESTOPPED = -10
_SKIP = 1
_CALL = 4
_WITHDRAWN = _ffi.SWERL_MESSAGE_WITHDRAWN
_MEMORY = _ffi.MEMORY
_read_message = _ffi.MESSAGE_LAYOUT.unpack_from
_MESSAGE_SIZE = _ffi.MESSAGE_LAYOUT.size
_read_turn = _ffi.TURN_LAYOUT.unpack_from
_new_tuple = tuple.__new__
# swerl_group_next through the PyDLL handle, arguments as given (ctypes
# objects for the pointers, small ints as C ints)
_quick_next = ctypes.PyDLL(lib._name).swerl_group_next
_quick_next.restype = ctypes.c_int


class Dispatcher:
    """Drives one runtime's group of Python processes on its own thread."""

    def __init__(self, group: int, pointer: Any, runtime: Any, make_ctx: Callable[[int, Any, int], Any],
                 answer: Callable[[Any, int, Any], None], errors: Deque[str]) -> None:
        self.group = group
        self._pointer = pointer
        self._runtime = weakref.ref(runtime)
        self._objects = runtime._registry.objects
        self._make_ctx = make_ctx
        self._answer = answer
        self._errors = errors
        self._lock = threading.Lock()
        self._threads: List[threading.Thread] = []
        self._waiting = 0  # threads waiting for a turn
        # turn address -> (finished pointer, results view, current view): a
        # driver's batch memory lives as long as the runtime
        self._views: Dict[int, Tuple[Any, Any, Any]] = {}

    def start(self) -> None:
        self._add_thread()
        self._add_thread()

    def _add_thread(self) -> None:
        with self._lock:
            if len(self._threads) >= MAX_THREADS or self._pointer is None:
                return
            thread = threading.Thread(target=self._run, name="swerl-dispatcher", daemon=True)
            self._threads.append(thread)
        thread.start()

    def _run(self) -> None:
        mark_runtime_thread(True)
        try:
            self._loop()
        except BaseException:  # pragma: no cover - the loop catches what handlers raise
            self._errors.append(traceback.format_exc())
            log.error("the swerl dispatcher thread failed:\n%s", traceback.format_exc())
        finally:
            with self._lock:
                if all(t is threading.current_thread() or not t.is_alive() for t in self._threads):
                    self._pointer = None  # the last one: the free may go on
            mark_runtime_thread(False)

    def _views_of(self, address: int, results_address: int) -> Tuple[Any, Any, Any]:
        views = self._views.get(address)
        if views is None:
            at = address + _ffi.TURN_CURRENT_OFFSET
            views = (c_void_p(address), _MEMORY[results_address:results_address + 4 * BATCH].cast("B").cast("i"),
                     _MEMORY[at:at + 4].cast("B").cast("I"))
            self._views[address] = views
        return views

    def _loop(self) -> None:
        # The hot path: one foreign call per batch, no call of our own per
        # message. swerl_group_next is called first through the PyDLL
        # handle without argtypes (the GIL kept, no conversions: a third of
        # a microsecond less) with timeout 0; only when nothing is queued
        # through the CDLL handle, which drops the GIL while it waits.
        group = c_void_p(self.group)
        quick_next = _quick_next
        wait_next = lib.swerl_group_next
        out = c_void_p()
        out_ref = byref(out)
        done: Any = None
        last_address = 0
        views: Tuple[Any, Any, Any] = (None, None, None)
        results: Any = None
        current: Any = None
        handled = 0
        handle: Any = None
        m: Any = None
        r: Any = None
        tid = get_ident()
        objects = self._objects
        memory = _MEMORY
        read_message = _read_message
        size = _MESSAGE_SIZE
        kinds = _KINDS
        reasons = _REASONS
        new_tuple = _new_tuple
        message_type = Message
        answer = self._answer
        make_ctx = self._make_ctx
        runtime_of = self._runtime
        while True:
            rc = quick_next(group, done, handled, BATCH, 0, out_ref)
            if rc == 0:
                handle = m = r = None  # nothing of a process kept while waiting
                self._waiting += 1
                rc = wait_next(group, None, 0, BATCH, _ffi.SWERL_INFINITY, out_ref)
                self._waiting -= 1
                if rc > 0 and self._waiting == 0:  # the others are in handlers that block
                    self._add_thread()
            if rc <= 0:
                done = None
                if rc == 0:
                    continue  # swerl_group_wake
                if rc != _ESTOPPED:
                    self._errors.append("swerl_group_next returned %d" % rc)
                return
            address: int = out.value or 0
            handled = 0
            try:
                ctx, state, pid, messages, results_address, count, _ = _read_turn(memory, address)
                if address != last_address:  # another driver's batch (rare: only after a takeover)
                    views = self._views_of(address, results_address)
                    last_address = address
                done, results, current = views  # `done` too: a wake-up left it None
                runtime = runtime_of()
                if runtime is None:
                    # Being collected: its close stops the runtime, which
                    # drives the group itself once no thread does. Turns
                    # given back here would be runnable again at once: this
                    # thread would take them for ever, beside the close.
                    lib.swerl_group_finish(done, 0)
                    return
                c = make_ctx(ctx, runtime, tid)
                _running[tid] = c
                try:
                    handle = objects[state].handle
                    skipped = False
                    handled = count
                    for i in range(count):
                        current[0] = i
                        kind, code, sender, ref, data, n, flags = read_message(memory, messages + i * size)
                        if flags:
                            if flags & _WITHDRAWN:
                                continue
                            payload = flagged_payload(flags, messages + i * size, data, n, runtime)
                        else:
                            payload = memory[data:data + n].tobytes() if n else b""
                        if kind == 1 or kind == 2:  # EXIT, DOWN: an exit reason
                            code = reasons.get(code) or _reason(code)
                        m = new_tuple(message_type, (kinds.get(kind, kind), code, Pid(sender), ref, payload))
                        try:
                            r = handle(m, c)
                            if r is None:
                                result = 0
                            elif type(r) is Control and r is not IGNORE:
                                result = r.code
                            elif kind == _CALL and isinstance(r, REPLY_TYPES):
                                answer(c._runtime, ref, r)
                                result = 0
                            else:
                                raise bad_handle_result(r, kind == _CALL)
                        except BaseException:
                            result = self._crash(ctx)
                        if result:  # results start as 0 (CONTINUE)
                            results[i] = result
                            if result == _SKIP:
                                skipped = True
                                continue
                            handled = i + 1
                            break
                        if skipped:
                            handled = i + 1
                            break
                finally:
                    c._valid = False
                    del _running[tid]
                    del runtime, c
            except BaseException:  # a bug of ours: the batch still goes back
                done = c_void_p(address)
                self._errors.append(traceback.format_exc())
                log.error("swerl dispatcher:\n%s", traceback.format_exc())

    def _crash(self, ctx: int) -> int:
        return crash(ctx, self._errors)


def crash(ctx: int, errors: Deque[str]) -> int:
    """The handler running in `ctx` raised (inside an except block): the
    process fails with Reason.ERROR and the traceback as detail; the
    handler's result is a failure."""
    detail = traceback.format_exc().encode("utf-8", "replace")
    try:
        quick.swerl_fail(ctx, 5, detail, len(detail))  # Reason.ERROR
    except BaseException:
        errors.append(traceback.format_exc())
    return -1
