"""Tests of swerl.supervisor (Runtime.start_supervisor, ChildSpec, SupervisorSpec).

Every wait is bounded (queue.get(timeout=TIMEOUT) or wait_until with a
deadline); nothing sleeps and hopes.
"""

import gc
import json
import queue
import weakref

import pytest

import swerl
from swerl import ChildSpec, SupervisorSpec, errors

from conftest import TIMEOUT, get, wait_until



class Worker(swerl.Process):
    """CALL b"id" -> id(self); b"crash" -> exception; MESSAGE b"crash" too."""

    created = []

    def __init__(self, tag=b"w"):
        self.tag = tag
        Worker.created.append(self)

    def handle(self, msg, ctx):
        if msg.data == b"crash":
            raise RuntimeError("crash requested")
        if msg.kind == swerl.Kind.CALL:
            if msg.data == b"id":
                return str(id(self)).encode()
            return self.tag


class Watcher(swerl.Process):
    def __init__(self, target, q):
        self.target, self.q = target, q

    def init(self, ctx):
        self.q.put(("ref", ctx.monitor(self.target)))

    def handle(self, msg, ctx):
        self.q.put(msg)


def watch(rt, pid):
    q = queue.Queue()
    rt.spawn(Watcher(pid, q))
    tag, ref = get(q)
    assert tag == "ref" and ref
    return q


def children(sup):
    return {c.id: c for c in sup.which_children()}


def pid_of(sup, cid):
    return children(sup)[cid].pid


def crash_and_wait_restart(rt, sup, cid):
    old = pid_of(sup, cid)
    rt.send(old, b"crash")
    return wait_until(lambda: (lambda p: p if p and p != old else None)(pid_of(sup, cid)),
                      "restart of %s" % cid)


# -- restarts -------------------------------------------------------------------


def test_one_for_one_restarts_crashing_child_with_fresh_object(rt):
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker), ChildSpec("b", Worker)],
                                             intensity=5))
    assert isinstance(sup, swerl.Supervisor)
    before = children(sup)
    assert before["a"].state == "running" and before["a"].restarts == 0
    assert not before["a"].is_supervisor
    id1 = rt.call(before["a"].pid, b"id", timeout=TIMEOUT)
    new = crash_and_wait_restart(rt, sup, "a")
    assert new != before["a"].pid
    after = children(sup)
    assert after["a"].restarts == 1
    assert after["b"].pid == before["b"].pid and after["b"].restarts == 0  # untouched sibling
    assert rt.process_info(before["a"].pid) is None
    assert rt.call(new, b"id", timeout=TIMEOUT) != id1  # a new Python process object
    assert rt.stats()["restarts"] >= 1
    assert sup.count_children() == {"specs": 2, "active": 2, "supervisors": 0, "workers": 2}


def test_one_for_all_restarts_siblings(rt):
    sup = rt.start_supervisor(SupervisorSpec(
        [ChildSpec("a", Worker), ChildSpec("b", Worker), ChildSpec("c", Worker)],
        strategy="one_for_all", intensity=5))
    before = children(sup)
    crash_and_wait_restart(rt, sup, "b")
    wait_until(lambda: all(c.pid and c.pid != before[c.id].pid and c.state == "running"
                           for c in sup.which_children()), "all siblings restarted")
    for c in sup.which_children():
        assert rt.call(c.pid, b"tag", timeout=TIMEOUT) == b"w"
        assert rt.process_info(before[c.id].pid) is None


def test_rest_for_one_restarts_later_children(rt):
    sup = rt.start_supervisor(SupervisorSpec(
        [ChildSpec("a", Worker), ChildSpec("b", Worker), ChildSpec("c", Worker)],
        strategy="rest_for_one", intensity=5))
    before = children(sup)
    crash_and_wait_restart(rt, sup, "b")
    wait_until(lambda: pid_of(sup, "c") not in (None, before["c"].pid), "c restarted")
    assert pid_of(sup, "a") == before["a"].pid


def test_intensity_exceeded_supervisor_exits(rt):
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker)], intensity=1, period=30.0),
                              name="fragile")
    q = watch(rt, sup.pid)
    crash_and_wait_restart(rt, sup, "a")          # 1 restart: allowed
    rt.send(pid_of(sup, "a"), b"crash")            # 2nd within the period: gives up
    msg = get(q)
    assert msg.kind == swerl.Kind.DOWN and msg.sender == sup.pid
    assert msg.reason == swerl.Reason.SHUTDOWN
    wait_until(lambda: rt.whereis("fragile") is None, "name released")
    assert not sup.is_alive()
    assert rt.stats()["escalations"] >= 1
    with pytest.raises(errors.NoProcess):
        sup.which_children()
    wait_until(lambda: not rt._registry.factory_count(), "specs released")


def test_transient_and_temporary(rt):
    def normal_stop(msg, ctx):
        if msg.data == b"stop":
            return swerl.STOP
    sup = rt.start_supervisor(SupervisorSpec([
        ChildSpec("t", lambda: normal_stop, restart="transient"),
        ChildSpec("tmp", Worker, restart="temporary"),
    ]))
    t = pid_of(sup, "t")
    q = watch(rt, t)
    rt.send(t, b"stop")
    assert get(q).kind == swerl.Kind.DOWN
    wait_until(lambda: children(sup)["t"].state == "undefined", "transient kept without pid")
    assert pid_of(sup, "t") is None
    rt.send(pid_of(sup, "tmp"), b"crash")
    wait_until(lambda: "tmp" not in children(sup), "temporary spec deleted")
    assert sup.restart_child("t")  # kept spec: starts again


# -- start -----------------------------------------------------------------------


def test_start_failure_rolls_back(rt):
    q = queue.Queue()

    class Good(swerl.Process):
        def init(self, ctx):
            q.put(("init", ctx.pid))

        def terminate(self, reason, ctx):
            q.put(("terminate", reason))

    class Bad(swerl.Process):
        def init(self, ctx):
            raise ValueError("cannot start")

    spec = SupervisorSpec([ChildSpec("good", Good), ChildSpec("bad", Bad),
                           ChildSpec("never", Good)])
    with pytest.raises(errors.StartFailed):
        rt.start_supervisor(spec, name="rolled")
    tag, pid = get(q)
    assert tag == "init"
    assert get(q) == ("terminate", swerl.Reason.SHUTDOWN)
    assert q.empty()  # "never" was not started
    assert rt.process_info(pid) is None
    # the supervisor process exits after start returned ESTART: its name goes then
    wait_until(lambda: rt.whereis("rolled") is None, "name of the failed supervisor released")
    assert not rt._registry.factory_count()
    # a factory that raises is a start failure too
    def broken():
        raise RuntimeError("factory failed")
    with pytest.raises(errors.StartFailed):
        rt.start_supervisor(SupervisorSpec([ChildSpec("x", broken)]))
    assert not rt._registry.factory_count()


def test_bad_specs(rt):
    with pytest.raises(errors.InvalidArgument):
        rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker)], strategy="nope"))
    with pytest.raises(errors.InvalidArgument):
        rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker, restart="sometimes")]))
    with pytest.raises(errors.InvalidArgument):
        rt.start_supervisor(SupervisorSpec([ChildSpec("", Worker)]))
    with pytest.raises(errors.InvalidArgument):
        rt.start_supervisor(SupervisorSpec([], period=0))
    with pytest.raises(TypeError):
        rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker())]))  # an instance
    with pytest.raises(errors.DuplicateChild):
        rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker), ChildSpec("a", Worker)]))
    with pytest.raises(errors.BadSpec):
        rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker, significant=True)],
                                           auto_shutdown="any_significant"))
    with pytest.raises(errors.BadSpec):
        rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker), ChildSpec("b", Worker)],
                                           strategy="simple_one_for_one"))
    rt.start_supervisor(SupervisorSpec([]), name="taken")
    with pytest.raises(errors.NameTaken):
        rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker)]), name="taken")
    assert not rt._registry.factory_count()


def test_dict_children_and_shutdown_forms(rt):
    sup = rt.start_supervisor(SupervisorSpec(children=[
        {"id": "a", "start": Worker, "shutdown": "brutal_kill"},
        dict(id="b", start=Worker, shutdown=None),
        ChildSpec("c", Worker, shutdown=0.5),
    ]))
    assert [c.id for c in sup.which_children()] == ["a", "b", "c"]
    for cid in ("a", "b", "c"):
        sup.terminate_child(cid)
    assert all(c.pid is None for c in sup.which_children())


# -- management API ---------------------------------------------------------------


def test_management_api_and_errors(rt):
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker)]))
    a = pid_of(sup, "a")
    b = sup.start_child(ChildSpec("b", Worker))
    assert b and rt.call(b, b"tag", timeout=TIMEOUT) == b"w"
    with pytest.raises(errors.ChildStarted):
        sup.start_child(ChildSpec("b", Worker))
    with pytest.raises(errors.ChildNotFound):
        sup.terminate_child("nope")
    with pytest.raises(errors.ChildNotFound):
        sup.restart_child("nope")
    with pytest.raises(errors.ChildNotFound):
        sup.delete_child("nope")
    with pytest.raises(errors.ChildRunning):
        sup.restart_child("a")
    with pytest.raises(errors.ChildRunning):
        sup.delete_child("a")
    with pytest.raises(errors.SimpleOneForOne):
        sup.spawn_child()
    with pytest.raises(errors.SimpleOneForOne):
        sup.terminate_child(a)
    sup.terminate_child("a")
    assert rt.process_info(a) is None
    assert children(sup)["a"].state == "undefined"
    with pytest.raises(errors.ChildPresent):
        sup.start_child(ChildSpec("a", Worker))
    a2 = sup.restart_child("a")
    assert a2 and a2 != a
    sup.terminate_child("a")
    sup.delete_child("a")
    assert list(children(sup)) == ["b"]
    assert sup.count_children() == {"specs": 1, "active": 1, "supervisors": 0, "workers": 1}

    class Ignore(swerl.Process):
        def init(self, ctx):
            return swerl.IGNORE
    assert sup.start_child(ChildSpec("ign", Ignore)) is None
    assert children(sup)["ign"].pid is None

    class Bad(swerl.Process):
        def init(self, ctx):
            raise ValueError("no")
    n = rt._registry.factory_count()
    with pytest.raises(errors.StartFailed):
        sup.start_child(ChildSpec("bad", Bad))
    assert rt._registry.factory_count() == n  # not taken, released
    assert "bad" not in children(sup)

    # a pid that is not a supervisor
    plain = swerl.Supervisor(rt, rt.spawn(Worker), SupervisorSpec([]), None)
    with pytest.raises(errors.NotSupervisor):
        plain.count_children()
    dead = swerl.Supervisor(rt, a, SupervisorSpec([]), None)
    with pytest.raises(errors.NoProcess):
        dead.which_children()


def test_management_inside_callback_is_inproc(rt):
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker)]))
    q = queue.Queue()

    def asker(msg, ctx):
        try:
            sup.which_children()
        except swerl.SwerlError as e:
            q.put(type(e))
    rt.send(rt.spawn(asker), b"go")
    assert get(q) is errors.InProcess


# -- simple_one_for_one ----------------------------------------------------------------


def test_simple_one_for_one_spawn_child_100(rt):
    class Numbered(swerl.Process):
        def __init__(self, n=-1):
            self.n = n

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                return str(self.n).encode()
            if msg.data == b"crash":
                raise RuntimeError("crash")

    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("tmpl", Numbered, restart="temporary")],
                                             strategy="simple_one_for_one"))
    pids = [sup.spawn_child(i) for i in range(100)]
    assert len(set(pids)) == 100
    for i, pid in enumerate(pids):
        assert rt.call(pid, b"n", timeout=TIMEOUT) == str(i).encode()
    plain = sup.spawn_child()  # the template's factory alone
    assert rt.call(plain, b"n", timeout=TIMEOUT) == b"-1"
    assert sup.count_children()["active"] == 101
    assert len(sup.which_children()) == 101
    assert all(c.id == "" for c in sup.which_children())
    sup.terminate_child(pids[0])
    assert rt.process_info(pids[0]) is None
    with pytest.raises(errors.ChildNotFound):
        sup.terminate_child(pids[0])
    with pytest.raises(errors.SimpleOneForOne):
        sup.terminate_child("tmpl")
    with pytest.raises(errors.SimpleOneForOne):
        sup.start_child(ChildSpec("x", Numbered))
    rt.send(pids[1], b"crash")  # temporary: gone for good
    wait_until(lambda: sup.count_children()["active"] == 99, "crashed child removed")
    # 1 template key + one key per living child spawned with arguments
    wait_until(lambda: rt._registry.factory_count() == 1 + 98, "args of the gone children released")


def test_simple_one_for_one_restarts_with_same_args(rt):
    class Numbered(swerl.Process):
        def __init__(self, n):
            self.n = n

        def handle(self, msg, ctx):
            if msg.data == b"crash":
                raise RuntimeError("crash")
            if msg.kind == swerl.Kind.CALL:
                return str(self.n).encode()

    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("t", Numbered)],
                                             strategy="simple_one_for_one", intensity=5))
    pid = sup.spawn_child(n=7)
    rt.send(pid, b"crash")
    new = wait_until(lambda: [c.pid for c in sup.which_children()
                              if c.pid and c.pid != pid], "restart")[0]
    assert rt.call(new, b"n", timeout=TIMEOUT) == b"7"


def test_arg_keep_alive_across_gc(rt):
    made = []

    class Factory:
        def __call__(self):
            p = Worker(b"from-factory")
            made.append(p)
            return p

    f = Factory()
    ref = weakref.ref(f)
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("a", Worker)], intensity=5))
    pid = sup.start_child(ChildSpec("f", f))
    del f
    gc.collect()
    assert ref() is not None  # the supervisor's spec keeps the factory
    assert rt.call(pid, b"tag", timeout=TIMEOUT) == b"from-factory"
    new = crash_and_wait_restart(rt, sup, "f")
    gc.collect()
    assert rt.call(new, b"tag", timeout=TIMEOUT) == b"from-factory"
    assert len(made) == 2 and made[0] is not made[1]
    del made[:]
    sup.terminate_child("f")
    gc.collect()
    assert ref() is not None  # the spec is kept
    sup.delete_child("f")
    wait_until(lambda: gc.collect() is not None and ref() is None, "factory released")

    # simple_one_for_one arguments: kept while the child lives
    sup2 = rt.start_supervisor(SupervisorSpec([ChildSpec("t", Worker)],
                                              strategy="simple_one_for_one"))
    tag = bytearray(b"abc")
    pid = sup2.spawn_child(bytes(tag))
    gc.collect()
    assert rt.call(pid, b"tag", timeout=TIMEOUT) == b"abc"
    sup2.terminate_child(pid)
    wait_until(lambda: rt._registry.factory_count() == 2, "spawned arg released")  # a + template


# -- nesting, tree ------------------------------------------------------------------------


def test_nested_supervisor_spec(rt):
    inner = SupervisorSpec([ChildSpec("w1", Worker), ChildSpec("w2", Worker)],
                           strategy="one_for_all", intensity=5)
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("top-worker", Worker),
                                              ChildSpec("inner", inner, shutdown=None)],
                                             intensity=5), name="outer")
    c = children(sup)
    assert c["inner"].is_supervisor and c["inner"].state == "running"
    assert sup.count_children() == {"specs": 2, "active": 2, "supervisors": 1, "workers": 1}
    inner_sup = sup.child_supervisor("inner")
    assert inner_sup.pid == c["inner"].pid and inner_sup.spec is inner
    with pytest.raises(errors.NotSupervisor):
        sup.child_supervisor("top-worker")
    with pytest.raises(errors.ChildNotFound):
        sup.child_supervisor("nobody")
    before = children(inner_sup)
    crash_and_wait_restart(rt, inner_sup, "w1")
    wait_until(lambda: pid_of(inner_sup, "w2") not in (None, before["w2"].pid), "w2 restarted")
    assert pid_of(sup, "inner") == c["inner"].pid  # the outer level did not restart it

    tree = sup.tree_dict()
    text = json.dumps(tree)
    for cid in ("top-worker", "inner", "w1", "w2"):
        assert '"%s"' % cid in text
    dot = sup.tree("dot")
    assert dot.startswith("digraph")
    assert "w1" in dot and "top-worker" in dot

    # restarting the nested tree rebuilds its children from the copied specs
    sup.terminate_child("inner")
    assert pid_of(sup, "inner") is None
    with pytest.raises(errors.NoProcess):
        sup.child_supervisor("inner")
    new_inner = sup.restart_child("inner")
    assert new_inner and new_inner != c["inner"].pid
    inner_sup2 = sup.child_supervisor("inner")
    assert inner_sup2.pid == new_inner
    for w in inner_sup2.which_children():
        assert rt.call(w.pid, b"tag", timeout=TIMEOUT) == b"w"
    with pytest.raises(ValueError):
        sup.tree("svg")


def test_tree_json_lists_ids(rt):
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("alpha", Worker),
                                              ChildSpec("beta", Worker)]))
    d = sup.tree_dict()
    assert d["type"] == "supervisor"
    assert [ch["id"] for ch in d["children"]] == ["alpha", "beta"]
    assert all(ch["state"] == "running" for ch in d["children"])
