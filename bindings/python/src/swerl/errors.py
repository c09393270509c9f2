"""Swerl error codes as Python exceptions.

Every negative ``SWERL_E*`` code of ``swerl.h`` has a subclass of
:class:`SwerlError`, generated from the single table ``_ERRORS`` below (it
mirrors ``SWERL_ERRNO_MAP``: numbers are never renumbered). :func:`check`
is the one place that turns a return code into an exception.
"""

from typing import Dict, Optional, Tuple, Type

__all__ = ["SwerlError", "check", "error_class", "ERRORS"]


class SwerlError(Exception):
    """A negative return code of libswerl. ``code`` is the number (``-2``),
    ``name`` the header's name without the prefix (``"ENOPROC"``)."""

    code: int = 0
    name: str = "UNKNOWN"
    text: str = "unknown error"

    def __init__(self, message: Optional[str] = None, code: Optional[int] = None) -> None:
        if code is not None:
            self.code = code
            if type(self) is SwerlError:
                self.name = "UNKNOWN"
        if message is None:
            message = self.text
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return "%s (%s %d)" % (self.message, self.name, self.code)


# name in swerl.h, code, text (as swerl.h), Python class name, extra base class
_ERRORS: Tuple[Tuple[str, int, str, str, Optional[type]], ...] = (
    ("EINVAL", -1, "invalid argument", "InvalidArgument", ValueError),
    ("ENOPROC", -2, "no such process", "NoProcess", None),
    ("ETIMEDOUT", -3, "timed out", "Timeout", TimeoutError),
    ("ENAMETAKEN", -4, "name already registered", "NameTaken", None),
    ("EHASNAME", -5, "process already has a registered name", "AlreadyNamed", None),
    ("ENONAME", -6, "name not registered", "NoName", None),
    ("EFULL", -7, "mailbox full", "MailboxFull", None),
    ("ETOOBIG", -8, "message too large", "MessageTooBig", None),
    ("ENOMEM", -9, "out of memory", "OutOfMemory", MemoryError),
    ("ESTOPPED", -10, "runtime stopped", "Stopped", None),
    ("ECTX", -11, "context used outside its callback", "ContextInvalid", None),
    ("EREF", -12, "unknown or expired reference", "BadReference", None),
    ("ECALLSELF", -13, "a process called itself", "CallSelf", None),
    ("EEXITED", -14, "the server exited before replying", "ServerExited", None),
    ("ELIMIT", -15, "process limit reached", "ProcessLimit", None),
    ("EINPROC", -16, "not allowed inside a process callback", "InProcess", None),
    ("ENOTSUP", -17, "not supported", "NotSupported", None),
    ("ENOTSUPERVISOR", -18, "not a supervisor", "NotSupervisor", None),
    ("EDUPLICATE", -19, "duplicate child id", "DuplicateChild", None),
    ("EBADSPEC", -20, "invalid supervisor or child spec", "BadSpec", None),
    ("ESTART", -21, "a child failed to start", "StartFailed", None),
    ("ENOTFOUND", -22, "no such child", "ChildNotFound", None),
    ("EPRESENT", -23, "child spec already present, not running", "ChildPresent", None),
    ("ESTARTED", -24, "child already started", "ChildStarted", None),
    ("ERUNNING", -25, "child is running", "ChildRunning", None),
    ("ERESTARTING", -26, "child is restarting", "ChildRestarting", None),
    ("ESIMPLE", -27, "not allowed on a simple_one_for_one supervisor", "SimpleOneForOne", None),
)

#: code -> exception class
ERRORS: Dict[int, Type[SwerlError]] = {}


def _make(cname: str, name: str, code: int, text: str, extra: Optional[type]) -> Type[SwerlError]:
    bases: Tuple[type, ...] = (SwerlError,) if extra is None else (SwerlError, extra)
    doc = "%s (%d): %s." % (name, code, text)
    return type(cname, bases, {"code": code, "name": name, "text": text, "__doc__": doc,
                               "__module__": __name__})


for _name, _code, _text, _cname, _extra in _ERRORS:
    _cls = _make(_cname, _name, _code, _text, _extra)
    globals()[_cname] = _cls
    ERRORS[_code] = _cls
    __all__.append(_cname)
del _name, _code, _text, _cname, _extra, _cls


def error_class(code: int) -> Type[SwerlError]:
    """The exception class of `code` (SwerlError itself for unknown codes)."""
    return ERRORS.get(code, SwerlError)


def check(rc: int, what: Optional[str] = None) -> int:
    """Return `rc` if it is not negative, else raise its exception.

    `what` (e.g. ``"send"``) prefixes the message."""
    if rc >= 0:
        return rc
    cls = ERRORS.get(rc)
    if cls is None:
        err = SwerlError("%s: unknown error" % what if what else None, code=rc)
        raise err
    raise cls("%s: %s" % (what, cls.text) if what else None)
