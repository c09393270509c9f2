"""What a Python process is to the runtime: the Process base class, a
function handle(msg, ctx) wrapped as one, and what rt.spawn and a
supervised child's start make of what they are given."""

from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from .control import Control
from .message import Message, Reason
from .native import NativeProcess

if TYPE_CHECKING:  # for annotations only: swerl.runtime imports this module
    from .runtime import Ctx

__all__ = ["Process", "FunctionProcess", "spawnable", "build"]


class Process:
    """Base class for process classes: override what you need.

    ``init(ctx)`` runs first (return None, or swerl.IGNORE); ``handle(msg,
    ctx)`` runs once per message and returns None/CONTINUE, SKIP or STOP (for
    a CALL it may return bytes: the reply); ``terminate(reason, ctx)`` runs
    last. An exception in any of them is a crash whose detail is the
    traceback. ``blocking = True`` on a subclass runs its callbacks on the
    runtime's blocking pool (rt.spawn and supervisors honour it), where they
    may block.

    It has no instance dict of its own: a subclass that declares
    ``__slots__`` gets none either (an idle process then costs its object
    and the registry's entry); one that does not gets the usual dict."""

    __slots__ = ()

    blocking = False

    def init(self, ctx: "Ctx") -> Optional[Control]:
        return None

    def handle(self, msg: Message, ctx: "Ctx") -> Optional[Union[Control, bytes]]:
        return None

    def terminate(self, reason: Union[Reason, int], ctx: "Ctx") -> None:
        return None


class FunctionProcess:
    """A function handle(msg, ctx) as a process object."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Message, "Ctx"], Any]) -> None:
        self.fn = fn

    def handle(self, msg: Message, ctx: "Ctx") -> Any:
        return self.fn(msg, ctx)

    def __repr__(self) -> str:
        return "<function process %r>" % (self.fn,)


def spawnable(proc: Any) -> Any:
    """What rt.spawn runs for `proc`: an instance of a class, a function
    wrapped, an object with handle() or a NativeProcess as is."""
    if isinstance(proc, type):
        proc = proc()
    if isinstance(proc, NativeProcess) or callable(getattr(proc, "handle", None)):
        return proc
    if callable(proc):
        return FunctionProcess(proc)
    raise TypeError("spawn needs an object with a handle(msg, ctx) method or a "
                    "function handle(msg, ctx), not %r" % (proc,))


def build(factory: Callable[[], Any]) -> Any:
    """One fresh process object from a supervised child's factory."""
    proc = factory()
    if not callable(getattr(proc, "handle", None)):
        if callable(proc):
            return FunctionProcess(proc)
        raise TypeError("child factory %r returned %r: expected an object with a handle(msg, ctx)"
                        " method" % (factory, proc))
    return proc
