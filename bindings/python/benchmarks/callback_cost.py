"""Per-callback cost with and without attaching the scheduler threads once
(Runtime(attach_threads=...)): a process sends itself N messages.
Run: SWERL_LIBRARY=... PYTHONPATH=bindings/python/src python3 bindings/python/benchmarks/callback_cost.py
"""
import queue, time, swerl
N = 20000
def run(attach):
    q = queue.Queue()
    class Loop(swerl.Process):
        def init(self, ctx): self.n = 0
        def handle(self, msg, ctx):
            self.n += 1
            if self.n == 1: self.t0 = time.perf_counter()
            if self.n == N: q.put(time.perf_counter() - self.t0); return swerl.STOP
            ctx.send(ctx.self_pid(), b"x")
    with swerl.Runtime(schedulers=1, attach_threads=attach) as rt:
        rt.send(rt.spawn(Loop), b"x")
        return q.get(timeout=60) / N * 1e6
for attach in (False, True, False, True):
    print("attach_threads=%s: %.2f us per handle callback (incl. Message/Ctx/send)" % (attach, run(attach)))
