#!/usr/bin/env python3
"""Echo servers side by side on loopback, one run (Benchmarks/net/README.md).

    python3 Benchmarks/net/run.py                     # every server, ~1 minute
    SECONDS=2 ROUNDS=5 python3 Benchmarks/net/run.py libuv asyncio

Builds the client and the servers (make -C Benchmarks/net), starts every
server of SERVERS whose tools are here, each on its own free loopback port,
then for each point of POINTS runs echo_client ROUNDS times against each
server in turn (a fresh client process and fresh connections each time),
stops the servers, and prints one table: the median req/s, p50 and p99 of
the rounds, the req/s range, and req/s as a ratio of libuv's at the same
point. A server whose tools are missing gets a "skipped" line. Progress and
every client line go to stderr, the table to stdout. Exit status 1 when a
run had errors or a server failed to start. Standard library only.
"""

import argparse
import datetime
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
HOST = "127.0.0.1"          # loopback only, here and in the servers

LINE = "line"               # ready when it prints "listening PORT" (it is given port 0)
CONNECT = "connect"         # ready when connect() succeeds (it is given a free port)


@dataclass
class Server:
    name: str
    argv: List[str]                     # "{port}", "{here}" and "{build}" are filled in
    ready: str = LINE
    needs: List[str] = field(default_factory=list)   # executables that must be on PATH
    make: Optional[str] = None          # a target of ./Makefile to build first
    install: str = ""                   # said when `needs` are missing
    version: Optional[List[str]] = None  # prints the version for the run's header
    env: Dict[str, str] = field(default_factory=dict)  # more environment ("{here}" filled in)


# Adding a server is adding an entry. The first is the baseline of the ratios.
SERVERS = [
    Server("libuv", ["{build}/libuv_echo", "{port}"], make="all",
           version=["pkg-config", "--modversion", "libuv"]),
    Server("asyncio", [sys.executable, "{here}/asyncio_echo.py", "{port}"],
           version=[sys.executable, "--version"]),
    Server("swerl-c", ["{build}/swerl_echo", "{port}"], make="swerl",
           install="make stage (the library in build/stage)"),
    Server("swerl-c/1", ["{build}/swerl_echo", "{port}", "1"], make="swerl",
           install="make stage (the library in build/stage)"),
    Server("swerl-python", [sys.executable, "{here}/swerl_python_echo.py", "{port}"],
           env={"SWERL_LIBRARY": "{here}/../../build/stage/lib/libswerl.so.1",
                "PYTHONPATH": "{here}/../../bindings/python/src"},
           install="make stage (the library in build/stage)"),
    Server("gen_tcp", ["erl", "-noshell", "-pa", "{build}", "-run", "gen_tcp_echo", "main", "{port}"],
           needs=["erl", "erlc"], make="erlang", install="apt-get install erlang-base",
           version=["erl", "-noshell", "-eval",
                    'io:format("OTP ~s, erts ~s", [erlang:system_info(otp_release),'
                    ' erlang:system_info(version)]), halt().']),
]

POINTS = [(1, 64), (1, 16384), (100, 64), (100, 16384)]   # (connections, request bytes)

READY_TIMEOUT = 20.0

# --pin: taskset prefixes (server, client). Unpinned, the kernel places the
# two; one connection's round trip is then ~15 us when they share a CPU and
# ~50 us when they do not (this VM), and a run may get either.
PINS = {
    "none": ([], []),
    "split": (["taskset", "-c", "1-%d" % max(1, (os.cpu_count() or 2) - 1)], ["taskset", "-c", "0"]),
    "same": (["taskset", "-c", "0"], ["taskset", "-c", "0"]),
}


def free_port() -> int:
    """A port free now (a server given it may still lose a race for it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def fill(argv: List[str], port: int) -> List[str]:
    return [a.format(port=port, here=HERE, build=BUILD) for a in argv]


def wait_line(proc: subprocess.Popen) -> int:
    """The port of the server's "listening PORT" line. Raw reads: a buffered
    readline could hold that line while select() waits for more."""
    assert proc.stdout is not None
    fd, pending = proc.stdout.fileno(), b""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if not select.select([fd], [], [], deadline - time.monotonic())[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RuntimeError("exited before it was listening (status %s)" % proc.wait())
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            words = line.split()
            if len(words) == 2 and words[0] == b"listening" and words[1].isdigit():
                return int(words[1])
    raise RuntimeError('no "listening PORT" line within %.0f s' % READY_TIMEOUT)


def wait_connect(proc: subprocess.Popen, port: int) -> int:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited before it was listening (status %s)" % proc.returncode)
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d still refused after %.0f s" % (port, READY_TIMEOUT))


def start(server: Server, pin: str):
    port = 0 if server.ready == LINE else free_port()
    # A session of its own, so that stopping it stops its children too (erl).
    env = dict(os.environ, **{k: v.format(here=HERE, build=BUILD) for k, v in server.env.items()})
    proc = subprocess.Popen(PINS[pin][0] + fill(server.argv, port), stdout=subprocess.PIPE,
                            text=True, start_new_session=True, env=env)
    try:
        port = wait_line(proc) if server.ready == LINE else wait_connect(proc, port)
    except Exception:
        stop(proc)
        raise
    # Whatever it prints later goes to stderr: a full pipe would stop it.
    threading.Thread(target=forward, args=(server.name, proc.stdout), daemon=True).start()
    return proc, port


def forward(name: str, stream) -> None:
    for line in stream:
        sys.stderr.write("%s: %s\n" % (name, line.rstrip()))      # one write: not cut by others


def stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            pass


def run_point(port: int, conns: int, size: int, seconds: float, warmup: int, pin: str) -> Dict[str, str]:
    argv = PINS[pin][1] + [os.path.join(BUILD, "echo_client"), "--host", HOST, "--port", str(port),
            "--connections", str(conns), "--size", str(size),
            "--seconds", str(seconds), "--warmup", str(warmup)]
    # The client bounds itself (--timeout); this bounds it if that failed.
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=seconds + 90)
    fields = dict(kv.split("=", 1) for kv in out.stdout.split() if "=" in kv)
    if "req_per_s" not in fields:
        fields = {"errors": "no result (status %d)" % out.returncode}
    return fields


def summary(runs: List[Dict[str, str]]) -> Dict[str, str]:
    """The rounds of one server at one point: medians, the req/s range, all errors."""
    good = [r for r in runs if "req_per_s" in r]
    bad = [r["errors"] for r in runs if r.get("errors") != "0"]
    out = {"errors": "; ".join(bad) if bad else "0"}
    if good:
        for key in ("req_per_s", "p50_us", "p99_us"):
            out[key] = "%.1f" % statistics.median(float(r[key]) for r in good)
        rates = [float(r["req_per_s"]) for r in good]
        out["range"] = "{:,.0f}–{:,.0f}".format(min(rates), max(rates))
    return out


def version(server: Server) -> str:
    if not server.version:
        return "?"
    try:
        out = subprocess.run(server.version, capture_output=True, text=True, timeout=30)
        return (out.stdout.strip() or out.stderr.strip()).splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


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


def point_name(conns: int, size: int) -> str:
    return "%d conn x %s" % (conns, "%d KiB" % (size // 1024) if size >= 1024 else "%d B" % size)


def table(results: Dict, names: List[str]) -> str:
    base_name = SERVERS[0].name
    lines = ["| server | point | req/s | req/s range | p50 us | p99 us | vs %s | errors |" % base_name,
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for point in POINTS:
        base = results.get((base_name, point), {})
        for name in names:
            f = results[(name, point)]
            ok = "req_per_s" in f
            ratio = ("%.2fx" % (float(f["req_per_s"]) / float(base["req_per_s"]))
                     if ok and float(base.get("req_per_s", 0)) > 0 else "—")
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name, point_name(*point), "{:,.0f}".format(float(f["req_per_s"])) if ok else "—",
                f.get("range", "—"), f.get("p50_us", "—"), f.get("p99_us", "—"), ratio, f["errors"]))
    return "\n".join(lines)


def start_all(chosen: List[Server], notes: List[str], pin: str) -> Dict[str, tuple]:
    """Every server whose tools are here, built, started and listening."""
    running = {}
    for server in chosen:
        missing = [t for t in server.needs if not shutil.which(t)]
        if missing:
            notes.append("skipped: %s: %s not found%s" % (server.name, ", ".join(missing),
                                                           server.install and " (%s)" % server.install))
            print(notes[-1], file=sys.stderr)
            continue
        if server.make and server.make != "all":
            subprocess.run(["make", "-s", "-C", HERE, server.make], check=True)
        try:
            running[server.name] = start(server, pin)
        except Exception as e:                       # noqa: BLE001 - reported, the run goes on
            notes.append("failed: %s: %s" % (server.name, e))
            print(notes[-1], file=sys.stderr)
            continue
        print("%s (%s): port %d" % (server.name, version(server),
                                    running[server.name][1]), file=sys.stderr)
    return running


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("servers", nargs="*", help="names from SERVERS (default: all)")
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("SECONDS", "1")),
                    help="measured seconds of one client run (env SECONDS; default 1)")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "3")),
                    help="client runs per server and point; the table shows medians (env ROUNDS; default 3)")
    ap.add_argument("--warmup", type=int, default=int(os.environ.get("WARMUP", "100")),
                    help="unmeasured requests per connection before each run (env WARMUP; default 100)")
    ap.add_argument("--pin", choices=sorted(PINS), default=os.environ.get("PIN", "none"),
                    help="CPU placement: none (the kernel's), split (client on CPU 0, servers on the "
                         "others), same (all on CPU 0) (env PIN; default none)")
    args = ap.parse_args()
    if args.pin != "none" and not shutil.which("taskset"):
        ap.error("--pin needs taskset (util-linux)")
    if args.pin == "split" and (os.cpu_count() or 1) < 2:
        ap.error("--pin split needs two CPUs")
    names = [s.name for s in SERVERS]
    unknown = [n for n in args.servers if n not in names]
    if unknown:
        ap.error("unknown server(s) %s; known: %s" % (", ".join(unknown), ", ".join(names)))
    chosen = [s for s in SERVERS if not args.servers or s.name in args.servers]

    print("# %s" % header(), file=sys.stderr)
    subprocess.run(["make", "-s", "-C", HERE, "all"], check=True)
    notes: List[str] = []
    running = start_all(chosen, notes, args.pin)
    runs: Dict[tuple, List[Dict[str, str]]] = {}
    try:
        # Servers alternate inside each round, so a slow spell of the machine
        # hits them all rather than one.
        for point in POINTS:
            for _ in range(args.rounds):
                for name, (proc, port) in running.items():
                    if proc.poll() is not None:
                        f = {"errors": "server exited (status %s)" % proc.returncode}
                    else:
                        f = run_point(port, point[0], point[1], args.seconds, args.warmup, args.pin)
                    print("  %-8s %s" % (name, " ".join("%s=%s" % kv for kv in f.items())), file=sys.stderr)
                    runs.setdefault((name, point), []).append(f)
    finally:
        for proc, _ in running.values():
            stop(proc)

    results = {key: summary(value) for key, value in runs.items()}
    print("\n%s\n%d rounds of %g s per server and point (medians), %d warmup requests per connection "
          "first, pin=%s\n" % (header(), args.rounds, args.seconds, args.warmup, args.pin))
    print(table(results, list(running)))
    for line in notes:
        print("\n" + line)
    failed = any(f["errors"] != "0" for f in results.values()) or any(n.startswith("failed") for n in notes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
