"""The command line and RESULT line of Comparison/PROTOCOL.md, shared by the
Python benchmark programs (swerl_py_bench, pykka_bench, asyncio_bench).

    <program> <bench> key=value ... warmup=W runs=R

Each program gives `main` a table {bench: (defaults, run_one)}; run_one(params)
runs one iteration and returns (seconds, extra dict or None).
"""

import json
import os
import statistics
import sys
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple

RunOne = Callable[[Dict[str, Any]], Tuple[float, Optional[Dict[str, Any]]]]


class BenchError(Exception):
    """A run whose own check failed: reported on stderr, exit status 1."""


WAIT = float(os.environ.get("BENCH_WAIT_S", "600"))  # a run that never ends fails after this


class Done:
    """The end of an iteration: the finishing actor records the time and an
    optional error, then wakes the main thread."""

    def __init__(self):
        self.event = threading.Event()
        self.t1 = 0.0
        self.error = None

    def finish(self, error=None):
        self.t1 = now()
        self.error = error
        self.event.set()

    def wait(self, what):
        if not self.event.wait(WAIT):
            raise BenchError("%s did not finish within %.0f s" % (what, WAIT))
        if self.error:
            raise BenchError(self.error)
        return self.t1


def parse_args(argv):
    if not argv or "=" in argv[0] or argv[0] in ("-h", "--help"):
        raise SystemExit("usage: %s <bench> key=value ... warmup=W runs=R" % sys.argv[0])
    bench, params = argv[0], {}
    for a in argv[1:]:
        key, sep, value = a.partition("=")
        if not sep or not key:
            raise SystemExit("bad argument %r: expected key=value" % a)
        try:
            params[key] = int(value.replace("_", ""))
        except ValueError:
            try:
                params[key] = float(value)
            except ValueError:
                params[key] = value
    return bench, params


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import resource
    return pages * resource.getpagesize()


def emit(obj: Dict[str, Any]) -> None:
    sys.stdout.write("RESULT " + json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(system: str, benches: Dict[str, Tuple[Dict[str, Any], RunOne]],
         schedulers: Callable[[Dict[str, Any]], int], argv=None) -> int:
    bench, params = parse_args(sys.argv[1:] if argv is None else argv)
    warmup = int(params.pop("warmup", 2))
    runs = int(params.pop("runs", 7))
    if bench not in benches:
        emit({"system": system, "bench": bench, "skipped": "not implemented by %s" % system})
        return 0
    defaults, run_one = benches[bench]
    p = dict(defaults)
    p.update(params)
    warmups, measured, extras = [], [], []
    try:
        for i in range(warmup + runs):
            secs, extra = run_one(p)
            (warmups if i < warmup else measured).append(round(secs, 6))
            if i >= warmup and extra:
                extras.append(extra)
            print("%s %s %s %d/%d: %.4f s" % (system, bench, "warmup" if i < warmup else "run",
                                              i + 1, warmup + runs, secs), file=sys.stderr)
    except BenchError as e:
        print("%s %s: FAILED: %s" % (system, bench, e), file=sys.stderr)
        return 1
    extra: Dict[str, Any] = {}
    for key in sorted({k for e in extras for k in e}):
        values = [e[key] for e in extras if key in e]
        if all(isinstance(v, (int, float)) for v in values):
            extra[key] = statistics.median(values)
        else:
            extra[key] = values[-1]
    shown = {k: v for k, v in p.items() if k != "schedulers"}
    emit({"system": system, "bench": bench, "params": shown, "schedulers": schedulers(p),
          "warmups": warmups, "runs": measured, "extra": extra})
    return 0


def now() -> float:
    return time.perf_counter()
