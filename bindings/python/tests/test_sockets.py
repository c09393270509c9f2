"""Sockets owned by Python processes (issue 13): a listener and its
connections as messages, active-once flow control, framing, a Swerl
client, the owner rule, and bad input. Peers are real loopback sockets."""

import queue
import socket
import struct

import pytest

import swerl

from conftest import get


class EchoServer(swerl.Process):
    """Owns a listener; echoes every connection with active-once."""

    def __init__(self, events, **options):
        self.events = events
        self.options = options

    def init(self, ctx):
        self.listener = ctx.listen("127.0.0.1:0", active=1000, **self.options)
        self.events.put(("listener", self.listener))

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.SOCKET_ACCEPTED:
            ctx.activate(msg.ref)
        elif msg.kind == swerl.Kind.SOCKET_DATA:
            ctx.socket_send(msg.ref, msg.data)
            ctx.activate(msg.ref)
            self.events.put(("data", msg.data))
        elif msg.kind == swerl.Kind.SOCKET_CLOSED:
            self.events.put(("closed", msg.reason))


def start_echo(rt, **options):
    events = queue.Queue()
    pid = rt.spawn(EchoServer(events, **options))
    kind, listener = get(events)
    assert kind == "listener"
    port = int(rt.socket_info(listener)["local"].rsplit(":", 1)[1])
    return pid, listener, port, events


def peer(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(10)
    return s


def read_exactly(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        assert chunk, "the server closed"
        out += chunk
    return out


def test_echo_raw_and_info(rt):
    pid, listener, port, events = start_echo(rt)
    info = rt.socket_info(listener)
    assert info["type"] == "listener" and info["owner"] == pid and info["packet"] == swerl.Packet.RAW
    with peer(port) as s:
        s.sendall(b"hello")
        assert read_exactly(s, 5) == b"hello"
        assert get(events) == ("data", b"hello")
    assert get(events) == ("closed", 0)


def test_packet_and_line_framing(rt):
    _, _, port, events = start_echo(rt, packet=swerl.Packet.P4)
    with peer(port) as s:
        frame = struct.pack(">I", 3) + b"abc" + struct.pack(">I", 2) + b"de"
        for b in frame:                       # a byte at a time: whole frames come out
            s.sendall(bytes([b]))
        assert read_exactly(s, len(frame)) == frame
        assert get(events) == ("data", b"abc")
        assert get(events) == ("data", b"de")
    _, _, port, events = start_echo(rt, packet=swerl.Packet.LINE)
    with peer(port) as s:
        s.sendall(b"one\ntw")
        s.sendall(b"o\n")
        assert read_exactly(s, 8) == b"one\ntwo\n"
        assert get(events) == ("data", b"one\n")
        assert get(events) == ("data", b"two\n")


class Client(swerl.Process):
    def __init__(self, address, events):
        self.address = address
        self.events = events

    def init(self, ctx):
        self.sock = ctx.connect(self.address, packet=swerl.Packet.P2)
        ctx.socket_send(self.sock, b"queued before connected")

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.SOCKET_CONNECTED:
            self.events.put(("connected", msg.reason))
            ctx.activate(self.sock)
        elif msg.kind == swerl.Kind.SOCKET_DATA:
            self.events.put(("echo", msg.data))
            ctx.socket_close(self.sock)
            return swerl.STOP


def test_a_swerl_client(rt):
    _, _, port, server_events = start_echo(rt, packet=swerl.Packet.P2)
    events = queue.Queue()
    rt.spawn(Client("127.0.0.1:%d" % port, events))
    assert get(events) == ("connected", 0)
    assert get(events) == ("echo", b"queued before connected")
    assert get(server_events) == ("data", b"queued before connected")
    assert get(server_events) == ("closed", 0)


def test_connection_refused(rt):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]         # nobody listens there
    events = queue.Queue()

    class Refused(swerl.Process):
        def init(self, ctx):
            ctx.connect("127.0.0.1:%d" % port)

        def handle(self, msg, ctx):
            events.put((msg.kind, msg.reason))

    rt.spawn(Refused())
    assert get(events) == (swerl.Kind.SOCKET_CONNECTED, swerl.ConnectionRefused.code)


def test_the_owner_rule_and_its_exit(rt):
    pid, listener, port, events = start_echo(rt)
    results = queue.Queue()

    class Other(swerl.Process):
        def handle(self, msg, ctx):
            try:
                ctx.socket_close(listener)
            except swerl.SwerlError as e:
                results.put(e)

    other = rt.spawn(Other())
    rt.send(other, b"try")
    e = get(results)
    assert isinstance(e, swerl.NotOwner) and "belongs to" in str(e)
    s = peer(port)
    s.sendall(b"x")
    assert read_exactly(s, 1) == b"x"
    rt.exit(pid, swerl.Reason.KILL)
    assert rt.wait_exit(pid, timeout=10) in (swerl.Reason.KILLED, swerl.Reason.NOPROC)  # gone already
    assert s.recv(1) == b""                   # the owner's exit closed it
    s.close()
    assert rt.socket_info(listener) is None


def test_bad_input(rt):
    pid, listener, port, _ = start_echo(rt)
    with pytest.raises(swerl.AddressInUse):
        rt.listen(pid, "127.0.0.1:%d" % port)
    with pytest.raises(swerl.InvalidArgument, match="port"):
        rt.listen(pid, "127.0.0.1")
    with pytest.raises(swerl.InvalidArgument, match="unknown socket option"):
        rt.listen(pid, "127.0.0.1:0", colour="blue")
    with pytest.raises(swerl.InvalidArgument):
        rt.listen(pid, 8080)
    with pytest.raises(ValueError):
        rt.listen(pid, "127.0.0.1:0", packet=3)
    assert rt.socket_info(12345) is None
