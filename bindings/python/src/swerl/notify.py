"""Waiting for a call's answer or a process's exit where Ctrl-C can stop
the wait: swerl_call_notify and swerl_watch_exit.

A blocking ctypes call (swerl_call, swerl_wait_exit) cannot be interrupted:
CPython runs signal handlers only between bytecodes, so Ctrl-C would wait
for the reply, for ever with timeout=None. Here the library settles the
call (or the exit watch) through a C callback that releases a lock the
caller waits on; a lock wait on the main thread returns to Python for a
signal, so KeyboardInterrupt is raised there and the call is cancelled
(swerl_cancel_notify) on the way out.

The two C callbacks are made once per runtime and live as long as it
(python-libusb1's rule: C may call them until swerl_runtime_free has
returned); their ``user`` is a key into the waiters they settle. A callback
never raises: it only stores the outcome and releases the lock.

The runtime pointer is taken (``p()``) only inside each C call's argument
list: a frame kept by an exception (KeyboardInterrupt in the wait) must not
keep it, or close() would wait for ever to free the runtime (swerl.closing).
A stop settles every pending call and watch, so nothing waits for a
runtime that is gone.
"""

import itertools
import threading
import time
import traceback
from ctypes import byref
from typing import Callable, Deque, Dict, Generic, Optional, Tuple, TypeVar

from . import _ffi
from ._ffi import lib
from .errors import Stopped, Timeout, check, error
from .message import Pid

__all__ = ["Notifications", "Outcome"]

_EREF = -12
SIGNAL_SLICE = 0.2  # seconds: the longest a Ctrl-C may wait to be seen
_MEMORY = _ffi.MEMORY
Pointer = Callable[[], int]
_call_notify = lib.swerl_call_notify
T = TypeVar("T")


class Outcome(Generic[T]):
    """One outcome (a code and data: bytes here, a str for swerl.closing)
    handed from one thread to another by a lock released once: waiting for
    it on the main thread, Ctrl-C raises KeyboardInterrupt. `empty` is the
    data until it is settled."""

    __slots__ = ("_lock", "code", "data")

    def __init__(self, empty: T) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self.code = 0
        self.data = empty

    def settle(self, code: int, data: T) -> None:
        self.code, self.data = code, data
        self._lock.release()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """True once settled; False after `timeout` s (None: no limit).

        The wait is cut in slices: a signal that lands after CPython last
        checked for one and before the lock wait begins does not interrupt
        that wait (seen once in 20 Ctrl-Cs); between slices Python code
        runs, which raises the pending KeyboardInterrupt."""
        if timeout is None:
            while not self._lock.acquire(True, SIGNAL_SLICE):
                pass
            return True
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return self._lock.acquire(False)
            if self._lock.acquire(True, min(left, SIGNAL_SLICE)):
                return True


class Notifications:
    """A runtime's notification callbacks and the waiters they settle."""

    def __init__(self, callback_errors: Deque[str]) -> None:
        self._waiters: Dict[int, Outcome[bytes]] = {}
        self._keys = itertools.count(1)
        self._errors = callback_errors
        self.c_call_done = _ffi.CALL_DONE_FN(self._settle)
        self.c_exit_done = _ffi.EXIT_DONE_FN(self._settle)

    def _settle(self, user: Optional[int], code: int, data: Optional[int], n: int) -> None:
        try:
            waiter = self._waiters.pop(user or 0, None)
            if waiter is not None:
                waiter.settle(code, _MEMORY[data:data + n].tobytes() if n and data else b"")
        except BaseException:  # C cannot be told
            self._errors.append(traceback.format_exc())

    def _waiter(self) -> Tuple[Outcome[bytes], int]:
        waiter = Outcome(b"")
        key = next(self._keys)
        self._waiters[key] = waiter
        return waiter, key

    def call(self, p: Pointer, pid: int, data: bytes, ms: int) -> bytes:
        """swerl_call_notify to `pid` (validated), deadline `ms`, and an
        interruptible wait for its outcome: the reply, or the error
        (Timeout; ServerExited with the server's exit detail)."""
        waiter, key = self._waiter()
        ref = _ffi.swerl_ref()
        try:
            rc = _call_notify(p(), pid, data, len(data), ms, self.c_call_done, key, byref(ref))
        except BaseException:
            self._waiters.pop(key, None)
            raise
        if rc < 0:
            self._waiters.pop(key, None)
            check(rc, "call")
        self._wait(p, ref.value, key, waiter, None)  # the deadline is the library's
        if waiter.code == 0:
            return waiter.data
        detail = waiter.data.decode("utf-8", "replace")
        if detail:  # EEXITED: the server's exit detail
            detail = "%r: %s" % (Pid(pid), detail)
        raise error(waiter.code, "call", detail)

    def wait_exit(self, p: Pointer, pid: int, timeout: Optional[float]) -> int:
        """swerl_watch_exit of `pid` (validated) and an interruptible wait:
        the exit reason code (NOPROC if it was not alive). Timeout after
        `timeout` s."""
        waiter, key = self._waiter()
        ref = _ffi.swerl_ref()
        try:
            rc = lib.swerl_watch_exit(p(), pid, self.c_exit_done, key, byref(ref))
        except BaseException:
            self._waiters.pop(key, None)
            raise
        if rc < 0:
            self._waiters.pop(key, None)
            check(rc, "wait_exit")
        if not self._wait(p, ref.value, key, waiter, timeout):
            raise Timeout("wait_exit: %r did not exit within %s s" % (Pid(pid), timeout))
        return waiter.code

    def _wait(self, p: Pointer, ref: int, key: int, waiter: "Outcome[bytes]",
              timeout: Optional[float]) -> bool:
        """Wait for `waiter`. Ctrl-C (or any exception) cancels and raises;
        the timeout cancels and gives False, unless the outcome was already
        on its way (then it is waited for and True)."""
        try:
            if waiter.wait(timeout):
                return True
        except BaseException:
            self._cancel(p, ref, key)
            raise
        if self._cancel(p, ref, key):
            return False
        waiter.wait()  # `done` ran or is running now: it settles at once
        return True

    def _cancel(self, p: Pointer, ref: int, key: int) -> bool:
        """True: `done` will never run (its waiter is forgotten)."""
        try:
            rc = lib.swerl_cancel_notify(p(), ref)
        except Stopped:
            rc = 0  # closed: the stop settled what it could, nothing will run now
        if rc == _EREF:
            return False
        self._waiters.pop(key, None)
        return True
