"""rt.call round trip to a Python echo process (swerl_call_notify and an
interruptible wait), from the main thread and from another thread; N calls
each, best of ROUNDS. 1.2 against 1.1's blocking swerl_call, interleaved
runs on a 2-CPU machine: 25-27 us against 31-33 us. Run:
SWERL_LIBRARY=... PYTHONPATH=bindings/python/src python3 bindings/python/benchmarks/call_round_trip.py
"""
import threading, time, swerl
N, ROUNDS = 20000, 5


def echo(msg, ctx):
    if msg.kind == swerl.Kind.CALL:
        return msg.data


def calls(rt, pid):
    t0 = time.perf_counter()
    for _ in range(N):
        rt.call(pid, b"x", timeout=5.0)
    return (time.perf_counter() - t0) / N * 1e6


def on_thread(fn, *args):
    out = []
    t = threading.Thread(target=lambda: out.append(fn(*args)))
    t.start()
    t.join()
    return out[0]


for schedulers in (1, 2):
    with swerl.Runtime(schedulers=schedulers) as rt:
        pid = rt.spawn(echo)
        calls(rt, pid)  # warm up
        main = min(calls(rt, pid) for _ in range(ROUNDS))
        other = min(on_thread(calls, rt, pid) for _ in range(ROUNDS))
    print("schedulers=%d: main thread %.2f us per call, other thread %.2f us" % (schedulers, main, other))
