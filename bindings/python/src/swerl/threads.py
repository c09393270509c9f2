"""The runtime's threads as Python sees them: which thread is in a
callback, the thread hooks, and the log hook.

C calls Python on threads Python did not start: scheduler threads and
blocking-pool threads (which run the thread hooks), the thread of the call
that settles a notification, and the runtime's turn monitor, which reports
long turns through the log hook but runs no thread hook. None of them may
stop or free a runtime (it would wait for itself), nor wait for a call.
"""

import ctypes
import logging
import threading
import traceback
from _thread import get_ident
from typing import Any, Callable, Dict, Set, Tuple

__all__ = ["running", "in_callback", "on_runtime_thread", "mark_runtime_thread", "thread_hooks", "log_hook"]

log = logging.getLogger("swerl")

# thread id -> the Ctx of the callback running on that thread (callbacks nest
# when a supervisor starts a child synchronously). A dict, not a
# threading.local: this is on every callback's path and costs a quarter.
running: Dict[int, Any] = {}

# Idents of the runtime threads of every runtime while they run (the thread
# hooks keep it), and of the threads inside a log hook now. From them a
# runtime is never stopped or freed: the library refuses (EINPROC) inside a
# callback, and swerl_runtime_free would then release a runtime whose
# threads still call its Python callbacks.
_runtime_threads: Set[int] = set()
_in_log_hook: Set[int] = set()

_LEVELS = {0: logging.ERROR, 1: logging.WARNING}  # SWERL_LOG_*; INFO otherwise

ctypes.pythonapi.PyGILState_Ensure.restype = ctypes.c_int
ctypes.pythonapi.PyGILState_Ensure.argtypes = []
ctypes.pythonapi.PyGILState_Release.restype = None
ctypes.pythonapi.PyGILState_Release.argtypes = [ctypes.c_int]


def in_callback() -> bool:
    """Inside a process callback (init, handle, terminate) on this thread."""
    return get_ident() in running


def on_runtime_thread() -> bool:
    """On a runtime's thread, in a callback or in a log hook."""
    me = get_ident()
    return me in _runtime_threads or me in running or me in _in_log_hook


def mark_runtime_thread(on: bool) -> None:
    """The calling thread runs a runtime's processes (the dispatcher, for
    its whole life): it never stops or frees a runtime itself."""
    if on:
        _runtime_threads.add(get_ident())
    else:
        _runtime_threads.discard(get_ident())


def _attach_thread(state: Dict[int, int]) -> None:
    """on_thread_start: keep this thread's Python thread state for the
    thread's lifetime (one extra PyGILState_Ensure, released by
    on_thread_stop), so each later callback reuses it (~0.25 us) instead of
    creating and destroying one (~8 us)."""
    state[get_ident()] = ctypes.pythonapi.PyGILState_Ensure()


def _detach_thread(state: Dict[int, int]) -> None:
    gs = state.pop(get_ident(), None)
    if gs is not None:
        ctypes.pythonapi.PyGILState_Release(gs)


def _forget_dummy_thread() -> None:
    """threading.current_thread() on a thread Python did not start (a
    logging record made in a callback calls it) registers a
    threading._DummyThread, which CPython 3.11 never removes:
    threading.enumerate() would list every such thread that ever logged,
    as alive, after its runtime is gone."""
    active = getattr(threading, "_active", None)
    dummy = getattr(threading, "_DummyThread", None)
    if active is not None and dummy is not None and isinstance(active.get(get_ident()), dummy):
        active.pop(get_ident(), None)


def thread_hooks(state: Dict[int, int], attach: bool,
                 errors: Any) -> Tuple[Callable[[Any], None], Callable[[Any], None]]:
    """on_thread_start and on_thread_stop (never raising: C cannot be told)."""

    def on_start(user: Any) -> None:
        try:
            _runtime_threads.add(get_ident())
            if attach:
                _attach_thread(state)
        except BaseException:
            errors.append(traceback.format_exc())

    def on_stop(user: Any) -> None:
        try:
            _forget_dummy_thread()
            _detach_thread(state)
            _runtime_threads.discard(get_ident())
        except BaseException:
            errors.append(traceback.format_exc())

    return on_start, on_stop


def log_hook(logs: Any, errors: Any) -> Callable[[Any, int, int, int], None]:
    """on_log: each report (supervisor reports, crash reports, long turns,
    a stop's stuck processes) goes to `logs` and to the ``swerl`` logger.
    On a thread without thread hooks (the turn monitor) the _DummyThread a
    log record registers is forgotten at once, or one would stay per
    runtime."""

    def on_log(user: Any, level: int, message: int, length: int) -> None:
        me = get_ident()
        _in_log_hook.add(me)
        try:
            text = ctypes.string_at(message, length).decode("utf-8", "replace")
            logs.append((level, text))
            log.log(_LEVELS.get(level, logging.INFO), "%s", text)
        except BaseException:  # a logging handler that raised: C cannot be told
            errors.append(traceback.format_exc())
        finally:
            _in_log_hook.discard(me)
            if me not in _runtime_threads:
                _forget_dummy_thread()

    return on_log
