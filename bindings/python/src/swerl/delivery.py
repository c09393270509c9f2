"""Sending to the dead and answering the departed are not errors.

Erlang's ``!`` and ``gen_server:reply`` never fail: a process may die at
any moment, and a caller may give up (its deadline passed) while its server
works. A front end that raises there makes servers crash, written exactly
as the docs show (two caller timeouts took down a supervised server; a chat
room died when two members died at once). So rt.send, ctx.send, rt.exit,
rt.reply and ctx.reply return quietly when the C call says ENOPROC (the
target is not alive) or EREF (the call is over); the library counts a dead
letter (rt.stats()["dead_letters"]). What still raises is misuse: pid 0, a
pid of another runtime, wrong types, a message too big, a name nobody has
(Erlang's badarg), a closed runtime.
"""

from typing import Union

from .errors import check, error, last_error_detail
from .message import Pid

__all__ = ["undelivered", "unanswered"]

_ENOPROC = -2
_EREF = -12
_FOREIGN = "another runtime"


def undelivered(rc: int, to: Union[int, str], what: str) -> None:
    """After a send or exit signal to `to` (a pid or a name) returned `rc`
    < 0 (on this thread, just now): return if `to` is only not alive, raise
    otherwise."""
    if rc == _ENOPROC and to:
        detail = last_error_detail()
        if isinstance(to, str) or not _foreign(detail, to):
            return  # a dead letter
        raise error(rc, what, detail)
    check(rc, what)


def unanswered(rc: int, what: str) -> None:
    """After a reply returned `rc` < 0: return if the call is over (the
    caller gave up or its deadline passed: the reply is a dead letter),
    raise otherwise."""
    if rc != _EREF:
        check(rc, what)


def _foreign(detail: str, to: int) -> bool:
    # The detail names the pid: one left from an earlier failure on this
    # thread (the library keeps the last detail until the next failure
    # that has one) cannot make a dead pid look foreign.
    return _FOREIGN in detail and detail.startswith(repr(Pid(to)))

