"""Erlang terms in Python: External Term Format (what term_to_binary writes
and Erlang distribution carries) to and from Python values, so a handler can
match what an Erlang or Elixir process sent::

    match swerl.terms.decode(data):
        case ("get", key):          # {get, Key}: atoms compare equal to str
            ...
        case ("put", key, value):
            ...

Python -> Erlang: Atom -> atom, bool -> true/false, int -> integer (any
size), float -> float, bytes and str -> binary (str as UTF-8, as Elixir's
strings), tuple -> tuple, list -> list, dict -> map, and the classes below.
Erlang -> Python: the same way back (a binary is bytes; a string written as
a list of bytes is a list of ints, as in Erlang). Decoding untrusted bytes
is bounded as the runtime's codec is: nesting depth, every count checked
against the bytes left, atom length.
"""

import struct
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

VERSION = 131
MAX_DEPTH = 512


class Atom(str):
    """An Erlang atom: a str, so ``Atom("ok") == "ok"`` and match patterns
    written with strings match it."""

    def __repr__(self) -> str:
        return "Atom(%s)" % str.__repr__(self)


@dataclass(frozen=True)
class ErlangPid:
    node: str
    id: int
    serial: int
    creation: int


@dataclass(frozen=True)
class ErlangRef:
    node: str
    creation: int
    ids: Tuple[int, ...]


@dataclass(frozen=True)
class ErlangPort:
    node: str
    id: int
    creation: int


@dataclass(frozen=True)
class Export:
    """``fun Module:Function/Arity``."""
    module: str
    function: str
    arity: int


@dataclass(frozen=True)
class BitString:
    """A bitstring whose last byte holds `bits` bits (1..7), high bits first."""
    data: bytes
    bits: int


@dataclass(frozen=True)
class ImproperList:
    """``[a, b | tail]`` with a tail that is not a list."""
    elements: Tuple[Any, ...]
    tail: Any


class DecodeError(ValueError):
    """The bytes are not a term: where and why."""


# --- encoding ---------------------------------------------------------------

Custom = Optional[Mapping[type, Callable[[Any], bytes]]]


def encode(value: Any, custom: Custom = None) -> bytes:
    """The term of `value`, as term_to_binary writes it (version byte first).
    `custom` maps a type (exactly: not its subclasses) to a function giving
    the term of a value of it, without the version byte: how swerl.Pid, an
    int to Python, becomes a pid (rt.send_term and ctx.send_term pass it)."""
    out = bytearray([VERSION])
    _encode(value, out, 0, custom)
    return bytes(out)


def _atom(name: str, out: bytearray) -> None:
    data = name.encode("utf-8")
    if len(data) <= 255:
        out += bytes([119, len(data)]) + data          # SMALL_ATOM_UTF8_EXT
    else:
        out += struct.pack(">BH", 118, len(data)) + data  # ATOM_UTF8_EXT


def _encode(value: Any, out: bytearray, depth: int, custom: Custom = None) -> None:
    if depth > MAX_DEPTH:
        raise ValueError("a value nested deeper than %d" % MAX_DEPTH)
    if custom is not None and type(value) in custom:
        out += custom[type(value)](value)
    elif isinstance(value, bool):
        _atom("true" if value else "false", out)
    elif isinstance(value, Atom):
        _atom(value, out)
    elif isinstance(value, int):
        if 0 <= value <= 255:
            out += bytes([97, value])
        elif -2**31 <= value < 2**31:
            out += struct.pack(">Bi", 98, value)
        else:
            magnitude = abs(value).to_bytes((abs(value).bit_length() + 7) // 8, "little")
            head = bytes([110, len(magnitude)]) if len(magnitude) <= 255 else struct.pack(">BI", 111, len(magnitude))
            out += head + bytes([1 if value < 0 else 0]) + magnitude
    elif isinstance(value, float):
        out += struct.pack(">Bd", 70, value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        out += struct.pack(">BI", 109, len(data)) + data
    elif isinstance(value, str):
        data = value.encode("utf-8")
        out += struct.pack(">BI", 109, len(data)) + data
    elif isinstance(value, tuple):
        out += bytes([104, len(value)]) if len(value) <= 255 else struct.pack(">BI", 105, len(value))
        for element in value:
            _encode(element, out, depth + 1, custom)
    elif isinstance(value, list):
        _list(value, None, out, depth, custom)
    elif isinstance(value, ImproperList):
        _list(list(value.elements), value.tail, out, depth, custom)
    elif isinstance(value, dict):
        out += struct.pack(">BI", 116, len(value))
        for key, item in value.items():
            _encode(key, out, depth + 1, custom)
            _encode(item, out, depth + 1, custom)
    elif isinstance(value, ErlangPid):
        out.append(88)
        _atom(value.node, out)
        out += struct.pack(">III", value.id, value.serial, value.creation)
    elif isinstance(value, ErlangRef):
        out += struct.pack(">BH", 90, len(value.ids))
        _atom(value.node, out)
        out += struct.pack(">I", value.creation) + b"".join(struct.pack(">I", i) for i in value.ids)
    elif isinstance(value, ErlangPort):
        out.append(89 if value.id < 2**32 else 120)
        _atom(value.node, out)
        out += struct.pack(">I" if value.id < 2**32 else ">Q", value.id) + struct.pack(">I", value.creation)
    elif isinstance(value, Export):
        out.append(113)
        _atom(value.module, out)
        _atom(value.function, out)
        out += bytes([97, value.arity])
    elif isinstance(value, BitString):
        out += struct.pack(">BIB", 77, len(value.data), value.bits) + value.data
    else:
        raise TypeError("%s has no Erlang term: use Atom, int, float, bytes, str, tuple, list, dict, "
                        "or the classes of swerl.terms" % type(value).__name__)


def _list(elements: List[Any], tail: Any, out: bytearray, depth: int, custom: Custom = None) -> None:
    if not elements and tail is None:
        out.append(106)
        return
    if tail is None and len(elements) < 65536 and all(
            type(e) is int and 0 <= e <= 255 for e in elements):
        out += struct.pack(">BH", 107, len(elements)) + bytes(elements)   # STRING_EXT, as Erlang writes "abc"
        return
    out += struct.pack(">BI", 108, len(elements))
    for element in elements:
        _encode(element, out, depth + 1, custom)
    if tail is None:
        out.append(106)
    else:
        _encode(tail, out, depth + 1, custom)


# --- decoding ---------------------------------------------------------------

def decode(data: bytes, pid: Optional[Callable[[ErlangPid], Any]] = None) -> Any:
    """The value of the term in `data` (version byte first, nothing after).
    Raises DecodeError saying at which byte and why. `pid`, when given, turns
    each pid into the value to use instead (a message's ``term`` gives
    swerl.Pid values this way)."""
    reader = _Reader(bytes(data), pid)
    if not reader.data:
        raise DecodeError("not a term: no bytes")
    if reader.byte() != VERSION:
        raise DecodeError("not a term: the first byte is not the format's version (131)")
    value = reader.term(0)
    if reader.offset != len(reader.data):
        reader.fail("%d bytes after the term" % (len(reader.data) - reader.offset))
    return value


class _Reader:
    def __init__(self, data: bytes, pid: Optional[Callable[[ErlangPid], Any]] = None) -> None:
        self.data = data
        self.offset = 0
        self.pid = pid

    def fail(self, reason: str) -> Any:
        raise DecodeError("not a term at byte %d: %s" % (self.offset, reason))

    def take(self, count: int, what: str) -> bytes:
        if count > len(self.data) - self.offset:
            self.fail("%s needs %d bytes, %d left" % (what, count, len(self.data) - self.offset))
        start = self.offset
        self.offset += count
        return self.data[start:self.offset]

    def byte(self) -> int:
        return self.take(1, "a byte")[0]

    def unpack(self, fmt: str, what: str) -> Tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def plausible(self, count: int, each: int, what: str) -> None:
        if count > (len(self.data) - self.offset) // each:
            self.fail("%s of %d elements in %d bytes" % (what, count, len(self.data) - self.offset))

    def atom(self) -> Any:
        tag = self.byte()
        if tag in (100, 118):
            count = self.unpack(">H", "an atom's length")[0]
        elif tag in (115, 119):
            count = self.byte()
        else:
            return self.fail("tag %d where an atom was expected" % tag)
        text = self.take(count, "an atom").decode("latin-1" if tag in (100, 115) else "utf-8", "replace")
        if len(text) > 255:
            self.fail("an atom of %d characters" % len(text))
        if text == "true":
            return True
        if text == "false":
            return False
        return Atom(text)

    def node(self) -> str:
        name = self.atom()
        return str(name).lower() if isinstance(name, bool) else str(name)

    def term(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.fail("nested deeper than %d" % MAX_DEPTH)
        tag = self.byte()
        if tag == 97:
            return self.byte()
        if tag == 98:
            return self.unpack(">i", "an integer")[0]
        if tag in (110, 111):
            count = self.byte() if tag == 110 else self.unpack(">I", "a big integer's length")[0]
            sign = self.byte()
            if sign > 1:
                self.fail("a big integer's sign byte is %d" % sign)
            magnitude = int.from_bytes(self.take(count, "a big integer"), "little")
            return -magnitude if sign else magnitude
        if tag == 70:
            return self.unpack(">d", "a float")[0]
        if tag == 99:
            text = self.take(31, "an old float").split(b"\0", 1)[0]
            try:
                return float(text)
            except ValueError:
                return self.fail("an old float %r" % text)
        if tag in (100, 115, 118, 119):
            self.offset -= 1
            return self.atom()
        if tag in (104, 105):
            arity = self.byte() if tag == 104 else self.unpack(">I", "a tuple's arity")[0]
            self.plausible(arity, 1, "a tuple")
            items = []
            for _ in range(arity):       # a loop, not a generator: one frame per level
                items.append(self.term(depth + 1))
            return tuple(items)
        if tag == 106:
            return []
        if tag == 107:
            return list(self.take(self.unpack(">H", "a string's length")[0], "a string"))
        if tag == 108:
            count = self.unpack(">I", "a list's length")[0]
            self.plausible(count, 1, "a list")
            elements = []
            for _ in range(count):
                elements.append(self.term(depth + 1))
            tail = self.term(depth + 1)
            if isinstance(tail, list):
                return elements + tail
            return ImproperList(tuple(elements), tail)
        if tag == 109:
            return self.take(self.unpack(">I", "a binary's length")[0], "a binary")
        if tag == 77:
            count, bits = self.unpack(">IB", "a bitstring's header")
            if not 1 <= bits <= 8 or count == 0:
                self.fail("a bitstring of %d bytes, %d bits" % (count, bits))
            data = self.take(count, "a bitstring")
            return data if bits == 8 else BitString(data, bits)
        if tag == 116:
            count = self.unpack(">I", "a map's size")[0]
            self.plausible(count, 2, "a map")
            result: Dict[Any, Any] = {}
            for _ in range(count):
                key = self.term(depth + 1)
                try:
                    result[key] = self.term(depth + 1)
                except TypeError:
                    self.fail("a map key Python cannot use as a key (%s)" % type(key).__name__)
            return result
        if tag in (88, 103):
            node = self.node()
            pid_id, serial = self.unpack(">II", "a pid")
            creation = self.byte() if tag == 103 else self.unpack(">I", "a pid's creation")[0]
            erlang = ErlangPid(node, pid_id, serial, creation)
            return self.pid(erlang) if self.pid is not None else erlang
        if tag in (90, 114):
            count = self.unpack(">H", "a reference's length")[0]
            if not 1 <= count <= 5:
                self.fail("a reference of %d words" % count)
            node = self.node()
            creation = self.byte() if tag == 114 else self.unpack(">I", "a reference's creation")[0]
            return ErlangRef(node, creation, self.unpack(">%dI" % count, "a reference"))
        if tag in (89, 102, 120):
            node = self.node()
            port_id = self.unpack(">Q" if tag == 120 else ">I", "a port")[0]
            creation = self.byte() if tag == 102 else self.unpack(">I", "a port's creation")[0]
            return ErlangPort(node, port_id, creation)
        if tag == 113:
            module, function = self.node(), self.node()
            arity = self.term(depth + 1)
            if type(arity) is not int or not 0 <= arity <= 255:
                self.fail("an export's arity is not a small integer")
            return Export(module, function, arity)
        if tag == 80:
            return self.fail("compressed terms are not supported (term_to_binary without `compressed`)")
        return self.fail("tag %d is not a term this codec reads" % tag)


__all__ = ["Atom", "ErlangPid", "ErlangRef", "ErlangPort", "Export", "BitString", "ImproperList",
           "DecodeError", "encode", "decode"]
