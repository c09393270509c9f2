"""Swerl from Python in one page: processes, a call, a monitor, a supervisor
restarting a crashed worker, and asyncio.

    pip install ./bindings/python      # from the repository root (see README)
    python3 examples/python/quickstart.py
"""

import asyncio
import queue
import time

import swerl


class Counter(swerl.Process):
    """Counts messages; a CALL gets the count; b"crash" raises (a crash)."""

    def init(self, ctx):
        self.count = 0

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.CALL:
            return b"%d" % self.count  # bytes returned for a CALL: the reply
        if msg.data == b"crash":
            raise RuntimeError("asked to crash")
        self.count += 1


def main():
    events = queue.Queue()

    class Watcher(swerl.Process):
        """Monitors a pid and reports its DOWN message."""

        def __init__(self, target):
            self.target = target

        def init(self, ctx):
            ctx.monitor(self.target)
            events.put("watching")

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.DOWN:
                events.put(msg)
                return swerl.STOP

    with swerl.Runtime() as rt:
        # A process, messages, a call.
        pid = rt.spawn(Counter, name="counter")
        for _ in range(3):
            rt.send(pid, b"tick")
        print("count:", rt.call("counter", b"?", timeout=5.0).decode())

        # A crash is an exit with the traceback as its detail; a monitor sees it.
        rt.spawn(Watcher(pid))
        assert events.get(timeout=10) == "watching"  # init runs concurrently with us
        rt.send(pid, b"crash")
        down = events.get(timeout=10)
        print("DOWN from %r: reason %s, %s" % (
            down.from_, swerl.Reason(down.reason).name, down.data.decode().strip().splitlines()[-1]))

        # A supervisor restarts its crashed child with a fresh Counter.
        sup = rt.start_supervisor(swerl.SupervisorSpec(
            children=[swerl.ChildSpec("counter", Counter)], intensity=3, period=5.0))
        first = sup.which_children()[0].pid
        rt.send(first, b"tick")
        rt.send(first, b"crash")
        while sup.which_children()[0].pid in (None, first):
            time.sleep(0.001)  # the restart takes microseconds
        print("restarted: %r -> %r, restarts=%d" % (
            first, sup.which_children()[0].pid, sup.which_children()[0].restarts))

        # asyncio: await a call without blocking the event loop.
        async def ask():
            return await rt.call_async(sup.which_children()[0].pid, b"?")

        print("the fresh counter says:", asyncio.run(ask()).decode())
    print("done")


if __name__ == "__main__":
    main()
