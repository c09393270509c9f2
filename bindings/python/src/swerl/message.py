"""What a handler sees: a Message, its Kind, an exit Reason, a Pid."""

import ctypes
import enum
from typing import Any, Dict, NamedTuple, Union

from . import _ffi, terms as _terms
from ._ffi import quick
from .shared_binary import SharedBinary, kept

__all__ = ["Kind", "Reason", "Pid", "Ref", "Message", "TermBytes"]


class Kind(enum.IntEnum):
    """Message kinds (``swerl_message.kind``)."""

    MESSAGE = 0
    EXIT = 1
    DOWN = 2
    TIMEOUT = 3
    CALL = 4
    REPLY = 5
    SOCKET_DATA = 6
    SOCKET_CLOSED = 7
    SOCKET_PASSIVE = 8
    SOCKET_ACCEPTED = 9
    SOCKET_CONNECTED = 10
    SOCKET_WRITABLE = 11


class Reason(enum.IntEnum):
    """Exit reasons. Codes below USER are the library's; ``Reason(x)``
    works for any other code too (a user reason from ctx.fail or rt.exit,
    or one a newer library adds), as a pseudo-member named ``USER+n`` for
    ``USER + n`` (``REASON_x`` below USER): so a DOWN handler can always
    write ``Reason(msg.reason).name``."""

    NORMAL = 0
    SHUTDOWN = 1
    KILL = 2
    KILLED = 3
    NOPROC = 4
    ERROR = 5
    MAILBOX_FULL = 6
    NOCONNECTION = 7  #: the node connection of a link or monitor went down
    USER = 256

    @classmethod
    def _missing_(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return None  # Enum raises its ValueError
        member = int.__new__(cls, value)
        member._name_ = "USER+%d" % (value - 256) if value > 256 else "REASON_%d" % value
        member._value_ = value
        return member


_REASONS: Dict[int, Reason] = {int(r): r for r in Reason}


def reason(code: int) -> Reason:
    """The Reason of an exit code (a pseudo-member for codes Reason does not name)."""
    member = _REASONS.get(code)
    return member if member is not None else Reason(code)


class Pid(int):
    """A process id (an int). 0 is never a pid. Printed as Erlang prints
    pids and as the runtime's own reports do, ``<node.slot.generation>``
    (swerl_pid_format: the bits are the library's)."""

    __slots__ = ()

    def __repr__(self) -> str:
        buf = ctypes.create_string_buffer(_ffi.SWERL_PID_FORMAT_MAX)
        quick.swerl_pid_format(int(self), buf, len(buf))
        return buf.value.decode("ascii", "replace")


Ref = int  #: monitor, timer and call references are plain ints


class TermBytes(bytes):
    """The data of a term message (flags SWERL_MESSAGE_TERM): its bytes as
    they came (External Term Format), marked. A bytes object in every other
    way; ``Message.term`` decodes it."""

    runtime: Any = None  #: the swerl.Runtime it came through: its pids become swerl.Pid


class Message(NamedTuple):
    """A message as a handler sees it: a copy, valid after the callback
    (an immutable tuple: kind, reason, sender, ref, data). For EXIT and DOWN
    ``reason`` is a Reason (user reasons included); for REPLY 0 or an error
    code. A term message's ``data`` is a TermBytes (bytes, marked) and
    ``term`` its Python value, for ``match msg.term: case ("get", key): ...``.
    A shared binary's (sent as a swerl.SharedBinary) is a SharedBinary of
    the handler's own: a reference to the sender's bytes, not a copy."""

    kind: Kind
    reason: Union[Reason, int]
    sender: Pid
    ref: int
    data: Union[bytes, SharedBinary]

    @property
    def is_term(self) -> bool:
        """Whether the data is an Erlang term (sent with send_term, or by an Erlang node)."""
        return type(self.data) is TermBytes

    @property
    def term(self) -> Any:
        """The data's Python value when the message is a term (decoded at
        each read: keep it in a variable), else the data bytes as they are.
        Raises swerl.terms.DecodeError for bytes that are not a term."""
        data = self.data
        if type(data) is not TermBytes:
            return data
        runtime = data.runtime
        return _terms.decode(data, pid=runtime._pid_of_term if runtime is not None else None)

    @property
    def from_(self) -> Pid:
        """The sender (``from`` in C)."""
        return self.sender

    def __repr__(self) -> str:
        return "Message(kind=%s, reason=%r, sender=%r, ref=%d, data=%r)" % (
            getattr(self.kind, "name", self.kind), self.reason, self.sender, self.ref, self.data)


_KINDS = {int(k): k for k in Kind}
_read_message = _ffi.MESSAGE_LAYOUT.unpack_from
_MEMORY = _ffi.MEMORY
_new_tuple = tuple.__new__
_TERM = _ffi.SWERL_MESSAGE_TERM
_SHARED = _ffi.SWERL_MESSAGE_SHARED


def read_message(address: int, runtime: Any = None) -> Message:
    """A copy of the swerl_message at `address` (valid during the callback);
    a term's data as TermBytes that know `runtime` (a swerl.Runtime)."""
    kind, code, sender, ref, data, n, flags = _read_message(_MEMORY, address)
    if kind == 1 or kind == 2:  # EXIT, DOWN: an exit reason
        code = _REASONS.get(code) or reason(code)
    if flags:
        payload = flagged_payload(flags, address, data, n, runtime)
    else:
        payload = _MEMORY[data:data + n].tobytes() if n else b""
    return _new_tuple(Message, (_KINDS.get(kind, kind), code, Pid(sender), ref, payload))


def flagged_payload(flags: int, address: int, data: int, n: int, runtime: Any) -> Union[bytes, SharedBinary]:
    """The data of the swerl_message at `address` whose `flags` are not 0,
    during its callback (the plain case, a bytes copy, stays inline where
    messages are read): a shared binary's as a SharedBinary (a reference,
    no copy), a term's as TermBytes that know `runtime`."""
    if flags & _SHARED:
        binary = kept(address, data, n)
        if binary is not None:
            return binary
    payload = _MEMORY[data:data + n].tobytes() if n else b""
    if flags & _TERM:
        payload = TermBytes(payload)
        payload.runtime = runtime
    return payload
