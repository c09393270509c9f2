#!/usr/bin/env python3
"""Plain asyncio: two tasks, each with an asyncio.Queue as its mailbox, on
pingpong and counting, following Comparison/PROTOCOL.md. The baseline of
what message passing costs in one Python thread.

    python3 Comparison/python/asyncio_bench.py pingpong n=100000 warmup=2 runs=7

Each iteration runs in a fresh event loop (asyncio.run); the end time is
taken by the task that finishes; the main coroutine awaits that task.
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchproto  # noqa: E402
from benchproto import BenchError, now  # noqa: E402


# -- pingpong -------------------------------------------------------------------

async def _pong(inbox, outbox):
    while True:
        msg = await inbox.get()
        if msg == "stop":
            return
        await outbox.put("pong")


async def _ping(inbox, outbox, n):
    for _ in range(n):
        await outbox.put("ping")
        if await inbox.get() != "pong":
            raise BenchError("ping got something other than pong")
    t1 = now()
    await outbox.put("stop")
    return t1


async def _pingpong(n):
    to_ping, to_pong = asyncio.Queue(), asyncio.Queue()
    pong = asyncio.create_task(_pong(to_pong, to_ping))
    t0 = now()
    t1 = await asyncio.create_task(_ping(to_ping, to_pong, n))
    await pong
    return t1 - t0


def pingpong(p):
    return asyncio.run(_pingpong(p["n"])), None


# -- counting -------------------------------------------------------------------

async def _counter(inbox):
    count = 0
    while True:
        msg = await inbox.get()
        if msg == "inc":
            count += 1
        else:  # ("get", reply_queue)
            await msg[1].put(count)
            return


async def _producer(counter, n):
    reply = asyncio.Queue()
    put = counter.put
    for _ in range(n):
        await put("inc")
    await put(("get", reply))
    got = await reply.get()
    t1 = now()
    if got != n:
        raise BenchError("counted %d, expected %d" % (got, n))
    return t1


async def _counting(n):
    inbox = asyncio.Queue()
    counter = asyncio.create_task(_counter(inbox))
    t0 = now()
    t1 = await asyncio.create_task(_producer(inbox, n))
    await counter
    return t1 - t0


def counting(p):
    return asyncio.run(_counting(p["n"])), None


BENCHES = {
    "pingpong": ({"n": 100000}, pingpong),
    "counting": ({"n": 500000}, counting),
}


if __name__ == "__main__":
    sys.exit(benchproto.main("asyncio", BENCHES, lambda p: 1))
