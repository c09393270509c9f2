"""Shared binaries (issue 18, item 1): swerl.SharedBinary, immutable bytes
sent by reference. One copy for a fan-out, a reference (not a copy) for each
Python receiver, charged once against the memory ceiling and freed when
the last reference goes."""

import array
import asyncio
import copy
import gc
import pickle
import queue
import socket

import pytest

import swerl
from swerl import SHARED_THRESHOLD, SharedBinary
from swerl._ffi import SWERL_BINARY_OVERHEAD, SWERL_MESSAGE_OVERHEAD

from conftest import TIMEOUT, get, wait_until

BIG = 256 * 1024
PAYLOAD = bytes(range(256)) * (BIG // 256)
CHARGE = BIG + SWERL_BINARY_OVERHEAD  # the binary, once per runtime
PER_MESSAGE = SWERL_MESSAGE_OVERHEAD + 8  # a message carrying a reference
CEILING = 64 << 20


def collector(q):
    """A handler putting each message's data in `q`."""
    def handle(msg, ctx):
        q.put(msg.data)
    return handle


def memory_used(rt):
    return rt.stats()["memory_used"]


# -- the type --------------------------------------------------------------------------


def test_made_from_any_bytes_like_and_read_like_bytes():
    data = b"swerl shared binary"
    for source in (data, bytearray(data), memoryview(data), memoryview(b"xx" + data)[2:],
                   array.array("B", data)):
        b = SharedBinary(source)
        assert len(b) == len(data) and bytes(b) == data and b.tobytes() == data
        assert b[0] == data[0] and b[-1] == data[-1] and b[2:7] == data[2:7] and b[::3] == data[::3]
        assert b == data and b == bytearray(data) and b == memoryview(data) and not (b != data)
        assert b != data[:-1] and b != b"x" * len(data) and b != "swerl shared binary" and b != 3
        assert hash(b) == hash(data) and {data: "found"}[b] == "found"
        with pytest.raises(IndexError):
            b[len(data)]
    words = array.array("i", [1, -2, 3])
    assert SharedBinary(words) == words.tobytes() and SharedBinary(words) == words
    assert SharedBinary(memoryview(data)[::2]) == data[::2]  # not contiguous
    empty = SharedBinary(b"")
    assert len(empty) == 0 and bytes(empty) == b"" and empty.view() == b"" and empty == bytearray()


def test_another_reference_shares_the_bytes_and_an_equal_copy_does_not():
    a = SharedBinary(PAYLOAD)
    b = SharedBinary(a)
    c = SharedBinary(PAYLOAD)
    assert b.address == a.address and b == a
    assert c.address != a.address and c == a
    a.release()
    assert b[:4] == PAYLOAD[:4] and b == c  # b's own reference keeps the bytes
    b.release()
    c.release()


def test_a_value_that_is_not_bytes_like_is_a_type_error():
    for bad in ("text", 5, None, object(), [1, 2]):
        with pytest.raises(TypeError, match="bytes-like"):
            SharedBinary(bad)


def test_release_is_idempotent_and_any_use_after_it_raises():
    b = SharedBinary(b"abc")
    assert not b.released
    b.release()
    b.release()
    assert b.released and "released" in repr(b)
    uses = (len, bytes, hash, SharedBinary, pickle.dumps, lambda x: x[0], lambda x: x[0:1],
            lambda x: x.view(), lambda x: x.address, lambda x: x.tobytes(), lambda x: x.__enter__())
    for use in uses:
        with pytest.raises(swerl.InvalidArgument, match="released"):
            use(b)
    # == raises nothing (containers compare): a released binary equals only itself
    assert b == b and b != SharedBinary(b"abc") and b != b"abc"
    with SharedBinary(b"abc") as c:
        assert c == b"abc"
    assert c.released


def test_pickle_and_copy_carry_the_bytes_into_a_new_binary():
    b = SharedBinary(b"pickled")
    for other in (pickle.loads(pickle.dumps(b)), copy.copy(b), copy.deepcopy(b)):
        assert type(other) is SharedBinary and other == b"pickled" and other.address != b.address


def test_a_view_is_read_only_and_outlives_its_binary_object():
    b = SharedBinary(PAYLOAD)
    view = b.view()
    assert view.readonly and view.format == "B" and len(view) == BIG and view == PAYLOAD
    with pytest.raises(TypeError):
        view[0] = 1
    b.release()
    del b
    gc.collect()
    filler = [bytes(range(256)) * 1024 for _ in range(16)]  # memory freed would be reused
    assert view == PAYLOAD and len(filler) == 16


# -- sending and receiving -------------------------------------------------------------


def test_a_fan_out_to_200_processes_holds_one_copy(rt):
    seen = queue.Queue()

    def handle(msg, ctx):
        data = msg.data
        seen.put((type(data), data.address if isinstance(data, SharedBinary) else 0, data == PAYLOAD))

    pids = [rt.spawn(handle) for _ in range(200)]
    with SharedBinary(PAYLOAD) as binary:
        for pid in pids:
            rt.send(pid, binary)
        received = [get(seen) for _ in pids]
        assert received == [(SharedBinary, binary.address, True)] * len(pids)
    rt.send_many(pids, PAYLOAD)  # one SharedBinary made for them all
    received = [get(seen) for _ in pids]
    assert {kind for kind, _, _ in received} == {SharedBinary} and all(same for _, _, same in received)
    assert len({address for _, address, _ in received}) == 1


def test_send_many_shares_from_the_threshold_on(rt):
    got = queue.Queue()
    pids = [rt.spawn(collector(got)) for _ in range(3)]
    for size, kind in ((SHARED_THRESHOLD - 1, bytes), (SHARED_THRESHOLD, SharedBinary)):
        for data in (bytes(size), bytearray(size), memoryview(bytes(size))):
            rt.send_many(pids, data)
            received = [get(got) for _ in pids]
            assert [type(d) for d in received] == [kind] * 3 and all(d == bytes(size) for d in received)
    rt.send_many(iter(pids), b"small")  # any iterable
    assert [get(got) for _ in pids] == [b"small"] * 3


def test_a_process_fans_out_with_ctx_send_many(rt):
    got = queue.Queue()

    def handle(msg, ctx):
        got.put((msg.sender, msg.data))

    pids = [rt.spawn(handle) for _ in range(5)]

    def fan_out(msg, ctx):
        ctx.send_many(pids, PAYLOAD)

    sender = rt.spawn(fan_out)
    rt.send(sender, b"go")
    received = [get(got) for _ in pids]
    assert {s for s, _ in received} == {sender}
    assert all(isinstance(d, SharedBinary) and d == PAYLOAD for _, d in received)
    assert len({d.address for _, d in received}) == 1


def test_a_ping_pong_of_a_shared_binary_never_copies_it(rt):
    rounds = 50
    hops = []
    done = queue.Queue()
    peer = {}

    def player(msg, ctx):
        hops.append((type(msg.data), msg.data.address))
        if len(hops) == rounds:
            done.put(msg.data == PAYLOAD)
        else:
            ctx.send(peer[ctx.self_pid()], msg.data)

    a, b = rt.spawn(player), rt.spawn(player)
    peer.update({a: b, b: a})
    with SharedBinary(PAYLOAD) as binary:
        rt.send(a, binary)
        assert get(done) is True
        assert hops == [(SharedBinary, binary.address)] * rounds


def test_a_kept_binary_outlives_its_handler_its_sender_and_the_runtime():
    kept = queue.Queue()
    with swerl.Runtime(schedulers=2) as rt:
        keeper = rt.spawn(collector(kept))

        def sender(msg, ctx):
            with SharedBinary(PAYLOAD) as binary:
                ctx.send(keeper, binary)
            return swerl.STOP

        pid = rt.spawn(sender)
        rt.send(pid, b"go")
        binary = get(kept)
        rt.wait_exit(pid, timeout=TIMEOUT)  # NOPROC if it is gone already
        assert rt.process_info(pid) is None
        gc.collect()
        assert isinstance(binary, SharedBinary) and binary == PAYLOAD
    assert rt.closed
    assert binary == PAYLOAD and binary[1000:1004] == PAYLOAD[1000:1004]
    binary.release()


def test_shared_messages_handled_as_a_batch_arrive_whole(rt):
    """A batch of a Python process (swerl_turn) carries them too: the
    flag SWERL_MESSAGE_SHARED once had SWERL_MESSAGE_WITHDRAWN's bit, and
    a batch skipped them as withdrawn."""
    got = queue.Queue()
    state = {"go": False}

    def handle(msg, ctx):
        if msg.data == b"go":
            state["go"] = True
        elif not state["go"]:
            return swerl.SKIP  # kept in the mailbox, to come again as one batch after "go"
        else:
            got.put(msg.data)

    pid = rt.spawn(handle)
    with SharedBinary(PAYLOAD) as binary:
        for _ in range(10):
            rt.send(pid, binary)
        rt.send(pid, b"go")
        received = [get(got) for _ in range(10)]
        assert all(isinstance(d, SharedBinary) and d.address == binary.address for d in received)


@pytest.mark.parametrize("mode", ["callbacks", "loop"])
def test_every_way_of_running_handlers_gets_a_shared_binary(mode):
    async def on_a_loop():
        loop = asyncio.get_running_loop()
        got = loop.create_future()
        with swerl.Runtime(schedulers=1, loop=loop) as rt:
            with SharedBinary(PAYLOAD) as binary:
                rt.send(rt.spawn(lambda msg, ctx: got.set_result(msg.data)), binary)
                data = await asyncio.wait_for(got, TIMEOUT)
                assert isinstance(data, SharedBinary) and data.address == binary.address
        assert not rt.callback_errors, rt.callback_errors

    if mode == "loop":
        asyncio.run(on_a_loop())
        return
    got = queue.Queue()
    with swerl.Runtime(schedulers=1, dispatcher=False) as rt:
        with SharedBinary(PAYLOAD) as binary:
            rt.send(rt.spawn(collector(got)), binary)
            data = get(got)
            assert isinstance(data, SharedBinary) and data.address == binary.address
    assert not rt.callback_errors, rt.callback_errors


def test_plain_messages_still_arrive_as_bytes(rt):
    got = queue.Queue()
    pid = rt.spawn(collector(got))
    for data in (b"abc", bytearray(b"abc"), memoryview(b"abc"), PAYLOAD):
        rt.send(pid, data)
        received = get(got)
        assert type(received) is bytes and received == data
    rt.send_term(pid, ("x", 1))
    assert type(get(got)) is swerl.TermBytes


def test_a_named_send_goes_by_reference_and_a_call_copies(rt):
    got = queue.Queue()
    store = {}

    def server(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            got.put(msg.data)
            return store["blob"]  # a SharedBinary as the reply: a copy
        store["blob"] = msg.data
        got.put(msg.data)

    rt.spawn(server, name="blob_server")
    with SharedBinary(PAYLOAD) as binary:
        rt.send("blob_server", binary)
        stored = get(got)
        assert isinstance(stored, SharedBinary) and stored.address == binary.address
        reply = rt.call("blob_server", binary, timeout=TIMEOUT)  # the request is a copy too
        assert type(get(got)) is bytes
        assert type(reply) is bytes and reply == PAYLOAD


def test_a_remote_target_gets_the_bytes():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    got = queue.Queue()
    with swerl.Runtime(schedulers=1) as a, swerl.Runtime(schedulers=1) as b:
        for rt, name in ((a, "py_sa@127.0.0.1"), (b, "py_sb@127.0.0.1")):
            rt.start_node(name, cookie="swerl_py_test", epmd_port=port, start_epmd=True, listen_host="127.0.0.1")
        b.spawn(collector(got), name="probe")
        with SharedBinary(PAYLOAD) as binary:
            a.send(("probe", "py_sb@127.0.0.1"), binary)
        data = get(got)
        while type(data) is swerl.TermBytes:  # the node's own events
            data = get(got)
        assert type(data) is bytes and data == PAYLOAD


# -- errors ----------------------------------------------------------------------------


def test_bad_sends_raise_clearly(rt):
    got = queue.Queue()
    pid = rt.spawn(collector(got))
    released = SharedBinary(b"abc")
    released.release()
    for send in (lambda: rt.send(pid, released), lambda: rt.send("nobody", released),
                 lambda: rt.send_many([pid], released), lambda: rt.call(pid, released)):
        with pytest.raises(swerl.InvalidArgument, match="released"):
            send()
    with pytest.raises(TypeError, match="SharedBinary"):
        rt.send(pid, "text")
    with pytest.raises(TypeError, match="bytes-like"):
        rt.send_many([pid], "text")
    with SharedBinary(b"abc") as binary:
        with pytest.raises(swerl.NoName):
            rt.send("nobody", binary)
        with pytest.raises(swerl.NoProcess):
            rt.send(0, binary)
        letters = rt.stats()["dead_letters"]
        rt.exit(pid, swerl.Reason.KILL)
        rt.wait_exit(pid, timeout=TIMEOUT)
        assert rt.process_info(pid) is None
        rt.send(pid, binary)  # to the dead: quiet, as any send
        assert rt.stats()["dead_letters"] == letters + 1
    assert got.empty()


# -- the memory ceiling ----------------------------------------------------------------


class Holder(swerl.Process):
    """Leaves a shared message in its mailbox (SKIP) until b"go", then takes it."""

    def __init__(self, events, kept=None):
        self.events = events
        self.kept = kept
        self.go = False

    def handle(self, msg, ctx):
        if msg.data == b"go":
            self.go = True
            return None
        if not self.go:
            self.events.put("waiting")
            return swerl.SKIP
        if self.kept is not None:
            self.kept.append(msg.data)
        self.events.put("taken")
        return None


def test_a_binary_sent_to_many_is_charged_once_and_refunded_when_its_last_reference_goes():
    n = 100
    events = queue.Queue()
    kept = []
    with swerl.Runtime(schedulers=2, max_memory=CEILING) as rt:
        pids = [rt.spawn(Holder(events, kept if i == 0 else None)) for i in range(n)]
        assert memory_used(rt) == 0
        binary = SharedBinary(PAYLOAD)
        for pid in pids:
            rt.send(pid, binary)
        assert [get(events) for _ in pids] == ["waiting"] * n
        # n plain copies would be n * (BIG + SWERL_MESSAGE_OVERHEAD)
        assert memory_used(rt) == CHARGE + n * PER_MESSAGE
        binary.release()
        rt.send_many(pids, b"go")
        assert [get(events) for _ in pids] == ["taken"] * n
        wait_until(lambda: memory_used(rt) == CHARGE, "every message freed, the kept binary left")
        assert len(kept) == 1 and kept[0] == PAYLOAD
        kept.clear()  # the last reference
        wait_until(lambda: memory_used(rt) == 0, "the binary freed")


def test_a_view_holds_the_binary_after_release():
    got = queue.Queue()
    with swerl.Runtime(schedulers=1, max_memory=CEILING) as rt:
        pid = rt.spawn(lambda msg, ctx: got.put(len(msg.data)))  # drops its reference
        binary = SharedBinary(PAYLOAD)
        rt.send(pid, binary)
        assert get(got) == BIG
        wait_until(lambda: memory_used(rt) == CHARGE, "the message freed")
        view = binary.view()
        binary.release()
        del binary
        gc.collect()
        assert memory_used(rt) == CHARGE and view == PAYLOAD
        view.release()
        wait_until(lambda: memory_used(rt) == 0, "the binary freed with its view")


def test_a_binary_over_the_ceiling_is_refused_and_a_failed_fan_out_leaks_nothing():
    got = queue.Queue()
    with swerl.Runtime(schedulers=1, max_memory=BIG) as rt:
        pid = rt.spawn(collector(got))
        with SharedBinary(PAYLOAD) as binary:  # BIG + SWERL_BINARY_OVERHEAD: over it
            with pytest.raises(swerl.MemoryLimit):
                rt.send(pid, binary)
            assert rt.stats()["messages_rejected"] == 1 and memory_used(rt) == 0
            assert binary == PAYLOAD
        half = PAYLOAD[:BIG // 2]
        with pytest.raises(swerl.NoName):
            rt.send_many([pid, "nobody"], half)  # the first has it, then the name fails
        received = get(got)
        assert isinstance(received, SharedBinary) and received == half
        del received  # the last reference: send_many let go of its own
        wait_until(lambda: memory_used(rt) == 0, "the fan-out's binary freed")


def test_a_shared_reply_reaches_a_process_by_reference(rt):
    """A CALL handler returning a SharedBinary replies with swerl_reply_binary:
    a process waiting with ctx.call_async gets the binary itself in its
    REPLY; rt.call (a thread) gets a copy, as bytes."""
    got = queue.Queue()
    with SharedBinary(PAYLOAD) as blob:

        def server(msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                return blob

        def asker(msg, ctx):
            if msg.kind == swerl.Kind.REPLY:
                got.put(msg.data)
            else:
                ctx.call_async(msg.data.decode(), b"q", timeout=TIMEOUT)

        rt.spawn(server, name="shared_server")
        pid = rt.spawn(asker)
        rt.send(pid, b"shared_server")
        reply = get(got)
        assert isinstance(reply, SharedBinary) and reply.address == blob.address
        assert reply == PAYLOAD
        reply.release()
        copied = rt.call("shared_server", b"q", timeout=TIMEOUT)
        assert type(copied) is bytes and copied == PAYLOAD
