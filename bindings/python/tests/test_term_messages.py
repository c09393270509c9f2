"""Erlang terms as messages: rt.send_term / ctx.send_term, Message.term and
a match statement in a handler, pids both ways through the runtime, the
mark on the data (a bytes subclass: code that unpacks a Message as a
5-tuple is unchanged), refusals."""

import ctypes
import queue

import pytest

import swerl
from swerl import _ffi, terms
from swerl.terms import Atom, ErlangPid

from conftest import get


class KeyValue(swerl.Process):
    """{get, Key, From} -> From ! {value, Key, Value}; {put, Key, Value}."""

    def __init__(self, seen):
        self.table = {}
        self.seen = seen

    def handle(self, msg, ctx):
        match msg.term:
            case ("put", key, value):
                self.table[key] = value
            case ("get", key, swerl.Pid() as sender):
                ctx.send_term(sender, (Atom("value"), key, self.table.get(key)))
            case other:
                self.seen.put((msg, other))


class Inbox(swerl.Process):
    def __init__(self, seen):
        self.seen = seen

    def handle(self, msg, ctx):
        self.seen.put(msg)


def test_a_handler_matches_terms_and_answers_with_one(rt):
    seen = queue.Queue()
    server = rt.spawn(KeyValue(seen))
    client = rt.spawn(Inbox(seen))
    rt.send_term(server, (Atom("put"), "k", [1, 2.5, {Atom("deep"): (True, b"\x00")}]))
    rt.send_term(server, (Atom("get"), "k", client))
    msg = get(seen)
    assert msg.is_term
    assert msg.term == (Atom("value"), b"k", [1, 2.5, {Atom("deep"): (True, b"\x00")}])
    assert msg.sender == server
    assert rt.format_term(msg.data) == '{value,<<"k">>,[1,2.5,#{deep => {true,<<0>>}}]}'


def test_pids_go_both_ways_as_swerl_pids(rt):
    seen = queue.Queue()
    inbox = rt.spawn(Inbox(seen))
    rt.send_term(inbox, (Atom("from"), inbox, [inbox]))
    msg = get(seen)
    tag, pid, pids = msg.term
    assert type(pid) is swerl.Pid and pid == inbox and pids == [inbox]
    assert rt.format_term(msg.data) == "{from,%r,[%r]}" % (inbox, inbox)


def test_a_pid_of_another_node_becomes_a_remote_pid(rt):
    seen = queue.Queue()
    inbox = rt.spawn(Inbox(seen))
    rt.send_term(inbox, ErlangPid("other@host", 42, 1, 3))
    remote = get(seen).term
    assert type(remote) is swerl.Pid and remote != 0
    assert repr(remote).endswith(".42.1>") and not repr(remote).startswith("<0.")


def test_a_term_message_is_still_a_5_tuple_of_bytes(rt):
    seen = queue.Queue()
    inbox = rt.spawn(Inbox(seen))
    rt.send_term(inbox, Atom("ok"))
    rt.send(inbox, b"plain")
    term_msg, plain = get(seen), get(seen)
    kind, reason, sender, ref, data = term_msg
    assert kind == swerl.Kind.MESSAGE and isinstance(data, bytes)
    assert data == terms.encode(Atom("ok")) and data[0] == 131
    assert term_msg.term == "ok" and type(term_msg.term) is Atom
    assert not plain.is_term and plain.term == b"plain" and type(plain.data) is bytes


def test_send_term_by_name_and_to_the_dead(rt):
    seen = queue.Queue()
    inbox = rt.spawn(Inbox(seen))
    rt.register("inbox", inbox)
    rt.send_term("inbox", (1, "two"))
    assert get(seen).term == (1, b"two")
    with pytest.raises(swerl.NoName):
        rt.send_term("nobody", 1)
    done = rt.spawn(swerl.Process())  # no handle: stops at the first message
    rt.exit(done, swerl.Reason.KILL)
    rt.wait_exit(done)
    rt.send_term(done, 1)  # quiet, as send is: a dead letter


def test_refusals_say_what_and_where(rt):
    seen = queue.Queue()
    inbox = rt.spawn(Inbox(seen))
    with pytest.raises(TypeError):
        rt.send_term(inbox, object())
    other = swerl.Runtime(schedulers=1)
    try:
        foreign = other.spawn(Inbox(queue.Queue()))
        with pytest.raises(swerl.InvalidArgument, match="not a pid of the writer's runtime"):
            rt.send_term(inbox, (Atom("pid"), foreign))
    finally:
        other.close()
    # bytes that are not a term, straight to the C function: EINVAL, and where
    bad = bytes([131, 104, 2, 97])
    rc = _ffi.quick.swerl_send_term(rt._p(), inbox, bad, len(bad))
    assert rc == -1
    assert "not a term at byte 3: a tuple of 2 elements in 1 bytes" in swerl.errors.last_error_detail()
    with pytest.raises(swerl.InvalidArgument):
        rt.format_term(bad)
    assert seen.empty()


def test_the_message_layout_has_the_flags_field():
    assert _ffi.MESSAGE_LAYOUT.size == ctypes.sizeof(_ffi.SwerlMessage)
    assert _ffi.SwerlMessage.flags.offset == 40
