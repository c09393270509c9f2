"""Swerl: Erlang-style processes for Python, on libswerl.so.1 (ctypes).

    import swerl

    def echo(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            return msg.data[::-1]          # the reply

    with swerl.Runtime(schedulers=2) as rt:
        pid = rt.spawn(echo)
        assert rt.call(pid, b"abc", timeout=1.0) == b"cba"
"""

from . import errors
from ._ffi import LibraryError, lib as _lib
from .errors import *  # noqa: F401,F403  (SwerlError and one subclass per code)
from .errors import SwerlError, check
from .runtime import (
    CONTINUE,
    IGNORE,
    INFINITY,
    SKIP,
    STOP,
    Ctx,
    Kind,
    Message,
    Pid,
    Process,
    Reason,
    Ref,
    Runtime,
)
from .supervisor import ChildInfo, ChildSpec, Supervisor, SupervisorSpec


def version() -> str:
    """The loaded library's version string ("1.0.0")."""
    return _lib.swerl_version_string().decode()


def version_hex() -> int:
    """The loaded library's version as 0xMMmmpp."""
    return _lib.swerl_version()


__version__ = "1.0.0"

__all__ = [
    "Runtime", "Ctx", "Message", "Kind", "Reason", "Pid", "Ref", "Process",
    "CONTINUE", "SKIP", "STOP", "IGNORE", "INFINITY",
    "ChildSpec", "SupervisorSpec", "Supervisor", "ChildInfo",
    "SwerlError", "LibraryError", "check", "errors", "version", "version_hex",
] + [n for n in errors.__all__ if n not in ("SwerlError", "check", "error_class", "ERRORS")]
