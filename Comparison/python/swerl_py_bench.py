#!/usr/bin/env python3
"""Swerl through its Python bindings (bindings/python): pingpong, counting,
spawn, following Comparison/PROTOCOL.md.

    PYTHONPATH=bindings/python/src SWERL_LIBRARY=build/lib/libswerl.so.1 \\
        python3 Comparison/python/swerl_py_bench.py pingpong n=100000 schedulers=1 warmup=2 runs=7

Every iteration starts a fresh swerl.Runtime(schedulers=...) (0: one per
CPU). The processes are swerl.Process subclasses; the main thread waits on a
threading.Event that the finishing process sets after taking the end time.
"""

import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchproto  # noqa: E402
from benchproto import BenchError, Done, now  # noqa: E402

import swerl  # noqa: E402

BATCH = 1000  # counting: increments per producer callback, then a message to itself


# -- pingpong -------------------------------------------------------------------

class Pong(swerl.Process):
    def handle(self, msg, ctx):
        if msg.data == b"stop":
            return swerl.STOP
        ctx.send(msg.sender, b"pong")


class Ping(swerl.Process):
    def __init__(self, pong, n, done):
        self.pong, self.left, self.done = pong, n, done

    def handle(self, msg, ctx):
        if msg.data == b"pong":
            self.left -= 1
            if self.left == 0:
                ctx.send(self.pong, b"stop")
                self.done.finish()
                return swerl.STOP
        ctx.send(self.pong, b"ping")  # the first one answers the main thread's "start"


def pingpong(p):
    n = p["n"]
    done = Done()
    with swerl.Runtime(schedulers=p["schedulers"]) as rt:
        pong = rt.spawn(Pong)
        ping = rt.spawn(Ping(pong, n, done))
        t0 = now()
        rt.send(ping, b"start")
        t1 = done.wait("pingpong")
    return t1 - t0, None


# -- counting -------------------------------------------------------------------

class Counter(swerl.Process):
    def init(self, ctx):
        self.count = 0

    def handle(self, msg, ctx):
        if msg.data == b"inc":
            self.count += 1
        elif msg.data == b"get":
            ctx.send(msg.sender, b"=%d" % self.count)
            return swerl.STOP


class Producer(swerl.Process):
    def __init__(self, counter, n, done):
        self.counter, self.n, self.left, self.done = counter, n, n, done

    def handle(self, msg, ctx):
        data = msg.data
        if data == b"go":
            send, counter = ctx.send, self.counter
            k = min(BATCH, self.left)
            for _ in range(k):
                send(counter, b"inc")
            self.left -= k
            if self.left:
                send(ctx.self_pid(), b"go")
            else:
                send(counter, b"get")
        else:  # the counter's answer
            got = int(data[1:])
            self.done.finish(None if got == self.n else "counted %d, expected %d" % (got, self.n))
            return swerl.STOP


def counting(p):
    n = p["n"]
    done = Done()
    with swerl.Runtime(schedulers=p["schedulers"]) as rt:
        counter = rt.spawn(Counter)
        producer = rt.spawn(Producer(counter, n, done))
        t0 = now()
        rt.send(producer, b"go")
        t1 = done.wait("counting")
    return t1 - t0, None


# -- spawn ----------------------------------------------------------------------

FIRST_RSS_DELTA = {}


def spawn(p):
    n = p["n"]
    done = Done()
    started = itertools.count(1)  # next() is atomic in CPython
    box = {}

    class Idle(swerl.Process):
        __slots__ = ()

        def init(self, ctx):
            if next(started) == n:
                done.finish()

        # handle: the default (consume and wait for the next message)

    class Spawner(swerl.Process):
        def handle(self, msg, ctx):
            sp = ctx.spawn
            box["t0"] = now()
            for _ in range(n):
                sp(Idle)
            box["calls"] = now() - box["t0"]
            box["last"] = None

    rt = swerl.Runtime(schedulers=p["schedulers"])
    try:
        spawner = rt.spawn(Spawner)
        rss0 = benchproto.rss_bytes()
        rt.send(spawner, b"go")
        t1 = done.wait("spawn")
        rss1 = benchproto.rss_bytes()
        pids = rt.processes()
        if len(pids) != n + 1:
            raise BenchError("%d processes alive, expected %d" % (len(pids), n + 1))
        mem = [rt.process_info(pid)["memory"] for pid in pids[1:11] if pid != spawner]
        stats_before = rt.stats()
        rt.stop(timeout=60)
        stats = rt.stats()
        if stats["processes"] != 0 or stats["exited"] != stats_before["spawned"]:
            raise BenchError("after stop: %r" % (stats,))
    finally:
        rt.close()
    secs = t1 - box["t0"]
    # Python's allocator keeps the memory the previous iteration freed, so
    # only the first iteration's RSS delta (a fresh OS process) is real.
    FIRST_RSS_DELTA.setdefault("bytes", (rss1 - rss0) / n)
    return secs, {"bytes_per_process": FIRST_RSS_DELTA["bytes"],
                  "bytes_per_process_rss_this_run": (rss1 - rss0) / n,
                  "bytes_per_process_runtime": sorted(mem)[len(mem) // 2] if mem else None,
                  "us_per_spawn": secs / n * 1e6,
                  "spawn_calls_us": box["calls"] / n * 1e6}


BENCHES = {
    "pingpong": ({"n": 100000, "schedulers": 1}, pingpong),
    "counting": ({"n": 500000, "schedulers": 1}, counting),
    "spawn": ({"n": 100000, "schedulers": 0}, spawn),
}


def schedulers(p):
    with swerl.Runtime(schedulers=p.get("schedulers", 0)) as rt:
        return rt.stats()["schedulers"]


if __name__ == "__main__":
    sys.exit(benchproto.main("swerl-python", BENCHES, schedulers))
