"""The runtime's memory ceiling from Python: Runtime(max_memory=) and
set_max_memory(). A send over it raises swerl.MemoryLimit and is counted;
nothing is lost silently. (The C suite's test_overload.c floods at 10x.)"""

import threading

import pytest

import swerl
from conftest import TIMEOUT


class Held(swerl.Process):
    """Waits at a gate on its first message, then counts what it handles."""

    def __init__(self, gate, parked):
        self.gate, self.parked, self.handled = gate, parked, 0

    def handle(self, msg, ctx):
        if not self.gate.is_set():
            self.parked.set()
            self.gate.wait(TIMEOUT)
        self.handled += 1


def wait_until(predicate):
    done = threading.Event()
    for _ in range(int(TIMEOUT * 100)):
        if predicate():
            return True
        done.wait(0.01)
    return predicate()


def test_ceiling_refuses_counts_and_gives_back():
    ceiling = 64 * 1024
    gate, parked = threading.Event(), threading.Event()
    with swerl.Runtime(schedulers=1, max_memory=ceiling) as rt:
        proc = Held(gate, parked)
        pid = rt.spawn(proc)
        rt.send(pid, b"hold")
        assert parked.wait(TIMEOUT)
        payload = b"x" * 1000
        accepted = 0
        with pytest.raises(swerl.MemoryLimit) as refused:
            while True:
                rt.send(pid, payload)
                accepted += 1
        assert refused.value.name == "EMEMLIMIT"
        # Sent from outside the runtime: charged exactly, payload + 64 each.
        assert accepted == (ceiling - (4 + 64)) // (1000 + 64)
        stats = rt.stats()
        assert stats["messages_rejected"] == 1
        assert stats["memory_used"] == accepted * 1064 + 68
        gate.set()
        assert wait_until(lambda: proc.handled == accepted + 1)
        assert wait_until(lambda: rt.stats()["memory_used"] == 0)
        rt.set_max_memory(0)  # no ceiling: anything goes
        for _ in range(200):
            rt.send(pid, payload)
        with pytest.raises(swerl.InvalidArgument):
            rt.set_max_memory(-1)
