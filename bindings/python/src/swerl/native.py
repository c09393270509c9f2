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
"""

import ctypes
from typing import Any, Optional, Union

from . import _ffi

__all__ = ["NativeProcess"]


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
        b = _ffi.SwerlBehavior.from_address(address)
        if b.size < ctypes.sizeof(_ffi.SwerlBehavior) or not b.handle:
            raise ValueError("%#x is not a swerl_behavior (size %d, handle %s)"
                             % (address, b.size, "set" if b.handle else "NULL"))
        self.behavior = ctypes.cast(address, ctypes.POINTER(_ffi.SwerlBehavior))
        self.arg = arg
        self.keep = keep
        self.library: Optional[ctypes.CDLL] = None
        self.name = name or "%#x" % address

    @classmethod
    def load(cls, library: Union[str, ctypes.CDLL], symbol: str,
             arg: Optional[int] = None, keep: Any = None) -> "NativeProcess":
        """The behaviour returned by ``const swerl_behavior *symbol(void)`` in
        `library` (a path or an already loaded ctypes.CDLL)."""
        lib = library if isinstance(library, ctypes.CDLL) else ctypes.CDLL(library)
        try:
            getter = getattr(lib, symbol)
        except AttributeError:
            raise ValueError("%s exports no %s()" % (lib._name, symbol)) from None
        getter.argtypes = []
        getter.restype = ctypes.c_void_p
        address = getter()
        if not address:
            raise ValueError("%s() in %s returned NULL" % (symbol, lib._name))
        self = cls(address, arg=arg, keep=keep, name=symbol)
        self.library = lib
        return self

    def __repr__(self) -> str:
        return "<swerl.NativeProcess %s>" % (self.name,)


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
