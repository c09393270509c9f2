"""Waiting without hanging (issue 11, item 1 / Python items 8-10): rt.wait_exit,
rt.call and close() from outside processes; Ctrl-C interrupts each wait; a
handler that never returns makes close() raise swerl.Timeout naming it.

The Ctrl-C and stuck-handler cases run in a child interpreter: a hang or a
crash there is a failed test, bounded by CHILD_TIMEOUT."""

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import swerl

from conftest import TIMEOUT, get, wait_until

CHILD_TIMEOUT = 60


def echo(msg, ctx):
    if msg.kind == swerl.Kind.CALL:
        return msg.data


def silent(msg, ctx):
    pass


def child(code):
    """A child interpreter running `code` (this environment: same swerl)."""
    return subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p, timeout=CHILD_TIMEOUT):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail("the child hung (killed after %ss)\n--- stdout\n%s\n--- stderr\n%s"
                    % (timeout, out, err))
    return p.returncode, out, err


def interrupt_when_ready(p, ready):
    """SIGINT to `p` once it prints `ready`; how long it took to exit then."""
    line = p.stdout.readline()
    assert line.strip() == ready, "the child said %r\n%s" % (line, p.stderr.read() if p.poll() is not None else "")
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    code, out, err = finish(p)
    return code, out, err, time.monotonic() - sent


# -- rt.wait_exit (item 8) ----------------------------------------------------------------


def test_wait_exit_gives_the_exit_reason(rt):
    def crashing(msg, ctx):
        raise RuntimeError("bye")

    pid = rt.spawn(crashing)
    threading.Timer(0.05, rt.send, (pid, b"crash")).start()
    assert rt.wait_exit(pid, timeout=TIMEOUT) is swerl.Reason.ERROR
    assert rt.wait_exit(pid, timeout=TIMEOUT) is swerl.Reason.NOPROC  # not alive now
    assert rt.wait_exit("nobody-has-this-name") is swerl.Reason.NOPROC

    quitter = rt.spawn(lambda m, c: (c.fail(swerl.Reason.USER + 3), swerl.STOP)[1], name="quitter")
    threading.Timer(0.05, rt.send, ("quitter", b"quit")).start()
    reason = rt.wait_exit("quitter", timeout=TIMEOUT)
    assert reason == swerl.Reason.USER + 3 and reason.name == "USER+3"
    assert rt.process_info(quitter) is None


def test_wait_exit_times_out_and_leaves_nothing_behind(rt):
    pid = rt.spawn(silent)
    for timeout in (0, 0.05):
        t0 = time.monotonic()
        with pytest.raises(swerl.Timeout):
            rt.wait_exit(pid, timeout=timeout)
        assert time.monotonic() - t0 < TIMEOUT
    assert not rt._notify._waiters  # the cancelled watches are forgotten
    rt.exit(pid, swerl.Reason.KILL)
    assert rt.wait_exit(pid, timeout=TIMEOUT) in (swerl.Reason.KILLED, swerl.Reason.NOPROC)


def test_wait_exit_from_many_threads(rt):
    pid = rt.spawn(silent)
    results = queue.Queue()
    threads = [threading.Thread(target=lambda: results.put(rt.wait_exit(pid, timeout=TIMEOUT)))
               for _ in range(8)]
    for t in threads:
        t.start()
    wait_until(lambda: rt.process_info(pid)["monitored_by"] == 8, "8 threads watching")
    rt.exit(pid, swerl.Reason.USER + 9)
    assert [get(results) for _ in threads] == [swerl.Reason.USER + 9] * 8
    for t in threads:
        t.join(TIMEOUT)


# -- rt.call (item 9) ---------------------------------------------------------------------


def test_call_timeout_is_a_deadline_and_the_late_reply_is_dropped(rt):
    calls = queue.Queue()

    def keeper(msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            calls.put(msg.ref)

    pid = rt.spawn(keeper)
    with pytest.raises(swerl.Timeout):
        rt.call(pid, b"x", timeout=0.05)
    rt.reply(get(calls), b"late")  # quiet: the call is over
    assert not rt._notify._waiters
    result = queue.Queue()
    t = threading.Thread(target=lambda: result.put(rt.call(pid, b"y", timeout=TIMEOUT)))
    t.start()
    rt.reply(get(calls), b"in time")
    assert get(result) == b"in time"  # not the late one
    t.join(TIMEOUT)


def test_stop_ends_calls_blocked_without_timeout():
    rt = swerl.Runtime(schedulers=1)
    pid = rt.spawn(silent)
    outcome = queue.Queue()

    def caller():
        try:
            rt.call(pid, b"forever", timeout=None)
        except swerl.SwerlError as e:
            outcome.put(e)

    t = threading.Thread(target=caller)
    t.start()
    while rt.process_info(pid)["messages_handled"] == 0:  # bounded by the join below
        time.sleep(0.001)
    rt.close()
    assert isinstance(get(outcome), swerl.Stopped)
    t.join(TIMEOUT)
    assert not t.is_alive()


def test_ctrl_c_interrupts_a_call_without_timeout():
    p = child("""
        import swerl
        def silent(msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                print("waiting", flush=True)
        with swerl.Runtime() as rt:
            pid = rt.spawn(silent)
            try:
                rt.call(pid, b"never answered", timeout=None)
            except KeyboardInterrupt:
                print("interrupted, pending:", len(rt._notify._waiters), flush=True)
                raise
    """)
    code, out, err, took = interrupt_when_ready(p, "waiting")
    assert "interrupted, pending: 0" in out, (out, err)
    assert code != 0 and "KeyboardInterrupt" in err
    assert took < 10, "Ctrl-C took %.1f s" % took


def test_ctrl_c_interrupts_wait_exit():
    p = child("""
        import swerl
        with swerl.Runtime() as rt:
            pid = rt.spawn(lambda msg, ctx: None)
            print("waiting", flush=True)
            rt.wait_exit(pid)
    """)
    code, out, err, took = interrupt_when_ready(p, "waiting")
    assert code != 0 and "KeyboardInterrupt" in err, err
    assert took < 10


# -- close() meets a handler that never returns (item 10) -----------------------------------


@pytest.mark.parametrize("stuck", ["while True:\n                pass", "time.sleep(1000)"])
def test_close_names_a_handler_that_never_returns(stuck):
    p = child("""
        import threading, time, swerl
        started = threading.Event()
        def handle(msg, ctx):
            started.set()
            %s
        with swerl.Runtime(stop_timeout=0.5) as rt:
            rt.send(rt.spawn(handle, name="stuck-worker"), b"go")
            assert started.wait(30)
            print("closing", flush=True)
    """ % stuck)
    code, out, err = finish(p)
    assert "closing" in out
    assert code == 1, (code, err)
    last = err.strip().splitlines()[-1]
    assert last.startswith("swerl.errors.Timeout: close: timed out"), err
    assert "'stuck-worker'" in last and "did not return" in last


def test_ctrl_c_interrupts_close():
    p = child("""
        import threading, time, swerl
        started = threading.Event()
        def handle(msg, ctx):
            started.set()
            while True:
                time.sleep(0.01)
        class Witness(swerl.Process):
            def init(self, ctx):
                ctx.trap_exit(True)
            def handle(self, msg, ctx):
                if msg.kind == swerl.Kind.EXIT:  # the stop has begun: close() waits
                    print("stopping", flush=True)
                    return swerl.STOP
        with swerl.Runtime(stop_timeout=60) as rt:
            rt.spawn(Witness)
            rt.send(rt.spawn(handle), b"go")
            assert started.wait(30)
    """)
    code, out, err, took = interrupt_when_ready(p, "stopping")
    assert code != 0 and "KeyboardInterrupt" in err, err
    assert took < 10, "Ctrl-C took %.1f s (the stop timeout is 60 s)" % took


def test_close_is_not_held_by_exceptions_kept_alive():
    """A kept exception's traceback must not keep close() from freeing
    the runtime (1.1 waited for ever after a failed spawn kept in `e`)."""
    rt = swerl.Runtime(schedulers=1, max_processes=1)
    kept = []
    pid = rt.spawn(silent)
    for attempt in (lambda: rt.spawn(silent), lambda: rt.call(pid, b"x", timeout=0),
                    lambda: rt.send("nobody", b"x"), lambda: rt.exit("nobody"),
                    lambda: rt.wait_exit(pid, timeout=0), lambda: rt.call(0, b"x")):
        try:
            attempt()
        except swerl.SwerlError as e:
            kept.append(e)
    assert len(kept) == 6
    closer = threading.Thread(target=rt.close, daemon=True)
    closer.start()
    closer.join(TIMEOUT)
    assert not closer.is_alive(), "close() waited for the kept exceptions"
    assert rt.closed
