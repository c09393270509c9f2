"""Checks and conversions of what the API is given: a pid, bytes, a name,
seconds. Each raises TypeError for a wrong type and swerl.InvalidArgument
for a value out of range, before anything reaches C. Internal: shared by
swerl.runtime and swerl.supervisor."""

from typing import Optional, Union

from . import _ffi
from .errors import InvalidArgument
from .shared_binary import SharedBinary

__all__ = ["U64", "U32", "pid", "data", "detail", "name", "milliseconds", "count"]

U64 = 1 << 64
U32 = 1 << 32


def pid(value: object) -> int:
    """`value` if it can be a pid (an int in the uint64 range)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("a pid is an int (swerl.Pid), not %s" % type(value).__name__)
    if not 0 <= value < U64:
        raise InvalidArgument("pid %d is out of range" % value)
    return value


def data(value: object, what: str = "data") -> bytes:
    """`value` as bytes (a bytearray, memoryview or swerl.SharedBinary copied)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, SharedBinary):
        return value.tobytes()  # swerl.InvalidArgument once released
    raise TypeError("%s must be bytes, bytearray, memoryview or swerl.SharedBinary, not %s"
                    % (what, type(value).__name__))


def detail(value: Union[bytes, str]) -> bytes:
    """An exit detail: a str as UTF-8, bytes as they are."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    return data(value, "detail")


def name(value: object) -> bytes:
    """A registered name as C takes it: 1..SWERL_NAME_MAX bytes without NUL."""
    if isinstance(value, str):
        raw = value.encode("utf-8")
    elif isinstance(value, bytes):
        raw = value
    else:
        raise TypeError("a name is a str, not %s" % type(value).__name__)
    if not 0 < len(raw) <= _ffi.SWERL_NAME_MAX or b"\0" in raw:
        raise InvalidArgument("a name is 1..%d bytes without NUL: %r" % (_ffi.SWERL_NAME_MAX, raw))
    return raw


def milliseconds(seconds: Optional[float], what: str = "timeout") -> int:
    """Seconds (None: infinity) -> milliseconds for C."""
    if seconds is None:
        return _ffi.SWERL_INFINITY
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("%s is in seconds (a number or None), not %s" % (what, type(seconds).__name__))
    if seconds < 0:
        raise InvalidArgument("%s must not be negative: %r" % (what, seconds))
    ms = int(round(seconds * 1000))
    if ms >= _ffi.SWERL_INFINITY:
        raise InvalidArgument("%s is too long: %r s (use None for no timeout)" % (what, seconds))
    return ms


def count(value: object, what: str, least: int = 0) -> int:
    """An int for a uint32_t field, at least `least`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s is an int, not %r" % (what, value))
    if not least <= value < U32:
        raise InvalidArgument("%s must be %d..%d, not %d" % (what, least, U32 - 1, value))
    return value
