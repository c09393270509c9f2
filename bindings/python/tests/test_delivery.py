"""Sending to the dead and replying to the departed are quiet (issue 11,
item 3 / Python item 2): Erlang's ``!`` and ``gen_server:reply`` never
fail, so servers written as the docs show survive callers that time out and
members that die. Only misuse raises."""

import queue
import threading

import pytest

import swerl
from swerl import ChildSpec, SupervisorSpec

from conftest import TIMEOUT, get, wait_until


def test_supervised_server_survives_two_caller_timeouts(rt):
    """1.1: the late reply raised BadReference in the server, a crash; two
    of them took down a default supervisor (1 restart in 5 s)."""
    release = threading.Event()
    started = queue.Queue()

    class Slow(swerl.Process):
        """A server as the README shows: the reply is the bytes returned."""

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                if msg.data == b"slow":
                    started.put(msg.ref)
                    release.wait(TIMEOUT)  # longer than the caller waits
                return b"answer to " + msg.data

    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("slow", Slow)]))  # intensity 1
    server = sup.which_children()[0].pid
    dead_letters = rt.stats()["dead_letters"]
    for _ in range(2):
        release.clear()
        with pytest.raises(swerl.Timeout):
            rt.call(server, b"slow", timeout=0.05)
        get(started)
        release.set()
        # served in order: this answer comes after the late reply was made
        assert rt.call(server, b"fast", timeout=TIMEOUT) == b"answer to fast"
    assert sup.is_alive() and sup.which_children()[0].pid == server
    assert sup.which_children()[0].restarts == 0
    assert rt.stats()["dead_letters"] >= dead_letters + 2  # the late replies, counted


def test_chat_room_survives_two_members_dying_at_once(rt):
    """1.1: the room's ctx.send to a member that had just died raised
    NoProcess: the room crashed (3 runs in 3)."""
    heard = queue.Queue()

    class Member(swerl.Process):
        def __init__(self, name):
            self.name = name

        def handle(self, msg, ctx):
            heard.put((self.name, msg.data))

    class Room(swerl.Process):
        def init(self, ctx):
            self.members = []

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.CALL:  # join
                self.members.append(swerl.Pid(int(msg.data)))
                return b"joined"
            for member in self.members:
                ctx.send(member, msg.data)

    room = rt.spawn(Room, name="room")
    members = [rt.spawn(Member(n)) for n in ("ann", "bob", "cyd")]
    for m in members:
        assert rt.call("room", b"%d" % m, timeout=TIMEOUT) == b"joined"
    for m in members[:2]:
        rt.exit(m, swerl.Reason.KILL)  # two at once
    for m in members[:2]:
        assert rt.wait_exit(m, timeout=TIMEOUT) in (swerl.Reason.KILLED, swerl.Reason.NOPROC)
    rt.send("room", b"hello")
    assert get(heard) == ("cyd", b"hello")
    rt.send("room", b"still here?")
    assert get(heard) == ("cyd", b"still here?")
    assert rt.process_info(room) is not None


def test_replies_to_a_departed_caller_are_quiet(rt):
    calls = queue.Queue()
    answered = queue.Queue()

    def keeper(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            calls.put(msg)
        elif msg.data == b"answer now":
            ctx.reply(calls.get_nowait(), b"too late")  # from a handler
            answered.put("ctx.reply returned")

    pid = rt.spawn(keeper)
    for _ in range(2):
        with pytest.raises(swerl.Timeout):
            rt.call(pid, b"q", timeout=0.02)
    rt.reply(get(calls), b"too late")  # from outside: returns quietly
    rt.send(pid, b"answer now")
    assert get(answered) == "ctx.reply returned"
    assert rt.process_info(pid) is not None


def test_misuse_still_raises(rt):
    pid = rt.spawn(lambda msg, ctx: None)
    with pytest.raises(swerl.NoName):
        rt.send("nobody-has-this-name", b"x")  # Erlang's badarg
    with pytest.raises(TypeError):
        rt.send(pid, "a str")
    other = swerl.Runtime(schedulers=1, max_message_size=16)
    with pytest.raises(swerl.MessageTooBig):
        other.reply(1, b"x" * 17)
    q = queue.Queue()
    try:
        foreign = other.spawn(lambda msg, ctx: None)

        def sender(msg, ctx):
            try:
                ctx.send(foreign, b"x")
            except swerl.SwerlError as e:
                q.put(e)

        rt.send(rt.spawn(sender), b"go")
        e = get(q)
        assert isinstance(e, swerl.NoProcess) and "belongs to another runtime" in str(e)
    finally:
        other.close()
    rt.close()
    with pytest.raises(swerl.Stopped):
        rt.send(pid, b"x")
    with pytest.raises(swerl.Stopped):
        rt.reply(1, b"x")
    wait_until(lambda: rt.closed, "closed")
