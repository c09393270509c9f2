"""Stopping and freeing a runtime without ever hanging its caller.

swerl_runtime_stop waits for the processes to exit (SHUTDOWN, then a kill
after the stop timeout). A handler that never returns (``while True:
pass``, ``time.sleep(1000)``) cannot be killed: native code cannot be
preempted. The stop then returns ETIMEDOUT, naming the process, and
swerl_runtime_free would wait for that handler for ever. So:

* the stop and the free run on a helper thread, and the caller waits for
  them on a lock, which Ctrl-C interrupts (a blocking ctypes call is not);
* after ETIMEDOUT the caller gets swerl.Timeout naming the stuck process,
  and the helper goes on to free the runtime if the handler ever returns.
  It is a daemon thread, so the interpreter may exit meanwhile, and it
  holds what C may still call (the Runtime object, so every callback);
* other threads' calls hold the ``swerl_runtime *`` (RuntimePointer): the
  free waits until they have let go of it (they end with ESTOPPED).
"""

import functools
import gc
import sys
import threading
import time
from typing import Callable, List, Optional, Tuple

from ._ffi import lib
from .errors import last_error_detail
from .notify import SIGNAL_SLICE, Outcome

__all__ = ["RuntimePointer", "stop", "stop_and_free", "ETIMEDOUT"]

ETIMEDOUT = -3


class RuntimePointer(int):
    """The ``swerl_runtime *`` (an int, as ctypes passes a c_void_p argument
    at no extra cost), as the first argument of every C call.

    Runtime._p() hands out this one object and each call holds it (a local,
    or the foreign call's argument tuple) until the C function has returned.
    The runtime is freed only when the closing thread holds the last
    reference: freeing it while another thread is about to enter, or is
    still inside, a call with it is a use-after-free (a segfault under calls
    racing close)."""

    __slots__ = ()


def _references(pointer: RuntimePointer) -> int:
    return sys.getrefcount(pointer)


def _idle_references() -> int:
    """_references(p) when the calling frame's local `p` is the only one
    (measured, not assumed: interpreters count borrowed references differently)."""
    pointer = RuntimePointer()
    return _references(pointer)


_IDLE_REFERENCES = _idle_references()


def _stop(ptr: RuntimePointer, ms: int) -> Tuple[int, str]:
    rc = lib.swerl_runtime_stop(ptr, ms)
    return rc, last_error_detail() if rc < 0 else ""  # the detail is this thread's


def _free(holder: List[RuntimePointer]) -> None:
    """swerl_runtime_free once no other thread's call holds the pointer
    (`holder` has the only other reference)."""
    ptr = holder.pop()
    waited = 0
    while _references(ptr) > _IDLE_REFERENCES:
        time.sleep(0.001)  # they return ESTOPPED at once (blocked calls too)
        waited += 1
        if waited % 1000 == 0:
            gc.collect()  # a reference in cyclic garbage (a frame of a dropped traceback)
    lib.swerl_runtime_free(ptr)  # waits for the runtime's threads


def _aside(body: Callable[[], None], name: str) -> Optional[threading.Thread]:
    """Run `body` on a daemon thread; inline if no thread can be started
    (the interpreter is shutting down)."""
    thread = threading.Thread(target=body, name=name, daemon=True)
    try:
        thread.start()
    except RuntimeError:
        body()
        return None
    return thread


def _stopping(holder: List[RuntimePointer], ms: int, outcome: "Outcome[str]") -> None:
    rc, detail = -1, "the stopping thread failed"
    try:
        rc, detail = _stop(holder[0], ms)
    finally:
        outcome.settle(rc, detail)


def _on_main_thread() -> bool:
    """Where Python runs signal handlers: only there may Ctrl-C come, so
    only there do the stop and the free run on a helper thread (elsewhere
    on the caller's, which saves a thread per close)."""
    return threading.current_thread() is threading.main_thread()


def stop(p: Callable[[], RuntimePointer], ms: int) -> Tuple[int, str]:
    """swerl_runtime_stop(p(), ms): its code and detail. On the main thread
    it runs on a helper thread and the wait for it is interruptible (and
    keeps no reference to the pointer: a KeyboardInterrupt's traceback must
    not hold a later close's free)."""
    outcome: Outcome[str] = Outcome("")
    holder = [p()]
    stopping = functools.partial(_stopping, holder, ms, outcome)
    del holder
    if _on_main_thread():
        _aside(stopping, "swerl-stop")
        del stopping
        outcome.wait()
    else:
        stopping()
    return outcome.code, outcome.data


def stop_and_free(holder: List[RuntimePointer], ms: int, release: Callable[[], None],
                  wait_for_free: bool = True) -> Tuple[int, str]:
    """Stop, free, then release() (drop every Python object C could call).
    `holder` is a list with the runtime pointer, its only reference (the
    free waits for the others to go). Returns the stop's code and detail
    once all is done, or as soon as the stop is if the free would wait for
    a handler that does not return (ETIMEDOUT now, or `wait_for_free`
    False: an earlier stop timed out): a daemon thread then frees the
    runtime and calls release() if that handler ever returns. On the main
    thread the whole job runs on a helper thread and the waits are
    interruptible: the helper finishes it whatever happens to the caller."""
    outcome: Outcome[str] = Outcome("")

    def free() -> None:
        _free(holder)
        release()

    def stop_then_free() -> None:
        _stopping(holder, ms, outcome)
        free()

    if not _on_main_thread():
        _stopping(holder, ms, outcome)
        if wait_for_free and outcome.code != ETIMEDOUT:
            free()
        else:
            _aside(free, "swerl-free")
        return outcome.code, outcome.data
    thread = _aside(stop_then_free, "swerl-close")
    outcome.wait()
    if wait_for_free and outcome.code != ETIMEDOUT and thread is not None:
        while thread.is_alive():
            thread.join(SIGNAL_SLICE)  # in slices, as Outcome.wait
    return outcome.code, outcome.data
