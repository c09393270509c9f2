"""Python processes off the schedulers: the dispatcher threads (batches of a
turn group), and a runtime driven by a running asyncio loop, where a handler
may be ``async def``."""

import asyncio
import queue
import threading
import time

import swerl
from conftest import TIMEOUT, get, wait_until


# -- the dispatcher: batches keep every rule ------------------------------------------------

def watch(rt, pid):
    """A queue that gets (reason, detail) of pid's DOWN; returns once the
    monitor is in place."""
    downs = queue.Queue()

    class Watcher(swerl.Process):
        def init(self, ctx):
            ctx.monitor(pid)

        def handle(self, msg, ctx):
            downs.put((msg.reason, msg.data))

    rt.spawn(Watcher)
    wait_until(lambda: rt.process_info(pid)["monitored_by"] == 1, "the monitor")
    return downs


def test_a_burst_arrives_whole_and_in_order(rt):
    """A process with thousands of queued messages is handed them in
    batches: each exactly once, in send order, per sender."""
    seen, done = [], threading.Event()

    def counter(msg, ctx):
        seen.append((msg.sender, msg.data))
        if len(seen) == 2 * 3000:
            done.set()

    pid = rt.spawn(counter)

    class Producer(swerl.Process):
        def handle(self, msg, ctx):
            for n in range(3000):
                ctx.send(pid, b"%d" % n)

    producers = [rt.spawn(Producer), rt.spawn(Producer)]
    for p in producers:
        rt.send(p, b"go")
    assert done.wait(TIMEOUT)
    for p in producers:
        assert [int(d) for s, d in seen if s == p] == list(range(3000))


def test_selective_receive_across_a_batch(rt):
    """SKIP keeps a message in its place; the next accepted one makes the
    skipped ones come again, oldest first (OTP-11), batch or not."""
    got, gate = queue.Queue(), threading.Event()

    def picky(msg, ctx):
        if msg.data == b"hold":
            gate.wait(TIMEOUT)  # the rest queue up meanwhile: one batch
            return None
        if msg.data.startswith(b"b") and not got.qsize():
            return swerl.SKIP  # wait for an "a" first
        got.put(msg.data)

    pid = rt.spawn(picky)
    rt.send(pid, b"hold")
    for data in (b"b1", b"b2", b"a1", b"b3"):
        rt.send(pid, data)
    gate.set()
    assert [get(got) for _ in range(4)] == [b"a1", b"b1", b"b2", b"b3"]


def test_stop_mid_batch_leaves_the_rest_undelivered(rt):
    handled, gate = [], threading.Event()

    def stopper(msg, ctx):
        if msg.data == b"hold":
            gate.wait(TIMEOUT)
            return None
        handled.append(msg.data)
        if msg.data == b"2":
            return swerl.STOP

    pid = rt.spawn(stopper)
    downs = watch(rt, pid)
    rt.send(pid, b"hold")
    for n in range(5):
        rt.send(pid, b"%d" % n)
    gate.set()
    assert get(downs)[0] is swerl.Reason.NORMAL
    assert handled == [b"0", b"1", b"2"]


def test_a_crash_mid_batch_is_a_crash_with_its_traceback(rt):
    gate = threading.Event()

    def fragile(msg, ctx):
        if msg.data == b"hold":
            gate.wait(TIMEOUT)
        elif msg.data == b"boom":
            raise ValueError("boom in a batch")

    pid = rt.spawn(fragile)
    downs = watch(rt, pid)
    rt.send(pid, b"hold")
    for data in (b"1", b"boom", b"3"):
        rt.send(pid, data)
    gate.set()
    reason, detail = get(downs)
    assert reason is swerl.Reason.ERROR and b"boom in a batch" in detail


def test_receive_timeout_set_by_the_last_message_of_a_batch(rt):
    got, gate = queue.Queue(), threading.Event()

    def timed(msg, ctx):
        if msg.data == b"hold":
            gate.wait(TIMEOUT)
            return None
        got.put(msg.kind)
        if msg.data == b"last":
            ctx.receive_timeout(0.05)

    pid = rt.spawn(timed)
    rt.send(pid, b"hold")
    rt.send(pid, b"first")
    rt.send(pid, b"last")
    gate.set()
    assert [get(got) for _ in range(3)] == [swerl.Kind.MESSAGE, swerl.Kind.MESSAGE, swerl.Kind.TIMEOUT]


def test_a_handler_that_sleeps_does_not_stall_the_other_python_processes(rt):
    """The turn monitor finds the sleeping turn stuck and lets another
    dispatcher thread take turns meanwhile."""
    asleep, wake = threading.Event(), threading.Event()

    def sleeper(msg, ctx):
        asleep.set()
        wake.wait(TIMEOUT)

    def echo(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            return msg.data

    rt.send(rt.spawn(sleeper), b"sleep")
    assert asleep.wait(TIMEOUT)
    server = rt.spawn(echo)
    try:
        for n in range(20):
            assert rt.call(server, b"%d" % n, timeout=TIMEOUT) == b"%d" % n
    finally:
        wake.set()


def test_callbacks_path_still_there():
    q = queue.Queue()
    with swerl.Runtime(schedulers=1, dispatcher=False) as rt:
        pid = rt.spawn(lambda msg, ctx: q.put(threading.current_thread().name))
        rt.send(pid, b"x")
        assert "dispatcher" not in get(q)


# -- a runtime driven by an asyncio loop ------------------------------------------------------

def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT * 2))


def test_loop_driven_handlers_run_on_the_loop_thread():
    async def main():
        loop = asyncio.get_running_loop()
        seen = loop.create_future()

        def where(msg, ctx):
            seen.set_result(threading.get_ident())  # no call_soon_threadsafe needed: same thread

        with swerl.Runtime(schedulers=1, loop=loop) as rt:
            rt.send(rt.spawn(where), b"x")
            assert await seen == threading.get_ident()
            assert rt._dispatcher is None  # no dispatcher thread: the loop drives
        assert not rt.callback_errors, rt.callback_errors

    run(main())


def test_async_handler_holds_its_turn_while_others_go_on():
    async def main():
        loop = asyncio.get_running_loop()
        log = []
        release = asyncio.Event()
        finished = loop.create_future()

        class Slow(swerl.Process):
            async def handle(self, msg, ctx):
                log.append(("start", msg.data))
                if msg.data == b"first":
                    await release.wait()
                    ctx.send(ctx.self_pid(), b"after-await")  # the ctx works after an await
                log.append(("end", msg.data))
                if msg.data == b"after-await":
                    finished.set_result(None)

        def fast(msg, ctx):
            log.append(("fast", msg.data))

        with swerl.Runtime(schedulers=1, loop=loop) as rt:
            slow, quick = rt.spawn(Slow), rt.spawn(fast)
            rt.send(slow, b"first")
            rt.send(slow, b"second")
            await asyncio.sleep(0.02)
            rt.send(quick, b"meanwhile")  # another process runs while Slow awaits
            await asyncio.sleep(0.02)
            assert log == [("start", b"first"), ("fast", b"meanwhile")]
            release.set()
            await finished
        assert log == [("start", b"first"), ("fast", b"meanwhile"), ("end", b"first"),
                       ("start", b"second"), ("end", b"second"),
                       ("start", b"after-await"), ("end", b"after-await")]
        assert not rt.callback_errors, rt.callback_errors

    run(main())


def test_async_call_handler_replies_and_call_async_works_on_the_loop():
    async def main():
        class Server(swerl.Process):
            async def handle(self, msg, ctx):
                if msg.kind == swerl.Kind.CALL:
                    await asyncio.sleep(0.01)
                    return b"<" + msg.data + b">"

        with swerl.Runtime(schedulers=1, loop=asyncio.get_running_loop()) as rt:
            pid = rt.spawn(Server)
            answers = await asyncio.gather(*(rt.call_async(pid, b"%d" % n) for n in range(5)))
            assert answers == [b"<%d>" % n for n in range(5)]

    run(main())


def test_async_handler_exception_is_a_crash():
    async def main():
        loop = asyncio.get_running_loop()
        down = loop.create_future()

        class Fragile(swerl.Process):
            async def handle(self, msg, ctx):
                await asyncio.sleep(0)
                raise KeyError("after an await")

        with swerl.Runtime(schedulers=1, loop=loop) as rt:
            pid = rt.spawn(Fragile)

            class Watcher(swerl.Process):
                def init(self, ctx):
                    ctx.monitor(pid)

                def handle(self, msg, ctx):
                    down.set_result((msg.reason, msg.data))

            rt.spawn(Watcher)
            await asyncio.sleep(0.01)
            rt.send(pid, b"x")
            reason, detail = await down
            assert reason is swerl.Reason.ERROR and b"after an await" in detail

    run(main())


def test_close_with_an_awaiting_handler_ends_it_with_shutdown():
    async def main():
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        class Forever(swerl.Process):
            async def handle(self, msg, ctx):
                started.set()
                await asyncio.sleep(3600)

        rt = swerl.Runtime(schedulers=1, loop=loop, stop_timeout=TIMEOUT)
        pid = rt.spawn(Forever)
        rt.send(pid, b"x")
        await started.wait()
        t0 = time.monotonic()
        rt.close()
        assert time.monotonic() - t0 < TIMEOUT / 2
        assert not rt.callback_errors, rt.callback_errors

    run(main())
