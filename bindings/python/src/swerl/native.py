"""Processes implemented in C (or Swift, Rust, ... through the C ABI).

A shared object that links libswerl.so.1 and exports a ``swerl_behavior``
can run its processes in a Python program's runtime, beside Python
processes, under the same supervisors::

    counter = swerl.NativeProcess.load("./libworkers.so", "counter_behavior")
    pid = rt.spawn(counter)
    sup = rt.start_supervisor(swerl.SupervisorSpec(children=[
        swerl.ChildSpec("counter", counter),
    ]))

The loader gives the shared object the library Python already loaded (the
same soname), so there is one runtime and its processes are ordinary
processes: messages, links, monitors and calls work across languages.

What can be checked is checked before anything is read or called, so a
wrong symbol is a ValueError, not a crashed interpreter: the symbol is a
function to call (in executable memory) or a ``swerl_behavior`` variable;
the behaviour is readable memory whose ``size`` is sizeof(swerl_behavior)
or more (a newer header's larger struct) and whose ``handle`` (and
``init``/``terminate`` when set) point into executable memory. (A function
with another signature cannot be told from the right one: it is called.)
"""

import ctypes
import struct
from typing import Any, Optional, Union

from . import _ffi, memory_map

__all__ = ["NativeProcess"]

_BEHAVIOR_SIZE = ctypes.sizeof(_ffi.SwerlBehavior)
_BEHAVIOR_LAYOUT = struct.Struct("@IPPP")  # size, init, handle, terminate: C's alignment
_MAX_BEHAVIOR_SIZE = 4096  # a struct that grows by functions never gets near this
assert _BEHAVIOR_LAYOUT.size == _BEHAVIOR_SIZE


class NativeProcess:
    """A ``const swerl_behavior *`` and the ``arg`` its init receives.

    ``behavior`` is the struct's address (an int or a ctypes pointer).
    ``arg`` is passed to init unchanged at every start (and restart); it is
    an address (int) or None. ``keep`` holds whatever owns that memory, so
    it lives as long as this object. The behaviour must stay loaded while
    any runtime can call it: keep the library (``library``) alive, which
    this object does when built by :meth:`load`."""

    def __init__(self, behavior: Any, arg: Optional[int] = None, keep: Any = None,
                 name: Optional[str] = None) -> None:
        address = _address(behavior)
        if not address:
            raise ValueError("NativeProcess needs the address of a swerl_behavior, not %r"
                             % (behavior,))
        _check_behavior(address, name or "%#x" % address)
        self.behavior = ctypes.cast(address, ctypes.POINTER(_ffi.SwerlBehavior))
        self.arg = arg
        self.keep = keep
        self.library: Optional[ctypes.CDLL] = None
        self.name = name or "%#x" % address

    @classmethod
    def load(cls, library: Union[str, ctypes.CDLL], symbol: str,
             arg: Optional[int] = None, keep: Any = None) -> "NativeProcess":
        """The behaviour returned by ``const swerl_behavior *symbol(void)`` in
        `library` (a path or an already loaded ctypes.CDLL), or the
        ``const swerl_behavior symbol`` variable itself."""
        lib = library if isinstance(library, ctypes.CDLL) else ctypes.CDLL(library)
        try:
            getter = getattr(lib, symbol)
        except AttributeError:
            raise ValueError("%s exports no %s()" % (lib._name, symbol)) from None
        where = "%s in %s" % (symbol, lib._name)
        symbol_address = ctypes.cast(getter, ctypes.c_void_p).value or 0
        if _is_data(symbol_address):
            self = cls(symbol_address, arg=arg, keep=keep, name="%s (a variable)" % where)
        else:
            getter.argtypes = []
            getter.restype = ctypes.c_void_p
            address = getter()
            if not address:
                raise ValueError("%s() returned NULL" % where)
            self = cls(address, arg=arg, keep=keep, name="%s()" % where)
        self.name = symbol
        self.library = lib
        return self

    def __repr__(self) -> str:
        return "<swerl.NativeProcess %s>" % (self.name,)


def _is_data(address: int) -> bool:
    """True if `address` is known not to be code (a variable)."""
    if not memory_map.available():
        return False
    found = memory_map.mapping(address)
    return found is not None and not found.executable


def _check_behavior(address: int, what: str) -> None:
    """ValueError unless a swerl_behavior can be read at `address`."""
    if memory_map.available():
        first, last = memory_map.mapping(address), memory_map.mapping(address + _BEHAVIOR_SIZE - 1)
        if first is None or last is None or not (first.readable and last.readable):
            raise ValueError("%s is not a swerl_behavior: %#x is not readable memory" % (what, address))
    size, init, handle, terminate = _BEHAVIOR_LAYOUT.unpack_from(_ffi.MEMORY, address)
    if not _BEHAVIOR_SIZE <= size <= _MAX_BEHAVIOR_SIZE or not handle:
        raise ValueError(
            "%s is not a swerl_behavior (size %d, handle %s): expected size = "
            "sizeof(swerl_behavior) = %d and a handle function" % (
                what, size, "%#x" % handle if handle else "NULL", _BEHAVIOR_SIZE))
    for field, value in (("handle", handle), ("init", init), ("terminate", terminate)):
        if value and not _is_code(value):
            raise ValueError("%s is not a swerl_behavior: its %s (%#x) does not point to code"
                             % (what, field, value))


def _is_code(address: int) -> bool:
    if not memory_map.available():
        return True  # cannot tell
    found = memory_map.mapping(address)
    return found is not None and found.executable


def _address(behavior: Any) -> int:
    if isinstance(behavior, int) and not isinstance(behavior, bool):
        return behavior
    if isinstance(behavior, ctypes.c_void_p):
        return behavior.value or 0
    if isinstance(behavior, ctypes._Pointer):
        return ctypes.cast(behavior, ctypes.c_void_p).value or 0
    if isinstance(behavior, ctypes.Structure):
        return ctypes.addressof(behavior)
    raise TypeError("a swerl_behavior address is an int or a ctypes pointer, not %r" % (behavior,))
