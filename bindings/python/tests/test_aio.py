"""asyncio: Runtime.call_async awaits a reply without blocking the loop."""

import asyncio
import threading
import time

import pytest

import swerl
from swerl import aio, errors

from conftest import TIMEOUT


def reverse(msg, ctx):
    if msg.kind == swerl.Kind.CALL:
        return msg.data[::-1]


class Deferred(swerl.Process):
    """Keeps CALLs unanswered until a MESSAGE b"go" comes; then answers all."""

    def __init__(self):
        self.waiting = []
        self.got_call = threading.Event()

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            self.waiting.append(msg.ref)
            self.got_call.set()
        elif msg.data == b"go":
            for ref in self.waiting:
                ctx.reply(ref, b"late")
            self.waiting = []


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


def test_call_async_returns_the_reply(rt):
    pid = rt.spawn(reverse)

    async def main():
        return await rt.call_async(pid, b"abc", timeout=5)

    assert run(main()) == b"cba"


def test_many_concurrent_calls(rt):
    pids = [rt.spawn(reverse) for _ in range(4)]

    async def main():
        data = [b"%d" % i for i in range(1000)]
        return data, await asyncio.gather(*(rt.call_async(pids[i % 4], d) for i, d in enumerate(data)))

    data, replies = run(main())
    assert replies == [d[::-1] for d in data]


def test_loop_keeps_running_while_a_call_waits(rt):
    # The server answers only after the loop itself has sent b"go": if
    # call_async blocked the loop, this would never finish.
    server = Deferred()
    pid = rt.spawn(server)

    async def main():
        pending = asyncio.ensure_future(rt.call_async(pid, b"q", timeout=None))
        while not server.got_call.is_set():  # the loop runs while the call waits
            await asyncio.sleep(0.001)
        assert not pending.done()
        rt.send(pid, b"go")
        return await pending

    assert run(main()) == b"late"


def test_timeout(rt):
    pid = rt.spawn(Deferred)

    async def main():
        with pytest.raises(errors.Timeout):
            await rt.call_async(pid, b"q", timeout=0.05)

    run(main())


def test_late_reply_is_a_timeout_and_is_dropped(rt, monkeypatch):
    """Issue 11, item 2: a server that replies 0.5 s after a call with a
    0.1 s deadline. The call raises Timeout (it returned the reply, every
    time), and the late reply reaches nobody: a dead letter, not a second
    REPLY to the process that makes the calls for coroutines."""
    replied = threading.Event()

    class Slow(swerl.Process):
        blocking = True  # it sleeps in its handler: a blocking process

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                time.sleep(0.5)  # the reply comes well after the caller's deadline
                ctx.reply(msg, b"late")  # quiet: the caller is gone
                replied.set()

    seen = []  # every REPLY the bridge process gets, in order
    handle = aio.Bridge.handle

    def recording(self, msg, ctx):
        if msg.kind == swerl.Kind.REPLY:
            seen.append((msg.reason, msg.data))
        return handle(self, msg, ctx)

    monkeypatch.setattr(aio.Bridge, "handle", recording)  # before the bridge starts
    server, echo = rt.spawn(Slow), rt.spawn(reverse)
    dead_letters = rt.stats()["dead_letters"]

    async def main():
        with pytest.raises(errors.Timeout):
            await rt.call_async(server, b"x", timeout=0.1)
        while not replied.is_set():  # the late reply has been made (bounded by run())
            await asyncio.sleep(0.005)
        # Were the late reply delivered, it would be in the bridge's mailbox
        # before this call's reply: once this returns, the bridge has seen it.
        return await rt.call_async(echo, b"after", timeout=TIMEOUT)

    assert run(main()) == b"retfa"
    assert len(seen) == 2 and seen[0][0] != 0 and seen[1] == (0, b"retfa")  # timeout, then "after"
    assert rt.stats()["dead_letters"] >= dead_letters + 1  # the late reply, dropped and counted


def test_dead_pid_is_noproc(rt):
    pid = rt.spawn(lambda msg, ctx: swerl.STOP)

    async def main():
        rt.send(pid, b"die")
        while pid in rt.processes():  # bounded by run()'s timeout
            await asyncio.sleep(0.001)
        with pytest.raises(errors.NoProcess):
            await rt.call_async(pid, b"x")
        with pytest.raises(errors.NoProcess):
            await rt.call_async("nobody-has-this-name", b"x")

    run(main())


def test_server_exit_is_server_exited(rt):
    def crash_on_call(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            raise RuntimeError("boom")

    pid = rt.spawn(crash_on_call)

    async def main():
        with pytest.raises(errors.ServerExited) as ei:
            await rt.call_async(pid, b"x")
        assert "boom" in str(ei.value)

    run(main())


def test_named_server(rt):
    rt.spawn(reverse, name="rev")

    async def main():
        return await rt.call_async("rev", b"xy")

    assert run(main()) == b"yx"


def test_bad_input(rt):
    pid = rt.spawn(reverse)

    async def main():
        with pytest.raises(TypeError):
            await rt.call_async(pid, "not bytes")
        with pytest.raises(errors.InvalidArgument):
            await rt.call_async(pid, b"x", timeout=-1)
        with pytest.raises((TypeError, errors.InvalidArgument)):
            await rt.call_async("", b"x")

    run(main())


def test_cancelled_call_leaves_the_bridge_working(rt):
    deferred = Deferred()
    pid = rt.spawn(deferred)
    server = rt.spawn(reverse)

    async def main():
        t = asyncio.ensure_future(rt.call_async(pid, b"q", timeout=None))
        while not deferred.got_call.is_set():
            await asyncio.sleep(0.001)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        rt.send(pid, b"go")  # the late reply finds a cancelled future: dropped
        return await rt.call_async(server, b"ok")

    assert run(main()) == b"ko"


def test_stop_fails_pending_calls_with_stopped():
    rt = swerl.Runtime(schedulers=1)
    try:
        deferred = Deferred()
        pid = rt.spawn(deferred)
        started = threading.Event()

        async def main():
            t = asyncio.ensure_future(rt.call_async(pid, b"q", timeout=None))
            while not deferred.got_call.is_set():
                await asyncio.sleep(0.001)
            started.set()
            stopper = threading.Thread(target=rt.stop, daemon=True)
            stopper.start()
            with pytest.raises((errors.Stopped, errors.ServerExited)):
                await t
            # Once the stop is over (while it runs, a call to a process it
            # has already shut down is NoProcess, as in Erlang).
            await asyncio.get_running_loop().run_in_executor(None, stopper.join)
            with pytest.raises(errors.Stopped):
                await rt.call_async(pid, b"q")

        run(main())
        assert started.is_set()
    finally:
        rt.close()


def test_closed_runtime_raises_stopped():
    rt = swerl.Runtime(schedulers=1)
    pid = rt.spawn(reverse)
    rt.close()

    async def main():
        with pytest.raises(errors.Stopped):
            await rt.call_async(pid, b"x")

    run(main())
