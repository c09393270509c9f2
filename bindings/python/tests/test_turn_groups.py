"""Python processes off the schedulers: the dispatcher threads (batches of a
turn group), and a runtime driven by a running asyncio loop, where a handler
may be ``async def``."""

import asyncio
import queue
import threading
import time

import pytest

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
    got, gate, a_came = queue.Queue(), threading.Event(), threading.Event()

    def picky(msg, ctx):
        if msg.data == b"hold":
            gate.wait(TIMEOUT)  # the rest queue up meanwhile: one batch
            return None
        # (not got.qsize(): the test's get() may have emptied the queue)
        if msg.data.startswith(b"b") and not a_came.is_set():
            return swerl.SKIP  # wait for an "a" first
        if msg.data.startswith(b"a"):
            a_came.set()
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


# -- what a handler gets and may do in a batch --------------------------------------------------

def test_messages_have_their_types_whatever_their_kind(rt):
    """What the dispatcher makes of each kind: a swerl.Message with a Kind,
    a Reason for EXIT and DOWN, a Pid sender, a term's TermBytes."""
    seen = queue.Queue()

    class Seer(swerl.Process):
        def init(self, ctx):
            ctx.trap_exit(True)

        def handle(self, msg, ctx):
            seen.put((msg, type(msg), type(msg.kind), type(msg.reason), type(msg.sender), type(msg.data),
                      msg.term if msg.is_term else None))
            if msg.kind == swerl.Kind.CALL:
                return b"answer:" + msg.data

    pid = rt.spawn(Seer)
    rt.send(pid, b"plain")
    msg, mtype, ktype, rtype, stype, dtype, _ = get(seen)
    assert (mtype, ktype, stype, dtype) == (swerl.Message, swerl.Kind, swerl.Pid, bytes)
    assert (msg.kind, msg.reason, msg.sender, msg.ref, msg.data) == (swerl.Kind.MESSAGE, 0, 0, 0, b"plain")

    rt.send_term(pid, ("get", 7))
    msg, *_, dtype, term = get(seen)
    assert dtype is swerl.TermBytes and term == (b"get", 7)  # a str goes as a binary

    assert rt.call(pid, b"q", timeout=TIMEOUT) == b"answer:q"
    msg, *_ = get(seen)
    assert msg.kind == swerl.Kind.CALL and msg.ref != 0

    class Linker(swerl.Process):
        def handle(self, m, ctx):
            ctx.link(pid)
            ctx.fail(swerl.Reason.USER + 3, b"detail")
            return swerl.STOP

    dead = rt.spawn(Linker)
    rt.send(dead, b"go")
    msg, mtype, ktype, rtype, stype, dtype, _ = get(seen)
    assert (msg.kind, msg.sender, msg.data) == (swerl.Kind.EXIT, dead, b"detail")
    assert rtype is swerl.Reason and msg.reason == swerl.Reason.USER + 3 and stype is swerl.Pid


def test_ctx_send_takes_every_form_and_refuses_misuse(rt):
    """ctx.send with a pid, a Pid, a name, a (name, node) of this node, a
    bytearray; quiet to the dead; misuse raises as rt.send does; a ctx kept
    past its turn raises ContextInvalid."""
    got, outcome, kept = queue.Queue(), queue.Queue(), []
    sink = rt.spawn(lambda msg, ctx: got.put(msg.data))
    rt.register("sink", sink)
    dead = rt.spawn(lambda msg, ctx: swerl.STOP)
    rt.send(dead, b"stop")
    wait_until(lambda: rt.process_info(dead) is None, "the process gone")

    def sender(msg, ctx):
        kept.append(ctx)
        ctx.send(int(sink), b"int")
        ctx.send(swerl.Pid(sink), b"pid")
        ctx.send("sink", b"name")
        ctx.send(sink, bytearray(b"bytearray"))
        ctx.send(sink, memoryview(b"memoryview"))
        ctx.send(dead, b"to the dead")  # a dead letter: quiet
        errors = []
        for args in ((0, b"x"), (sink, "text"), ("nobody", b"x"), (True, b"x"), (-1, b"x"), (1 << 64, b"x")):
            try:
                ctx.send(*args)
                errors.append(None)
            except (swerl.SwerlError, TypeError, ValueError, OverflowError) as e:
                errors.append(type(e).__name__)
        for args in ((), (sink,), (sink, b"x", b"y")):
            try:
                ctx.send(*args)
                errors.append(None)
            except TypeError:
                errors.append("TypeError")
        outcome.put(errors)

    rt.send(rt.spawn(sender), b"go")
    errors = get(outcome)
    assert [get(got) for _ in range(5)] == [b"int", b"pid", b"name", b"bytearray", b"memoryview"]
    assert None not in errors, errors
    assert errors[-3:] == ["TypeError"] * 3
    with pytest.raises(swerl.ContextInvalid):
        kept[0].send(sink, b"late")
    assert got.empty()


def test_a_handler_may_keep_its_messages(rt):
    """Messages (and the ctx) a handler keeps stay as they were: nothing of
    a batch is reused under them."""
    kept, done = [], threading.Event()

    def keeper(msg, ctx):
        kept.append((msg, ctx))
        if msg.data == b"999":
            done.set()

    pid = rt.spawn(keeper)
    for n in range(1000):
        rt.send(pid, b"%d" % n)
    assert done.wait(TIMEOUT)
    assert [m.data for m, _ in kept] == [b"%d" % n for n in range(1000)]
    assert all(type(m) is swerl.Message and m.kind == swerl.Kind.MESSAGE for m, _ in kept)
    assert all(c._valid == 0 for _, c in kept)


def test_a_crash_detail_names_the_handler_and_the_error(rt):
    def handler_that_fails(msg, ctx):
        raise KeyError("no such thing")

    pid = rt.spawn(handler_that_fails)
    downs = watch(rt, pid)
    rt.send(pid, b"x")
    reason, detail = get(downs)
    assert reason is swerl.Reason.ERROR
    assert b"Traceback" in detail and b"handler_that_fails" in detail and b"KeyError: 'no such thing'" in detail


def test_a_wrong_return_value_is_a_crash_that_says_what_to_return(rt):
    pid = rt.spawn(lambda msg, ctx: 42)
    downs = watch(rt, pid)
    rt.send(pid, b"x")
    reason, detail = get(downs)
    assert reason is swerl.Reason.ERROR and b"TypeError" in detail and b"42" in detail


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
