"""The dispatcher's hot path: in C (swerl._turns) when it was built, else in
Python, with the same results.

swerl._turns is a small extension module of the package (stable ABI,
Python 3.10 on) built with it when a C compiler and Python's headers are
there; it calls the library that swerl._ffi loaded, through the addresses
bound here. Set SWERL_PURE_PYTHON=1 to run without it (the tests run both).

CtxFields is what a Ctx holds (its context, runtime, validity, thread and
runtime pointer) and its send: the C type, or the Python class below.
"""

import ctypes
import os
from _thread import get_ident
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._ffi import lib, quick
from .delivery import undelivered
from .message import Message, Pid, _KINDS
from .arguments import U64 as _U64

__all__ = ["accelerated", "CtxFields", "drive"]

_send = quick.swerl_send
_PID_TYPES = (int, Pid)

try:
    if os.environ.get("SWERL_PURE_PYTHON") == "1":
        raise ImportError("SWERL_PURE_PYTHON=1")
    from . import _turns
except ImportError:
    _turns = None  # type: ignore[assignment]  # swerl.dispatcher runs its loop in Python


class _PythonCtxFields:
    """swerl._turns.CtxFields in Python: the fields and ctx.send."""

    __slots__ = ("_ptr", "runtime", "_valid", "_thread", "_rt")

    _ptr: int
    runtime: Any
    _valid: Union[bool, int]
    _thread: int
    _rt: int

    def send(self, to: Any, data: bytes) -> None:
        """Send from this process (the receiver sees it as the sender). A
        send to a process that is not alive is quiet (a dead letter)."""
        if self._valid and type(data) is bytes and type(to) in _PID_TYPES and 0 < to < _U64 \
                and get_ident() == self._thread:
            rc = _send(self._rt, to, data, len(data))
            if rc < 0:
                undelivered(rc, to, "send")
        else:
            self._send_other(to, data)  # type: ignore[attr-defined]

accelerated = _turns is not None
if TYPE_CHECKING:  # the one class to mypy (swerl/_turns.pyi): the two have the same fields
    from ._turns import CtxFields
else:
    CtxFields = _turns.CtxFields if _turns is not None else _PythonCtxFields
drive: Optional[Callable[..., Optional[int]]] = None

if _turns is not None:
    def _address(fn: Any) -> int:
        return ctypes.cast(fn, ctypes.c_void_p).value or 0

    _turns.bind(_address(lib.swerl_group_next), _address(lib.swerl_group_finish), _address(lib.swerl_send), Message, Pid, _KINDS, undelivered)
    drive = _turns.drive
