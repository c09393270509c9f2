"""Everyday mistakes get clear messages (issue 11, item 7 / Python items 3-7,
13, 14): names wherever a pid is taken, Reason for any code, Overflow as an
enum, errors that carry the library's detail, timeouts of 0, ChildSpec
given a handle function, pids printed by the library."""

import queue
import re

import pytest

import swerl
from swerl import ChildSpec, SupervisorSpec

from conftest import TIMEOUT, get


def echo(msg, ctx):
    if msg.kind == swerl.Kind.CALL:
        return msg.data


class Recorder(swerl.Process):
    def __init__(self, q):
        self.q = q

    def handle(self, msg, ctx):
        self.q.put(msg)


# -- names (item 3) ----------------------------------------------------------------


def test_send_after_to_a_name_looks_it_up_at_expiry(rt):
    q = queue.Queue()
    ref = rt.send_after("later", 0.05, b"tick")  # nobody has the name yet
    pid = rt.spawn(Recorder(q), name="later")
    m = get(q)
    assert (m.kind, m.data, m.ref, m.sender) == (swerl.Kind.MESSAGE, b"tick", ref, 0)
    assert rt.cancel_timer(ref) is None  # fired
    assert rt.send_after("nobody-at-all", 0, b"dropped at expiry, quietly") > 0
    rt.send_after("later", 0, b"again")
    assert get(q).data == b"again"
    assert rt.process_info(pid) is not None


def test_call_async_and_exit_take_names(rt):
    q = queue.Queue()
    rt.spawn(echo, name="echo")

    def client(msg, ctx):
        if msg.kind == swerl.Kind.MESSAGE:
            try:
                ctx.call_async("nobody-here", b"x")
            except swerl.NoProcess as e:
                q.put(e)
            ctx.call_async("echo", b"by name", timeout=TIMEOUT)
            ctx.exit("victim", swerl.Reason.USER + 1)
        elif msg.kind == swerl.Kind.REPLY:
            q.put(msg)

    victim = rt.spawn(lambda m, c: None, name="victim")
    rt.send(rt.spawn(client), b"go")
    e = get(q)
    assert "no process is registered as 'nobody-here'" in str(e)
    reply = get(q)
    assert (reply.reason, reply.data) == (0, b"by name")
    assert rt.wait_exit(victim, timeout=TIMEOUT) in (swerl.Reason.USER + 1, swerl.Reason.NOPROC)
    target = rt.spawn(lambda m, c: None, name="target")
    rt.exit("target", swerl.Reason.KILL)
    assert rt.wait_exit(target, timeout=TIMEOUT) in (swerl.Reason.KILLED, swerl.Reason.NOPROC)
    with pytest.raises(swerl.NoName, match="no process is registered as 'target'"):
        rt.exit("target")


# -- reasons (item 4) ----------------------------------------------------------------


def test_reason_of_any_code():
    r = swerl.Reason(300)
    assert r == 300 and isinstance(r, swerl.Reason) and r.name == "USER+44"
    assert swerl.Reason(swerl.Reason.USER) is swerl.Reason.USER
    assert swerl.Reason(9).name == "REASON_9"  # reserved, unknown to this package
    assert swerl.Reason(7) is swerl.Reason.NOCONNECTION
    assert swerl.Reason(5) is swerl.Reason.ERROR
    with pytest.raises(ValueError):
        swerl.Reason("ERROR")


def test_down_handler_can_name_a_user_reason(rt):
    q = queue.Queue()
    victim = rt.spawn(lambda m, c: None)

    class Watcher(swerl.Process):
        def init(self, ctx):
            ctx.monitor(victim)
            q.put("watching")

        def handle(self, msg, ctx):
            q.put((msg.reason, swerl.Reason(msg.reason).name))  # raised in 1.1: a crash

    rt.spawn(Watcher)
    assert get(q) == "watching"
    rt.exit(victim, swerl.Reason.USER + 44, b"custom")
    reason, name = get(q)
    assert reason == 300 and name == "USER+44" and isinstance(reason, swerl.Reason)


# -- overflow (item 5) -----------------------------------------------------------------


def test_overflow_is_an_enum(rt):
    assert [o.name for o in swerl.Overflow] == ["REJECT", "DROP_OLDEST", "KILL"]
    pid = rt.spawn(echo, mailbox_limit=4, overflow=swerl.Overflow.DROP_OLDEST)
    assert rt.call(pid, b"ok", timeout=TIMEOUT) == b"ok"
    for bad in (1, "drop_oldest", None):
        with pytest.raises(TypeError, match="overflow is a swerl.Overflow"):
            rt.spawn(echo, mailbox_limit=4, overflow=bad)


# -- errors carry the library's detail (item 6) --------------------------------------


def test_message_too_big_says_the_limit_and_how_to_raise_it():
    with swerl.Runtime(schedulers=1, max_message_size=16) as rt:
        pid = rt.spawn(echo)
        with pytest.raises(swerl.MessageTooBig) as ei:
            rt.send(pid, b"x" * 17)
        text = str(ei.value)
        assert "17 bytes" in text and "16 bytes" in text
        assert "swerl.Runtime(max_message_size=" in text
        assert ei.value.detail and ei.value.detail in text


def test_every_check_carries_the_detail():
    with swerl.Runtime(schedulers=1, max_processes=1) as rt:
        rt.spawn(echo)
        with pytest.raises(swerl.ProcessLimit) as ei:
            rt.spawn(echo)
        assert "max_processes" in str(ei.value) and "swerl.Runtime(max_processes=" in str(ei.value)


def test_a_call_to_a_crashed_server_says_why(rt):
    def crashing(msg, ctx):
        raise ValueError("the reason it died")

    pid = rt.spawn(crashing)
    with pytest.raises(swerl.ServerExited) as ei:
        rt.call(pid, b"x", timeout=TIMEOUT)
    assert "ValueError: the reason it died" in str(ei.value)
    assert repr(pid) in str(ei.value)


def test_a_call_inside_a_handler_says_what_to_do(rt):
    q = queue.Queue()
    target = rt.spawn(echo)

    def caller(msg, ctx):
        for attempt in (lambda: rt.call(target, b"x"), lambda: ctx.call(target, b"x"),
                        lambda: rt.wait_exit(target, timeout=0)):
            try:
                attempt()
            except swerl.SwerlError as e:
                q.put(e)

    rt.send(rt.spawn(caller), b"go")
    for _ in range(3):
        e = get(q)
        assert isinstance(e, swerl.InProcess)
        assert "ctx.call_async" in str(e) and "blocking=True" in str(e)


# -- timeouts of 0 (item 7) -----------------------------------------------------------


def test_timeouts_of_zero(rt):
    q = queue.Queue()

    def silent(msg, ctx):
        pass

    with pytest.raises(swerl.Timeout):
        rt.call(rt.spawn(silent), b"x", timeout=0)  # at once: nobody answered yet

    class Poll(swerl.Process):
        def init(self, ctx):
            ctx.receive_timeout(0)  # a poll: TIMEOUT at once, no message waits

        def handle(self, msg, ctx):
            q.put(msg.kind)

    rt.spawn(Poll)
    assert get(q) == swerl.Kind.TIMEOUT
    pid = rt.spawn(Recorder(q))
    rt.send_after(pid, 0, b"asap")
    assert get(q).data == b"asap"


# -- ChildSpec given a handle function (item 13) ------------------------------------


def test_child_spec_takes_a_handle_function(rt):
    def handle_fn(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            return b"fn: " + msg.data

    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("w", handle_fn)]))
    assert rt.call(sup.which_children()[0].pid, b"hi", timeout=TIMEOUT) == b"fn: hi"

    class NeedsArgs(swerl.Process):
        def __init__(self, n):
            self.n = n

    for start in (NeedsArgs, lambda a: None, lambda a, b, c: None):
        with pytest.raises(TypeError, match="each \\(re\\)start calls it with none"):
            rt.start_supervisor(SupervisorSpec([ChildSpec("bad", start)]))


# -- pids printed by the library (item 14) -------------------------------------------


def test_pid_repr_is_the_librarys():
    with swerl.Runtime(schedulers=1) as a, swerl.Runtime(schedulers=1) as b:
        pa, pb = a.spawn(echo), b.spawn(echo)
        assert re.fullmatch(r"<0\.\d+\.\d+>", repr(pa)), repr(pa)
        assert pa != pb  # the runtime is in the pid's bits ...
        assert repr(pa) == repr(pb)  # ... not in its text: both are the first process
        with pytest.raises(swerl.NoProcess, match="belongs to another runtime"):
            a.call(pb, b"x", timeout=TIMEOUT)
