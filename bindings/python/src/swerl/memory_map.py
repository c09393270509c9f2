"""Which mapping of the process's memory holds an address (Linux's
/proc/self/maps), so that swerl.NativeProcess can refuse an address that is
not a swerl_behavior (unmapped, not readable, a handle that is not code)
instead of reading or calling it and killing the interpreter. Where the
file does not exist nothing can be told: ``available()`` is False."""

import os
from typing import NamedTuple, Optional

__all__ = ["Mapping", "available", "mapping"]

_MAPS = "/proc/self/maps"


class Mapping(NamedTuple):
    start: int
    end: int  # one past the last byte
    readable: bool
    executable: bool
    path: str


def available() -> bool:
    return os.path.exists(_MAPS)


def mapping(address: int) -> Optional[Mapping]:
    """The mapping holding `address`, or None if none does (or no maps)."""
    try:
        with open(_MAPS) as f:
            for line in f:
                found = _parse(line)
                if found is not None and found.start <= address < found.end:
                    return found
    except OSError:
        return None
    return None


def _parse(line: str) -> Optional[Mapping]:
    # "start-end perms offset dev inode [path]"
    fields = line.split(None, 5)
    if len(fields) < 5 or "-" not in fields[0]:
        return None
    start, end = (int(x, 16) for x in fields[0].split("-", 1))
    perms = fields[1]
    path = fields[5].strip() if len(fields) > 5 else ""
    return Mapping(start, end, perms[:1] == "r", perms[2:3] == "x", path)
