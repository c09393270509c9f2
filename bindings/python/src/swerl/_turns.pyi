"""Types of swerl._turns (_turns.c): the dispatcher's hot path in C."""

from typing import Any, Callable, Dict, Optional

BATCH: int


class CtxFields:
    _ptr: int
    runtime: Any
    _valid: int
    _thread: int
    _rt: int

    def send(self, to: Any, data: bytes) -> None: ...


def bind(group_next: int, group_finish: int, send: int, message: type, pid: type, kinds: Dict[int, Any],
         undelivered: Callable[..., None]) -> None: ...


def drive(group: int, rt: int, dispatcher: Any, control: type, ignore: Any) -> Optional[int]: ...
