"""The observer page (swerl.h "The observer page", docs/OBSERVER.md): the
calls behind rt.observe, rt.stop_observing and rt.scheduler_usage.

The page and its JSON endpoints are served by processes of the runtime on
its own sockets (no thread of the package's): a Python program that only
waits still answers the browser::

    with swerl.Runtime() as rt:
        print(rt.observe())          # http://127.0.0.1:40123/
        ...
"""

import ctypes
from ctypes import byref, c_size_t
from dataclasses import dataclass
from typing import Callable, List, Optional

from . import _ffi
from ._ffi import lib
from .arguments import count as _count
from .errors import InvalidArgument, check

__all__ = ["SchedulerUsage", "address", "start", "stop", "scheduler_usage"]

Pointer = Callable[[], int]


@dataclass(frozen=True)
class SchedulerUsage:
    """One scheduler's time since the runtime started (Erlang's
    ``scheduler_wall_time``): busy over wall is its utilization; the
    difference of two readings gives it over an interval. (A dataclass, not
    a named tuple: its field ``index`` would hide tuple.index.)"""

    index: int      #: 0 .. schedulers - 1
    busy_ns: int    #: nanoseconds it ran processes
    wall_ns: int    #: nanoseconds it existed
    run_queue: int  #: processes waiting in its local run queue now (approximate)


def address(host: str, port: int) -> bytes:
    """``"host:port"`` as swerl_observer_opts.address takes it: an IPv6
    host in brackets (``"[::1]:8080"``)."""
    if not isinstance(host, str):
        raise TypeError("host is a str, not %s" % type(host).__name__)
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError("port is an int, not %r" % (port,))
    if not host or "\0" in host:
        raise InvalidArgument("host must be a non-empty address without NUL: %r" % host)
    if not 0 <= port <= 65535:
        raise InvalidArgument("port must be 0..65535 (0: any free one), not %d" % port)
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return ("%s:%d" % (host, port)).encode("utf-8")


def start(p: Pointer, port: int, host: str, token: Optional[str], actions: bool,
          max_connections: int) -> str:
    """swerl_observer_start; the page's URL (with ``?token=`` when given)."""
    o = _ffi.SwerlObserverOpts()
    lib.swerl_observer_opts_init(byref(o))
    where = address(host, port)
    o.address = where
    secret: Optional[bytes] = None
    if token is not None:
        if not isinstance(token, str):
            raise TypeError("token is a str or None, not %s" % type(token).__name__)
        secret = token.encode("utf-8")
        o.token = secret
    if actions:
        o.flags |= _ffi.SWERL_OBSERVE_ACTIONS
    o.max_connections = _count(max_connections, "max_connections", 1)
    url = ctypes.create_string_buffer(_ffi.SWERL_OBSERVER_URL_MAX)
    check(lib.swerl_observer_start(p(), byref(o), url, len(url)), "observe")
    return url.value.decode("utf-8")


def stop(p: Pointer) -> None:
    """swerl_observer_stop: its connections are closed."""
    check(lib.swerl_observer_stop(p()), "stop_observing")


def scheduler_usage(p: Pointer) -> List[SchedulerUsage]:
    """swerl_runtime_scheduler_usage: a record per scheduler, by index."""
    n = c_size_t()
    check(lib.swerl_runtime_scheduler_usage(p(), None, 0, byref(n)), "scheduler_usage")
    cap = max(n.value, 1)
    buf = (_ffi.SwerlSchedulerUsage * cap)()
    buf[0].size = ctypes.sizeof(_ffi.SwerlSchedulerUsage)
    check(lib.swerl_runtime_scheduler_usage(p(), buf, cap, byref(n)), "scheduler_usage")
    return [SchedulerUsage(r.index, r.busy_ns, r.wall_ns, r.run_queue) for r in buf[: min(n.value, cap)]]
