"""The registry of Python process objects (swerl.registry, issue 18 item 3):
a process's key is a slot of a list, reused once its process is gone, so
an idle process costs one pointer there. A slot is drawn by one thread
only, a reused key reaches only the process that holds it now, and every
way a process ends gives its slot back."""

import queue
import threading

import swerl
from swerl.registry import ProcessRegistry

from conftest import TIMEOUT, get, wait_until


def test_slots_are_drawn_once_by_many_threads():
    reg = ProcessRegistry()
    threads, rounds, held = 8, 300, 40
    errors = []
    start = threading.Barrier(threads)

    def work(t):
        try:
            start.wait(TIMEOUT)
            for r in range(rounds):
                mine = [(reg.register((t, r, i)), (t, r, i)) for i in range(held)]
                for key, obj in mine:
                    if reg.objects[key] != obj:
                        errors.append("key %d holds %r, not %r" % (key, reg.objects[key], obj))
                for key, obj in mine:
                    if reg.take(key) != obj:
                        errors.append("took the wrong object from key %d" % key)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(TIMEOUT)
    assert not any(w.is_alive() for w in workers)
    assert not errors, errors[:5]
    assert reg.process_count() == 0
    # the slots were reused: at most what was held at once, plus one growth
    assert len(reg.objects) <= 1 + threads * held + 1024
    assert reg.take(0) is None and reg.take(len(reg.objects)) is None
    key = reg.register("again")
    assert 0 < key < len(reg.objects) and reg.take(key) == "again" and reg.take(key) is None


def test_a_slot_drawn_before_a_clear_is_not_used_after_it():
    """A spawn racing the runtime's close may draw a slot, then find the
    list cleared (swerl_runtime_free has returned): it draws again."""
    reg = ProcessRegistry()
    held = reg.register("held")
    reg.clear()
    assert reg.take(held) is None and reg.process_count() == 0
    reg._free.append(5000)  # the slot the racing spawn drew, past the cleared list
    key = reg.register("late")
    assert reg.objects[key] == "late" and reg.process_count() == 1
    assert reg.take(key) == "late" and reg.process_count() == 0


def test_a_reused_key_reaches_only_its_new_process(rt):
    class Named(swerl.Process):
        __slots__ = ("name",)

        def __init__(self, name):
            self.name = name

        def handle(self, msg, ctx):
            if msg.data == b"stop":
                return swerl.STOP
            return self.name.encode()

    base = rt._registry.process_count()
    first = [rt.spawn(Named("first-%d" % i)) for i in range(200)]
    assert rt._registry.process_count() == base + 200
    for i, pid in enumerate(first):
        assert rt.call(pid, b"who", timeout=TIMEOUT) == ("first-%d" % i).encode()
    slots = len(rt._registry.objects)
    for pid in first:
        rt.send(pid, b"stop")
    wait_until(lambda: rt._registry.process_count() == base, "the first 200 gone from the registry")
    second = [rt.spawn(Named("second-%d" % i)) for i in range(200)]
    assert len(rt._registry.objects) == slots  # their keys were reused
    for i, pid in enumerate(second):
        assert rt.call(pid, b"who", timeout=TIMEOUT) == ("second-%d" % i).encode()
    for pid in first:  # the old pids name nobody, whatever their keys hold now
        rt.send(pid, b"who")
        assert rt.process_info(pid) is None


def test_every_end_of_a_process_gives_its_slot_back(rt):
    q = queue.Queue()

    class Failing(swerl.Process):
        def init(self, ctx):
            raise RuntimeError("init fails")

    class Ignoring(swerl.Process):
        def init(self, ctx):
            return swerl.IGNORE

    class Crashing(swerl.Process):
        def handle(self, msg, ctx):
            raise RuntimeError("handle fails")

    class Terminating(swerl.Process):
        def handle(self, msg, ctx):
            return swerl.STOP

        def terminate(self, reason, ctx):
            q.put(reason)

    base = rt._registry.process_count()
    for _ in range(3):
        rt.spawn(Failing)
        rt.spawn(Ignoring)
        rt.send(rt.spawn(Crashing), b"x")
        rt.send(rt.spawn(Terminating), b"x")
        assert get(q) == swerl.Reason.NORMAL
    wait_until(lambda: rt._registry.process_count() == base, "every slot given back")
    with_name = rt.spawn(Terminating, name="taken")
    try:
        rt.spawn(Terminating, name="taken")
    except swerl.NameTaken:
        pass
    else:  # pragma: no cover
        raise AssertionError("a second process got the name")
    assert rt._registry.process_count() == base + 1  # the failed spawn took its slot back
    rt.send(with_name, b"x")
    assert get(q) == swerl.Reason.NORMAL
    wait_until(lambda: rt._registry.process_count() == base, "the last slot given back")
