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
from .errors import (  # SwerlError and one subclass per SWERL_E* code
    SwerlError, check, InvalidArgument, NoProcess, Timeout, NameTaken, AlreadyNamed, NoName,
    MailboxFull, MessageTooBig, OutOfMemory, Stopped, ContextInvalid, BadReference,
    CallSelf, ServerExited, ProcessLimit, InProcess, NotSupported, NotSupervisor,
    DuplicateChild, BadSpec, StartFailed, ChildNotFound, ChildPresent, ChildStarted,
    ChildRunning, ChildRestarting, SimpleOneForOne, MemoryLimit, NoSocket, NotOwner,
    SendQueueFull, AddressInUse, ConnectionRefused, ConnectionReset, FrameTooLong, NetworkError,
)
from .control import CONTINUE, IGNORE, SKIP, STOP, Control
from .message import Kind, Message, Pid, Reason, Ref, TermBytes
from .shared_binary import SHARED_THRESHOLD, SharedBinary
from .runtime import INFINITY, Ctx, Overflow, Process, Runtime
from .native import NativeProcess
from .observer import SchedulerUsage
from .supervisor import ChildInfo, ChildSpec, Supervisor, SupervisorSpec
from .sockets import ACTIVE_ONCE, Packet
from . import terms  # Erlang terms <-> Python values (External Term Format)


def version() -> str:
    """The loaded library's version string ("1.4.0")."""
    text: bytes = _lib.swerl_version_string()
    return text.decode()


def version_hex() -> int:
    """The loaded library's version as 0xMMmmpp."""
    number: int = _lib.swerl_version()
    return number


__version__ = "1.4.0"

__all__ = [
    "Runtime", "Ctx", "Message", "Kind", "Reason", "Pid", "Ref", "Process", "NativeProcess", "SchedulerUsage",
    "Overflow", "Control", "CONTINUE", "SKIP", "STOP", "IGNORE", "INFINITY",
    "ChildSpec", "SupervisorSpec", "Supervisor", "ChildInfo", "Packet", "ACTIVE_ONCE", "terms", "TermBytes",
    "SharedBinary", "SHARED_THRESHOLD",
    "SwerlError", "LibraryError", "check", "errors", "version", "version_hex",
    "InvalidArgument", "NoProcess", "Timeout", "NameTaken", "AlreadyNamed", "NoName",
    "MailboxFull", "MessageTooBig", "OutOfMemory", "Stopped", "ContextInvalid",
    "BadReference", "CallSelf", "ServerExited", "ProcessLimit", "InProcess", "NotSupported",
    "NotSupervisor", "DuplicateChild", "BadSpec", "StartFailed", "ChildNotFound",
    "ChildPresent", "ChildStarted", "ChildRunning", "ChildRestarting", "SimpleOneForOne",
    "MemoryLimit", "NoSocket", "NotOwner", "SendQueueFull", "AddressInUse", "ConnectionRefused",
    "ConnectionReset", "FrameTooLong", "NetworkError",
]
