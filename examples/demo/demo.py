"""Swerl demo: C, Python and Swift processes in one runtime, under one
supervision tree; messages flowing between them; crashes restarted.

    demo (one_for_one)
    |-- greeter          a Python process
    |-- feeder           a Python process that sends to the native workers
    `-- native (one_for_one)
        |-- counter      a C process    (demo_workers.c, a shared object)
        `-- stats        a Swift process (swift-worker/, a shared object)

The C and Swift processes come from shared objects that link libswerl.so.1
and export a `swerl_behavior`; Python loads them with swerl.NativeProcess,
so all of them run in the one runtime this program started. Supervisor
reports (a crash, a restart) arrive through the runtime's log hook.

Run it with `make demo` (it builds the two shared objects first).
"""

import asyncio
import json
import logging
import os
import queue
import sys
import time
import urllib.request

import swerl
from swerl import ChildSpec, SupervisorSpec

TIMEOUT = 10.0  # seconds any single wait may take
reports: "queue.Queue[str]" = queue.Queue()


def say(text):
    """One write per line: the runtime's threads print too (the C and Swift
    workers, the supervisor reports), and say() writes in pieces."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def show(pid):
    """Erlang's way to print a pid: <node.slot.generation>."""
    return repr(swerl.Pid(pid))


class Greeter(swerl.Process):
    """Answers a CALL with a greeting."""

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            return b"hello %s, from Python process %s" % (msg.data, show(ctx.pid).encode())


class Feeder(swerl.Process):
    """On b"feed N": sends N ticks to the C counter and the numbers 1..N to
    the Swift stats, by their registered names, from inside the runtime."""

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.CALL and msg.data.startswith(b"feed "):
            n = int(msg.data[5:])
            for i in range(1, n + 1):
                ctx.send("counter", b"tick")
                ctx.send("stats", b"%d" % i)
            return b"fed %d messages" % (2 * n)


def log_reports():
    """The supervisor's reports (logger "swerl"), printed and queued for the
    waits below."""
    class Hook(logging.Handler):
        def emit(self, record):
            text = record.getMessage()
            say("  [supervisor report] %s" % text)
            reports.put(text)

    logger = logging.getLogger("swerl")
    logger.addHandler(Hook())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def wait_report(fragment):
    deadline = time.monotonic() + TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit("demo: no supervisor report containing %r within %ss" % (fragment, TIMEOUT))
        try:
            text = reports.get(timeout=left)
        except queue.Empty:
            continue
        if fragment in text:
            return text


def wait_restart(sup, child_id, old_pid):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        pid = {c.id: c.pid for c in sup.which_children()}.get(child_id)
        if pid and pid != old_pid:
            return pid
        time.sleep(0.001)
    raise SystemExit("demo: %s was not restarted within %ss" % (child_id, TIMEOUT))


def main():
    counter = swerl.NativeProcess.load(os.environ["SWERL_DEMO_WORKERS"], "demo_counter_behavior")
    stats = swerl.NativeProcess.load(os.environ["SWERL_DEMO_SWIFT_WORKER"], "demo_swift_stats_behavior")
    log_reports()

    with swerl.Runtime(schedulers=2) as rt:
        say("Swerl %s demo: C, Python and Swift processes under one supervisor" % swerl.version())
        page = rt.observe()
        say("  observer page: %s (open it while the demo runs; `make observe` keeps one up)" % page)
        native = SupervisorSpec(strategy="one_for_one", intensity=5, period=10, children=[
            ChildSpec("counter", counter),
            ChildSpec("stats", stats),
        ])
        sup = rt.start_supervisor(SupervisorSpec(strategy="one_for_one", intensity=5, period=10, children=[
            ChildSpec("greeter", Greeter),
            ChildSpec("feeder", Feeder),
            ChildSpec("native", native),
        ]), name="demo")
        top = {c.id: c.pid for c in sup.which_children()}
        native_sup = sup.child_supervisor("native")
        kids = {c.id: c.pid for c in native_sup.which_children()}
        # Names make the feeder's sends and the calls below find whichever
        # incarnation is running: re-registered after each restart.
        rt.register("counter", kids["counter"])
        rt.register("stats", kids["stats"])
        say("  supervisor %s: greeter %s (Python), feeder %s (Python), native %s -> counter %s (C), stats %s (Swift)"
              % (show(sup.pid), show(top["greeter"]), show(top["feeder"]), show(top["native"]),
                 show(kids["counter"]), show(kids["stats"])))

        say("  greeter: " + rt.call(top["greeter"], b"C, Python and Swift", timeout=TIMEOUT).decode())
        say("  feeder: " + rt.call(top["feeder"], b"feed 1000", timeout=TIMEOUT).decode())
        say("  C counter: " + rt.call("counter", b"?", timeout=TIMEOUT).decode())
        say("  Swift stats: " + rt.call("stats", b"stats", timeout=TIMEOUT).decode())

        say("  asking the C counter to crash...")
        rt.send("counter", b"crash")
        wait_report("counter")
        new_counter = wait_restart(native_sup, "counter", kids["counter"])
        rt.register("counter", new_counter)

        say("  asking the Swift stats to crash...")
        try:
            rt.call("stats", b"crash", timeout=TIMEOUT)
            raise SystemExit("demo: the Swift stats answered instead of crashing")
        except swerl.ServerExited as e:
            say("  the call says: %s" % e)
        new_stats = wait_restart(native_sup, "stats", kids["stats"])
        rt.register("stats", new_stats)

        say("  feeder again: " + rt.call(top["feeder"], b"feed 3", timeout=TIMEOUT).decode())

        async def ask_both():
            # asyncio: both calls in flight at once, the event loop never blocked
            return await asyncio.gather(rt.call_async("counter", b"?"), rt.call_async("stats", b"stats"))

        c, s = asyncio.run(asyncio.wait_for(ask_both(), TIMEOUT))
        say("  restarted C counter %s: %s; restarted Swift stats %s: %s (asyncio)"
              % (show(new_counter), c.decode(), show(new_stats), s.decode()))
        restarts = {c.id: c.restarts for c in native_sup.which_children()}
        say("  restarts: counter %d, stats %d" % (restarts["counter"], restarts["stats"]))

        tree = json.loads(sup.tree("json"))
        say("  the tree as JSON: " + json.dumps(tree, separators=(",", ":")))
        # What the page shows, from its own JSON endpoints.
        with urllib.request.urlopen(page + "api/overview", timeout=TIMEOUT) as answer:
            overview = json.load(answer)
        with urllib.request.urlopen(page + "api/events", timeout=TIMEOUT) as answer:
            kinds = [e["kind"] for e in json.load(answer)["events"]]
        say("  the observer page saw: %d processes, %d restarts, %d crash reports of children"
              % (overview["processes"], overview["restarts"], kinds.count("child_terminated")))
    say("demo finished: C, Python and Swift processes exchanged messages in one runtime;"
          " two crashes were restarted by their supervisor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
