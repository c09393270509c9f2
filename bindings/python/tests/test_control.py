"""What handlers return (issue 11, item 4 / Python item 1): swerl.CONTINUE,
SKIP, STOP and IGNORE are values of their own type, and anything else a
handler returns is a crash that says what to return."""

import pickle
import queue

import pytest

import swerl

from conftest import get


def watch(rt, pid):
    q = queue.Queue()

    class Watcher(swerl.Process):
        def init(self, ctx):
            q.put(ctx.monitor(pid))

        def handle(self, msg, ctx):
            q.put(msg)

    rt.spawn(Watcher)
    get(q)
    return q


def test_control_values_are_not_ints():
    for value, name in ((swerl.CONTINUE, "CONTINUE"), (swerl.SKIP, "SKIP"),
                        (swerl.STOP, "STOP"), (swerl.IGNORE, "IGNORE")):
        assert isinstance(value, swerl.Control) and not isinstance(value, int)
        assert repr(value) == "swerl." + name
        assert value not in (0, 1, 2, 3)
        assert pickle.loads(pickle.dumps(value)) is value
    assert len({swerl.CONTINUE, swerl.SKIP, swerl.STOP, swerl.IGNORE}) == 4


@pytest.mark.parametrize("returned", [0, 1, 2, 7, True])
def test_call_handler_returning_an_int_is_a_clear_crash(rt, returned):
    """1.1 read `return self.n` as a control code: 0 -> no reply (the caller
    timed out), 1 -> SKIP, 2 -> a NORMAL exit. Now: a TypeError crash whose
    message says what to return, and the caller hears why at once."""

    class Counter(swerl.Process):
        def handle(self, msg, ctx):
            return returned

    pid = rt.spawn(Counter)
    q = watch(rt, pid)
    with pytest.raises(swerl.ServerExited) as ei:
        rt.call(pid, b"count?", timeout=10)
    text = str(ei.value)
    assert "TypeError" in text
    assert ("return bytes (the reply), None (reply later with ctx.reply/rt.reply), swerl.SKIP "
            "or swerl.STOP") in text
    down = get(q)
    assert down.reason == swerl.Reason.ERROR and b"for a CALL" in down.data


@pytest.mark.parametrize("returned", [0, 2, "stop", b"bytes"])
def test_message_handler_returning_data_is_a_clear_crash(rt, returned):
    pid = rt.spawn(lambda msg, ctx: returned)
    q = watch(rt, pid)
    rt.send(pid, b"x")
    down = get(q)
    assert down.reason == swerl.Reason.ERROR
    assert b"TypeError: handle returned %r" % (returned,) in down.data
    assert b"swerl.SKIP (leave the message in the mailbox) or swerl.STOP (exit)" in down.data


def test_control_values_still_work(rt):
    q = queue.Queue()

    class P(swerl.Process):
        def init(self, ctx):
            self.waiting = True

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                return msg.data.upper()  # bytes: the reply
            if self.waiting and msg.data != b"go":
                return swerl.SKIP
            self.waiting = False
            q.put(msg.data)
            return swerl.STOP if msg.data == b"b" else swerl.CONTINUE

    pid = rt.spawn(P)
    assert rt.call(pid, b"up", timeout=10) == b"UP"
    w = watch(rt, pid)
    for d in (b"a", b"b", b"go"):
        rt.send(pid, d)
    assert [get(q) for _ in range(3)] == [b"go", b"a", b"b"]
    assert get(w).reason == swerl.Reason.NORMAL  # STOP after b"b"


def test_process_base_class_has_no_instance_dict(rt):
    """swerl.Process declares no slots of its own: a subclass that declares
    ``__slots__`` has no __dict__ (an idle process costs less), and one that
    does not keeps the usual dict (test_control_values_still_work)."""
    q = queue.Queue()

    class Slotted(swerl.Process):
        __slots__ = ("seen",)

        def init(self, ctx):
            self.seen = 0

        def handle(self, msg, ctx):
            self.seen += 1
            q.put((self.seen, msg.data))

    assert not hasattr(Slotted(), "__dict__")
    with pytest.raises(AttributeError):
        Slotted().other = 1
    pid = rt.spawn(Slotted)
    rt.send(pid, b"a")
    rt.send(pid, b"b")
    assert [get(q), get(q)] == [(1, b"a"), (2, b"b")]

def spawn_monitored(rt, proc):
    """The DOWN of `proc`, spawned with monitor=True by a parent process."""
    q = queue.Queue()

    def parent(msg, ctx):
        if msg.kind == swerl.Kind.MESSAGE:
            ctx.spawn(proc, monitor=True)
        elif msg.kind == swerl.Kind.DOWN:
            q.put(msg)

    rt.send(rt.spawn(parent), b"go")
    return get(q)


def test_init_return_values(rt):
    class Ignored(swerl.Process):
        def init(self, ctx):
            return swerl.IGNORE

    class BadInit(swerl.Process):
        def init(self, ctx):
            return 3  # 1.1's SWERL_IGNORE as an int

    assert spawn_monitored(rt, Ignored).reason == swerl.Reason.NORMAL
    down = spawn_monitored(rt, BadInit)
    assert down.reason == swerl.Reason.ERROR
    assert b"BadInit.init returned 3: return None to go on, or swerl.IGNORE" in down.data

    class Stopper(swerl.Process):
        def handle(self, msg, ctx):
            return swerl.IGNORE  # init's value, not handle's

    pid = rt.spawn(Stopper)
    q = watch(rt, pid)
    rt.send(pid, b"x")
    assert b"only init returns" in get(q).data
