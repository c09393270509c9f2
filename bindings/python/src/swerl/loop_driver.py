"""A runtime's Python processes run by a running asyncio loop.

``swerl.Runtime(loop=asyncio.get_running_loop())`` starts no dispatcher
thread: the turn group's eventfd is a reader of the loop, and each time it
is readable the loop takes the waiting batches (swerl_group_take with
timeout 0) and handles them right there, between the loop's other
callbacks, with no thread hop. A handler may then be ``async def``: the
process holds its turn until the coroutine finishes (as a gen_server sits
in handle_call), its batch set aside (swerl_turn_suspend) while the
coroutine awaits, so the loop's tasks and the other processes go on; each
step of the coroutine runs with the batch taken back (swerl_turn_resume),
so its ctx works. The coroutine is stepped here, as asyncio.Task steps
one, so that the turn is taken back around every step.

A close cancels what still awaits (the process exits with SHUTDOWN) before
the runtime stops. Close the runtime on its loop's thread.
"""

import asyncio
import ctypes
import logging
import traceback
import weakref
from _thread import get_ident
from ctypes import byref, c_void_p
from types import CoroutineType
from typing import Any, Callable, Deque, Dict, List, Optional

from . import _ffi
from ._ffi import lib, quick
from .control import REPLY_TYPES, Control, IGNORE, bad_handle_result
from .dispatcher import BATCH, crash
from .errors import check
from .message import read_message
from .threads import running as _running

__all__ = ["LoopDriver"]

log = logging.getLogger("swerl")

PER_CALLBACK = 64  #: batches per loop callback, then the loop's other work
_SKIP = 1
_STOP = 2
_CALL = 4
_SHUTDOWN = 1
_WITHDRAWN = _ffi.SWERL_MESSAGE_WITHDRAWN
_MEMORY = _ffi.MEMORY
_read_turn = _ffi.TURN_LAYOUT.unpack_from
_read_message = _ffi.MESSAGE_LAYOUT.unpack_from
# swerl_group_take with timeout 0 keeping the GIL (it never waits then)
_poll = ctypes.PyDLL(lib._name).swerl_group_take
_poll.restype = ctypes.c_int
_poll.argtypes = [c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(c_void_p)]
_MESSAGE_SIZE = _ffi.MESSAGE_LAYOUT.size


class _Batch:
    """A batch being handled, perhaps across awaits."""

    __slots__ = ("address", "ctx", "messages", "count", "results", "current", "c", "handle",
                 "index", "skipped", "coro", "kind", "ref")

    def __init__(self, address: int, ctx: int, messages: int, count: int, results: Any, current: Any,
                 c: Any, handle: Callable[..., Any]) -> None:
        self.address, self.ctx, self.messages, self.count = address, ctx, messages, count
        self.results, self.current, self.c, self.handle = results, current, c, handle
        self.index = 0
        self.skipped = False
        self.coro: Optional[CoroutineType] = None  # type: ignore[type-arg]
        self.kind = 0
        self.ref = 0


class LoopDriver:
    """Drives one runtime's group of Python processes from an asyncio loop."""

    def __init__(self, group: int, runtime: Any, make_ctx: Callable[[int, Any, int], Any],
                 answer: Callable[[Any, int, Any], None], errors: Deque[str],
                 loop: asyncio.AbstractEventLoop) -> None:
        self.group = c_void_p(group)
        self.loop = loop
        self._runtime = weakref.ref(runtime)
        self._objects = runtime._registry.objects
        self._make_ctx = make_ctx
        self._answer = answer
        self._errors = errors
        self._suspended: Dict[int, _Batch] = {}
        self._views: Dict[int, Any] = {}
        self._out = c_void_p()
        self._closed = False
        # every turn a batch: an async handler needs the batch form
        check(lib.swerl_group_set_batch_min(group, 1), "group_set_batch_min")
        self.fd = check(lib.swerl_group_fd(group), "group_fd")
        loop.add_reader(self.fd, self._drive)
        loop.call_soon(self._drive)  # what was queued before the reader

    # -- taking batches -----------------------------------------------------------------

    def _drive(self) -> None:
        if self._closed:
            return
        for _ in range(PER_CALLBACK):
            rc = _poll(self.group, BATCH, 0, byref(self._out))
            if rc <= 0:
                if rc < 0:
                    self.detach()
                return
            try:
                self._start(self._out.value or 0)
            except BaseException:  # a bug of ours: what is held still goes back
                self._errors.append(traceback.format_exc())
                log.error("swerl loop driver:\n%s", traceback.format_exc())
        self.loop.call_soon(self._drive)  # more may wait: after the loop's other work

    def _start(self, address: int) -> None:
        ctx, state, _pid, messages, results_address, count, _ = _read_turn(_MEMORY, address)
        views = self._views.get(address)
        if views is None:
            at = address + _ffi.TURN_CURRENT_OFFSET
            views = (_MEMORY[results_address:results_address + 4 * BATCH].cast("B").cast("i"),
                     _MEMORY[at:at + 4].cast("B").cast("I"))
            self._views[address] = views
        runtime = self._runtime()
        if runtime is None:
            lib.swerl_group_finish(c_void_p(address), 0)
            return
        c = self._make_ctx(ctx, runtime, get_ident())
        batch = _Batch(address, ctx, messages, count, views[0], views[1], c, self._objects[state].handle)
        self._go_on(batch, runtime)

    # -- handling ---------------------------------------------------------------------

    def _go_on(self, batch: _Batch, runtime: Any) -> None:
        """Handles the batch's messages from batch.index on, until it is
        finished or a handler awaits (then it is set aside)."""
        tid = get_ident()
        _running[tid] = batch.c
        try:
            while batch.index < batch.count:
                i = batch.index
                batch.current[0] = i
                address = batch.messages + i * _MESSAGE_SIZE
                kind, _, _, ref, _, _, flags = _read_message(_MEMORY, address)
                if flags & _WITHDRAWN:
                    batch.index += 1
                    continue
                batch.kind, batch.ref = kind, ref
                m = read_message(address, runtime)
                try:
                    r = batch.handle(m, batch.c)
                    if type(r) is CoroutineType:
                        batch.coro = r
                        self._set_aside(batch)
                        self._step(batch)  # its first step now, as a task's would come soon
                        return
                    code = self._code(r, batch)
                except BaseException:
                    code = self._crash(batch.ctx)
                if self._record(batch, code):
                    break
            self._finish(batch)
        finally:
            if _running.get(tid) is batch.c:
                del _running[tid]

    def _code(self, r: Any, batch: _Batch) -> int:
        if r is None:
            return 0
        if type(r) is Control and r is not IGNORE:
            return r.code
        if batch.kind == _CALL and isinstance(r, REPLY_TYPES):
            self._answer(batch.c._runtime, batch.ref, r)
            return 0
        raise bad_handle_result(r, batch.kind == _CALL)

    def _record(self, batch: _Batch, code: int) -> bool:
        """Writes message index's answer; True when the batch ends there."""
        i = batch.index
        batch.index += 1
        if code:
            batch.results[i] = code
            if code == _SKIP:
                batch.skipped = True
                return False
            return True
        return batch.skipped

    def _finish(self, batch: _Batch) -> None:
        batch.c._valid = False
        handled = batch.index
        check(lib.swerl_group_finish(c_void_p(batch.address), handled), "group_finish")

    def _crash(self, ctx: int) -> int:
        return crash(ctx, self._errors)

    # -- async handlers -------------------------------------------------------------------

    def _set_aside(self, batch: _Batch) -> None:
        batch.c._valid = False
        _running.pop(get_ident(), None)
        check(lib.swerl_turn_suspend(c_void_p(batch.address)), "turn_suspend")
        self._suspended[batch.address] = batch

    def _step(self, batch: _Batch, value: Any = None, exc: Optional[BaseException] = None) -> None:
        """One step of the awaiting handler, with its turn taken back."""
        runtime = self._runtime()
        coro = batch.coro
        if runtime is None or coro is None or batch.address not in self._suspended:
            return
        del self._suspended[batch.address]
        check(lib.swerl_turn_resume(c_void_p(batch.address)), "turn_resume")
        tid = get_ident()
        batch.c._valid = True
        _running[tid] = batch.c
        try:
            try:
                yielded = coro.throw(exc) if exc is not None else coro.send(value)
            except StopIteration as done:
                code = self._code(done.value, batch)
            except BaseException:
                code = self._crash(batch.ctx)
            else:
                self._set_aside(batch)
                self._wait(batch, yielded)
                return
        except BaseException:  # _code's TypeError: a crash too
            code = self._crash(batch.ctx)
        finally:
            if _running.get(tid) is batch.c:
                del _running[tid]
        batch.coro = None
        if self._record(batch, code):
            self._finish(batch)
        else:
            self._go_on(batch, runtime)

    def _wait(self, batch: _Batch, yielded: Any) -> None:
        """What the coroutine yielded (a future it awaits, or None: a bare
        yield) decides when its next step comes, as in asyncio.Task."""
        if yielded is None:
            self.loop.call_soon(self._step, batch)
        elif getattr(yielded, "_asyncio_future_blocking", None) is not None:
            yielded._asyncio_future_blocking = False
            yielded.add_done_callback(lambda future: self._resolved(batch, future))
        else:
            self.loop.call_soon(self._step, batch, None,
                                RuntimeError("a swerl handler awaited %r, which is not an asyncio future" % (yielded,)))

    def _resolved(self, batch: _Batch, future: "asyncio.Future[Any]") -> None:
        if future.cancelled():
            self._step(batch, None, asyncio.CancelledError())
            return
        error = future.exception()
        self._step(batch, None if error is not None else future.result(), error)

    # -- closing ----------------------------------------------------------------------------

    def cancel_all(self) -> None:
        """Before the stop: every awaiting handler ends (its process exits
        with SHUTDOWN), so no turn is left held."""
        for batch in list(self._suspended.values()):
            del self._suspended[batch.address]
            check(lib.swerl_turn_resume(c_void_p(batch.address)), "turn_resume")
            coro = batch.coro
            if coro is not None:
                coro.close()
            batch.coro = None
            quick.swerl_fail(batch.ctx, _SHUTDOWN, b"", 0)
            batch.results[batch.index] = _STOP
            batch.index += 1
            self._finish(batch)

    def detach(self) -> None:
        """Stops taking batches (the runtime stopped or closes)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.loop.remove_reader(self.fd)
        except (RuntimeError, ValueError):  # the loop is closed already
            pass

    def pending(self) -> List[int]:
        return list(self._suspended)
