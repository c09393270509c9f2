#!/usr/bin/env python3
"""Python processes, side by side in one run (Benchmarks/python/README.md).

    python3 Benchmarks/python/run.py            # every row, about a minute
    RUNS=3 python3 Benchmarks/python/run.py     # fewer runs per cell

Every cell is the median of RUNS runs, each on a fresh runtime (or event
loop). "dispatcher" is Swerl's default: Python processes run on the
runtime's dispatcher threads, in batches (a turn group); "callbacks" is
Runtime(dispatcher=False): each message is a ctypes callback on a
scheduler thread; "loop-driven" is Runtime(loop=...): the caller's asyncio
loop runs them. The rows are the targets of the issue that built the
dispatcher; the last column says which way is better per row.

Needs the staged library (SWERL_LIBRARY, PYTHONPATH=bindings/python/src:
`make bench-python` sets them) and a C compiler for the C peers.
Loopback or network: none. Standard library only (Pykka if installed).
"""

import asyncio
import ctypes
import os
import statistics
import subprocess
import sys
import threading
import time

import swerl

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# The ping-pong pair and the end of a run are Comparison's (one program)
sys.path.insert(0, os.path.join(ROOT, "Comparison", "python"))
from benchproto import Done  # noqa: E402
from swerl_py_bench import Ping, Pong  # noqa: E402
RUNS = int(os.environ.get("RUNS", "5"))
WAIT = 120.0  # a C ping-pong that never ends fails after this (the main thread polls it)
now = time.perf_counter


def median(fn, *args):
    return statistics.median(fn(*args) for _ in range(RUNS))


# -- the C peers --------------------------------------------------------------------------

def build_peers():
    lib = os.environ.get("SWERL_LIBRARY", "")
    stage = os.path.dirname(os.path.dirname(lib)) if lib else os.path.join(ROOT, "build", "stage")
    out = os.path.join(HERE, "build", "libnative_peers.so")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-I", os.path.join(stage, "include"),
                    os.path.join(HERE, "native_peers.c"), "-o", out,
                    "-L", os.path.join(stage, "lib"), "-lswerl"], check=True)
    return out


class PingJob(ctypes.Structure):
    _fields_ = [("pong", ctypes.c_uint64), ("rounds", ctypes.c_uint64), ("done", ctypes.c_int)]


# -- ping-pong between two Python processes ----------------------------------------------

def pingpong(dispatcher, n=100_000):
    done = Done()
    with swerl.Runtime(schedulers=1, dispatcher=dispatcher) as rt:
        pong = rt.spawn(Pong)
        ping = rt.spawn(Ping(pong, n, done))
        t0 = now()
        rt.send(ping, b"start")
        return (done.wait("run") - t0) / n * 1e6


async def _asyncio_pingpong(n):
    to_ping, to_pong = asyncio.Queue(), asyncio.Queue()

    async def pong():
        while await to_pong.get() != "stop":
            await to_ping.put("pong")

    task = asyncio.create_task(pong())
    t0 = now()
    for _ in range(n):
        await to_pong.put("ping")
        await to_ping.get()
    t1 = now()
    await to_pong.put("stop")
    await task
    return (t1 - t0) / n * 1e6


def asyncio_pingpong(n=100_000):
    return asyncio.run(_asyncio_pingpong(n))


def pykka_pingpong(n=20_000):
    import pykka

    done = Done()

    class PykkaPong(pykka.ThreadingActor):
        def on_receive(self, message):
            message[1].tell(("pong",))

    class PykkaPing(pykka.ThreadingActor):
        def __init__(self, pong):
            super().__init__()
            self.pong, self.left = pong, n

        def on_receive(self, message):
            if message[0] == "pong":
                self.left -= 1
                if self.left == 0:
                    done.finish()
                    return
            self.pong.tell(("ping", self.actor_ref))

    pong = PykkaPong.start()
    ping = PykkaPing.start(pong)
    try:
        t0 = now()
        ping.tell(("start",))
        return (done.wait("run") - t0) / n * 1e6
    finally:
        pykka.ActorRegistry.stop_all()


# -- counting -----------------------------------------------------------------------------

class Counter(swerl.Process):
    def __init__(self, done):
        self.count, self.done = 0, done

    def handle(self, msg, ctx):
        if msg.data == b"inc":
            self.count += 1
        else:
            self.done.finish()
            return swerl.STOP


class Producer(swerl.Process):
    def __init__(self, counter, n):
        self.counter, self.left = counter, n

    def handle(self, msg, ctx):
        send, counter = ctx.send, self.counter
        k = min(1000, self.left)
        for _ in range(k):
            send(counter, b"inc")
        self.left -= k
        send(ctx.self_pid() if self.left else counter, b"go" if self.left else b"get")


def counting(dispatcher, n=500_000):
    done = Done()
    with swerl.Runtime(schedulers=1, dispatcher=dispatcher) as rt:
        counter = rt.spawn(Counter(done))
        producer = rt.spawn(Producer(counter, n))
        t0 = now()
        rt.send(producer, b"go")
        return done.wait("run") - t0


async def _asyncio_counting(n):
    inbox = asyncio.Queue()
    finished = asyncio.get_running_loop().create_future()

    async def counter():
        count = 0
        while await inbox.get() == "inc":
            count += 1
        finished.set_result(count)

    task = asyncio.create_task(counter())
    t0 = now()
    for _ in range(n):
        await inbox.put("inc")
    await inbox.put("get")
    await finished
    t1 = now()
    await task
    return t1 - t0


def asyncio_counting(n=500_000):
    return asyncio.run(_asyncio_counting(n))


# -- spawn --------------------------------------------------------------------------------

def spawn(dispatcher, n=50_000):
    started = [0]
    done = Done()

    class Idle(swerl.Process):
        def init(self, ctx):
            started[0] += 1
            if started[0] == n:
                done.finish()

    class Spawner(swerl.Process):
        def handle(self, msg, ctx):
            for _ in range(n):
                ctx.spawn(Idle)

    with swerl.Runtime(schedulers=1, dispatcher=dispatcher) as rt:
        spawner = rt.spawn(Spawner)
        t0 = now()
        rt.send(spawner, b"go")
        return (done.wait("run") - t0) / n * 1e6


# -- C <-> Python -------------------------------------------------------------------------

class CPing(swerl.Process):
    def __init__(self, echo, n, done):
        self.echo, self.left, self.done = echo, n, done

    def handle(self, msg, ctx):
        if msg.sender == self.echo:
            self.left -= 1
            if self.left == 0:
                self.done.finish()
                return swerl.STOP
        ctx.send(self.echo, b"ping")


def c_roundtrip(dispatcher, peers, n=50_000):
    done = Done()
    with swerl.Runtime(schedulers=1, dispatcher=dispatcher) as rt:
        echo = rt.spawn(swerl.NativeProcess.load(peers, "echo_behavior"))
        ping = rt.spawn(CPing(echo, n, done))
        t0 = now()
        rt.send(ping, b"start")
        return (done.wait("run") - t0) / n * 1e6


class Ticker(swerl.Process):
    """A Python process with steady work: a message every millisecond."""

    def handle(self, msg, ctx):
        if msg.data == b"stop":
            return swerl.STOP
        try:
            ctx.runtime.send_after(ctx.self_pid(), 0.001, b"tick")
        except swerl.Stopped:  # a tick during the close
            return swerl.STOP
        sum(range(200))  # a little Python work per tick


def c_pingpong(dispatcher, peers, spin, n=200_000):
    """C ping-pong (both processes native, one scheduler) while a Python
    process ticks on the same runtime; the main thread waits, or spins in
    a Python loop (holding the GIL but for the interpreter's switches)."""
    job = PingJob(0, n, 0)
    with swerl.Runtime(schedulers=1, dispatcher=dispatcher) as rt:
        ticker = rt.spawn(Ticker)
        rt.send(ticker, b"tick")
        pong = rt.spawn(swerl.NativeProcess.load(peers, "pong_behavior"))
        job.pong = pong
        ping = rt.spawn(swerl.NativeProcess.load(peers, "ping_behavior", arg=ctypes.addressof(job), keep=job))
        t0 = now()
        rt.send(ping, b"go")
        deadline = time.monotonic() + WAIT
        if spin:
            x = 0
            while not job.done:
                x += 1
        else:
            while not job.done and time.monotonic() < deadline:
                time.sleep(0.0005)
        took = now() - t0
        rt.send(ticker, b"stop")
    return took / n * 1e6


# -- await rt.call_async --------------------------------------------------------------------

def echo(msg, ctx):
    if msg.kind == swerl.Kind.CALL:
        return msg.data


def call_async(dispatcher, n=5_000):
    async def calls(rt, pid):
        t0 = now()
        for _ in range(n):
            await rt.call_async(pid, b"x")
        return (now() - t0) / n * 1e6

    with swerl.Runtime(schedulers=1, dispatcher=dispatcher) as rt:
        pid = rt.spawn(echo)
        return asyncio.run(calls(rt, pid))


def call_async_on_loop(n=5_000):
    """The same, the runtime driven by the caller's loop (Runtime(loop=...))."""
    async def main():
        with swerl.Runtime(schedulers=1, loop=asyncio.get_running_loop()) as rt:
            pid = rt.spawn(echo)
            t0 = now()
            for _ in range(n):
                await rt.call_async(pid, b"x")
            return (now() - t0) / n * 1e6

    return asyncio.run(main())


def asyncio_actor_call(n=20_000):
    async def main():
        requests = asyncio.Queue()

        async def actor():
            while True:
                data, reply = await requests.get()
                if reply is None:
                    return
                reply.set_result(data)

        task = asyncio.create_task(actor())
        loop = asyncio.get_running_loop()
        t0 = now()
        for _ in range(n):
            future = loop.create_future()
            await requests.put((b"x", future))
            await future
        t1 = now()
        await requests.put((None, None))
        await task
        return (t1 - t0) / n * 1e6

    return asyncio.run(main())


def main():
    peers = build_peers()
    try:
        import pykka  # noqa: F401
        have_pykka = True
    except ImportError:
        have_pykka = False
    rows = []

    def row(name, unit, cells, better="lower"):
        rows.append((name, unit, cells, better))
        shown = "  ".join("%s %.3g" % (k, v) for k, v in cells.items())
        sys.stderr.write("%s (%s): %s\n" % (name, unit, shown))

    both = {"dispatcher": True, "callbacks": False}
    cells = {k: median(pingpong, d) for k, d in both.items()}
    cells["asyncio"] = median(asyncio_pingpong)
    if have_pykka:
        cells["pykka"] = median(pykka_pingpong)
    row("ping-pong round trip, two Python processes", "us", cells)
    cells = {k: median(counting, d) for k, d in both.items()}
    cells["asyncio"] = median(asyncio_counting)
    row("counting, 500k messages", "s", cells)
    row("spawn a Python process", "us", {k: median(spawn, d) for k, d in both.items()})
    row("round trip C process <-> Python process", "us", {k: median(c_roundtrip, d, peers) for k, d in both.items()})
    for k, d in both.items():
        alone = median(c_pingpong, d, peers, False)
        spinning = median(c_pingpong, d, peers, True)
        row("C ping-pong round trip beside a ticking Python process (%s)" % k, "us",
            {"main thread waits": alone, "main thread spins": spinning, "ratio": spinning / alone})
    cells = {k: median(call_async, d) for k, d in both.items()}
    cells["loop-driven"] = median(call_async_on_loop)
    cells["asyncio-queue actor"] = median(asyncio_actor_call)
    row("await rt.call_async round trip from an asyncio task", "us", cells)

    print("Python processes, %s, Python %s, median of %d runs" % (time.strftime("%Y-%m-%d %H:%M"),
                                                                sys.version.split()[0], RUNS))
    for name, unit, cells, _ in rows:
        print("\n%s (%s)" % (name, unit))
        for k, v in cells.items():
            print("  %-22s %10.3f" % (k, v))
    pp = rows[0][2]
    print("\nratios: dispatcher vs callbacks ping-pong %.2fx; vs asyncio: ping-pong %.2fx, counting %.2fx%s"
          % (pp["callbacks"] / pp["dispatcher"], pp["asyncio"] / pp["dispatcher"],
             rows[1][2]["asyncio"] / rows[1][2]["dispatcher"],
             "; vs Pykka ping-pong %.1fx" % (pp["pykka"] / pp["dispatcher"]) if "pykka" in pp else ""))


if __name__ == "__main__":
    main()
