"""Shared binaries: immutable bytes sent by reference (Erlang's refc binaries).

A swerl.SharedBinary is one copy of some bytes in the library's memory
(a ``swerl_binary``). Sending it sends a reference: a fan-out to 1,000
processes holds one copy, and a Python receiver gets a SharedBinary of its
own (a reference taken with swerl_binary_keep, no copy of the bytes), which
it may keep past its handler, or send on. The bytes are freed when the
last reference goes, whoever holds it.

One SharedBinary object owns one counted reference, held by a _Reference;
its read-only views (``view()``) hold that same _Reference, so the bytes
outlive ``release()`` for as long as a view does, as a bytes object lives
on behind a memoryview. The reference is let go when the last Python
object holding it goes: CPython's reference count decides, so two threads
releasing at once can never let go of it twice.
"""

import ctypes
import sys
from ctypes import byref, c_void_p
from typing import Any, Optional, Union

from . import _ffi
from ._ffi import lib, quick
from .errors import InvalidArgument, check

__all__ = ["SharedBinary", "SHARED_THRESHOLD", "for_many", "kept"]

#: A fan-out (send_many) of at least this many bytes goes as one SharedBinary.
#: About here a copy costs what a shared message's bookkeeping in Python
#: does (a Python ping-pong of 64 KiB takes about as long either way, of
#: 1 MiB a tenth as long shared): above it sharing saves time as well as
#: memory; below it the receivers keep getting bytes, which every bytes
#: API takes.
SHARED_THRESHOLD = 64 * 1024

_release_binary = quick.swerl_binary_release
_keep = quick.swerl_binary_keep


class _Window(ctypes.Array):  # type: ignore[type-arg]  # (ctypes.Array[...] needs 3.9)
    """Bytes from an address on, as many as a view is cut to: one array
    type for every length (ctypes keeps each array type it makes). A view
    of one keeps the window alive, and the window its `reference`."""

    _type_ = ctypes.c_ubyte
    _length_ = sys.maxsize // 2
    reference: Any = None


# The process's memory as unsigned bytes (format "B", which memoryview
# compares item by item in C: swerl._ffi.MEMORY's "<B" goes through struct).
# Only a binary's bytes, a reference held, are ever read through it.
_MEMORY = memoryview(_Window.from_address(0)).cast("B").toreadonly()


class _Reference:
    """One counted reference to a swerl_binary, let go when this object goes."""

    __slots__ = ("binary", "data", "size")

    def __init__(self, binary: int, data: int, size: int) -> None:
        self.binary = binary
        self.data = data
        self.size = size

    def __del__(self, _release: Any = _release_binary) -> None:  # bound now: it may run at exit
        _release(self.binary)

    def __reduce__(self) -> Any:
        raise TypeError("a shared binary's reference cannot be pickled or copied")


class SharedBinary:
    """Immutable bytes the runtime sends by reference (``swerl_binary``).

    ``SharedBinary(data)`` copies any bytes-like `data` once into a new
    binary (a SharedBinary gives another reference to the same bytes, no
    copy). rt.send, ctx.send and their named forms send it by reference: a
    fan-out holds one copy. A Python receiver's ``msg.data`` is then a
    SharedBinary of its own, with no copy, valid after the handler.

    Reads like bytes: ``len(b)``, ``bytes(b)``, ``b[i]`` (an int),
    ``b[i:j]`` (bytes), ``==`` against bytes-like objects and other
    SharedBinaries, hashing as bytes. ``view()`` is a read-only memoryview
    with no copy. ``release()`` (or a ``with`` block) lets go of this
    object's reference now rather than when it is collected; the bytes are
    freed once every reference is gone, a view's included. Any use after
    release raises swerl.InvalidArgument, except ``==`` (a released binary
    equals only itself, as a released memoryview) and ``release()`` itself.
    """

    __slots__ = ("_reference", "__weakref__")

    def __init__(self, data: Any) -> None:
        if isinstance(data, SharedBinary):
            held = data._held()
            self._reference: Optional[_Reference] = _Reference(
                quick.swerl_binary_retain(held.binary), held.data, held.size)
        elif type(data) is bytes:
            self._reference = _copied(data)
        else:
            self._reference = _filled(_byte_view(data, "a SharedBinary's data"))

    def _held(self) -> _Reference:
        """This object's reference, for the caller to hold while it reads
        the bytes or passes the binary to C (package-internal)."""
        reference = self._reference
        if reference is None:
            raise InvalidArgument("this swerl.SharedBinary was released: it cannot be read or sent")
        return reference

    @property
    def released(self) -> bool:
        """Whether release() was called."""
        return self._reference is None

    @property
    def address(self) -> int:
        """Where the bytes are (every reference to a binary sees the same address)."""
        return self._held().data

    def release(self) -> None:
        """Let go of this object's reference (idempotent); the bytes are
        freed when no other reference (a message, a receiver, a view) holds them."""
        self._reference = None

    def __enter__(self) -> "SharedBinary":
        self._held()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __len__(self) -> int:
        return self._held().size

    def tobytes(self) -> bytes:
        """A bytes copy."""
        held = self._held()
        return _MEMORY[held.data:held.data + held.size].tobytes()

    __bytes__ = tobytes

    def view(self) -> memoryview:
        """A read-only memoryview of the bytes, no copy. It keeps them
        alive as long as it lives, even after release()."""
        held = self._held()
        if not held.size:
            return memoryview(b"")
        window = _Window.from_address(held.data)
        window.reference = held  # the view keeps the array, the array the reference
        return memoryview(window).cast("B")[:held.size].toreadonly()

    # Python 3.12+ (PEP 688): memoryview(b) and every buffer consumer take it.
    def __buffer__(self, flags: int) -> memoryview:
        return self.view()

    def __getitem__(self, key: Any) -> Any:
        held = self._held()
        item = _MEMORY[held.data:held.data + held.size][key]
        return item.tobytes() if isinstance(key, slice) else item

    def __eq__(self, other: Any) -> bool:
        mine = self._reference
        if isinstance(other, SharedBinary):
            theirs = other._reference
            if mine is None or theirs is None:
                return self is other
            if mine.data == theirs.data:
                return True
            return _MEMORY[mine.data:mine.data + mine.size] == _MEMORY[theirs.data:theirs.data + theirs.size]
        try:
            view = memoryview(other)
        except TypeError:
            return NotImplemented
        if mine is None:
            return False
        with view:
            if view.nbytes != mine.size:
                return False
            if view.c_contiguous:
                return _MEMORY[mine.data:mine.data + mine.size] == view.cast("B")
            return self.tobytes() == view.tobytes()

    def __hash__(self) -> int:
        return hash(self.tobytes())  # as the equal bytes hash

    def __reduce__(self) -> Any:
        return SharedBinary, (self.tobytes(),)  # a pickle carries the bytes

    def __repr__(self) -> str:
        held = self._reference
        if held is None:
            return "<swerl.SharedBinary released>"
        return "<swerl.SharedBinary %d bytes at %#x>" % (held.size, held.data)


def _byte_view(data: Any, what: str) -> memoryview:
    """`data`'s bytes as a flat view of unsigned bytes, or TypeError."""
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError("%s must be bytes-like (bytes, bytearray, memoryview, an array), not %s"
                        % (what, type(data).__name__)) from None
    if not view.c_contiguous:
        return memoryview(view.tobytes())
    return view.cast("B")


def _copied(data: bytes) -> _Reference:
    """A new binary holding a copy of `data` (the copy drops the GIL)."""
    out = c_void_p()
    check(lib.swerl_binary_copy(data, len(data), byref(out)), "SharedBinary")
    binary = out.value or 0
    return _Reference(binary, quick.swerl_binary_data(binary) or 0, len(data))


def _filled(view: memoryview) -> _Reference:
    """A new binary filled from `view` (written before anyone else can see it)."""
    size = view.nbytes
    out, where = c_void_p(), c_void_p()
    check(quick.swerl_binary_new(size, byref(out), byref(where)), "SharedBinary")
    reference = _Reference(out.value or 0, where.value or 0, size)
    if size:
        memoryview(_Window.from_address(reference.data)).cast("B")[:size] = view
    return reference


def for_many(data: Any) -> Union[bytes, SharedBinary]:
    """What a fan-out sends of `data`: a SharedBinary as it is; a new one
    (the caller releases it) from SHARED_THRESHOLD bytes on; else bytes."""
    if isinstance(data, SharedBinary):
        return data
    if type(data) is bytes:
        return SharedBinary(data) if len(data) >= SHARED_THRESHOLD else data
    view = _byte_view(data, "data")
    return SharedBinary(view) if view.nbytes >= SHARED_THRESHOLD else view.tobytes()


def kept(message: int, data: int, size: int) -> Optional[SharedBinary]:
    """Inside a handler: the shared binary the swerl_message at `message`
    carries (its bytes at `data`, `size` long), as a reference of its own
    (swerl_binary_keep: no copy); None if the library refuses (never for a
    message it flagged SWERL_MESSAGE_SHARED)."""
    out = c_void_p()
    if _keep(message, byref(out)) < 0:
        return None
    reference = _Reference(out.value or 0, data, size)  # owned at once: let go of if what follows fails
    binary = SharedBinary.__new__(SharedBinary)
    binary._reference = reference
    return binary
