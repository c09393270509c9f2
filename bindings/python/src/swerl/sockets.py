"""Sockets owned by processes (swerl.h "Sockets"): the options, and the
calls Ctx and Runtime make. A socket is an int id; its events come to its
owner as messages of the SOCKET_* kinds, with the socket in ``msg.ref``::

    class Echo(swerl.Process):
        def init(self, ctx):
            self.listener = ctx.listen("127.0.0.1:0", active=1000)

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.SOCKET_ACCEPTED:
                ctx.activate(msg.ref)                 # one message more
            elif msg.kind == swerl.Kind.SOCKET_DATA:
                ctx.socket_send(msg.ref, msg.data)
                ctx.activate(msg.ref)
"""

import enum
from ctypes import byref, c_uint64, sizeof
from typing import Any, Dict, Optional

from . import _ffi
from ._ffi import lib, quick
from .arguments import data as _bytes
from .errors import InvalidArgument, check


class Packet(enum.IntEnum):
    """Framing done by the runtime (gen_tcp's ``{packet, N}``)."""

    RAW = 0     # what each read got
    P1 = 1      # a 1-byte big-endian length, then the payload
    P2 = 2
    P4 = 4
    LINE = 8    # one line, its b"\\n" included


#: ``activate(s, ACTIVE_ONCE)``: one message more, no SOCKET_PASSIVE after it.
ACTIVE_ONCE = -1

_FLAGS = {"nodelay": 1 << 0, "keepalive": 1 << 1, "reuseaddr": 1 << 2, "half_close": 1 << 3,
          "ipv6_only": 1 << 4}
_NUMBERS = ("max_frame", "backlog", "max_connections", "recv_buffer", "send_buffer", "send_queue_max")

#: setopt names -> SWERL_SO_*
OPTIONS = {"packet": 1, "max_frame": 2, "send_queue_max": 3, "nodelay": 4, "keepalive": 5,
           "recv_buffer": 6, "send_buffer": 7, "half_close": 8}


def options(**given: Any) -> "_ffi.SwerlSocketOpts":
    """swerl_socket_opts from keyword arguments: packet, active, the flags
    (nodelay, keepalive, reuseaddr, half_close, ipv6_only as booleans) and
    the numbers (max_frame, backlog, max_connections, recv_buffer,
    send_buffer, send_queue_max). Unknown names are swerl.InvalidArgument."""
    o = _ffi.SwerlSocketOpts()
    quick.swerl_socket_opts_init(byref(o))
    for name, value in given.items():
        if name == "packet":
            o.packet = int(Packet(value))
        elif name == "active":
            o.active = int(value)
        elif name in _FLAGS:
            o.flags = (o.flags | _FLAGS[name]) if value else (o.flags & ~_FLAGS[name])
        elif name in _NUMBERS:
            setattr(o, name, int(value))
        else:
            raise InvalidArgument("unknown socket option %r (known: packet, active, %s, %s)"
                                  % (name, ", ".join(_FLAGS), ", ".join(_NUMBERS)))
    return o


def _text(address: str) -> bytes:
    if not isinstance(address, str):
        raise InvalidArgument("a socket address is a str: \"127.0.0.1:8080\", \"[::1]:80\" or \"unix:/path\"")
    return address.encode()


# listen and connect may resolve a host name: they let go of the GIL.
def listen(rt: Any, owner: int, address: str, given: Dict[str, Any]) -> int:
    out = c_uint64()
    check(lib.swerl_socket_listen(rt, owner, _text(address), byref(options(**given)), byref(out)),
          "listen")
    return out.value


def connect(ctx: int, address: str, timeout: Optional[float], given: Dict[str, Any]) -> int:
    ms = 0xFFFFFFFF if timeout is None else max(0, min(int(timeout * 1000), 0xFFFFFFFE))
    out = c_uint64()
    check(lib.swerl_socket_connect(ctx, _text(address), ms, byref(options(**given)), byref(out)),
          "connect")
    return out.value


def send(ctx: int, socket: int, data: bytes) -> None:
    data = _bytes(data)
    check(quick.swerl_socket_send(ctx, socket, data, len(data)), "socket_send")


def activate(ctx: int, socket: int, n: int) -> None:
    check(quick.swerl_socket_activate(ctx, socket, n), "activate")


def close(ctx: int, socket: int) -> None:
    check(quick.swerl_socket_close(ctx, socket), "socket_close")


def shutdown(ctx: int, socket: int) -> None:
    check(quick.swerl_socket_shutdown(ctx, socket), "socket_shutdown")


def set_owner(ctx: int, socket: int, pid: int) -> None:
    check(quick.swerl_socket_set_owner(ctx, socket, pid), "set_socket_owner")


def setopt(ctx: int, socket: int, name: str, value: int) -> None:
    if name not in OPTIONS:
        raise InvalidArgument("unknown socket option %r (known: %s)" % (name, ", ".join(OPTIONS)))
    check(quick.swerl_socket_setopt(ctx, socket, OPTIONS[name], int(value)), "setopt")


def info(rt: Any, socket: int) -> Optional[Dict[str, Any]]:
    """A snapshot of the socket, or None when it is not open."""
    out = _ffi.SwerlSocketInfo()
    out.size = sizeof(out)
    rc = quick.swerl_socket_info_get(rt, socket, byref(out))
    if rc == -29:  # ENOSOCKET
        return None
    check(rc, "socket_info")
    values: Dict[str, Any] = {field[0]: getattr(out, field[0]) for field in out._fields_ if field[0] != "size"}
    values["type"] = "listener" if out.type == 0 else "connection"
    values["local"] = out.local.decode("utf-8", "replace")
    values["peer"] = out.peer.decode("utf-8", "replace")
    values["packet"] = Packet(out.packet)
    return values
