"""The observer page from Python (rt.observe, rt.stop_observing,
rt.scheduler_usage; docs/OBSERVER.md): every endpoint over real loopback
sockets, against a runtime whose state the test made, and the limits.

Every wait is bounded (wait_until, socket timeouts); nothing sleeps and hopes.
"""

import http.client
import json
import queue
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

import swerl
from swerl import ChildSpec, SupervisorSpec

from conftest import TIMEOUT, get, wait_until

TOKEN = "observer-test-token-0123456789"


# -- processes with a state the tests know ---------------------------------------


class Worker(swerl.Process):
    """Crashes on b"crash"; anything else is ignored."""

    def handle(self, msg, ctx):
        if msg.data == b"crash":
            raise RuntimeError("asked to crash")


class Linker(swerl.Process):
    """Links to and monitors `other` in its init, then says so."""

    def __init__(self, other, ready):
        self.other, self.ready = other, ready

    def init(self, ctx):
        ctx.link(self.other)
        ctx.monitor(self.other)
        self.ready.set()

    def handle(self, msg, ctx):
        pass


class Watcher(swerl.Process):
    """Monitors `target`; its DOWN goes to `q`."""

    def __init__(self, target, q):
        self.target, self.q = target, q

    def init(self, ctx):
        ctx.monitor(self.target)
        self.q.put("watching")

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.DOWN:
            self.q.put(msg.reason)


class Hog(swerl.Process):
    """A blocking process whose first turn waits for `gate`: its mailbox fills."""

    blocking = True

    def __init__(self, gate, busy):
        self.gate, self.busy = gate, busy

    def handle(self, msg, ctx):
        self.busy.set()
        self.gate.wait(TIMEOUT * 3)


def bare(pid):
    """A pid as a path takes it: "0.12.1"."""
    return str(pid).strip("<>")


def child_pid(sup, cid="worker"):
    return {c.id: c.pid for c in sup.which_children()}[cid]


def crash_child(rt, sup, cid="worker"):
    """Crash the child and wait for its supervisor to restart it; its new pid."""
    old = child_pid(sup, cid)
    rt.send(old, b"crash")
    return wait_until(lambda: (lambda p: p if p and p != old else None)(child_pid(sup, cid)),
                      "the restart of %s" % cid)


# -- HTTP ------------------------------------------------------------------------


def request(url, path, method="GET", headers=None, token=None):
    """(status, headers, body as JSON or text) of one request to the observer at `url`."""
    base = url.split("?")[0]
    target = base + path
    if token is not None:
        target += ("&" if "?" in target else "?") + "token=" + urllib.parse.quote(token)
    req = urllib.request.Request(target, method=method, headers=headers or {},
                                 data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            status, head, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, head, raw = e.code, e.headers, e.read()
    if head.get("Content-Type", "").startswith("application/json"):
        return status, head, json.loads(raw)
    return status, head, raw.decode("utf-8")


def get_json(url, path, **kwargs):
    status, head, body = request(url, path, **kwargs)
    assert status == 200, (path, status, body)
    assert head["Content-Type"].startswith("application/json"), head["Content-Type"]
    return body


def address(url):
    parts = urllib.parse.urlsplit(url)
    return parts.hostname, parts.port


def raw_exchange(url, data):
    """Send `data` on a fresh connection and read until the server closes it."""
    with socket.create_connection(address(url), timeout=TIMEOUT) as s:
        s.sendall(data)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    return got


def status_of(response):
    assert response.startswith(b"HTTP/1.1 "), response[:100]
    return int(response.split(b" ", 2)[1])


def body_of(response):
    return json.loads(response.split(b"\r\n\r\n", 1)[1])


def refused(url):
    try:
        socket.create_connection(address(url), timeout=TIMEOUT).close()
    except (ConnectionRefusedError, ConnectionResetError):
        # Reset: the listener closed while this connection was being accepted.
        return True
    return False


# -- the binding ---------------------------------------------------------------------


def test_observe_serves_the_page_on_loopback(rt):
    url = rt.observe()
    host, port = address(url)
    assert url == "http://127.0.0.1:%d/" % port and port > 0
    status, head, page = request(url, "")
    assert status == 200 and head["Content-Type"].startswith("text/html")
    for hook in ('id="overview"', 'id="stat-processes"', 'id="scheduler-bars"', 'id="chart-utilization"',
                 'id="processes-table"', 'id="supervisor-trees"', 'id="events-list"', 'id="connection-status"'):
        assert hook in page, hook
    rt.stop_observing()


def test_observe_twice_raises_and_stop_closes(rt):
    url = rt.observe()
    with pytest.raises(swerl.InvalidArgument, match="already serves"):
        rt.observe()
    assert get_json(url, "api/overview")["version"] == swerl.version()  # still the first one
    rt.stop_observing()
    wait_until(lambda: refused(url), "the listener closed")
    with pytest.raises(swerl.InvalidArgument, match="no observer"):
        rt.stop_observing()
    again = rt.observe()  # a fresh one after a stop
    assert get_json(again, "api/overview")["processes"] >= 1


def test_observe_after_the_runtime_stopped_raises(rt):
    rt.stop()
    with pytest.raises(swerl.Stopped):
        rt.observe()
    with pytest.raises(swerl.Stopped):
        rt.stop_observing()
    assert len(rt.scheduler_usage()) == 2  # works after stop
    rt.close()
    with pytest.raises(swerl.Stopped):
        rt.observe()


def test_observe_arguments(rt):
    with pytest.raises(swerl.InvalidArgument, match="port"):
        rt.observe(port=70000)
    with pytest.raises(TypeError):
        rt.observe(port="80")
    with pytest.raises(TypeError):
        rt.observe(token=1234567890123456789)
    with pytest.raises(swerl.InvalidArgument, match="max_connections"):
        rt.observe(max_connections=0)
    with pytest.raises(swerl.InvalidArgument, match="token"):
        rt.observe(token="short")  # at least 16 characters
    with pytest.raises(swerl.InvalidArgument, match="token"):
        rt.observe(token="a" * 20 + "&b")
    with pytest.raises(swerl.InvalidArgument, match="loopback"):
        rt.observe(host="0.0.0.0")  # off loopback without a token
    with pytest.raises(swerl.InvalidArgument, match="host"):
        rt.observe(host="")
    url = rt.observe()  # none of those left one running
    assert get_json(url, "api/overview")["actions"] is False
    rt.stop_observing()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        with pytest.raises(swerl.AddressInUse):
            rt.observe(port=s.getsockname()[1])


def test_observe_ipv6_loopback_is_bracketed(rt):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    url = rt.observe(host="::1")
    assert url.startswith("http://[::1]:") and url.endswith("/"), url
    assert get_json(url, "api/overview")["version"] == swerl.version()


def test_scheduler_usage(rt):
    first = rt.scheduler_usage()
    assert [u.index for u in first] == [0, 1]
    assert all(isinstance(u, swerl.SchedulerUsage) for u in first)
    assert all(0 <= u.busy_ns <= u.wall_ns and u.run_queue >= 0 for u in first)
    pid = rt.spawn(Worker)
    for _ in range(200):
        rt.send(pid, b"x")
    later = wait_until(lambda: (lambda u: u if all(b.wall_ns > a.wall_ns for a, b in zip(first, u)) else None)(
        rt.scheduler_usage()), "the wall time going on")
    assert all(b.busy_ns >= a.busy_ns for a, b in zip(first, later))
    u = later[1]
    assert (u.index, u.busy_ns <= u.wall_ns) == (1, True)
    assert u == swerl.SchedulerUsage(index=1, busy_ns=u.busy_ns, wall_ns=u.wall_ns, run_queue=u.run_queue)


# -- the endpoints ---------------------------------------------------------------------


def test_overview_and_history(rt):
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("worker", Worker)]), name="top")
    url = rt.observe()
    crash_child(rt, sup)
    o = get_json(url, "api/overview")
    for key in ("version", "node", "uptime_ms", "time_ms", "schedulers", "processes", "spawned", "exited",
                "messages_sent", "messages_per_s", "memory_used", "memory_limit", "dead_letters",
                "messages_rejected", "messages_dropped", "restarts", "escalations", "actions"):
        assert key in o, key
    assert o["version"] == swerl.version() and o["node"] is None and o["actions"] is False
    assert [s["index"] for s in o["schedulers"]] == [0, 1]
    assert all(0 <= s["utilization"] <= 1 for s in o["schedulers"])
    assert o["restarts"] == rt.stats()["restarts"] == 1
    assert o["processes"] >= 3  # the supervisor, its child, the listener (and this connection)
    assert o["memory_limit"] == 0

    h = wait_until(lambda: (lambda h: h if h["samples"] else None)(get_json(url, "api/history")),
                   "a first sample (one a second)")
    assert h["interval_ms"] == 1000
    s = h["samples"][-1]
    assert len(s["utilization"]) == 2 and all(0 <= u <= 1 for u in s["utilization"])
    assert s["processes"] >= 3 and s["restarts"] == 1 and "messages_per_s" in s and "memory_used" in s
    times = [x["time_ms"] for x in h["samples"]]
    assert times == sorted(times)


def test_processes_sorts_filters_and_limits(rt):
    gate, busy = threading.Event(), threading.Event()
    hog = rt.spawn(Hog(gate, busy), name="hog")
    try:
        for _ in range(300):
            rt.send(hog, b"x")
        assert busy.wait(TIMEOUT)
        names = ["alpha", "beta", "gamma"]
        pids = {n: rt.spawn(Worker, name=n) for n in names}
        url = rt.observe()

        r = get_json(url, "api/processes?sort=queue")
        top = r["processes"][0]
        assert top["pid"] == str(hog) and top["name"] == "hog" and top["queue"] >= 250, top
        assert r["total"] == r["matched"] >= 5
        for key in ("pid", "name", "status", "queue", "handled", "memory", "links", "monitors",
                    "monitored_by", "trap_exit"):
            assert key in top, key
        assert top["status"] in ("waiting", "runnable", "running", "exiting")

        r = get_json(url, "api/processes?sort=name&order=asc&filter=a&limit=2")
        assert r["matched"] >= 3 and len(r["processes"]) == 2  # alpha, beta, gamma (and maybe more)
        assert [p["name"] for p in r["processes"]] == sorted(p["name"] for p in r["processes"])
        r = get_json(url, "api/processes?filter=gamma")
        assert r["matched"] == 1 and r["processes"][0]["pid"] == str(pids["gamma"])
        r = get_json(url, "api/processes?filter=" + bare(pids["beta"]))
        assert [p["name"] for p in r["processes"]] == ["beta"]
        asc = get_json(url, "api/processes?sort=queue&order=asc&limit=1000")["processes"]
        assert asc[-1]["pid"] == str(hog)
        for sort in ("memory", "handled", "pid", "name"):
            assert get_json(url, "api/processes?sort=" + sort)["total"] >= 5

        for bad in ("sort=bogus", "order=sideways", "limit=1001", "limit=-1", "limit=x"):
            status, _, body = request(url, "api/processes?" + bad)
            assert status == 400 and "error" in body, (bad, status, body)
    finally:
        gate.set()


def test_process_shows_links_monitors_and_supervisor(rt):
    ready = threading.Event()
    a = rt.spawn(Worker, name="alpha")
    b = rt.spawn(Linker(a, ready), name="beta")
    assert ready.wait(TIMEOUT)
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("worker", Worker)]))
    url = rt.observe()

    pa = get_json(url, "api/process/" + bare(a))
    assert pa["pid"] == str(a) and pa["name"] == "alpha"
    assert pa["links"] == [str(b)] and pa["monitored_by"] == [str(b)] and pa["monitors"] == []
    assert pa["supervisor"] is None and pa["child_id"] is None and pa["trap_exit"] is False
    pb = get_json(url, "api/process/<%s>" % bare(b))  # with the brackets too
    assert pb["links"] == [str(a)] and pb["monitors"] == [str(a)] and pb["monitored_by"] == []

    child = child_pid(sup)
    pc = get_json(url, "api/process/" + bare(child))
    assert pc["supervisor"] == str(sup.pid) and pc["child_id"] == "worker"
    assert pc["links"] == [str(sup.pid)]

    rt.exit(b, swerl.Reason.KILL)
    rt.wait_exit(b, timeout=TIMEOUT)
    status, _, body = request(url, "api/process/" + bare(b))
    assert status == 404 and "error" in body
    status, _, body = request(url, "api/process/not-a-pid")
    assert status == 400 and "error" in body


def test_supervisors_and_events_after_a_crash(rt):
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("worker", Worker)], intensity=3), name="top")
    url = rt.observe()
    before = get_json(url, "api/events")
    assert before["events"] == []
    new = crash_child(rt, sup)

    trees = get_json(url, "api/supervisors")["trees"]
    tree = [t for t in trees if t["pid"] == str(sup.pid)]
    assert len(tree) == 1, trees
    tree = tree[0]
    assert tree["type"] == "supervisor" and tree["strategy"] == "one_for_one"
    assert tree["intensity"] == 3 and tree["period_ms"] == 5000
    [child] = tree["children"]
    assert child["id"] == "worker" and child["pid"] == str(new) and child["restarts"] == 1
    assert child["state"] == "running" and child["type"] == "worker" and child["restart"] == "permanent"
    assert "tree" not in child or child["tree"] is None

    ev = wait_until(lambda: (lambda e: e if any(x["kind"] == "child_terminated" for x in e["events"]) else None)(
        get_json(url, "api/events")), "a child_terminated event")
    terminated = [x for x in ev["events"] if x["kind"] == "child_terminated"][0]
    assert terminated["supervisor"] == str(sup.pid) and terminated["child_id"] == "worker"
    assert terminated["reason"] and "asked to crash" in (terminated["detail"] or "")
    seqs = [x["seq"] for x in ev["events"]]
    assert seqs == sorted(seqs, reverse=True) and ev["last"] == seqs[0]  # newest first
    assert get_json(url, "api/events?after=%d" % ev["last"])["events"] == []
    assert [x["seq"] for x in get_json(url, "api/events?after=%d" % (ev["last"] - 1))["events"]] == [ev["last"]]
    status, _, body = request(url, "api/events?after=x")
    assert status == 400 and "error" in body

    # a crash outside any supervisor
    loner = rt.spawn(Worker, name="loner")
    rt.send(loner, b"crash")
    crash = wait_until(lambda: [x for x in get_json(url, "api/events")["events"]
                                if x["kind"] == "crash" and x["pid"] == str(loner)], "a crash event")[0]
    assert crash["name"] == "loner" and crash["reason"] and "asked to crash" in crash["detail"]


def test_nested_supervisor_tree(rt):
    inner = SupervisorSpec([ChildSpec("leaf", Worker)])
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("inner", inner), ChildSpec("worker", Worker)]))
    url = rt.observe()
    [tree] = [t for t in get_json(url, "api/supervisors")["trees"] if t["pid"] == str(sup.pid)]
    by_id = {c["id"]: c for c in tree["children"]}
    assert by_id["inner"]["type"] == "supervisor"
    assert [c["id"] for c in by_id["inner"]["tree"]["children"]] == ["leaf"]
    assert "tree" not in by_id["worker"] or by_id["worker"]["tree"] is None


def test_stream_delivers_samples_and_events(rt):
    url = rt.observe()
    with socket.create_connection(address(url), timeout=TIMEOUT) as s:
        s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        f = s.makefile("rb")
        status = f.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
        head = {}
        while True:
            line = f.readline().rstrip(b"\r\n")
            if not line:
                break
            k, _, v = line.partition(b":")
            head[k.strip().lower()] = v.strip()
        assert head[b"content-type"].startswith(b"text/event-stream")

        def next_event():
            kind, data = None, []
            while True:
                line = f.readline()
                assert line, "the stream ended"
                line = line.rstrip(b"\r\n")
                if not line:
                    if kind or data:
                        return kind, json.loads(b"\n".join(data)) if data else None
                    continue
                field, _, value = line.partition(b":")
                value = value[1:] if value.startswith(b" ") else value
                if field == b"event":
                    kind = value.decode()
                elif field == b"data":
                    data.append(value)

        kinds = []
        kind, sample = next_event()
        while kind != "sample":  # e.g. a retry: line alone
            kinds.append(kind)
            kind, sample = next_event()
        assert sample["version"] == swerl.version() and len(sample["schedulers"]) == 2

        loner = rt.spawn(Worker, name="streamed")
        rt.send(loner, b"crash")
        while True:  # the socket's timeout bounds each read
            kind, data = next_event()
            if kind == "events" and any(e["kind"] == "crash" and e["pid"] == str(loner) for e in data["events"]):
                assert data["last"] >= 1
                break
            assert kind in ("sample", "events"), kind


# -- security -----------------------------------------------------------------------


def test_token_is_required_when_given(rt):
    url = rt.observe(host="127.0.0.1", token=TOKEN)
    assert url.endswith("/?token=" + TOKEN), url
    for path in ("", "api/overview", "api/processes", "api/stream"):
        status, _, body = request(url, path)
        assert status == 401, (path, status)
    status, _, body = request(url, "api/overview")
    assert "error" in body
    assert get_json(url, "api/overview", token=TOKEN)["version"] == swerl.version()
    assert get_json(url, "api/processes?sort=pid", token=TOKEN)["total"] >= 1
    assert get_json(url, "api/overview", headers={"Authorization": "Bearer " + TOKEN})["processes"] >= 1
    status, _, page = request(url, "", token=TOKEN)
    assert status == 200 and 'id="processes-table"' in page
    assert request(url, "api/overview", token=TOKEN[:-1] + "X")[0] == 401
    assert request(url, "api/overview", token=TOKEN + "X")[0] == 401
    assert request(url, "api/overview", headers={"Authorization": "Bearer nope-nope-nope-nope"})[0] == 401
    assert request(url, "api/overview", headers={"Authorization": "Basic " + TOKEN})[0] == 401


def test_actions_are_off_by_default(rt):
    victim = rt.spawn(Worker)
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("worker", Worker)]))
    url = rt.observe()
    action = {"X-Swerl-Action": "1"}
    for path in ("api/process/%s/kill" % bare(victim),
                 "api/supervisor/%s/child/worker/restart" % bare(sup.pid),
                 "api/supervisor/%s/child/worker/terminate" % bare(sup.pid)):
        status, _, body = request(url, path, method="POST", headers=action)
        assert status == 403 and "error" in body, (path, status, body)
    assert rt.process_info(victim) is not None
    assert get_json(url, "api/overview")["actions"] is False


def test_actions_kill_and_restart_when_enabled(rt):
    victim = rt.spawn(Worker, name="victim")
    down = queue.Queue()
    rt.spawn(Watcher(victim, down))
    assert get(down) == "watching"
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("worker", Worker)]))
    url = rt.observe(actions=True)
    assert get_json(url, "api/overview")["actions"] is True
    kill = "api/process/%s/kill" % bare(victim)

    status, _, body = request(url, kill, method="POST")  # no X-Swerl-Action: a form could send that
    assert status == 403 and "X-Swerl-Action" in body["error"]
    status, _, body = request(url, kill, method="POST", headers={"X-Swerl-Action": "0"})
    assert status == 403
    assert rt.process_info(victim) is not None
    assert request(url, kill, method="GET")[0] == 405

    status, _, body = request(url, kill, method="POST", headers={"X-Swerl-Action": "1"})
    assert (status, body) == (200, {"ok": True})
    assert get(down) == swerl.Reason.KILLED
    status, _, body = request(url, kill, method="POST", headers={"X-Swerl-Action": "1"})
    assert status == 404 and "error" in body

    old = child_pid(sup)
    restart = "api/supervisor/%s/child/worker/restart" % bare(sup.pid)
    status, _, body = request(url, restart, method="POST", headers={"X-Swerl-Action": "1"})
    assert (status, body) == (200, {"ok": True})
    assert child_pid(sup) not in (None, old)
    status, _, _ = request(url, "api/supervisor/%s/child/nobody/restart" % bare(sup.pid), method="POST",
                           headers={"X-Swerl-Action": "1"})
    assert status == 404
    terminate = "api/supervisor/%s/child/worker/terminate" % bare(sup.pid)
    status, _, body = request(url, terminate, method="POST", headers={"X-Swerl-Action": "1"})
    assert (status, body) == (200, {"ok": True})
    assert child_pid(sup) is None


# -- bad input and limits ---------------------------------------------------------------


def test_bad_requests(rt):
    url = rt.observe()
    for path in ("nothing", "api/nothing", "api/overview/more", "api/"):
        status, head, body = request(url, path)
        assert status == 404 and "error" in body, (path, status, body)
    status, _, body = request(url, "api/overview", method="PUT")
    assert status == 405 and "error" in body

    garbage = raw_exchange(url, b"THIS IS NOT HTTP\r\n\r\n")
    assert status_of(garbage) == 400 and "error" in body_of(garbage)
    assert b"Connection: close" in garbage

    big = raw_exchange(url, b"GET /api/overview HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (9 * 1024)
                       + b"\r\n\r\n")
    assert status_of(big) == 431 and "error" in body_of(big)

    body = raw_exchange(url, b"POST /api/process/0.1.1/kill HTTP/1.1\r\nHost: t\r\nX-Swerl-Action: 1\r\n"
                        b"Content-Length: 2048\r\n\r\n" + b"a" * 2048)
    assert status_of(body) == 413

    # the server still answers after all that
    assert get_json(url, "api/overview")["version"] == swerl.version()


def test_keep_alive_and_max_connections(rt):
    url = rt.observe(max_connections=2)
    host, port = address(url)
    first = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    second = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        for conn in (first, second, first):  # two requests on the first: keep-alive
            conn.request("GET", "/api/overview")
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read())["version"] == swerl.version()
        # a third is closed at once
        with socket.create_connection((host, port), timeout=TIMEOUT) as s:
            s.sendall(b"GET /api/overview HTTP/1.1\r\nHost: t\r\n\r\n")
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
    finally:
        first.close()

    def a_third_gets_in():
        try:
            return get_json(url, "api/overview")
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            return None

    wait_until(a_third_gets_in, "a connection once one closed")
    second.close()
