"""Distribution: a runtime as a node of an Erlang/Elixir cluster (swerl.h
"Distribution"). The calls behind rt.start_node, rt.connect_node,
rt.nodes, rt.pid_node, ctx.monitor_nodes, ctx.monitor_name, and sends to
``(name, node)``.

A pid of another node is an ordinary swerl.Pid: it prints as Erlang prints
it (``<5.123.0>``) and every call that takes a pid takes it.
"""

import ctypes
from ctypes import byref
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _ffi
from ._ffi import lib, quick
from .arguments import pid as _pid
from .errors import InvalidArgument, check

__all__ = ["start_node", "node_name", "connect_node", "nodes", "pid_node", "send_remote",
           "monitor_nodes", "monitor_name", "is_remote_name"]

Pointer = Callable[[], int]


def _text(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidArgument("%s must be a str, not %s" % (what, type(value).__name__))
    return value.encode("utf-8")


def start_node(p: Pointer, name: str, cookie: Optional[str], options: Dict[str, Any]) -> None:
    """swerl_node_start; blocks (without the GIL) until EPMD has answered."""
    known = {"listen_host", "listen_port", "epmd_port", "tick_ms", "connect_timeout_ms",
             "max_frame", "start_epmd"}
    unknown = set(options) - known
    if unknown:
        raise InvalidArgument("start_node: unknown option(s) %s" % ", ".join(sorted(unknown)))
    o = _ffi.SwerlNodeOpts()
    lib.swerl_node_opts_init(byref(o))
    keep = []  # the bytes the struct points to live until the call returns
    if cookie is not None:
        keep.append(_text(cookie, "cookie"))
        o.cookie = keep[-1]
    if options.get("listen_host") is not None:
        keep.append(_text(options["listen_host"], "listen_host"))
        o.listen_host = keep[-1]
    for field in ("listen_port", "epmd_port", "tick_ms", "connect_timeout_ms", "max_frame"):
        if options.get(field):
            setattr(o, field, int(options[field]))
    if options.get("start_epmd"):
        o.flags |= _ffi.SWERL_NODE_START_EPMD
    check(lib.swerl_node_start(p(), _text(name, "name"), byref(o)), "start_node")


def node_name(p: Pointer) -> Optional[str]:
    """This node's name, or None when the runtime is not a node."""
    size = quick.swerl_node_name(p(), None, 0)
    if size < 0:
        return None
    buf = ctypes.create_string_buffer(size + 1)
    check(quick.swerl_node_name(p(), buf, len(buf)), "node_name")
    return buf.value.decode("utf-8")


def connect_node(p: Pointer, node: str, timeout: Optional[float]) -> None:
    """swerl_node_connect, without the GIL."""
    ms = 0xFFFFFFFF if timeout is None else max(0, min(int(timeout * 1000), 0xFFFFFFFE))
    check(lib.swerl_node_connect(p(), _text(node, "node"), ms), "connect_node")


def nodes(p: Pointer) -> List[str]:
    """The connected nodes."""
    buf = _ffi.SwerlBuffer()
    check(quick.swerl_node_list(p(), byref(buf)), "nodes")
    try:
        raw = ctypes.string_at(buf.data, buf.len) if buf.len else b""
    finally:
        lib.swerl_buffer_free(byref(buf))
    return [name.decode("utf-8") for name in raw.split(b"\0") if name]


def pid_node(p: Pointer, pid: int) -> str:
    """The node `pid` belongs to."""
    size = check(quick.swerl_pid_node(p(), _pid(pid), None, 0), "pid_node")
    buf = ctypes.create_string_buffer(size + 1)
    check(quick.swerl_pid_node(p(), _pid(pid), buf, len(buf)), "pid_node")
    return buf.value.decode("utf-8")


def is_remote_name(to: Any) -> bool:
    """Whether `to` is a ``(name, node)`` destination."""
    return isinstance(to, tuple) and len(to) == 2 and all(isinstance(x, str) for x in to)


def send_remote(p: Pointer, to: Tuple[str, str], data: bytes, term: bool) -> None:
    """``{name, node} ! data`` (from the calling process inside a callback)."""
    name, node = _text(to[0], "name"), _text(to[1], "node")
    send = quick.swerl_send_remote_term if term else quick.swerl_send_remote
    # Erlang's {Name, Node} ! Msg never fails for another node; only bad
    # arguments (and an unknown name on this node: badarg) raise.
    check(send(p(), name, node, data, len(data)), "send_term" if term else "send")


def monitor_nodes(ctx: int, on: bool) -> None:
    check(quick.swerl_monitor_nodes(ctx, 1 if on else 0), "monitor_nodes")


def monitor_name(ctx: int, name: str, node: str) -> int:
    ref = _ffi.swerl_ref()
    check(quick.swerl_monitor_name(ctx, _text(name, "name"), _text(node, "node"), byref(ref)), "monitor_name")
    return ref.value
