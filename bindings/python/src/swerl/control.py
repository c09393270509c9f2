"""What a handler returns to the runtime: swerl.CONTINUE, SKIP, STOP, and
init's IGNORE.

They are values of their own type, not ints: a CALL handler that returns
data by mistake (``return self.n`` instead of bytes) would otherwise be
read as a control code (0: no reply, the caller times out; 1: SKIP, the
call sits in the mailbox; 2: STOP, the server exits *normally*). Here any
return value that is not one of these, None or (for a CALL) bytes is a
TypeError crash that says what to return. The C codes stay in swerl._ffi.
"""

from typing import Any

from . import _ffi
from .shared_binary import SharedBinary

__all__ = ["Control", "CONTINUE", "SKIP", "STOP", "IGNORE", "REPLY_TYPES"]

#: What a CALL's handler may return as the reply (a copy; a SharedBinary by
#: reference to a process that waits for it, swerl_reply_binary).
REPLY_TYPES = (bytes, bytearray, memoryview, SharedBinary)


class Control:
    """One of swerl.CONTINUE, SKIP, STOP, IGNORE (compare with ``is``)."""

    __slots__ = ("name", "code")

    def __init__(self, name: str, code: int) -> None:
        self.name = name
        self.code = code  # the C value (swerl.h); internal

    def __repr__(self) -> str:
        return "swerl." + self.name

    def __reduce__(self) -> str:
        return self.name  # pickled as the module's singleton


CONTINUE = Control("CONTINUE", _ffi.SWERL_CONTINUE)  #: message consumed: wait for the next one
SKIP = Control("SKIP", _ffi.SWERL_SKIP)  #: selective receive: leave it in the mailbox, in its place
STOP = Control("STOP", _ffi.SWERL_STOP)  #: exit (reason NORMAL, or the one given to ctx.fail)
IGNORE = Control("IGNORE", _ffi.SWERL_IGNORE)  #: init only: exit NORMAL at once


def init_code(owner: str, result: Any) -> int:
    """The C value of init's `result` (None or IGNORE); TypeError otherwise."""
    if result is None:
        return _ffi.SWERL_CONTINUE
    if result is IGNORE:
        return _ffi.SWERL_IGNORE
    raise TypeError("%s.init returned %r: return None to go on, or swerl.IGNORE to exit at once"
                    % (owner, result))


def bad_handle_result(result: Any, is_call: bool) -> TypeError:
    """The crash of a handle that returned `result`, saying what to return."""
    if is_call:
        return TypeError(
            "handle returned %r for a CALL: return bytes (the reply), None (reply later with "
            "ctx.reply/rt.reply), swerl.SKIP or swerl.STOP" % (result,))
    if result is IGNORE:
        return TypeError("handle returned swerl.IGNORE, which only init returns: return None or "
                         "swerl.CONTINUE, swerl.SKIP or swerl.STOP")
    kind = "bytes, which only answer a CALL" if isinstance(
        result, REPLY_TYPES) else "a %s" % type(result).__name__
    return TypeError("handle returned %r (%s): return None or swerl.CONTINUE (go on), swerl.SKIP "
                     "(leave the message in the mailbox) or swerl.STOP (exit)" % (result, kind))
