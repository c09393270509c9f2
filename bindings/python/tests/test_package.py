"""Tests of the `swerl` package (bindings/python/src/swerl).

Every wait is bounded (queue.get(timeout=TIMEOUT)); nothing sleeps and hopes.
"""

import gc
import os
import queue
import re
import threading
import time
import weakref

import pytest

import swerl
from swerl import _ffi, errors

HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "swerl.h")

from conftest import TIMEOUT, get



class Echo(swerl.Process):
    """MESSAGE -> q; CALL -> reversed bytes."""

    def __init__(self, q=None):
        self.q = q

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            ctx.reply(msg, msg.data[::-1])
        elif self.q is not None:
            self.q.put(msg)


class Watcher(swerl.Process):
    """Monitors `target` in init; every message it gets goes to q."""

    def __init__(self, target, q):
        self.target, self.q = target, q

    def init(self, ctx):
        self.q.put(("ref", ctx.monitor(self.target)))

    def handle(self, msg, ctx):
        self.q.put(msg)


def is_shutdown(msg):
    """The runtime stopping: a trapping process sees EXIT SHUTDOWN from 0."""
    return msg.kind == swerl.Kind.EXIT and msg.reason == swerl.Reason.SHUTDOWN and msg.sender == 0


def watch(rt, pid):
    q = queue.Queue()
    rt.spawn(Watcher(pid, q))
    tag, ref = get(q)
    assert tag == "ref" and ref
    return q, ref


# -- library, errors ----------------------------------------------------------


def test_version_check():
    assert swerl.version().startswith("1.")
    assert swerl.version_hex() >> 16 == 1
    _ffi.check_version(0x010400)  # any 1.x from 1.4 on is fine (the shared binaries' functions)
    _ffi.check_version(0x010501)
    with pytest.raises(swerl.LibraryError, match="needs 1.4 or newer"):
        _ffi.check_version(0x010300)
    with pytest.raises(swerl.LibraryError, match="needs 1.4 or newer"):
        _ffi.check_version(0x010100)
    with pytest.raises(swerl.LibraryError, match="ABI major 1"):
        _ffi.check_version(0x020000)
    with pytest.raises(ImportError):
        _ffi.check_version(0x000900)


def test_every_header_function_is_declared():
    with open(HEADER) as f:
        declared = set(re.findall(r"SWERL_API\s+[^;(]*?\b(swerl_\w+)\s*\(", f.read()))
    assert declared and declared == set(_ffi.SIGNATURES)
    for name in declared:
        assert getattr(_ffi.lib, name).argtypes is not None


def test_bad_library_path_is_a_clear_error(tmp_path):
    with pytest.raises(swerl.LibraryError, match="cannot load"):
        _ffi.load(str(tmp_path / "nothing.so"))


def test_error_classes_match_header_and_library():
    # Every code of the header's SWERL_ERRNO_MAP has its class, exported by
    # name from the package, with the header's name and text.
    with open(HEADER) as f:
        table = re.findall(r'XX\(\s*(E\w+)\s*,\s*(-\d+)\s*,\s*"([^"]*)"\s*\)', f.read())
    assert len(table) >= 27
    assert sorted(errors.ERRORS) == sorted(int(code) for _, code, _ in table)
    for name, code, text in table:
        code = int(code)
        cls = errors.ERRORS[code]
        assert getattr(swerl, cls.__name__) is cls and cls.__name__ in swerl.__all__
        assert issubclass(cls, swerl.SwerlError)
        assert (cls.code, cls.name, cls.text) == (code, name, text)
        assert _ffi.lib.swerl_err_name(code).decode() == name
        assert _ffi.lib.swerl_strerror(code).decode() == text
        with pytest.raises(cls) as ei:
            swerl.check(code, "op")
        assert ei.value.code == code and ei.value.name == name
    assert swerl.check(0) == 0 and swerl.check(3) == 3
    with pytest.raises(swerl.SwerlError) as ei:
        swerl.check(-999)
    assert ei.value.code == -999 and type(ei.value) is swerl.SwerlError
    assert issubclass(swerl.Timeout, TimeoutError)


def test_send_to_dead_pid_is_quiet_and_counted(rt):
    """Erlang's ! never fails: a send to a process that died is a dead
    letter, not an exception (issue 11, item 3). pid 0 and a pid of another
    runtime are misuse: they raise, with the library's detail."""
    pid = rt.spawn(lambda msg, ctx: swerl.STOP)
    q, _ = watch(rt, pid)
    rt.send(pid, b"stop")
    assert get(q).kind == swerl.Kind.DOWN
    before = rt.stats()["dead_letters"]
    rt.send(pid, b"anyone?")
    rt.exit(pid, swerl.Reason.KILL)  # exit/2 to the dead: quiet too
    assert rt.stats()["dead_letters"] > before
    with pytest.raises(swerl.NoProcess, match="never a process") as ei:
        rt.send(0, b"x")
    assert (ei.value.code, ei.value.name) == (-2, "ENOPROC")
    other = swerl.Runtime(schedulers=1)
    try:
        foreign = other.spawn(Echo())
        with pytest.raises(swerl.NoProcess, match="another runtime"):
            rt.send(foreign, b"x")
        rt.send(pid, b"dead again, after a foreign pid's detail")  # still quiet
    finally:
        other.close()


def test_bad_input_types(rt):
    pid = rt.spawn(Echo())
    with pytest.raises(TypeError):
        rt.send(pid, "a str is not bytes")
    with pytest.raises(TypeError):
        rt.send(1.5, b"x")
    with pytest.raises(TypeError):
        rt.spawn(42)
    with pytest.raises(swerl.InvalidArgument):
        rt.register("", pid)
    with pytest.raises(swerl.InvalidArgument):
        rt.call(pid, b"x", timeout=-1)
    rt.send(pid, bytearray(b"ok"))  # bytes-like is fine


# -- spawn, send, call ------------------------------------------------------------


def test_class_process_send_and_call(rt):
    q = queue.Queue()
    pid = rt.spawn(Echo(q))
    assert isinstance(pid, swerl.Pid) and pid != 0
    for payload in (b"hello", b"\x00\xff binary", b""):
        rt.send(pid, payload)
        m = get(q)
        assert (m.kind, m.data, m.sender, m.ref) == (swerl.Kind.MESSAGE, payload, 0, 0)
    assert rt.call(pid, b"abc", timeout=1.0) == b"cba"
    assert rt.call(pid, b"x" * 100000) == b"x" * 100000


def test_function_process_returning_bytes_replies(rt):
    def upper(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            return msg.data.upper()

    pid = rt.spawn(upper)
    assert rt.call(pid, b"shout", timeout=1.0) == b"SHOUT"


def test_process_class_is_instantiated(rt):
    class Counter(swerl.Process):
        def init(self, ctx):
            self.n = 0

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                self.n += 1
                return b"%d" % self.n

    pid = rt.spawn(Counter)
    assert [rt.call(pid, b"") for _ in range(3)] == [b"1", b"2", b"3"]


def test_init_and_terminate_order(rt):
    q = queue.Queue()

    class P(swerl.Process):
        def init(self, ctx):
            q.put(("init", ctx.self_pid()))

        def handle(self, msg, ctx):
            q.put(("handle", msg.data))
            return swerl.STOP

        def terminate(self, reason, ctx):
            q.put(("terminate", reason))

    pid = rt.spawn(P())
    assert get(q) == ("init", pid)
    rt.send(pid, b"bye")
    assert get(q) == ("handle", b"bye")
    assert get(q) == ("terminate", swerl.Reason.NORMAL)


def test_call_timeout_and_deferred_reply(rt):
    pending = queue.Queue()

    def slow(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            pending.put(msg.ref)  # answered later, from another thread

    pid = rt.spawn(slow)
    with pytest.raises(swerl.Timeout):
        rt.call(pid, b"never", timeout=0.05)
    get(pending)

    result = queue.Queue()
    t = threading.Thread(target=lambda: result.put(rt.call(pid, b"later", timeout=TIMEOUT)))
    t.start()
    rt.reply(get(pending), b"deferred answer")
    assert get(result) == b"deferred answer"
    t.join(TIMEOUT)


def test_calls_from_many_threads(rt):
    pid = rt.spawn(Echo())
    results = queue.Queue()

    def worker(i):
        try:
            for j in range(50):
                req = b"%d-%d" % (i, j)
                assert rt.call(pid, req, timeout=TIMEOUT) == req[::-1]
            results.put(None)
        except BaseException as e:  # pragma: no cover
            results.put(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for _ in threads:
        assert get(results) is None
    for t in threads:
        t.join(TIMEOUT)


def test_call_inside_handler_is_inproc(rt):
    q = queue.Queue()
    target = rt.spawn(Echo())

    def caller(msg, ctx):
        try:
            rt.call(target, b"x")
        except swerl.SwerlError as e:
            q.put(e)

    rt.send(rt.spawn(caller), b"go")
    assert isinstance(get(q), swerl.InProcess)


def test_call_async_reply_message(rt):
    q = queue.Queue()
    server = rt.spawn(Echo())

    def client(msg, ctx):
        if msg.kind == swerl.Kind.MESSAGE:
            q.put(("ref", ctx.call_async(server, b"ping", timeout=TIMEOUT)))
        elif msg.kind == swerl.Kind.REPLY:
            q.put(("reply", msg))

    rt.send(rt.spawn(client), b"go")
    tag, ref = get(q)
    tag, reply = get(q)
    assert tag == "reply" and reply.ref == ref and reply.reason == 0 and reply.data == b"gnip"


# -- crashes --------------------------------------------------------------------


def test_exception_in_handle_is_down_with_traceback(rt):
    def boom(msg, ctx):
        raise ValueError("kaboom from python")

    pid = rt.spawn(boom)
    q, ref = watch(rt, pid)
    rt.send(pid, b"go")
    down = get(q)
    assert (down.kind, down.sender, down.ref) == (swerl.Kind.DOWN, pid, ref)
    assert down.reason == swerl.Reason.ERROR
    assert down.data.startswith(b"Traceback")
    assert b"ValueError: kaboom from python" in down.data


def test_bad_return_value_is_a_crash(rt):
    pid = rt.spawn(lambda msg, ctx: "continue please")
    q, _ = watch(rt, pid)
    rt.send(pid, b"go")
    down = get(q)
    assert down.reason == swerl.Reason.ERROR and b"TypeError" in down.data


def test_exception_in_init_is_exit_for_linked_trapping_parent(rt):
    q = queue.Queue()

    class Child(swerl.Process):
        def init(self, ctx):
            raise RuntimeError("init exploded")

        def terminate(self, reason, ctx):  # pragma: no cover - init failed: never runs
            q.put(("terminate?!", reason))

    class Parent(swerl.Process):
        def init(self, ctx):
            ctx.trap_exit(True)

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.MESSAGE:
                q.put(("child", ctx.spawn(Child(), link=True)))
            elif is_shutdown(msg):
                return swerl.STOP
            else:
                q.put(("msg", msg))

    rt.send(rt.spawn(Parent()), b"spawn")
    tag, child = get(q)
    assert tag == "child"
    tag, m = get(q)
    assert tag == "msg" and m.kind == swerl.Kind.EXIT and m.sender == child
    assert m.reason == swerl.Reason.ERROR
    assert b"RuntimeError: init exploded" in m.data and m.data.startswith(b"Traceback")


def test_spawn_monitor_sees_init_crash(rt):
    q = queue.Queue()

    def parent(msg, ctx):
        if msg.kind == swerl.Kind.MESSAGE:
            q.put(ctx.spawn(lambda m, c: None, monitor=False))  # plain spawn inside works too

            class Bad(swerl.Process):
                def init(self, ctx):
                    raise KeyError("nope")

            q.put(ctx.spawn(Bad, monitor=True))
        elif msg.kind == swerl.Kind.DOWN:
            q.put(msg)

    rt.send(rt.spawn(parent), b"go")
    assert isinstance(get(q), swerl.Pid)
    pid, ref = get(q)
    down = get(q)
    assert (down.kind, down.sender, down.ref, down.reason) == (swerl.Kind.DOWN, pid, ref,
                                                                swerl.Reason.ERROR)
    assert b"KeyError: 'nope'" in down.data


def test_link_or_monitor_outside_handler_is_a_clear_error(rt):
    with pytest.raises(swerl.InvalidArgument, match="inside a handler"):
        rt.spawn(Echo(), link=True)
    with pytest.raises(swerl.InvalidArgument, match="inside a handler"):
        rt.spawn(Echo(), monitor=True)


def test_fail_sets_user_reason(rt):
    def quit(msg, ctx):
        ctx.fail(swerl.Reason.USER + 7, "custom detail")
        return swerl.STOP

    pid = rt.spawn(quit)
    q, _ = watch(rt, pid)
    rt.send(pid, b"go")
    down = get(q)
    assert (down.reason, down.data) == (263, b"custom detail")


def test_exception_in_terminate_is_recorded(rt):
    class T(swerl.Process):
        def handle(self, msg, ctx):
            return swerl.STOP

        def terminate(self, reason, ctx):
            raise OSError("terminate failed")

    pid = rt.spawn(T())
    q, _ = watch(rt, pid)
    rt.send(pid, b"x")
    assert get(q).reason == swerl.Reason.NORMAL
    assert any("terminate failed" in e for e in rt.callback_errors)
    rt.callback_errors.clear()


# -- receive ----------------------------------------------------------------------


def test_skip_selective_receive_order(rt):
    q = queue.Queue()

    class Selective(swerl.Process):
        def init(self, ctx):
            self.waiting_for_go = True

        def handle(self, msg, ctx):
            if self.waiting_for_go:
                if msg.data != b"go":
                    return swerl.SKIP
                self.waiting_for_go = False
            q.put(msg.data)

    pid = rt.spawn(Selective())
    for d in (b"a", b"b", b"go", b"c"):
        rt.send(pid, d)
    assert [get(q) for _ in range(4)] == [b"go", b"a", b"b", b"c"]


def test_receive_timeout(rt):
    q = queue.Queue()

    class T(swerl.Process):
        def init(self, ctx):
            ctx.receive_timeout(0.02)

        def handle(self, msg, ctx):
            q.put(msg.kind)
            if msg.kind == swerl.Kind.MESSAGE:
                ctx.receive_timeout(0.02)

    pid = rt.spawn(T())
    assert get(q) == swerl.Kind.TIMEOUT
    rt.send(pid, b"x")
    assert get(q) == swerl.Kind.MESSAGE
    assert get(q) == swerl.Kind.TIMEOUT


def test_ctx_outside_callback_is_invalid(rt):
    q = queue.Queue()
    pid = rt.spawn(lambda msg, ctx: q.put(ctx))
    rt.send(pid, b"x")
    ctx = get(q)
    with pytest.raises(swerl.ContextInvalid):
        ctx.self_pid()


# -- links, monitors, exit ---------------------------------------------------------


def test_links_with_trap_exit(rt):
    q = queue.Queue()
    victim = rt.spawn(Echo())

    class Trapper(swerl.Process):
        def init(self, ctx):
            assert ctx.trap_exit(True) is False
            ctx.link(victim)
            q.put("linked")

        def handle(self, msg, ctx):
            if is_shutdown(msg):
                return swerl.STOP
            q.put(msg)

    trapper = rt.spawn(Trapper())
    assert get(q) == "linked"
    rt.exit(victim, swerl.Reason.USER + 1, b"go away")
    m = get(q)
    assert (m.kind, m.sender, m.reason, m.data) == (swerl.Kind.EXIT, victim, 257, b"go away")
    assert rt.process_info(trapper) is not None  # trapping: it survived
    assert rt.process_info(victim) is None


def test_link_without_trap_exit_kills(rt):
    q = queue.Queue()
    victim = rt.spawn(Echo())

    class Linked(swerl.Process):
        def init(self, ctx):
            ctx.link(victim)
            q.put("linked")

    linked = rt.spawn(Linked())
    assert get(q) == "linked"
    wq, _ = watch(rt, linked)
    rt.exit(victim, swerl.Reason.USER + 2)
    down = get(wq)
    assert (down.sender, down.reason) == (linked, 258)


def test_unlink(rt):
    q = queue.Queue()
    victim = rt.spawn(Echo())

    class P(swerl.Process):
        def init(self, ctx):
            ctx.link(victim)
            ctx.unlink(victim)
            q.put("ok")

    p = rt.spawn(P())
    assert get(q) == "ok"
    wq, _ = watch(rt, victim)
    rt.exit(victim, swerl.Reason.USER)
    assert get(wq).kind == swerl.Kind.DOWN
    assert rt.process_info(p) is not None


def test_monitor_and_demonitor(rt):
    q = queue.Queue()
    target = rt.spawn(Echo())
    other = rt.spawn(Echo())

    class M(swerl.Process):
        def init(self, ctx):
            r1 = ctx.monitor(other)
            assert ctx.demonitor(r1, info=True) is True
            self.ref = ctx.monitor(target)
            q.put(self.ref)

        def handle(self, msg, ctx):
            q.put(msg)

    rt.spawn(M())
    ref = get(q)
    rt.exit(other, swerl.Reason.KILL)
    rt.exit(target, swerl.Reason.KILL)
    down = get(q)
    assert (down.kind, down.sender, down.ref, down.reason) == (swerl.Kind.DOWN, target, ref,
                                                                swerl.Reason.KILLED)


def test_monitor_dead_pid_is_noproc_down(rt):
    pid = rt.spawn(lambda m, c: swerl.STOP)
    q1, _ = watch(rt, pid)
    rt.send(pid, b"x")
    get(q1)
    q2, ref = watch(rt, pid)
    down = get(q2)
    assert (down.ref, down.reason) == (ref, swerl.Reason.NOPROC)


# -- names ------------------------------------------------------------------------


def test_names(rt):
    q = queue.Queue()
    a = rt.spawn(Echo(q))
    b = rt.spawn(Echo(q))
    rt.register("alpha", a)
    assert rt.whereis("alpha") == a
    assert "alpha" in rt.registered()
    with pytest.raises(swerl.NameTaken) as ei:
        rt.register("alpha", b)
    assert ei.value.name == "ENAMETAKEN"
    with pytest.raises(swerl.AlreadyNamed):
        rt.register("beta", a)
    rt.send("alpha", b"by name")
    assert get(q).data == b"by name"
    assert rt.call("alpha", b"xy") == b"yx"
    rt.unregister("alpha")
    assert rt.whereis("alpha") is None
    with pytest.raises(swerl.NoName):
        rt.unregister("alpha")
    with pytest.raises(swerl.NoName):
        rt.send("alpha", b"x")


def test_spawn_with_name(rt):
    pid = rt.spawn(Echo(), name="named")
    assert rt.whereis("named") == pid
    with pytest.raises(swerl.NameTaken):
        rt.spawn(Echo(), name="named")


# -- timers -----------------------------------------------------------------------


def test_send_after_and_cancel_timer(rt):
    q = queue.Queue()
    pid = rt.spawn(Echo(q))
    cancelled = rt.send_after(pid, 60.0, b"never")
    remaining = rt.cancel_timer(cancelled)
    assert remaining is not None and 0 < remaining <= 60.0
    assert rt.cancel_timer(cancelled) is None  # already cancelled

    ref = rt.send_after(pid, 0.01, b"tick")
    m = get(q)
    assert (m.kind, m.data, m.ref, m.sender) == (swerl.Kind.MESSAGE, b"tick", ref, 0)
    assert rt.cancel_timer(ref) is None  # already fired
    with pytest.raises(swerl.NoProcess):
        rt.send_after(12345, 1.0, b"x")


# -- lifetime ---------------------------------------------------------------------


def test_callbacks_alive_after_gc(rt):
    q = queue.Queue()
    proc = Echo(q)
    ref = weakref.ref(proc)
    pid = rt.spawn(proc)
    del proc
    for i in range(3):
        gc.collect()
        rt.send(pid, b"%d" % i)
        assert get(q).data == b"%d" % i
    assert ref() is not None
    rt.close()
    gc.collect()
    assert ref() is None, "process object outlived the runtime"


def test_process_object_released_when_it_exits(rt):
    q = queue.Queue()
    proc = Echo(q)
    ref = weakref.ref(proc)
    pid = rt.spawn(proc)
    del proc
    wq, _ = watch(rt, pid)
    rt.exit(pid, swerl.Reason.KILL)
    get(wq)
    rt.call(rt.spawn(Echo()), b"")  # other processes still fine
    gc.collect()
    # terminate ran before DOWN was sent: the object is gone
    assert ref() is None


def test_closed_runtime_raises_stopped():
    rt = swerl.Runtime(schedulers=1)
    pid = rt.spawn(Echo())
    rt.close()
    rt.close()  # idempotent
    assert rt.closed
    for op in (lambda: rt.send(pid, b"x"), lambda: rt.spawn(Echo()),
               lambda: rt.call(pid, b"x"), lambda: rt.whereis("x"),
               lambda: rt.send_after(pid, 1, b"")):
        with pytest.raises(swerl.Stopped):
            op()


def test_stop_then_calls_raise_stopped_and_terminate_ran():
    q = queue.Queue()

    class P(swerl.Process):
        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                return b"ready"

        def terminate(self, reason, ctx):
            q.put(reason)

    with swerl.Runtime(schedulers=2) as rt:
        pids = [rt.spawn(P()) for _ in range(3)]
        for p in pids:
            assert rt.call(p, b"") == b"ready"
        rt.stop()
        assert [q.get_nowait() for _ in range(3)] == [swerl.Reason.SHUTDOWN] * 3
        with pytest.raises(swerl.Stopped):
            rt.send(pids[0], b"late")
    assert rt.closed


def test_close_inside_handler_is_refused(rt):
    q = queue.Queue()

    def closer(msg, ctx):
        try:
            rt.close()
        except swerl.InProcess as e:
            q.put(e)

    rt.send(rt.spawn(closer), b"x")
    assert isinstance(get(q), swerl.InProcess)


def test_forgotten_runtime_is_closed_by_gc():
    rt = swerl.Runtime(schedulers=1)
    assert rt.call(rt.spawn(Echo()), b"ab") == b"ba"
    r = weakref.ref(rt)
    del rt
    # A scheduler thread may still be returning from the callback that
    # replied (its frame holds the runtime): wait for that, bounded.
    deadline = time.monotonic() + TIMEOUT
    while True:
        gc.collect()
        if r() is None or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert r() is None, "an unreferenced runtime was not collected"


def test_stats_and_processes(rt):
    pid = rt.spawn(Echo())
    rt.call(pid, b"")
    s = rt.stats()
    assert s["schedulers"] == 2 and s["processes"] >= 1 and s["spawned"] >= 1
    assert pid in rt.processes()
    info = rt.process_info(pid)
    # (messages_handled is counted after the callback returns: not checked here)
    assert info["name"] == "" and info["status"] in (0, 1, 2)


# -- threads, mailbox limits, init return values -----------------------------------

_local = threading.local()


def test_handlers_run_on_the_dispatcher_thread():
    """By default Python handlers run on the runtime's dispatcher threads
    (a turn group's drivers), never on a scheduler thread nor the caller's."""
    q = queue.Queue()

    def where(msg, ctx):
        q.put(threading.get_ident())

    with swerl.Runtime(schedulers=2) as rt:
        pids = [rt.spawn(where) for _ in range(8)]
        for pid in pids:
            for _ in range(3):
                rt.send(pid, b"x")
        seen = {get(q) for _ in range(24)}
        dispatchers = {t.ident for t in threading.enumerate() if t.name == "swerl-dispatcher"}
        assert seen <= dispatchers and threading.get_ident() not in seen
        assert not (seen & set(rt._thread_state)), "a scheduler thread ran a Python handler"
    assert not rt.callback_errors


def test_scheduler_threads_stay_attached():
    """on_thread_start keeps each scheduler thread's Python thread state, so
    thread-local data survives from one callback to the next (the
    callback-per-message path: Runtime(dispatcher=False))."""
    q = queue.Queue()

    def remember(msg, ctx):
        seen = getattr(_local, "value", None)
        _local.value = msg.data
        q.put((seen, threading.get_ident()))

    rt = swerl.Runtime(schedulers=1, dispatcher=False)
    try:
        pid = rt.spawn(remember)
        rt.send(pid, b"first")
        first, ident = get(q)
        rt.send(pid, b"second")
        assert get(q) == (b"first", ident)
        assert ident in rt._thread_state
    finally:
        rt.close()
    assert rt._thread_state == {}, "on_thread_stop did not detach every thread"
    assert not rt.callback_errors


def test_mailbox_full(rt):
    q = queue.Queue()
    release = threading.Event()

    def busy(msg, ctx):
        q.put("busy")
        release.wait(TIMEOUT)

    pid = rt.spawn(busy, mailbox_limit=1)
    try:
        rt.send(pid, b"1")
        assert get(q) == "busy"
        rt.send(pid, b"2")  # waits in the mailbox
        with pytest.raises(swerl.MailboxFull) as ei:
            rt.send(pid, b"3")
        assert ei.value.code == -7
    finally:
        release.set()
    assert get(q) == "busy"


def test_init_ignore_exits_normal(rt):
    q = queue.Queue()

    class Ignored(swerl.Process):
        def init(self, ctx):
            q.put(ctx.self_pid())
            return swerl.IGNORE

    pid = rt.spawn(Ignored())
    assert get(q) == pid
    wq, ref = watch(rt, pid)
    down = get(wq)
    assert down.kind == swerl.Kind.DOWN and down.reason in (swerl.Reason.NORMAL, swerl.Reason.NOPROC)
