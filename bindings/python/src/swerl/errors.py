"""Swerl error codes as Python exceptions.

Every negative ``SWERL_E*`` code of ``swerl.h`` has a subclass of
:class:`SwerlError`, written out below so that type checkers and editors
see them. They mirror ``SWERL_ERRNO_MAP`` (a test checks them against the
header; numbers are never renumbered). :func:`check`
is the one place that turns a return code into an exception: it adds what
``swerl_last_error_detail()`` says about the call that just failed (which
argument, which limit, the exit reason of a server that died...) and, for
a few codes, what to do about it in Python (``hint``).
"""

from typing import Dict, Optional, Type

from ._ffi import quick


class SwerlError(Exception):
    """A negative return code of libswerl. ``code`` is the number (``-2``),
    ``name`` the header's name without the prefix (``"ENOPROC"``),
    ``detail`` what the library said about this failure ("" if nothing)."""

    code: int = 0
    name: str = "UNKNOWN"
    text: str = "unknown error"
    hint: str = ""  # what to do about it, in Python terms ("" if nothing useful)

    def __init__(self, message: Optional[str] = None, code: Optional[int] = None,
                 detail: str = "") -> None:
        if code is not None:
            self.code = code
            if type(self) is SwerlError:
                self.name = "UNKNOWN"
        if message is None:
            message = self.text
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return "%s (%s %d)" % (self.message, self.name, self.code)


class InvalidArgument(SwerlError, ValueError):
    """EINVAL (-1): invalid argument."""

    code, name, text = -1, "EINVAL", "invalid argument"


class NoProcess(SwerlError):
    """ENOPROC (-2): no such process."""

    code, name, text = -2, "ENOPROC", "no such process"


class Timeout(SwerlError, TimeoutError):
    """ETIMEDOUT (-3): timed out."""

    code, name, text = -3, "ETIMEDOUT", "timed out"


class NameTaken(SwerlError):
    """ENAMETAKEN (-4): name already registered."""

    code, name, text = -4, "ENAMETAKEN", "name already registered"


class AlreadyNamed(SwerlError):
    """EHASNAME (-5): process already has a registered name."""

    code, name, text = -5, "EHASNAME", "process already has a registered name"


class NoName(SwerlError):
    """ENONAME (-6): name not registered."""

    code, name, text = -6, "ENONAME", "name not registered"


class MailboxFull(SwerlError):
    """EFULL (-7): mailbox full."""

    code, name, text = -7, "EFULL", "mailbox full"


class MessageTooBig(SwerlError):
    """ETOOBIG (-8): message too large."""

    code, name, text = -8, "ETOOBIG", "message too large"
    hint = "in Python: swerl.Runtime(max_message_size=bytes), 64 MiB by default"


class OutOfMemory(SwerlError, MemoryError):
    """ENOMEM (-9): out of memory."""

    code, name, text = -9, "ENOMEM", "out of memory"


class Stopped(SwerlError):
    """ESTOPPED (-10): runtime stopped."""

    code, name, text = -10, "ESTOPPED", "runtime stopped"


class ContextInvalid(SwerlError):
    """ECTX (-11): context used outside its callback."""

    code, name, text = -11, "ECTX", "context used outside its callback"


class BadReference(SwerlError):
    """EREF (-12): unknown or expired reference."""

    code, name, text = -12, "EREF", "unknown or expired reference"


class CallSelf(SwerlError):
    """ECALLSELF (-13): a process called itself."""

    code, name, text = -13, "ECALLSELF", "a process called itself"


class ServerExited(SwerlError):
    """EEXITED (-14): the server exited before replying."""

    code, name, text = -14, "EEXITED", "the server exited before replying"


class ProcessLimit(SwerlError):
    """ELIMIT (-15): process limit reached."""

    code, name, text = -15, "ELIMIT", "process limit reached"
    hint = "in Python: swerl.Runtime(max_processes=n)"


class InProcess(SwerlError):
    """EINPROC (-16): not allowed inside a process callback."""

    code, name, text = -16, "EINPROC", "not allowed inside a process callback"
    hint = ("a handler must not wait: use ctx.call_async (the answer comes as a REPLY message), "
            "or make the process a blocking one, which may (rt.spawn(..., blocking=True), "
            "ctx.set_blocking(), or blocking = True on its class or ChildSpec)")


class NotSupported(SwerlError):
    """ENOTSUP (-17): not supported."""

    code, name, text = -17, "ENOTSUP", "not supported"


class NotSupervisor(SwerlError):
    """ENOTSUPERVISOR (-18): not a supervisor."""

    code, name, text = -18, "ENOTSUPERVISOR", "not a supervisor"


class DuplicateChild(SwerlError):
    """EDUPLICATE (-19): duplicate child id."""

    code, name, text = -19, "EDUPLICATE", "duplicate child id"


class BadSpec(SwerlError):
    """EBADSPEC (-20): invalid supervisor or child spec."""

    code, name, text = -20, "EBADSPEC", "invalid supervisor or child spec"


class StartFailed(SwerlError):
    """ESTART (-21): a child failed to start."""

    code, name, text = -21, "ESTART", "a child failed to start"


class ChildNotFound(SwerlError):
    """ENOTFOUND (-22): no such child."""

    code, name, text = -22, "ENOTFOUND", "no such child"


class ChildPresent(SwerlError):
    """EPRESENT (-23): child spec already present, not running."""

    code, name, text = -23, "EPRESENT", "child spec already present, not running"


class ChildStarted(SwerlError):
    """ESTARTED (-24): child already started."""

    code, name, text = -24, "ESTARTED", "child already started"


class ChildRunning(SwerlError):
    """ERUNNING (-25): child is running."""

    code, name, text = -25, "ERUNNING", "child is running"


class ChildRestarting(SwerlError):
    """ERESTARTING (-26): child is restarting."""

    code, name, text = -26, "ERESTARTING", "child is restarting"


class SimpleOneForOne(SwerlError):
    """ESIMPLE (-27): not allowed on a simple_one_for_one supervisor."""

    code, name, text = -27, "ESIMPLE", "not allowed on a simple_one_for_one supervisor"


class MemoryLimit(SwerlError):
    """EMEMLIMIT (-28): runtime memory limit reached (``Runtime(max_memory=)``)."""

    code, name, text = -28, "EMEMLIMIT", "runtime memory limit reached"
    hint = "in Python: swerl.Runtime(max_memory=bytes) or rt.set_max_memory(bytes)"


class NoSocket(SwerlError):
    """ENOSOCKET (-29): no such socket (closed, or never opened)."""

    code, name, text = -29, "ENOSOCKET", "no such socket (closed, or never opened)"


class NotOwner(SwerlError):
    """ENOTOWNER (-30): the calling process does not own the socket."""

    code, name, text = -30, "ENOTOWNER", "the calling process does not own the socket"


class SendQueueFull(SwerlError):
    """EAGAIN (-31): the socket's send queue is full; a WRITABLE message follows."""

    code, name, text = -31, "EAGAIN", "socket send queue full: SWERL_SOCKET_WRITABLE follows"


class AddressInUse(SwerlError):
    """EADDRINUSE (-32): address already in use."""

    code, name, text = -32, "EADDRINUSE", "address already in use"


class ConnectionRefused(SwerlError):
    """ECONNREFUSED (-33): connection refused."""

    code, name, text = -33, "ECONNREFUSED", "connection refused"


class ConnectionReset(SwerlError):
    """ECONNRESET (-34): connection reset by peer."""

    code, name, text = -34, "ECONNRESET", "connection reset by peer"


class FrameTooLong(SwerlError):
    """EFRAME (-35): a frame or line longer than the socket's max_frame."""

    code, name, text = -35, "EFRAME", "frame or line longer than the socket's max_frame"


class NetworkError(SwerlError):
    """ENET (-36): a network error (the detail says which)."""

    code, name, text = -36, "ENET", "network error (the detail says which)"


#: code -> exception class
ERRORS: Dict[int, Type[SwerlError]] = {c.code: c for c in SwerlError.__subclasses__()}

__all__ = ["SwerlError", "check", "error", "error_class", "last_error_detail", "ERRORS",
           "InvalidArgument", "NoProcess", "Timeout", "NameTaken", "AlreadyNamed", "NoName",
           "MailboxFull", "MessageTooBig", "OutOfMemory", "Stopped", "ContextInvalid",
           "BadReference", "CallSelf", "ServerExited", "ProcessLimit", "InProcess",
           "NotSupported", "NotSupervisor", "DuplicateChild", "BadSpec", "StartFailed",
           "ChildNotFound", "ChildPresent", "ChildStarted", "ChildRunning", "ChildRestarting",
           "SimpleOneForOne", "MemoryLimit", "NoSocket", "NotOwner", "SendQueueFull",
           "AddressInUse", "ConnectionRefused", "ConnectionReset", "FrameTooLong", "NetworkError"]

_last_error_detail = quick.swerl_last_error_detail


def error_class(code: int) -> Type[SwerlError]:
    """The exception class of `code` (SwerlError itself for unknown codes)."""
    return ERRORS.get(code, SwerlError)


def last_error_detail() -> str:
    """swerl_last_error_detail(): why the last failing swerl_* call on this
    thread failed ("" if the library has nothing to add). Valid only right
    after that call, on the same thread."""
    return (_last_error_detail() or b"").decode("utf-8", "replace")


def error(code: int, what: Optional[str] = None, detail: str = "",
          advice: str = "") -> SwerlError:
    """The exception for `code`: "what: text: detail. advice (hint)".
    `detail` is what the library said (swerl_last_error_detail(), or the
    exit detail a notification carried); `advice`, what the caller adds."""
    cls = ERRORS.get(code, SwerlError)
    message = cls.text if cls is not SwerlError else "unknown error"
    if what:
        message = "%s: %s" % (what, message)
    if detail:
        message = "%s: %s" % (message, detail.rstrip("\n"))
    if advice:
        message = "%s. %s" % (message, advice)
    if cls.hint:
        message = "%s (%s)" % (message, cls.hint)
    if cls is SwerlError:
        return SwerlError(message, code=code, detail=detail)
    return cls(message, detail=detail)


def check(rc: int, what: Optional[str] = None) -> int:
    """Return `rc` if it is not negative, else raise its exception.

    Call it right after the C call that returned `rc`, on the same thread:
    the message carries swerl_last_error_detail(). `what` (e.g. ``"send"``)
    prefixes it."""
    if rc >= 0:
        return rc
    raise error(rc, what, last_error_detail())
