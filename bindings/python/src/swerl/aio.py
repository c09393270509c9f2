"""asyncio: ``await rt.call_async(pid, data)`` without blocking the loop.

A blocking ``swerl_call`` would hold an event-loop thread (or an executor
thread per pending call). Instead one small Swerl process per runtime, the
bridge, makes the calls: the coroutine hands it a token, the bridge issues
``swerl_call_async`` from inside the runtime, and the REPLY message (the
answer, a timeout, or the server's exit) resolves the coroutine's future
through ``loop.call_soon_threadsafe`` (or at once, when the loop itself
drives the runtime: Runtime(loop=...)). Any number of calls may be pending;
no thread waits for them. The bridge uses the runtime's public methods only.
"""

import itertools
import struct
import threading
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, cast

from .errors import Stopped, SwerlError, error
from .message import Kind, Message

if TYPE_CHECKING:  # for annotations only
    import asyncio  # at run time only in Bridge.call: `import swerl` stays without asyncio

    from .runtime import Ctx, Runtime  # swerl.runtime imports this module

    # (loop, future, to, request, timeout in seconds or None)
    _Pending = Tuple[asyncio.AbstractEventLoop, "asyncio.Future[bytes]", int, bytes,
                     Optional[float]]

_TOKEN = struct.Struct("=Q")


class Bridge:
    """The per-runtime process that makes asynchronous calls for coroutines."""

    def __init__(self, rt: "Runtime") -> None:
        self.rt = rt
        self.tokens = itertools.count(1)
        self.pending: "Dict[int, _Pending]" = {}  # waiting for the bridge to send the call
        self.calls: "Dict[int, _Pending]" = {}  # call ref -> entry, waiting for the REPLY
        self.pid = 0
        self.lock = threading.Lock()

    def start(self) -> int:
        with self.lock:
            if not self.pid:
                self.pid = self.rt.spawn(self)
            return self.pid

    async def call(self, to: int, data: bytes, timeout: Optional[float]) -> bytes:
        import asyncio  # the caller's loop runs: asyncio is loaded (not a module of this package)

        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[bytes]" = loop.create_future()
        token = next(self.tokens)
        self.pending[token] = (loop, fut, to, data, timeout)
        try:
            self.rt.send(self.start(), _TOKEN.pack(token))
        except BaseException:
            self.pending.pop(token, None)
            raise
        return await fut

    # -- the bridge process ---------------------------------------------------

    def handle(self, msg: Message, ctx: "Ctx") -> None:
        if msg.kind == Kind.MESSAGE and len(msg.data) == _TOKEN.size:
            entry = self.pending.pop(_TOKEN.unpack(msg.data)[0], None)
            if entry is None:
                return
            loop, fut, to, data, timeout = entry
            if fut.done():  # the coroutine was cancelled meanwhile
                return
            try:
                ref = ctx.call_async(to, data, timeout)
            except SwerlError as e:
                _resolve(loop, fut, error=e)
                return
            self.calls[ref] = entry
        elif msg.kind == Kind.REPLY:
            entry = self.calls.pop(msg.ref, None)
            if entry is None:
                return
            loop, fut = entry[0], entry[1]
            data = cast(bytes, msg.data)  # a reply is always a copy, never a shared binary
            if msg.reason == 0:
                _resolve(loop, fut, result=data)
            else:
                detail = data.decode("utf-8", "replace") if data else ""  # EEXITED's
                _resolve(loop, fut, error=error(msg.reason, "call_async", detail))

    def terminate(self, reason: Any, ctx: "Ctx") -> None:
        # The runtime is stopping (or the bridge was killed): nothing pending
        # will be answered now.
        with self.lock:
            self.pid = 0
        entries = list(self.pending.values()) + list(self.calls.values())
        self.pending.clear()
        self.calls.clear()
        for loop, fut, *_ in entries:
            _resolve(loop, fut, error=Stopped("call_async: the runtime stopped before the reply"))


def _resolve(loop: "asyncio.AbstractEventLoop", fut: "asyncio.Future[bytes]",
             result: Optional[bytes] = None, error: Optional[BaseException] = None) -> None:
    def settle() -> None:
        if fut.done():
            return
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result if result is not None else b"")

    try:
        import asyncio  # loaded: a coroutine made this call
        if asyncio._get_running_loop() is loop:  # on the loop's own thread (it drives the runtime)
            settle()
        else:
            loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass

