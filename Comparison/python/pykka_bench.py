#!/usr/bin/env python3
"""Pykka (ThreadingActor: one thread per actor) on pingpong and counting,
following Comparison/PROTOCOL.md.

    python3 Comparison/python/pykka_bench.py pingpong n=100000 warmup=2 runs=7

Messages are `tell`s of small tuples; the main thread waits on a
threading.Event that the finishing actor sets after taking the end time.
`schedulers` in the RESULT is the number of actor threads (each actor is a
thread; the GIL runs one at a time).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchproto  # noqa: E402
from benchproto import Done, now  # noqa: E402

import pykka  # noqa: E402


# -- pingpong -------------------------------------------------------------------

class Pong(pykka.ThreadingActor):
    def on_receive(self, message):
        message[1].tell(("pong",))  # ("ping", reply_to)


class Ping(pykka.ThreadingActor):
    def __init__(self, pong, n, done):
        super().__init__()
        self.pong, self.left, self.done = pong, n, done

    def on_receive(self, message):
        if message[0] == "pong":
            self.left -= 1
            if self.left == 0:
                self.done.finish()
                return
        self.pong.tell(("ping", self.actor_ref))  # the first one answers ("start",)


def pingpong(p):
    done = Done()
    pong = Pong.start()
    ping = Ping.start(pong, p["n"], done)
    try:
        t0 = now()
        ping.tell(("start",))
        t1 = done.wait("pingpong")
    finally:
        pykka.ActorRegistry.stop_all()
    return t1 - t0, None


# -- counting -------------------------------------------------------------------

class Counter(pykka.ThreadingActor):
    def __init__(self):
        super().__init__()
        self.count = 0

    def on_receive(self, message):
        if message[0] == "inc":
            self.count += 1
        else:  # ("get", reply_to)
            message[1].tell(("count", self.count))


class Producer(pykka.ThreadingActor):
    def __init__(self, counter, n, done):
        super().__init__()
        self.counter, self.n, self.done = counter, n, done

    def on_receive(self, message):
        if message[0] == "go":
            tell, inc = self.counter.tell, ("inc",)
            for _ in range(self.n):
                tell(inc)
            tell(("get", self.actor_ref))
        else:  # ("count", c)
            got = message[1]
            self.done.finish(None if got == self.n else "counted %d, expected %d" % (got, self.n))


def counting(p):
    done = Done()
    counter = Counter.start()
    producer = Producer.start(counter, p["n"], done)
    try:
        t0 = now()
        producer.tell(("go",))
        t1 = done.wait("counting")
    finally:
        pykka.ActorRegistry.stop_all()
    return t1 - t0, None


BENCHES = {
    "pingpong": ({"n": 100000}, pingpong),
    "counting": ({"n": 500000}, counting),
}


if __name__ == "__main__":
    sys.exit(benchproto.main("pykka", BENCHES, lambda p: 2))
