"""A Python runtime as a node of an Erlang cluster, against a real BEAM node
(erl running Tests/dist/dist_peer.erl) on a private EPMD, loopback only:
ping, sends to (name, node) and back, a GenServer.call answered by a Python
process with a term, a match statement on what Erlang sent, remote pids,
node events, a link that ends with noconnection."""

import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import swerl
from swerl.terms import Atom

from conftest import TIMEOUT, get

COOKIE = "swerl_py_test"
ERL = "erl@127.0.0.1"
PEER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "Tests", "dist", "dist_peer.erl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn, what):
    deadline = time.monotonic() + 30
    while not fn():
        if time.monotonic() > deadline:
            raise AssertionError("%s within 30 s" % what)
        time.sleep(0.01)


@pytest.fixture(scope="module")
def beam():
    """A private EPMD and one BEAM node, for the whole module."""
    for tool in ("erl", "erlc", "epmd"):
        assert shutil.which(tool), "%s is missing: make deps installs erlang-base" % tool
    work = tempfile.mkdtemp(prefix="swerl-py-dist-")
    subprocess.run(["erlc", "-o", work, PEER], check=True)
    port = free_port()
    env = dict(os.environ, ERL_EPMD_PORT=str(port))
    epmd = subprocess.Popen(["epmd", "-port", str(port), "-relaxed_command_check"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = open(os.path.join(work, "erl.log"), "w+")
    erl = None
    try:
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, "epmd")
        erl = subprocess.Popen(["erl", "-name", ERL, "-setcookie", COOKIE, "-noinput", "-kernel",
                                "inet_dist_use_interface", "{127,0,0,1}", "-pa", work, "-s", "dist_peer", "main"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: "ready" in open(log.name).read(), "the BEAM node")
        yield port
    finally:
        for proc in (erl, epmd):
            if proc is not None:
                proc.kill()
                proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


class Probe(swerl.Process):
    """Records every message; links to / monitors a sender that asks."""

    def __init__(self, seen):
        self.seen = seen
        self.watching = threading.Event()

    def init(self, ctx):
        ctx.trap_exit(True)
        ctx.monitor_nodes()
        self.watching.set()

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.EXIT and msg.sender == 0:
            return swerl.STOP
        if msg.data == b"link me":
            ctx.link(msg.sender)
        elif msg.data == b"monitor me":
            ctx.monitor(msg.sender)
        self.seen.put(msg)


class KeyValue(swerl.Process):
    """GenServer.call target: a term request gets a term reply."""

    def handle(self, msg, ctx):
        if msg.kind != swerl.Kind.CALL:
            return
        match msg.term:
            case b"get":
                ctx.reply(msg, b"value:get")
            case (Atom("get"), key):
                ctx.reply_term(msg, (Atom("ok"), key))
            case b"slow":
                pass  # never answered: the caller's timeout


class Echo(swerl.Process):
    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.MESSAGE:
            ctx.send(msg.sender, bytes(msg.data))


def node(beam, name, seen):
    rt = swerl.Runtime(schedulers=2)
    rt.start_node(name + "@127.0.0.1", cookie=COOKIE, epmd_port=beam, listen_host="127.0.0.1")
    probe = Probe(seen)
    rt.spawn(probe, name="probe")
    # Its init runs after spawn returns: a connection must not come first.
    assert probe.watching.wait(TIMEOUT)
    rt.spawn(KeyValue(), name="kv")
    rt.spawn(Echo(), name="echo")
    return rt


def verdict(seen, scenario):
    """The BEAM side's "SCENARIO ok" (other messages are kept aside)."""
    deadline = time.monotonic() + 30
    aside = []
    while time.monotonic() < deadline:
        try:
            msg = seen.get(timeout=1)
        except queue.Empty:
            continue
        if msg.kind == swerl.Kind.MESSAGE and not msg.is_term and msg.data.startswith(scenario.encode() + b" "):
            for kept in aside:
                seen.put(kept)
            assert msg.data == scenario.encode() + b" ok", msg.data
            return
        aside.append(msg)
    raise AssertionError("no verdict for %s" % scenario)


def test_ping_names_and_node_events(beam):
    seen = queue.Queue()
    with node(beam, "py_ping", seen) as rt:
        assert rt.node_name == "py_ping@127.0.0.1"
        rt.send(("ctl", ERL), b"ping py_ping@127.0.0.1")
        verdict(seen, "ping")
        assert rt.nodes() == [ERL]
        up = get(seen)
        assert up.term == (Atom("nodeup"), Atom(ERL))


def test_calls_and_terms_from_erlang(beam):
    seen = queue.Queue()
    with node(beam, "py_calls", seen) as rt:
        rt.send(("ctl", ERL), b"call py_calls@127.0.0.1")
        verdict(seen, "call")
        rt.send(("ctl", ERL), b"echo py_calls@127.0.0.1")
        verdict(seen, "echo")


def test_remote_pids_links_and_noconnection(beam):
    seen = queue.Queue()
    with node(beam, "py_links", seen) as rt:
        rt.send(("ctl", ERL), b"disconnect py_links@127.0.0.1")
        link_me = None
        exits = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and not exits:
            msg = seen.get(timeout=TIMEOUT)
            if msg.data == b"link me":
                link_me = msg
            elif msg.kind == swerl.Kind.EXIT:
                exits.append(msg)
        assert link_me is not None and exits
        erlang = link_me.sender
        assert isinstance(erlang, swerl.Pid) and not repr(erlang).startswith("<0.")
        assert rt.pid_node(erlang) == ERL
        assert exits[0].sender == erlang and exits[0].reason == swerl.Reason.NOCONNECTION


def test_a_term_sent_to_a_name_on_a_node(beam):
    seen = queue.Queue()
    with node(beam, "py_terms", seen) as rt:
        # {echo, Node} ! Term from Erlang comes back here as bytes: here the
        # other way, a term to a name on the BEAM node (its ctl ignores it).
        rt.send_term(("ctl", ERL), (Atom("hello"), [1, 2, 3]))
        rt.send(("ctl", ERL), b"ping py_terms@127.0.0.1")
        verdict(seen, "ping")


def test_bad_arguments_and_no_epmd():
    with swerl.Runtime(schedulers=1) as rt:
        assert rt.node_name is None
        with pytest.raises(swerl.InvalidArgument):
            rt.start_node("not a node name", cookie=COOKIE)
        with pytest.raises(swerl.InvalidArgument):
            rt.start_node("x@127.0.0.1", cookie=COOKIE, no_such_option=1)
        with pytest.raises(swerl.NetworkError):
            rt.start_node("x@127.0.0.1", cookie=COOKIE, epmd_port=free_port())
        with pytest.raises(swerl.InvalidArgument):
            rt.send(("kv", "nowhere@127.0.0.1"), b"x")  # not a node


def test_a_node_of_its_own_without_erlang():
    """start_epmd: two Python nodes find each other through the first one's EPMD."""
    port = free_port()
    seen = queue.Queue()
    with swerl.Runtime(schedulers=1) as a, swerl.Runtime(schedulers=1) as b:
        a.start_node("py_a@127.0.0.1", cookie=COOKIE, epmd_port=port, start_epmd=True, listen_host="127.0.0.1")
        b.start_node("py_b@127.0.0.1", cookie=COOKIE, epmd_port=port, start_epmd=True, listen_host="127.0.0.1")
        b.spawn(Probe(seen), name="probe")
        a.send(("probe", "py_b@127.0.0.1"), b"across")
        msg = get(seen)
        while msg.data != b"across":
            msg = get(seen)
        # Sent from no process: the frame names node a's own process.
        assert b.pid_node(msg.sender) == "py_a@127.0.0.1"
