#!/usr/bin/env python3
"""Erlang distribution between two OS processes on loopback, side by side in
one run (Benchmarks/dist/README.md).

    python3 Benchmarks/dist/run.py                 # every pair, ~1 minute
    python3 Benchmarks/dist/run.py erl/2 swerl     # some pairs (names from PAIRS)
    ROUNDS=5 python3 Benchmarks/dist/run.py        # or --rounds 5, --msgs, --rtts ...

Starts a private EPMD on a free loopback port (killed at the end, whatever
happens), builds the Swerl peer (make -C Benchmarks/dist), compiles the
Erlang peer into a temporary directory, starts every node of NODES (each an
OS process of its own, 127.0.0.1 only, a random cookie), then for each test
(1 KiB and 64 B throughput, 64 B round trips) runs it ROUNDS times for each
pair in turn: the runner writes a command line to the driving node's stdin
and reads its result line. Prints one table: medians of the rounds, the
range, and the ratio against erl<->erl (+S 2:2) in the same run; then the
issue's targets. Progress and every result line go to stderr, the table to
stdout. Exit status 1 when a run had an error or a node failed to start.
Standard library only.
"""

import argparse
import datetime
import os
import platform
import queue
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
HOST = "127.0.0.1"          # loopback only: EPMD, the nodes, their listen sockets
READY_TIMEOUT = 20.0

ERL = ["erl", "-noshell", "-connect_all", "false", "-kernel", "inet_dist_use_interface", "{{127,0,0,1}}",
       "-setcookie", "{cookie}", "-pa", "{ebin}", "-name", "{node}"]
# name: (node name, argv). The erl ones get "-run dist_peer main" appended.
NODES = {
    "erl1-a": ("erl1a@" + HOST, ERL + ["+S", "1:1"]),
    "erl1-b": ("erl1b@" + HOST, ERL + ["+S", "1:1"]),
    "erl2-a": ("erl2a@" + HOST, ERL + ["+S", "2:2"]),
    "erl2-b": ("erl2b@" + HOST, ERL + ["+S", "2:2"]),
    "swerl-a": ("swerla@" + HOST, ["{build}/dist_peer", "{node}", "{epmd}", "{cookie}"]),
    "swerl-b": ("swerlb@" + HOST, ["{build}/dist_peer", "{node}", "{epmd}", "{cookie}"]),
    "swerl1-a": ("swerl1a@" + HOST, ["{build}/dist_peer", "{node}", "{epmd}", "{cookie}", "1"]),
    "swerl1-b": ("swerl1b@" + HOST, ["{build}/dist_peer", "{node}", "{epmd}", "{cookie}", "1"]),
}
# (name, label, driving node, peer node). The driver sends (throughput) or
# pings (round trips); the peer's dist_sink / dist_echo answer. The first is
# the baseline of the ratios.
PAIRS = [
    ("erl/2", "erl -> erl (+S 2:2)", "erl2-a", "erl2-b"),
    ("erl/1", "erl -> erl (+S 1:1)", "erl1-a", "erl1-b"),
    ("erl-swerl", "erl -> swerl", "erl2-a", "swerl-b"),
    ("swerl-erl", "swerl -> erl", "swerl-a", "erl2-b"),
    ("swerl", "swerl -> swerl", "swerl-a", "swerl-b"),
    ("swerl/1", "swerl -> swerl (1 scheduler)", "swerl1-a", "swerl1-b"),
]
TESTS = [("tput", 1024), ("tput", 64), ("ping", 64)]

# --pin: taskset prefixes for the driving ("-a") and the answering ("-b")
# nodes. Unpinned, the kernel places the two processes of a pair, and a run
# may get either placement (README: it decides the round trips).
PINS = {
    "none": ([], []),
    "split": (["taskset", "-c", "0"], ["taskset", "-c", "1-%d" % max(1, (os.cpu_count() or 2) - 1)]),
    "same": (["taskset", "-c", "0"], ["taskset", "-c", "0"]),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Node:
    """One OS process: a node reading commands on stdin, one result line each."""

    def __init__(self, name: str, argv: List[str], env: Dict[str, str]):
        self.name = name
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        # A session of its own, so that stopping it stops its children too (erl).
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     start_new_session=True, env=env, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError("%s: no answer within %.0f s" % (self.name, timeout)) from None
            if line is None:
                raise RuntimeError("%s: exited (status %s)" % (self.name, self.proc.wait()))
            if line.startswith(("ok", "error", "ready")):
                return line
            print("%s: %s" % (self.name, line), file=sys.stderr)

    def ask(self, command: str, timeout: float) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line(timeout)

    def stop(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(3)
            return
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(3)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                pass


def parse(line: str) -> Dict[str, str]:
    if not line.startswith("ok"):
        return {"error": line}
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def header() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return "%s, %s, %d CPUs (%s), Linux %s" % (
        datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        platform.node(), os.cpu_count() or 0, cpu, platform.release())


def otp_version() -> str:
    try:
        out = subprocess.run(["erl", "-noshell", "-eval",
                              'io:format("OTP ~s, erts ~s", [erlang:system_info(otp_release),'
                              ' erlang:system_info(version)]), halt().'],
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def test_name(test: Tuple[str, int]) -> str:
    kind, size = test
    size_s = "%d KiB" % (size // 1024) if size >= 1024 else "%d B" % size
    return ("one-way x %s" if kind == "tput" else "round trip x %s") % size_s


def summarize(runs: List[Dict[str, str]], kind: str) -> Dict[str, object]:
    good = [r for r in runs if "error" not in r]
    out: Dict[str, object] = {"errors": [r["error"] for r in runs if "error" in r]}
    if good:
        key = "msgs_per_s" if kind == "tput" else "mean_us"
        vals = [float(r[key]) for r in good]
        out["value"] = statistics.median(vals)
        out["range"] = (min(vals), max(vals))
        if kind == "ping":
            out["p50"] = statistics.median(float(r["p50_us"]) for r in good)
            out["p99"] = statistics.median(float(r["p99_us"]) for r in good)
    return out


def table(results: Dict, pairs: List[tuple]) -> str:
    base = PAIRS[0][0]
    lines = ["| pair | test | msgs/s or round trip | range | p50 us | p99 us | vs %s | errors |" % base,
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for test in TESTS:
        b = results.get((base, test), {})
        for name, label, _, _ in pairs:
            f = results[(name, test)]
            errors = "; ".join(f["errors"]) or "0"
            if "value" not in f:
                lines.append("| %s | %s | — | — | — | — | — | %s |" % (label, test_name(test), errors))
                continue
            lo, hi = f["range"]
            if test[0] == "tput":
                value, rng, p50, p99 = "{:,.0f}/s".format(f["value"]), "{:,.0f}–{:,.0f}".format(lo, hi), "", ""
            else:
                value, rng = "%.1f us" % f["value"], "%.1f–%.1f" % (lo, hi)
                p50, p99 = "%.1f" % f["p50"], "%.1f" % f["p99"]
            ratio = "%.2fx" % (f["value"] / b["value"]) if b.get("value") else "—"
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                label, test_name(test), value, rng, p50, p99, ratio, errors))
    return "\n".join(lines)


def targets(results: Dict) -> List[str]:
    """The issue's targets, against the better erl<->erl pair of this run."""
    def val(pair, test):
        return results.get((pair, test), {}).get("value")
    out = []
    for test in TESTS:
        erl = [v for v in (val("erl/2", test), val("erl/1", test)) if v]
        if not erl:
            continue
        if test[0] == "tput":
            best, goal, want = max(erl), 2.0, "≥ 2x"
        else:
            best, goal, want = min(erl), 0.5, "≤ 0.5x"
        s = val("swerl", test)
        if s:
            r = s / best
            ok = r >= goal if test[0] == "tput" else r <= goal
            out.append("swerl <-> swerl, %s: %.2fx the better erl <-> erl (target %s): %s"
                       % (test_name(test), r, want, "met" if ok else "NOT met"))
        for pair in ("erl-swerl", "swerl-erl"):
            m = val(pair, test)
            if m:
                r = m / best
                ok = r >= 1.0 if test[0] == "tput" else r <= 1.0
                out.append("%s, %s: %.2fx the better erl <-> erl (target: no slower): %s"
                           % (pair.replace("-", " -> "), test_name(test), r, "met" if ok else "NOT met"))
    return out


class Epmd:
    """A private EPMD on a free port; stopped (-kill, then the process) at the end."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(["epmd", "-port", str(self.port), "-relaxed_command_check"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("epmd did not start on port %d" % self.port)
                time.sleep(0.05)

    def stop(self) -> None:
        try:
            subprocess.run(["epmd", "-port", str(self.port), "-kill"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def on_signal(sig, frame):
    raise SystemExit(128 + sig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pairs", nargs="*", help="names from PAIRS (default: all): %s" % ", ".join(p[0] for p in PAIRS))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "3")),
                    help="runs per pair and test; the table shows medians (env ROUNDS; default 3)")
    ap.add_argument("--msgs", type=int, default=int(os.environ.get("MSGS", "200000")),
                    help="messages per throughput run (env MSGS; default 200000)")
    ap.add_argument("--rtts", type=int, default=int(os.environ.get("RTTS", "10000")),
                    help="timed round trips per run, after --warmup more (env RTTS; default 10000)")
    ap.add_argument("--warmup", type=int, default=int(os.environ.get("WARMUP", "1000")),
                    help="unmeasured round trips first (env WARMUP; default 1000)")
    ap.add_argument("--batch", type=int, default=int(os.environ.get("BATCH", "500")),
                    help="messages per batch; the sink acks each batch (env BATCH; default 500)")
    ap.add_argument("--window", type=int, default=int(os.environ.get("WINDOW", "4")),
                    help="batches a sender may have unacked (env WINDOW; default 4)")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("TIMEOUT", "10")),
                    help="seconds without progress before a run is an error (env TIMEOUT; default 10)")
    ap.add_argument("--pin", choices=sorted(PINS), default=os.environ.get("PIN", "none"),
                    help="CPU placement: none (the kernel's), split (driving nodes on CPU 0, answering "
                         "nodes on the others), same (all on CPU 0) (env PIN; default none)")
    args = ap.parse_args()
    if args.pin != "none" and not shutil.which("taskset"):
        ap.error("--pin needs taskset (util-linux)")
    if args.pin == "split" and (os.cpu_count() or 1) < 2:
        ap.error("--pin split needs two CPUs")
    names = [p[0] for p in PAIRS]
    unknown = [n for n in args.pairs if n not in names]
    if unknown:
        ap.error("unknown pair(s) %s; known: %s" % (", ".join(unknown), ", ".join(names)))
    if args.batch < 1 or args.window < 1 or args.msgs < 1 or args.rtts < 1 or args.rounds < 1:
        ap.error("--batch, --window, --msgs, --rtts and --rounds must be at least 1")
    pairs = [p for p in PAIRS if not args.pairs or p[0] in args.pairs]

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    print("# %s" % header(), file=sys.stderr)
    notes: List[str] = []
    missing = [t for t in ("erl", "erlc", "epmd") if not shutil.which(t)]
    if missing:
        print("skipped: %s not found (apt-get install erlang-base)" % ", ".join(missing))
        return 0
    wanted = {n for p in pairs for n in p[2:]}
    if any(n.startswith("swerl") for n in wanted):
        if subprocess.run(["make", "-s", "-C", HERE]).returncode != 0:
            notes.append("skipped: the Swerl pairs: make -C Benchmarks/dist failed "
                         "(make stage first: the library in build/stage)")
            print(notes[-1], file=sys.stderr)
            pairs = [p for p in pairs if not p[2].startswith("swerl") and not p[3].startswith("swerl")]
            wanted = {n for p in pairs for n in p[2:]}

    ebin = tempfile.mkdtemp(prefix="swerl-dist-bench-")
    epmd: Optional[Epmd] = None
    nodes: Dict[str, Node] = {}
    runs: Dict[tuple, List[Dict[str, str]]] = {}
    version = otp_version()
    try:
        subprocess.run(["erlc", "-Werror", "-o", ebin, os.path.join(HERE, "dist_peer.erl")], check=True)
        epmd = Epmd()
        cookie = secrets.token_hex(12)
        env = dict(os.environ, ERL_EPMD_PORT=str(epmd.port))
        print("epmd on port %d; %s" % (epmd.port, version), file=sys.stderr)
        for name in [n for n in NODES if n in wanted]:
            node, argv = NODES[name]
            argv = [a.format(cookie=cookie, ebin=ebin, node=node, epmd=epmd.port, build=BUILD) for a in argv]
            if argv[0] == "erl":
                argv += ["-run", "dist_peer", "main"]
            argv = PINS[args.pin][0 if name.endswith("-a") else 1] + argv
            nodes[name] = Node(name, argv, env)
        for name, n in nodes.items():
            line = n.line(READY_TIMEOUT)
            if line != "ready " + NODES[name][0]:
                raise RuntimeError("%s: %s" % (name, line))
            print("%s: %s" % (name, line), file=sys.stderr)

        def run(pair, test, count, warm=False):
            name, _, drv, peer = pair
            kind, size = test
            if kind == "tput":
                cmd = "tput %s %d %d %d %d %d" % (NODES[peer][0], count, size, args.batch, args.window,
                                                  args.timeout * 1000)
            else:
                cmd = "ping %s %d %d %d %d" % (NODES[peer][0], count, args.warmup, size, args.timeout * 1000)
            try:
                line = nodes[drv].ask(cmd, args.timeout * 3 + 30)
            except RuntimeError as e:
                line = "error %s" % e
            print("  %-10s %-20s %s%s" % (name, test_name(test), "(warmup) " if warm else "", line), file=sys.stderr)
            return parse(line)

        # One unmeasured run per pair first: connections up, code loaded, caches warm.
        for pair in pairs:
            run(pair, ("tput", 1024), min(args.msgs, 20000), warm=True)
        # Pairs alternate inside each round, so a slow spell of the machine
        # hits them all rather than one.
        for test in TESTS:
            for _ in range(args.rounds):
                for pair in pairs:
                    runs.setdefault((pair[0], test), []).append(
                        run(pair, test, args.msgs if test[0] == "tput" else args.rtts))
    finally:
        for n in nodes.values():
            n.stop()
        if epmd:
            epmd.stop()
        shutil.rmtree(ebin, ignore_errors=True)

    results = {key: summarize(value, key[1][0]) for key, value in runs.items()}
    print("\n%s\n%s, Swerl %s; %d rounds per pair and test (medians): %d messages per throughput run "
          "(batches of %d, at most %d unacked), %d timed round trips after %d, pin=%s\n" % (
              header(), version, "build/stage", args.rounds, args.msgs, args.batch, args.window,
              args.rtts, args.warmup, args.pin))
    print(table(results, pairs))
    print()
    for line in targets(results):
        print("- " + line)
    for line in notes:
        print("\n" + line)
    failed = any(r for v in results.values() for r in v["errors"]) or bool(notes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
