"""The Python binding under stress (issue 6, item 8): many threads at once,
an exception in every kind of callback (BaseException too), stops under
load, runtimes created and closed in a loop, garbage collection pressure.

Each test runs its scenario in a child interpreter (``run_child``): a
segfault, an abort or a hang there is a failed test showing the child's
output and faulthandler's tracebacks, not a dead or stuck pytest. Waits are
on events, queues and joins with generous timeouts; nothing sleeps and hopes,
and nothing asserts on timing.
"""

import os
import subprocess
import sys
import textwrap

import pytest

CHILD_TIMEOUT = 120  # seconds a whole scenario may take before it counts as hung
HANG_AFTER = CHILD_TIMEOUT - 15  # then the child prints its threads' stacks and exits

# Given to every child: bounded waits and the process's own counters.
PRELUDE = r'''
import asyncio, ctypes, faulthandler, gc, logging, os, queue, sys, threading, time, traceback, weakref
import swerl
from swerl import Kind, Reason

TIMEOUT = 30  # any single wait
faulthandler.dump_traceback_later(HANG_AFTER, exit=True)  # a hang: every thread's stack

def get(q, timeout=TIMEOUT):
    try:
        return q.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError("nothing arrived within %ss" % timeout) from None

def wait_until(fn, what="condition"):
    """Poll fn() until it is truthy, or fail after TIMEOUT s (`what` may be
    a function: the failure then says what it returns at that point)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("%s not reached within %ss" % (what() if callable(what) else what, TIMEOUT))
        time.sleep(0.002)

def join_all(threads):
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "thread %s still running after %ss" % (t.name, TIMEOUT)

def os_threads():
    return len(os.listdir("/proc/self/task"))

_api = ctypes.pythonapi
_api.PyInterpreterState_Get.restype = ctypes.c_void_p
_api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
_api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
_api.PyThreadState_Next.restype = ctypes.c_void_p
_api.PyThreadState_Next.argtypes = [ctypes.c_void_p]

def thread_states():
    """The interpreter's PyThreadState count: a PyGILState_Ensure without its
    Release on a scheduler thread leaves one behind for good."""
    n, t = 0, _api.PyInterpreterState_ThreadHead(_api.PyInterpreterState_Get())
    while t:
        n, t = n + 1, _api.PyThreadState_Next(t)
    return n

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def echo(msg, ctx):
    if msg.kind == Kind.CALL:
        return msg.data

def silent(msg, ctx):
    """Never replies: calls to it time out (or see the stop)."""

class Watcher(swerl.Process):
    """Monitors every pid it is asked to (a CALL with pids), puts each DOWN on q."""

    def __init__(self, q):
        self.q = q

    def handle(self, msg, ctx):
        if msg.kind == Kind.CALL:
            for i in range(0, len(msg.data), 8):
                ctx.monitor(int.from_bytes(msg.data[i:i + 8], "little"))
            return b"ok"
        if msg.kind == Kind.DOWN:
            self.q.put(msg)

def watch(rt, q, *pids):
    """Returns once a Watcher monitors `pids` (its DOWNs go to q)."""
    w = rt.spawn(Watcher(q))
    rt.call(w, b"".join(p.to_bytes(8, "little") for p in pids), timeout=TIMEOUT)
    return w
'''


def _text(output):
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else output


def run_child(body, timeout=CHILD_TIMEOUT):
    """Run PRELUDE + body in a new interpreter (this one's environment, so
    the same swerl and library); fail with its output unless it exits 0
    after printing CHILD-OK."""
    code = (PRELUDE.replace("HANG_AFTER", str(HANG_AFTER)) + textwrap.dedent(body)
            + '\nprint("CHILD-OK")\n')
    try:
        p = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        hung = e
    else:
        hung = None
    if hung is not None:
        pytest.fail("the child hung (killed after %ss)\n--- stdout\n%s\n--- stderr\n%s"
                    % (timeout, _text(hung.stdout), _text(hung.stderr)))
    if p.returncode != 0 or "CHILD-OK" not in p.stdout:
        pytest.fail("the child failed (exit status %d%s)\n--- stdout\n%s\n--- stderr\n%s"
                    % (p.returncode, ", a signal" if p.returncode < 0 else "", p.stdout[-20000:],
                       p.stderr[-20000:]))
    return p


# -- many threads ---------------------------------------------------------------


def test_32_threads_spawn_send_call_register_monitor_and_stop_on_2_schedulers():
    """32 threads at once on one runtime with 2 schedulers: sends (each
    sender's messages arrive exactly once, in order), calls (with timeouts
    that fire, exactly where expected), call_async from 4 asyncio loops,
    names (one winner per contested name), monitors and stops."""
    run_child(r'''
    THREADS, SINKS, N = 32, 4, 400

    class Sink(swerl.Process):
        """Records each sender thread's sequence numbers in arrival order."""

        def init(self, ctx):
            self.seen = {}

        def handle(self, msg, ctx):
            if msg.kind == Kind.MESSAGE:
                t, seq = msg.data.split(b":")
                self.seen.setdefault(int(t), []).append(int(seq))
            elif msg.kind == Kind.CALL:
                return msg.data

    class Stopper(swerl.Process):
        def handle(self, msg, ctx):
            return swerl.STOP

    rt = swerl.Runtime(schedulers=2)
    sinks = [Sink() for _ in range(SINKS)]
    sink_pids = [rt.spawn(s) for s in sinks]
    shared_echo = rt.spawn(echo, name="shared-echo")
    quiet = rt.spawn(silent)
    start = threading.Barrier(THREADS)
    errors, winners, timeouts, async_done = [], [], [], []

    async def async_calls(t):
        got = await asyncio.gather(*[rt.call_async(sink_pids[i % SINKS], b"%d:%d" % (t, i), timeout=TIMEOUT)
                                     for i in range(40)])
        assert got == [b"%d:%d" % (t, i) for i in range(40)], got
        assert await rt.call_async("shared-echo", b"named", timeout=TIMEOUT) == b"named"
        try:
            await rt.call_async(quiet, b"", timeout=0.05)
            raise AssertionError("call_async to a silent process returned")
        except swerl.Timeout:
            pass
        async_done.append(t)

    def worker(t):
        try:
            start.wait(TIMEOUT)
            # names: a private one, and one contested name
            mine = rt.spawn(echo, name="w%d" % t)
            assert rt.whereis("w%d" % t) == mine
            candidate = rt.spawn(echo)
            try:
                rt.register("contested", candidate)
                winners.append(candidate)
            except swerl.NameTaken:
                pass
            q = queue.Queue()
            stoppers = [rt.spawn(Stopper) for _ in range(10)]
            watch(rt, q, mine, *stoppers)
            for seq in range(N):
                for pid in sink_pids:
                    rt.send(pid, b"%d:%d" % (t, seq))
                if seq % 25 == 0:
                    assert rt.call("w%d" % t, b"%d" % seq, timeout=TIMEOUT) == b"%d" % seq
                    assert rt.call(shared_echo, b"s", timeout=TIMEOUT) == b"s"
            try:
                rt.call(quiet, b"", timeout=0.05)
                raise AssertionError("call to a silent process returned")
            except swerl.Timeout:
                timeouts.append(t)
            if t % 8 == 0:
                asyncio.run(async_calls(t))
            # stop processes: ten by STOP, the named one by an exit signal
            for p in stoppers:
                rt.send(p, b"stop")
            rt.exit(mine, Reason.SHUTDOWN)
            downs = [get(q) for _ in range(11)]
            assert {d.sender for d in downs} == set(stoppers) | {mine}, downs
            assert all(d.reason == (Reason.SHUTDOWN if d.sender == mine else Reason.NORMAL)
                       for d in downs), downs
            assert q.empty()
            wait_until(lambda: rt.whereis("w%d" % t) is None, "the name released")
        except BaseException:
            errors.append("thread %d: %s" % (t, traceback.format_exc()))

    threads = [threading.Thread(target=worker, args=(t,), name="w%d" % t, daemon=True)
               for t in range(THREADS)]
    for th in threads:
        th.start()
    join_all(threads)
    assert not errors, "\n".join(errors)
    assert len(winners) == 1 and rt.whereis("contested") == winners[0], winners
    assert sorted(timeouts) == list(range(THREADS))
    assert sorted(async_done) == list(range(0, THREADS, 8))
    # a CALL queues behind every message sent before it: each sink has
    # handled everything once it answers
    for pid in sink_pids:
        assert rt.call(pid, b"sync", timeout=TIMEOUT) == b"sync"
    for s in sinks:
        assert sorted(s.seen) == list(range(THREADS))
        for t, seqs in s.seen.items():
            assert seqs == list(range(N)), (t, seqs[:20])
    rt.close()
    assert not rt.callback_errors, rt.callback_errors
    ''')


# -- an exception in every kind of callback ----------------------------------------


@pytest.mark.parametrize("exc", ["RuntimeError", "KeyboardInterrupt", "SystemExit"])
def test_exception_in_every_callback_is_a_crash_and_the_runtime_goes_on(exc):
    """An exception raised in init, in handle for each message kind, in
    terminate, in a supervised child's factory and init, in a logging
    handler fed by on_log and in a call_async caller's loop: each is a crash
    whose reason is ERROR with the traceback (or, where C cannot be told,
    an entry in rt.callback_errors / the log), never lost. BaseExceptions
    (KeyboardInterrupt, SystemExit) crash the process as an Erlang
    programmer expects, not the interpreter."""
    run_child(r'''
    EXC = ''' + exc + r'''

    def boom(where):
        raise EXC("boom-" + where)

    class Victim(swerl.Process):
        """Raises in `where`; sets up whatever makes that message come."""

        def __init__(self, where, helper=None):
            self.where, self.helper = where, helper

        def init(self, ctx):
            if self.where == "init":
                boom("init")
            if self.where == "EXIT":
                ctx.trap_exit(True)
            elif self.where == "DOWN":
                ctx.monitor(self.helper)
            elif self.where == "TIMEOUT":
                ctx.receive_timeout(0.01)

        def handle(self, msg, ctx):
            if self.where == "REPLY" and msg.kind == Kind.MESSAGE:
                ctx.call_async(self.helper, b"ping", timeout=TIMEOUT)
                return
            if self.where == "terminate":
                return swerl.STOP
            if msg.kind.name == self.where:
                boom(self.where)

        def terminate(self, reason, ctx):
            if self.where == "terminate":
                boom("terminate")

    class Spawner(swerl.Process):
        """spawn_monitor for the test thread: the pid, then the DOWN, on q."""

        def __init__(self, q):
            self.q, self.pending = q, []

        def handle(self, msg, ctx):
            if msg.kind == Kind.CALL:
                proc = self.pending.pop()
                pid, ref = ctx.spawn(proc, monitor=True)
                return pid.to_bytes(8, "little")
            if msg.kind == Kind.DOWN:
                self.q.put(msg)

    rt = swerl.Runtime(schedulers=2)
    q = queue.Queue()
    spawner_obj = Spawner(q)
    spawner = rt.spawn(spawner_obj)

    def spawn_monitored(proc):
        spawner_obj.pending.append(proc)
        return swerl.Pid(int.from_bytes(rt.call(spawner, b"", timeout=TIMEOUT), "little"))

    def expect_crash(pid, where):
        down = get(q)
        assert down.sender == pid, (down, pid)
        assert down.reason == Reason.ERROR, down
        assert down.data.startswith(b"Traceback"), down.data
        assert ("%s: boom-%s" % (EXC.__name__, where)).encode() in down.data, down.data

    helper = rt.spawn(echo)
    for where in ["init", "MESSAGE", "EXIT", "DOWN", "TIMEOUT", "CALL", "REPLY"]:
        doomed = rt.spawn(echo) if where == "DOWN" else helper
        pid = spawn_monitored(Victim(where, doomed))
        if where == "MESSAGE" or where == "REPLY":
            rt.send(pid, b"go")
        elif where == "EXIT":
            rt.exit(pid, Reason.USER + 1)
        elif where == "DOWN":
            rt.exit(doomed, Reason.SHUTDOWN)
        elif where == "CALL":
            try:
                rt.call(pid, b"x", timeout=TIMEOUT)
                raise AssertionError("a call to a crashing process returned")
            except swerl.ServerExited:
                pass
        expect_crash(pid, where)

    # terminate: C cannot be told any more (the process exits anyway, with
    # the reason it had): rt.callback_errors has it
    pid = spawn_monitored(Victim("terminate"))
    rt.send(pid, b"stop")
    down = get(q)
    assert (down.sender, down.reason) == (pid, Reason.NORMAL), down
    wait_until(lambda: any("boom-terminate" in e for e in rt.callback_errors), "terminate's error")
    assert any("%s: boom-terminate" % EXC.__name__ in e for e in rt.callback_errors)
    rt.callback_errors.clear()

    # call_async: the awaiting coroutine gets the crash as ServerExited with the traceback
    async def call_crasher():
        pid = spawn_monitored(Victim("CALL"))
        try:
            await rt.call_async(pid, b"x", timeout=TIMEOUT)
        except swerl.ServerExited as e:
            assert "boom-CALL" in str(e), str(e)
        else:
            raise AssertionError("call_async to a crashing process returned")
        expect_crash(pid, "CALL")
        # a done-callback that raises is the loop's business: the bridge goes on
        # (an Exception: asyncio re-raises a BaseException from a callback
        # out of the loop, its own rule, not swerl's)
        fut = asyncio.ensure_future(rt.call_async(helper, b"cb", timeout=TIMEOUT))
        fut.add_done_callback(lambda f: (_ for _ in ()).throw(RuntimeError("boom-future callback")))
        assert await fut == b"cb"
        assert await rt.call_async(helper, b"after", timeout=TIMEOUT) == b"after"

    loop_errors = []
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda loop, context: loop_errors.append(context))
    try:
        loop.run_until_complete(call_crasher())
    finally:
        loop.close()
    assert any("boom-future callback" in repr(c.get("exception")) for c in loop_errors), loop_errors
    # a loop closed while its call is pending: the late reply has nowhere to
    # go, and the bridge serves the next caller
    slow = rt.spawn(silent)
    loop = asyncio.new_event_loop()
    task = loop.create_task(rt.call_async(slow, b"", timeout=0.2))
    loop.run_until_complete(asyncio.sleep(0))  # the call is handed to the bridge
    task.cancel()
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        pass
    loop.close()
    wait_until(lambda: not rt._bridge.calls, "the late reply handled")
    assert asyncio.run(rt.call_async(helper, b"next", timeout=TIMEOUT)) == b"next"

    # supervised children: a factory and an init that raise are start
    # failures the supervisor retries (and the log shows), a crash is restarted
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logging.getLogger("swerl").addHandler(Capture())
    logging.getLogger("swerl").setLevel(logging.INFO)
    starts = []

    class Child(swerl.Process):
        def init(self, ctx):
            starts.append(ctx.self_pid())
            if len(starts) == 2:
                boom("child init")

        def handle(self, msg, ctx):
            if msg.kind == Kind.CALL:
                return b"alive"
            boom("child handle")

    made = []

    def factory():
        made.append(1)
        if len(made) == 3:
            boom("factory")
        return Child()

    sup = rt.start_supervisor(swerl.SupervisorSpec([swerl.ChildSpec("c", factory)], intensity=20, period=30))
    first = sup.which_children()[0].pid
    rt.send(first, b"crash")
    # the crash, a failed init, a failed factory, then a good start
    wait_until(lambda: len(made) == 4 and sup.which_children()[0].pid not in (None, first), "the restart")
    assert rt.call(sup.which_children()[0].pid, b"", timeout=TIMEOUT) == b"alive"
    assert sup.which_children()[0].restarts == 3 and rt.stats()["restarts"] == 3
    for marker in ("boom-child handle", "boom-child init", "boom-factory"):
        wait_until(lambda: any(marker in r for r in records), marker + " in the log")

    # a logging handler that raises inside on_log: recorded, the runtime goes on
    class Raising(logging.Handler):
        def emit(self, record):
            boom("log handler")

    raising = Raising()
    logging.getLogger("swerl").addHandler(raising)
    second = sup.which_children()[0].pid
    rt.send(second, b"crash")
    wait_until(lambda: any("boom-log handler" in e for e in rt.callback_errors), "the log handler's error")
    logging.getLogger("swerl").removeHandler(raising)
    wait_until(lambda: sup.which_children()[0].pid not in (None, second), "the restart")
    assert rt.call(sup.which_children()[0].pid, b"", timeout=TIMEOUT) == b"alive"
    rt.callback_errors.clear()

    # nothing leaked: only the live processes' objects are held
    assert rt.call(helper, b"still here", timeout=TIMEOUT) == b"still here"
    # (the supervisor is not a Python process; 5 are: spawner, helper, slow,
    # the asyncio bridge, the supervised child)
    wait_until(lambda: rt._registry.process_count() == 5 and rt.stats()["processes"] == 6,
               lambda: "only the live processes held (%r)" % rt._registry)
    rt.close()
    assert not rt.callback_errors, rt.callback_errors
    ''')


# -- stopping under load ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["stop", "close"])
def test_stop_while_16_threads_send_and_call_gives_them_stopped(how):
    """16 threads send, call (also blocked forever on a silent process),
    call_async and look names up while another thread stops (or closes:
    frees) the runtime. Each ends with swerl.Stopped; between the stop's
    start and its end they may also see what it did to their peers
    (NoProcess, ServerExited); never a crash. Repeated, for the race of
    close() freeing the runtime under calls that were just starting."""
    run_child(r'''
    HOW, ROUNDS, THREADS = "''' + how + r'''", 12, 16
    late = {}
    for round in range(ROUNDS):
        rt = swerl.Runtime(schedulers=2)
        targets = [rt.spawn(echo, name="e%d" % i) for i in range(4)]
        quiet = rt.spawn(silent)
        busy = [threading.Event() for _ in range(THREADS)]
        stopping = threading.Event()
        errors, ended = [], []

        def tolerate(e):
            if not stopping.is_set():
                raise e
            late[type(e).__name__] = late.get(type(e).__name__, 0) + 1

        async def async_loop(t):
            n = 0
            while True:
                try:
                    if n % 10 == 5:
                        await rt.call_async(quiet, b"", timeout=None)  # only the stop ends it
                    else:
                        assert await rt.call_async(targets[n % 4], b"a", timeout=TIMEOUT) == b"a"
                except swerl.Stopped:
                    return
                except (swerl.NoProcess, swerl.ServerExited) as e:
                    tolerate(e)
                n += 1
                if n == 4:
                    busy[t].set()  # (the 6th call waits for the stop)

        def worker(t):
            n = 0
            try:
                if t % 4 == 3:
                    busy[t].set()
                    rt.call(quiet, b"", timeout=None)  # blocked until the stop
                    raise AssertionError("a call to a silent process returned")
                if t % 4 == 2 and t < 8:
                    asyncio.run(async_loop(t))
                    raise swerl.Stopped()
                while True:
                    try:
                        if t % 4 == 0:
                            rt.send(targets[n % 4], b"m")
                            if n % 16 == 15:  # the senders cannot outrun the receivers for long
                                assert rt.call(targets[n % 4], b"s", timeout=TIMEOUT) == b"s"
                        elif t % 4 == 1:
                            assert rt.call(targets[n % 4], b"c", timeout=TIMEOUT) == b"c"
                        else:
                            rt.whereis("e%d" % (n % 4))
                            rt.send("e%d" % (n % 4), b"n")
                            if n % 16 == 15:
                                assert rt.call(targets[n % 4], b"s", timeout=TIMEOUT) == b"s"
                    except (swerl.NoProcess, swerl.ServerExited, swerl.NoName) as e:
                        tolerate(e)
                    n += 1
                    if n == 50:
                        busy[t].set()
            except swerl.Stopped:
                ended.append(t)
            except BaseException:
                errors.append("thread %d: %s" % (t, traceback.format_exc()))
                busy[t].set()

        threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(THREADS)]
        for th in threads:
            th.start()
        for t, e in enumerate(busy):
            assert e.wait(TIMEOUT), "thread %d never got going (round %d)" % (t, round)
        stopping.set()
        if HOW == "stop":
            rt.stop()
        else:
            rt.close()
        join_all(threads)
        assert not errors, "\n".join(errors)
        assert sorted(ended) == list(range(THREADS)), ended
        rt.close()
    print("seen while stopping:", late)
    ''')


def test_close_waits_for_a_call_that_already_took_the_runtime():
    """A call that got the runtime from rt before close() and enters C after
    it (here: held in between by its pid's range check) gets swerl.Stopped:
    close() does not free the runtime under it (a use-after-free before)."""
    run_child(r'''
    for round in range(3):
        rt = swerl.Runtime(schedulers=2)
        pid = rt.spawn(echo)
        holding, closed = threading.Event(), threading.Event()

        class LatePid(int):
            def __ge__(self, other):  # 0 <= pid, checked after rt._p()
                holding.set()
                closed.wait(0.5)  # with the bug, close() has freed the runtime by now
                return int(self) >= other

        outcome = []

        def caller():
            try:
                rt.call(LatePid(pid), b"x", timeout=TIMEOUT)
                outcome.append("returned")
            except swerl.Stopped:
                outcome.append("stopped")

        t = threading.Thread(target=caller, daemon=True)
        t.start()
        assert holding.wait(TIMEOUT)
        rt.close()
        closed.set()
        join_all([t])
        assert outcome == ["stopped"], outcome
    ''')


# -- runtimes in a loop: threads, thread states, memory -----------------------------------


def test_50_runtimes_in_a_loop_leave_no_threads_thread_states_or_memory():
    """50 runtimes, each with 4 calling threads, an asyncio caller, logging
    supervisor restarts, scheduler threads attached (every other one) or
    not, started and closed in turn: afterwards the process has its
    baseline OS threads, threading.enumerate(), PyThreadStates, and RSS
    within 20 MiB of what it was after the first round."""
    run_child(r'''
    import swerl.runtime as swerl_runtime
    import swerl.threads as swerl_threads
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))  # records: dummy threads

    class Crashy(swerl.Process):
        def handle(self, msg, ctx):
            if msg.kind == Kind.CALL:
                return b"ok"
            raise RuntimeError("crash for a restart report")

    def one_round(i):
        with swerl.Runtime(schedulers=2, attach_threads=bool(i % 2)) as rt:
            sup = rt.start_supervisor(swerl.SupervisorSpec([swerl.ChildSpec("c", Crashy)], intensity=10))
            first = sup.which_children()[0].pid
            rt.send(first, b"crash")
            pids = [rt.spawn(echo) for _ in range(4)]
            errors = []

            def caller(k):
                try:
                    for n in range(50):
                        assert rt.call(pids[(k + n) % 4], b"%d" % n, timeout=TIMEOUT) == b"%d" % n
                    if k == 0:
                        assert asyncio.run(rt.call_async(pids[0], b"aio", timeout=TIMEOUT)) == b"aio"
                except BaseException as e:
                    errors.append(repr(e))

            threads = [threading.Thread(target=caller, args=(k,), daemon=True) for k in range(4)]
            for t in threads:
                t.start()
            join_all(threads)
            assert not errors, errors
            wait_until(lambda: sup.which_children()[0].pid not in (None, first), "the restart")
            assert any("restarting" in text for _, text in rt.logs), rt.logs
        assert not rt.callback_errors, rt.callback_errors

    gc.collect()
    base = (os_threads(), len(threading.enumerate()), thread_states())
    one_round(0)
    gc.collect()
    after_first = rss()
    for i in range(1, 50):
        one_round(i)
    gc.collect()
    now = lambda: (os_threads(), len(threading.enumerate()), thread_states())
    wait_until(lambda: now() == base, lambda: "threads back to %s (now %s)" % (base, now()))
    grown = rss() - after_first
    print("RSS after 50 rounds: %+d KiB over the first round" % (grown // 1024))
    assert grown < 20 << 20, "RSS grew by %d KiB over 49 rounds" % (grown // 1024)
    assert not swerl_threads._runtime_threads and not swerl_threads.running
    assert not swerl_threads._in_log_hook
    assert not list(swerl_runtime._live_runtimes)
    ''')


# -- garbage collection pressure ---------------------------------------------------------------


def test_gc_pressure_collects_closures_but_never_a_live_callback():
    """gc.collect() in a loop on another thread, in handlers and in a
    logging handler called from on_log, while processes built from
    closures run and exit and runtimes are dropped without close: every
    message arrives exactly once, the closures' captured objects are
    collected once their processes are gone, and a runtime collected on a
    scheduler thread (its own or another runtime's) is closed from a
    helper thread rather than freed under its callbacks."""
    run_child(r'''
    stop_gc = threading.Event()

    def collector():
        while not stop_gc.wait(0.001):
            gc.collect()

    base = os_threads()  # measured at rest (a thread just joined may not have exited yet)
    gc_thread = threading.Thread(target=collector, name="collector", daemon=True)
    gc_thread.start()

    class Payload:
        pass

    # closures capturing objects: collected after their process exits
    with swerl.Runtime(schedulers=2) as rt:
        payload_refs, counts, q = [], {}, queue.Queue()
        N, PROCS = 200, 40

        def make_handler(i):
            payload = Payload()
            payload_refs.append(weakref.ref(payload))

            def handle(msg, ctx):
                payload.last = msg.data  # uses what it captured
                if msg.data == b"stop":
                    q.put(i)
                    return swerl.STOP
                counts[i] = counts.get(i, 0) + 1
                if counts[i] % 50 == 0:
                    gc.collect()  # on a scheduler thread, inside a callback
            return handle

        pids = [rt.spawn(make_handler(i)) for i in range(PROCS)]
        for n in range(N):
            for pid in pids:
                rt.send(pid, b"%d" % n)
        for pid in pids:
            rt.send(pid, b"stop")
        assert sorted(get(q) for _ in pids) == list(range(PROCS))
        assert counts == {i: N for i in range(PROCS)}, counts
        wait_until(lambda: (gc.collect(), all(r() is None for r in payload_refs))[1],
                   "the closures' payloads collected")

    # runtimes dropped without close while their processes crash and their
    # supervisors log, gc running in the log handler on scheduler threads
    class GcInLog(logging.Handler):
        def emit(self, record):
            gc.collect()

    logging.getLogger("swerl").addHandler(GcInLog())
    logging.getLogger("swerl").setLevel(logging.INFO)

    class Crashy(swerl.Process):
        def handle(self, msg, ctx):
            raise RuntimeError("crash")

    refs = []
    for i in range(24):
        rt = swerl.Runtime(schedulers=2, attach_threads=bool(i % 2))
        sup = rt.start_supervisor(swerl.SupervisorSpec([swerl.ChildSpec("c", Crashy)], intensity=1000, period=1))
        rt.send(sup.which_children()[0].pid, b"x")
        refs.append(weakref.ref(rt))
        del rt, sup  # forgotten: only the gc closes it, on whatever thread it runs
    wait_until(lambda: (gc.collect(), all(r() is None for r in refs))[1], "the dropped runtimes collected")
    stop_gc.set()
    gc_thread.join(TIMEOUT)
    wait_until(lambda: os_threads() == base, "threads back to the baseline")

    # a supervisor spec and its factories dropped and collected while the
    # children restart: the C side still calls the glue callbacks
    with swerl.Runtime(schedulers=2) as rt:
        def start_tree():
            def factory():
                return Crashy()

            return rt.start_supervisor(swerl.SupervisorSpec([swerl.ChildSpec("c%d" % i, factory) for i in range(8)],
                                                            intensity=1000, period=1)).pid

        # only the pid is kept: the spec, its C structures and the factories'
        # closures are the runtime's business now
        sup = swerl.Supervisor(rt, start_tree(), swerl.SupervisorSpec(), None)
        for round in range(5):
            gc.collect()
            before = rt.stats()["restarts"]
            for c in sup.which_children():
                if c.pid is not None:
                    rt.send(c.pid, b"crash")
            wait_until(lambda: rt.stats()["restarts"] >= before + 8, "8 restarts")
        wait_until(lambda: all(c.pid is not None for c in sup.which_children()), "all running")
        assert not rt.callback_errors, rt.callback_errors
    ''')
