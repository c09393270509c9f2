"""Erlang terms as messages: the C calls behind rt.send_term, ctx.send_term,
Message.term's pids and rt.format_term.

A term message's data is External Term Format (swerl.terms encodes and
decodes it in Python); the library checks it before sending and marks it
SWERL_MESSAGE_TERM. Pids go through the runtime both ways: a swerl.Pid is
written as the runtime's Erlang pid (swerl_term_writer_put_pid), and an
Erlang pid in a received term is read back as the swerl.Pid the runtime has
for it (swerl_term_read): a local one, or an interned remote one.
"""

import ctypes
from ctypes import byref, c_size_t, c_void_p
from typing import Any, Callable, Union

from . import _ffi, terms as _terms
from ._ffi import quick
from .arguments import name as _name, pid as _pid
from .delivery import undelivered
from .distribution import send_remote
from .errors import SwerlError, check
from .message import Pid

__all__ = ["encode", "send_term", "pid_from_term", "pid_to_term", "format_term"]

Pointer = Callable[[], int]


def pid_to_term(p: Pointer, pid: int) -> bytes:
    """The term of `pid` (a pid of the runtime), without the version byte."""
    writer = quick.swerl_term_writer_new(p())
    if not writer:
        raise MemoryError("swerl_term_writer_new")
    try:
        check(quick.swerl_term_writer_put_pid(writer, int(pid)), "send_term")
        data, size = c_void_p(), c_size_t()
        check(quick.swerl_term_writer_bytes(writer, byref(data), byref(size)), "send_term")
        return ctypes.string_at(data.value + 1, size.value - 1)  # type: ignore[operator]
    finally:
        quick.swerl_term_writer_free(writer)


def pid_from_term(p: Pointer, erlang: _terms.ErlangPid) -> Any:
    """The swerl.Pid the runtime has for an Erlang pid; `erlang` itself when
    it has none (the runtime is closed, or its table of remote pids is full)."""
    data = _terms.encode(erlang)
    out = _ffi.SwerlTerm()
    out.size = ctypes.sizeof(out)
    at = c_size_t(0)
    try:
        rc = quick.swerl_term_read(p(), data, len(data), byref(at), byref(out))
    except SwerlError:  # the runtime is closed
        return erlang
    return Pid(out.pid) if rc == 0 and out.pid else erlang


def encode(p: Pointer, value: Any) -> bytes:
    """`value` as a term, its swerl.Pid values as the runtime's pids."""
    return _terms.encode(value, {Pid: lambda pid: pid_to_term(p, pid)})


def send_term(p: Pointer, to: Any, value: Any) -> None:
    """Send `value` as a term to a pid, a name or a (name, node); quiet if
    the process is not alive (swerl.delivery), as rt.send is."""
    data = encode(p, value)
    if isinstance(to, tuple):
        send_remote(p, to, data, term=True)
        return
    if isinstance(to, str):
        rc = quick.swerl_send_named_term(p(), _name(to), data, len(data))
    else:
        rc = quick.swerl_send_term(p(), _pid(to), data, len(data))
    if rc < 0:
        undelivered(rc, to, "send_term")


def format_term(p: Pointer, data: bytes) -> str:
    """A term's bytes as Erlang's ~p prints them."""
    data = bytes(data)
    size = quick.swerl_term_format(p(), data, len(data), None, 0)
    check(size, "format_term")
    buf = ctypes.create_string_buffer(size + 1)
    check(quick.swerl_term_format(p(), data, len(data), buf, len(buf)), "format_term")
    return buf.value.decode("utf-8", "replace")
