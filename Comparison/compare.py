#!/usr/bin/env python3
"""Swerl against BEAM, CAF and Pykka in one run (issue 5).

    python3 Comparison/compare.py              # everything, full sizes
    python3 Comparison/compare.py --quick      # smoke test, under 2 minutes
    python3 Comparison/compare.py --only pingpong,counting --systems swerl-swift,erlang

Builds what is missing, installs missing peers (or prints "skipped: <peer>:
<why>"), then runs every benchmark program of Comparison/PROTOCOL.md in a
fresh OS process, benchmark by benchmark with the systems interleaved inside
each, prints a table, and writes Comparison/results/<timestamp>.json (and
latest.json) plus a PNG chart of the ratios against BEAM. Method and columns:
Comparison/COMPARE.md. Standard library and matplotlib only.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")

# ---------------------------------------------------------------------------
# Sizes: the one table to calibrate. bench -> list of rows, each row
# (full params, --quick params). Savina's defaults are in PROTOCOL.md; these
# are larger so that one iteration takes a measurable time here.
# ---------------------------------------------------------------------------

SIZES = {
    # Full sizes: each Swerl run (one scheduler) takes about 0.5 s or more
    # on this 2-core machine, except where a peer cannot follow (noted).
    "pingpong":   [({"n": 2_500_000}, {"n": 50_000})],
    "counting":   [({"n": 12_000_000}, {"n": 200_000})],
    "burst":      [({"n": n}, {"n": 100_000}) for n in (100_000, 1_000_000, 4_000_000)],
    "threadring": [({"actors": 100, "n": 6_000_000}, {"actors": 100, "n": 100_000})],
    "chameneos":  [({"creatures": 100, "n": 2_000_000}, {"creatures": 100, "n": 50_000})],
    "big":        [({"workers": 120, "n": 25_000}, {"workers": 120, "n": 1_000})],
    # More actors, not more messages per actor: BEAM with 2 schedulers slows
    # down superlinearly once each mailbox holds more than a few thousand
    # (60 x 5,000: 0.07 s; 60 x 10,000: 1.4 s; 60 x 20,000: over 3 min).
    "fjthrput":   [({"actors": 1200, "n": 5_000}, {"actors": 60, "n": 5_000})],
    "fjcreate":   [({"n": 1_200_000}, {"n": 20_000})],
    "fib":        [({"n": 28}, {"n": 20})],
    "spawn":      [({"n": 1_000_000}, {"n": 20_000})],
    # Above 64 bytes BEAM and Swerl send one shared binary (64 KiB at 2M:
    # Swerl ~0.3 s, BEAM ~1.2 s); CAF copies a std::string each way (~3.6 s).
    "pingpong_payload": [({"size": s, "n": 2_500_000}, {"size": s, "n": 10_000}) for s in (0, 64, 1024)]
                        + [({"size": 65536, "n": 2_000_000}, {"size": 65536, "n": 2_000})],
    # 1 MiB to 1,000 receivers: a round ~90 us for Swerl, ~420 us for BEAM,
    # ~0.7-1.2 ms for CAF.
    "fanout":     [({"size": 1_048_576, "receivers": 1_000, "rounds": 4_000},
                    {"size": 1_048_576, "receivers": 1_000, "rounds": 100})],
    # Restart storms at BEAM's pace: its supervisor walks its restart window
    # on every restart (~3k restarts/s sustained here), so sizes that take
    # Swerl 0.5 s would take BEAM minutes per run. Swerl's runs are short.
    "restart_short":     [({"children": 100, "crashes": 10}, {"children": 100, "crashes": 10})],
    "restart_sustained": [({"children": 1000, "n": 20_000}, {"children": 1000, "n": 5_000})],
    "link_cascade":      [({"n": 1_500_000}, {"n": 10_000})],
    # 2M: BEAM with 2 schedulers fails its own check (a watcher's monitor
    # sees the target as already gone, noproc) from the second iteration on.
    "monitors":          [({"n": 1_000_000}, {"n": 10_000})],
}

# (system, config, bench) a run would be pointless for, and why: shown as
# "skipped" in the table.
NOT_RUN = {
    ("caf", "N", b): "CAF 0.17's work-stealing scheduler is quadratic when one actor makes many "
                     "runnable at once (fjcreate n=100k: 74 s); see Comparison/peers/caf/README.md"
    for b in ("spawn", "fjcreate", "monitors")
}

# The Python row of a benchmark: smaller sizes (Python callbacks cost
# microseconds), run by the Python systems and by Erlang as the reference.
PY_SIZES = {
    "pingpong": [({"n": 100_000}, {"n": 5_000})],
    "counting": [({"n": 500_000}, {"n": 20_000})],
    "spawn":    [({"n": 100_000}, {"n": 5_000})],
}

SAVINA = ["pingpong", "counting", "threadring", "chameneos", "big", "fjthrput", "fjcreate", "fib"]
DEFAULT_BENCHES = SAVINA + ["spawn", "pingpong_payload", "fanout", "burst", "restart_short", "restart_sustained",
                            "link_cascade", "monitors"]
QUICK_BENCHES = SAVINA + ["spawn"]

NATIVE_SYSTEMS = ["swerl-swift", "swerl-c", "erlang", "elixir", "caf"]
PYTHON_SYSTEMS = ["swerl-python", "pykka", "asyncio"]
REFERENCE = "erlang"

# The benchmarks a system implements, where known here (our own programs);
# any other system is asked for every benchmark and may answer "skipped".
SUPPORTS = {
    "swerl-c": {"pingpong", "counting", "spawn"},
    "swerl-python": {"pingpong", "counting", "spawn"},
    "pykka": {"pingpong", "counting"},
    "asyncio": {"pingpong", "counting"},
    # Comparison/peers/elixir/bench.exs implements only the benchmarks where
    # idiomatic Elixir (GenServer, Task, Supervisor) differs from Erlang
    # (see its header); the others would each cost a VM start to say so.
    "elixir": {"pingpong", "counting", "fib", "fjcreate", "restart_short", "restart_sustained"},
}

# Scheduler configurations. "1": one scheduler thread (Swerl schedulers=1,
# BEAM +S 1:1, CAF schedulers=1); "N": the system's default, one per CPU.
# "-": a system without the notion (Pykka: a thread per actor; asyncio: one
# thread), compared with BEAM's "1".
CONFIGS = ["1", "N"]

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

T_START = time.monotonic()


def log(msg):
    el = time.monotonic() - T_START
    sys.stderr.write("[%2d:%02d] %s\n" % (el // 60, el % 60, msg))
    sys.stderr.flush()


def sh(cmd, env=None, cwd=ROOT, timeout=None):
    """Run a command; (returncode, stdout, stderr). Never raises on failure."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except FileNotFoundError as e:
        return 127, "", str(e)
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after %s s" % timeout


def tail(text, lines=3, width=300):
    t = [ln for ln in (text or "").strip().splitlines() if ln.strip()][-lines:]
    return " | ".join(t)[-width:]


def fmt_params(params):
    return " ".join("%s=%s" % (k, "{:,}".format(v) if isinstance(v, int) else v)
                    for k, v in params.items())


def fmt_secs(s):
    if s is None:
        return "-"
    if s >= 100:
        return "%.0f" % s
    if s >= 1:
        return "%.2f" % s
    if s >= 0.01:
        return "%.3f" % s
    return "%.5f" % s


def dpkg_version(pkg):
    rc, out, _ = sh(["dpkg-query", "-W", "-f=${db:Status-Abbrev} ${Version}", pkg])
    if rc != 0 or not out.startswith("ii"):
        return None
    return out.split()[-1]


def pip_version(dist):
    try:
        from importlib import metadata
        return metadata.version(dist)
    except Exception:
        return None


# ---------------------------------------------------------------------------
# Systems: how each is built/installed, and its command line
# ---------------------------------------------------------------------------

# swerl-bench is Swerl's own benchmark program (Benchmarks/SwerlBench); its
# --protocol mode is the system swerl-swift.
SWERL_BENCH_SRC = os.path.join(ROOT, "Benchmarks", "SwerlBench")
SWERL_BENCH = os.path.join(ROOT, ".build-bench", "release", "swerl-bench")
C_BENCH = os.path.join(HERE, "c", "build", "swerl_c_bench")
ESCRIPT = os.path.join(HERE, "peers", "erlang", "bench.escript")
EXS = os.path.join(HERE, "peers", "elixir", "bench.exs")
CAF_DIR = os.path.join(HERE, "peers", "caf")
CAF_BENCH = os.path.join(CAF_DIR, "build", "caf_bench")
PY_DIR = os.path.join(HERE, "python")
SWERL_PY_SRC = os.path.join(ROOT, "bindings", "python", "src")
SWERL_LIB = os.environ.get("SWERL_LIBRARY") or os.path.join(ROOT, "build", "lib", "libswerl.so.1")


class Prep:
    """What the preparation found: per system None (ready) or why not."""

    def __init__(self, args):
        self.args = args
        self.unavailable = {}  # system -> why
        self.apt_updated = False
        self.notes = []

    def skip(self, system, why):
        self.unavailable[system] = why
        line = "skipped: %s: %s" % (system, why)
        self.notes.append(line)
        log(line)

    def apt_install(self, pkgs):
        if self.args.no_install:
            return False, "not installed (--no-install): apt-get install -y " + " ".join(pkgs)
        if shutil.which("apt-get") is None:
            return False, "no apt-get on this machine"
        log("installing: apt-get install -y %s" % " ".join(pkgs))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        rc, out, err = sh(["apt-get", "install", "-y"] + pkgs, env=env, timeout=1200)
        if rc != 0 and not self.apt_updated:
            self.apt_updated = True
            log("apt-get install failed; apt-get update and retry")
            sh(["apt-get", "update"], env=env, timeout=600)
            rc, out, err = sh(["apt-get", "install", "-y"] + pkgs, env=env, timeout=1200)
        if rc != 0:
            return False, "apt-get install -y %s failed: %s" % (" ".join(pkgs), tail(err, 2, 200))
        return True, None

    def pip_install(self, pkgs):
        if self.args.no_install:
            return False, "not installed (--no-install): pip install " + " ".join(pkgs)
        log("installing: pip install %s" % " ".join(pkgs))
        rc, out, err = sh([sys.executable, "-m", "pip", "install", "-q"] + pkgs, timeout=900)
        if rc == 0:
            return True, None
        pip_why = "pip install %s failed: %s" % (" ".join(pkgs), tail(err, 2, 200))
        if sys.prefix == "/usr":
            # Debian's own Python has no pip, or refuses it (PEP 668): its
            # packages come from apt (python3-pykka, python3-matplotlib).
            ok, apt_why = self.apt_install(["python3-" + p.lower() for p in pkgs])
            if ok:
                return True, None
            return False, "%s; %s" % (pip_why, apt_why)
        return False, pip_why


def prepare(systems, args):
    """Build and install what the selected systems need. Returns Prep."""
    prep = Prep(args)
    want = set(systems)

    if "swerl-swift" in want:
        if not os.path.isdir(SWERL_BENCH_SRC):
            prep.skip("swerl-swift", "Benchmarks/SwerlBench is missing")
        elif args.no_build:
            if not os.path.exists(SWERL_BENCH):
                prep.skip("swerl-swift", "%s missing (--no-build)" % os.path.relpath(SWERL_BENCH, ROOT))
        elif shutil.which("swift") is None:
            prep.skip("swerl-swift", "no swift toolchain on PATH")
        else:
            log("building: swift build -c release --product swerl-bench --scratch-path .build-bench")
            rc, out, err = sh(["swift", "build", "-c", "release", "--product", "swerl-bench",
                               "--scratch-path", ".build-bench"], timeout=3600)
            if rc != 0:
                prep.skip("swerl-swift", "swift build failed: " + tail(out + "\n" + err, 3, 300))

    if "swerl-c" in want:
        if args.no_build:
            if not os.path.exists(C_BENCH):
                prep.skip("swerl-c", "Comparison/c/build/swerl_c_bench missing (--no-build)")
        elif not os.path.exists(os.path.join(ROOT, "build", "stage", "lib", "pkgconfig", "swerl.pc")) \
                and "PKG_CONFIG_PATH" not in os.environ:
            prep.skip("swerl-c", "build/stage/lib/pkgconfig/swerl.pc missing (build the library first)")
        else:
            log("building: make -C Comparison/c")
            rc, out, err = sh(["make", "-C", os.path.join(HERE, "c")], timeout=600)
            if rc != 0:
                prep.skip("swerl-c", "make -C Comparison/c failed: " + tail(err, 3, 300))

    if "erlang" in want or "elixir" in want:
        if shutil.which("escript") is None:
            ok, why = prep.apt_install(["erlang-base"])
            if not ok or shutil.which("escript") is None:
                for s in ("erlang", "elixir"):
                    if s in want:
                        prep.skip(s, why or "erlang-base installed but no escript on PATH")
        if "erlang" in want and "erlang" not in prep.unavailable and not os.path.exists(ESCRIPT):
            prep.skip("erlang", "Comparison/peers/erlang/bench.escript is missing")
    if "elixir" in want and "elixir" not in prep.unavailable:
        if shutil.which("elixir") is None:
            ok, why = prep.apt_install(["elixir"])
            if not ok or shutil.which("elixir") is None:
                prep.skip("elixir", why or "elixir installed but not on PATH")
        if "elixir" not in prep.unavailable and not os.path.exists(EXS):
            prep.skip("elixir", "Comparison/peers/elixir/bench.exs is missing")

    if "caf" in want:
        if dpkg_version("libcaf-dev") is None:
            ok, why = prep.apt_install(["libcaf-dev"])
            if not ok:
                prep.skip("caf", why)
        if "caf" not in prep.unavailable:
            if not os.path.exists(os.path.join(CAF_DIR, "Makefile")):
                if not os.path.exists(CAF_BENCH):
                    prep.skip("caf", "Comparison/peers/caf is missing (no Makefile, no build/caf_bench)")
            elif not args.no_build:
                log("building: make -C Comparison/peers/caf")
                rc, out, err = sh(["make", "-C", CAF_DIR], timeout=1800)
                if rc != 0:
                    prep.skip("caf", "make -C Comparison/peers/caf failed: " + tail(err, 3, 300))
            elif not os.path.exists(CAF_BENCH):
                prep.skip("caf", "Comparison/peers/caf/build/caf_bench missing (--no-build)")

    if "swerl-python" in want and not os.path.exists(SWERL_LIB):
        prep.skip("swerl-python", "%s missing (build the library first)" % SWERL_LIB)
    if "pykka" in want and pip_version("pykka") is None:
        ok, why = prep.pip_install(["pykka"])
        if not ok:
            prep.skip("pykka", why)
    return prep


def command(system, config, bench, params, warmup, runs):
    """(argv, extra env) for one run of `system` at scheduler config `config`."""
    kv = ["%s=%s" % (k, v) for k, v in params.items()]
    sched = [] if config == "-" else ["schedulers=%d" % (1 if config == "1" else 0)]
    tailargs = ["warmup=%d" % warmup, "runs=%d" % runs]
    env = {}
    if system == "swerl-swift":
        argv = [SWERL_BENCH, "--protocol", bench] + kv + sched + tailargs
    elif system == "swerl-c":
        argv = [C_BENCH, bench] + kv + sched + tailargs
    elif system == "erlang":
        # escript starts erl; ERL_FLAGS reaches it (the +S 1:1 of one scheduler).
        if config == "1":
            env["ERL_FLAGS"] = "+S 1:1"
        argv = ["escript", ESCRIPT, bench] + kv + sched + tailargs
    elif system == "elixir":
        # +P: room for fib's and spawn's processes, as the Erlang escript has.
        flags = "+P 4194304" + (" +S 1:1" if config == "1" else "")
        argv = ["elixir", "--erl", flags, EXS, bench] + kv + sched + tailargs
    elif system == "caf":
        # CAF's own default is max(4, CPUs) workers; "N" means one per CPU here.
        if config == "N":
            sched = ["schedulers=%d" % (os.cpu_count() or 1)]
        argv = [CAF_BENCH, bench] + kv + sched + tailargs
    elif system == "swerl-python":
        env["PYTHONPATH"] = SWERL_PY_SRC
        env["SWERL_LIBRARY"] = SWERL_LIB
        argv = [sys.executable, os.path.join(PY_DIR, "swerl_py_bench.py"), bench] + kv + sched + tailargs
    elif system in ("pykka", "asyncio"):
        argv = [sys.executable, os.path.join(PY_DIR, "%s_bench.py" % system), bench] + kv + tailargs
    else:
        raise ValueError(system)
    return argv, env


def program_path(system):
    return {"swerl-swift": SWERL_BENCH, "swerl-c": C_BENCH, "erlang": ESCRIPT, "elixir": EXS,
            "caf": CAF_BENCH, "swerl-python": os.path.join(PY_DIR, "swerl_py_bench.py"),
            "pykka": os.path.join(PY_DIR, "pykka_bench.py"),
            "asyncio": os.path.join(PY_DIR, "asyncio_bench.py")}[system]


def configs_of(system):
    return ["-"] if system in ("pykka", "asyncio") else CONFIGS


def label(system, config):
    return system if config == "-" else "%s/%s" % (system, config)


def reference_config(config):
    return "1" if config == "-" else config


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------

def versions():
    v = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.+)", f.read())
            v["cpu"] = m.group(1).strip() if m else None
    except OSError:
        pass
    v["cpus"] = os.cpu_count()
    rc, out, err = sh(["swift", "--version"])
    v["swift"] = (out or err).strip().splitlines()[0] if rc == 0 and (out or err).strip() else None
    rc, out, _ = sh(["erl", "-noshell", "-eval",
                     'io:format("~s ~s", [erlang:system_info(otp_release), '
                     'erlang:system_info(version)]), halt().'], timeout=60)
    if rc == 0 and out.strip():
        otp, erts = out.split()
        v["otp_release"], v["erts"] = otp, erts
    v["erlang-base (dpkg)"] = dpkg_version("erlang-base")
    rc, out, _ = sh(["elixir", "--version"], timeout=60)
    m = re.search(r"Elixir (\S+)", out or "") if rc == 0 else None
    v["elixir"] = m.group(1) if m else None
    v["libcaf-dev (dpkg)"] = dpkg_version("libcaf-dev")
    v["pykka"] = pip_version("pykka")
    v["matplotlib"] = pip_version("matplotlib")
    env = dict(os.environ, PYTHONPATH=SWERL_PY_SRC, SWERL_LIBRARY=SWERL_LIB)
    rc, out, _ = sh([sys.executable, "-c", "import swerl; print(swerl.version())"], env=env, timeout=60)
    v["libswerl"] = out.strip() if rc == 0 else None
    rc, out, _ = sh(["git", "rev-parse", "--short", "HEAD"])
    v["git"] = out.strip() if rc == 0 else None
    rc, out, _ = sh(["git", "status", "--porcelain", "--untracked-files=no"])
    v["git_dirty"] = bool(out.strip()) if rc == 0 else None
    return v


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def parse_result(stdout):
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            try:
                return json.loads(line[len("RESULT "):])
            except ValueError as e:
                return {"_bad": "unparsable RESULT line (%s): %s" % (e, line[:200])}
    return None


def run_one(job, args, prep):
    """Run one program once (W warm-ups + R runs inside). Fills job in place."""
    system, config = job["system"], job["config"]
    argv, env_extra = command(system, config, job["bench"], job["params"], args.warmup, args.runs)
    job["command"] = " ".join(["%s=%s" % (k, shlex.quote(v)) for k, v in env_extra.items()]
                              + [shlex.quote(a) for a in argv])
    if job.get("not_run"):
        job["status"] = "skipped"
        job["why"] = job["not_run"]
        return
    if system in prep.unavailable:
        job["status"] = "missing"
        job["why"] = prep.unavailable[system]
        return
    if not os.path.exists(program_path(system)):
        job["status"] = "missing"
        job["why"] = "%s does not exist" % os.path.relpath(program_path(system), ROOT)
        return
    env = dict(os.environ, **env_extra)
    env["BENCH_WAIT_S"] = str(args.timeout)
    t0 = time.monotonic()
    try:
        # Its own process group, so that a timeout ends whatever it started.
        p = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as e:
        job["status"] = "failed"
        job["why"] = str(e)
        return
    try:
        out, err = p.communicate(timeout=args.timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = p.communicate()
        job["elapsed_s"] = round(time.monotonic() - t0, 3)
        job["status"] = "failed"
        job["why"] = "timeout after %d s" % args.timeout
        job["stderr_tail"] = tail(err, 5, 1000)
        return
    job["elapsed_s"] = round(time.monotonic() - t0, 3)
    job["exit_code"] = rc
    job["stderr_tail"] = tail(err, 5, 1000)
    res = parse_result(out)
    if rc != 0:
        job["status"] = "failed"
        job["why"] = tail(err, 2, 200) or "exit code %d" % rc
        return
    if res is None:
        job["status"] = "failed"
        job["why"] = "no RESULT line on stdout" + ((": " + tail(err, 1, 150)) if err.strip() else "")
        return
    if "_bad" in res:
        job["status"] = "failed"
        job["why"] = res["_bad"]
        return
    job["result"] = res
    if "skipped" in res:
        job["status"] = "skipped"
        job["why"] = str(res["skipped"])
        return
    runs = res.get("runs") or []
    if not runs or not all(isinstance(x, (int, float)) for x in runs):
        job["status"] = "failed"
        job["why"] = "RESULT without runs"
        return
    job["status"] = "ok"
    job["median"] = statistics.median(runs)
    job["min"] = min(runs)
    job["max"] = max(runs)
    job["schedulers_used"] = res.get("schedulers")
    got = res.get("params") or {}
    diff = {k: (v, got.get(k)) for k, v in job["params"].items() if k in got and got.get(k) != v}
    if diff:
        job["params_mismatch"] = {k: {"asked": a, "reported": b} for k, (a, b) in diff.items()}


def make_jobs(benches, systems, quick):
    """The rows and, per row, the jobs in run order."""
    rows = []
    for bench in benches:
        native = [s for s in systems if s in NATIVE_SYSTEMS and bench in SUPPORTS.get(s, {bench})]
        if native:
            for full, small in SIZES[bench]:
                rows.append({"bench": bench, "group": "native", "params": dict(small if quick else full),
                             "systems": native})
        py = [s for s in systems if s in PYTHON_SYSTEMS and bench in SUPPORTS.get(s, {bench})]
        if py and bench in PY_SIZES:
            ref = [REFERENCE] if REFERENCE in systems else []
            for full, small in PY_SIZES[bench]:
                rows.append({"bench": bench, "group": "python", "params": dict(small if quick else full),
                             "systems": ref + py})
    jobs = []
    for ri, row in enumerate(rows):
        # Within a row: the one-scheduler configs of every system, then the
        # default ones, systems in the same order each time.
        for config in ["1", "N", "-"]:
            for system in row["systems"]:
                if config in configs_of(system):
                    job = {"row": ri, "bench": row["bench"], "group": row["group"],
                           "params": row["params"], "system": system, "config": config,
                           "label": label(system, config)}
                    why = NOT_RUN.get((system, config, row["bench"]))
                    if why and not quick:
                        job["not_run"] = why
                    jobs.append(job)
    return rows, jobs


def compute_ratios(rows, jobs):
    """ratio_vs_beam = BEAM's median / the system's median, same row, the
    reference config. Python rows also get ratio_vs_pykka."""
    by = {(j["row"], j["system"], j["config"]): j for j in jobs}
    for j in jobs:
        if j.get("status") != "ok":
            continue
        ref = by.get((j["row"], REFERENCE, reference_config(j["config"])))
        if ref is not None and ref.get("status") == "ok" and j["median"] > 0:
            j["ratio_vs_beam"] = ref["median"] / j["median"]
        if j["group"] == "python":
            pk = by.get((j["row"], "pykka", "-"))
            if pk is not None and pk.get("status") == "ok" and j["median"] > 0:
                j["ratio_vs_pykka"] = pk["median"] / j["median"]


def geomeans(jobs):
    """Per system/config: geometric mean of ratio_vs_beam over the Savina
    benchmarks (native rows), with how many of the eight it covers."""
    acc = {}
    for j in jobs:
        if j["group"] != "native" or j["bench"] not in SAVINA or "ratio_vs_beam" not in j:
            continue
        acc.setdefault(j["label"], []).append(math.log(j["ratio_vs_beam"]))
    return {lab: {"geomean": math.exp(sum(v) / len(v)), "benches": len(v), "of": len(SAVINA)}
            for lab, v in acc.items()}


def extra_note(job):
    ex = (job.get("result") or {}).get("extra") or {}
    parts = []
    if "bytes_per_process" in ex and isinstance(ex["bytes_per_process"], (int, float)):
        parts.append("%.0f B/proc" % ex["bytes_per_process"])
    if "bytes_per_process_runtime" in ex and isinstance(ex["bytes_per_process_runtime"], (int, float)):
        parts.append("rt %.0f B" % ex["bytes_per_process_runtime"])
    if "us_per_spawn" in ex and isinstance(ex["us_per_spawn"], (int, float)):
        parts.append("%.2f us/spawn" % ex["us_per_spawn"])
    if job.get("schedulers_used") is not None and job["config"] != "-":
        parts.append("S=%s" % job["schedulers_used"])
    if job.get("params_mismatch"):
        parts.append("PARAMS DIFFER: %s" % job["params_mismatch"])
    return ", ".join(parts)


def table(rows, jobs):
    """The terminal table: one line per (row, system/config)."""
    head = ["bench", "params", "system", "median s", "[min .. max]", "vs BEAM", "notes"]
    lines = []
    for ri, row in enumerate(rows):
        first = True
        for j in [j for j in jobs if j["row"] == ri]:
            b = "%s%s" % (row["bench"], " (py)" if row["group"] == "python" else "") if first else ""
            p = fmt_params(row["params"]) if first else ""
            first = False
            st = j.get("status")
            if st == "ok":
                med = fmt_secs(j["median"])
                rng = "[%s .. %s]" % (fmt_secs(j["min"]), fmt_secs(j["max"]))
                r = "%.2f" % j["ratio_vs_beam"] if "ratio_vs_beam" in j else "-"
                note = extra_note(j)
                if "ratio_vs_pykka" in j and j["system"] in ("swerl-python", "asyncio"):
                    note = ("%.2fx Pykka" % j["ratio_vs_pykka"]) + (", " + note if note else "")
            else:
                med, rng, r = (st or "not run"), "", ""
                why = j.get("why", "")
                note = (why[:90] + "...") if len(why) > 93 else why
            lines.append([b, p, j["label"], med, rng, r, note])
    widths = [max(len(str(x[i])) for x in lines + [head]) for i in range(len(head) - 1)]
    out = []

    def fmt(cells):
        return "  ".join(str(c).ljust(widths[i]) if i < len(widths) else str(c)
                         for i, c in enumerate(cells)).rstrip()
    out.append(fmt(head))
    out.append("  ".join("-" * w for w in widths) + "  -----")
    prev_bench = None
    for ln in lines:
        if ln[0] and prev_bench is not None:
            out.append("")
        if ln[0]:
            prev_bench = ln[0]
        out.append(fmt(ln))
    return "\n".join(out)


def chart(rows, jobs, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:  # pragma: no cover - reported, not fatal
        return "no chart: matplotlib unavailable (%s)" % e
    groups = []  # (xlabel, {label: ratio})
    for ri, row in enumerate(rows):
        vals = {j["label"]: j["ratio_vs_beam"] for j in jobs
                if j["row"] == ri and "ratio_vs_beam" in j and j["system"] != REFERENCE}
        if vals:
            name = row["bench"] + (" (py)" if row["group"] == "python" else "")
            extra = ""
            if len(SIZES.get(row["bench"], [])) > 1 and row["group"] == "native":
                extra = "\n" + fmt_params({k: v for k, v in row["params"].items() if k != "n"})
            groups.append((name + extra, vals))
    if not groups:
        return "no chart: no ratio to draw"
    labels = []
    for _, vals in groups:
        for lab in vals:
            if lab not in labels:
                labels.append(lab)
    order = {s: i for i, s in enumerate(NATIVE_SYSTEMS + PYTHON_SYSTEMS)}
    labels.sort(key=lambda lab: (order.get(lab.split("/")[0], 99), lab))
    cmap = plt.get_cmap("tab20")
    sys_index = {s: i for i, s in enumerate(NATIVE_SYSTEMS + PYTHON_SYSTEMS)}

    def colour(lab):
        sysname, _, cfg = lab.partition("/")
        return cmap((2 * sys_index.get(sysname, 9) + (1 if cfg == "N" else 0)) % 20)

    most = max(len(vals) for _, vals in groups)
    width = 0.8 / most
    fig, ax = plt.subplots(figsize=(max(9, 0.25 * sum(len(v) for _, v in groups) + 4.5), 5.5))
    seen = set()
    for gi, (_, vals) in enumerate(groups):
        present = [lab for lab in labels if lab in vals]
        for k, lab in enumerate(present):
            x = gi + (k - (len(present) - 1) / 2) * width
            ax.bar([x], [vals[lab]], width=width, color=colour(lab),
                   label=None if lab in seen else lab,
                   hatch="//" if lab.endswith("/N") else None, edgecolor="black", linewidth=0.3)
            seen.add(lab)
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=1)
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, 0.5), max(hi, 2.0))
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g for g, _ in groups], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("BEAM time / system time (log; > 1: faster than BEAM)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Benchmarks: %s\nSystems: %s\nMethod: Comparison/COMPARE.md" % (
                                     ", ".join(DEFAULT_BENCHES), ", ".join(NATIVE_SYSTEMS + PYTHON_SYSTEMS)))
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, warmup=1 runs=3, Savina + spawn only (a smoke test)")
    ap.add_argument("--only", help="comma-separated benchmarks (default: all)")
    ap.add_argument("--systems", help="comma-separated systems (default: all)")
    ap.add_argument("--configs", default="1,N", help="scheduler configs to run: 1, N or 1,N (default)")
    ap.add_argument("--warmup", type=int, help="warm-up iterations per program (default 2; quick 1)")
    ap.add_argument("--runs", type=int, help="measured iterations per program (default 7; quick 3)")
    ap.add_argument("--timeout", type=int, help="seconds per program run (default 600; quick 30)")
    ap.add_argument("--set", action="append", default=[], metavar="BENCH:KEY=VALUE",
                    help="override a size for this run (every row of BENCH), e.g. pingpong:n=2000000")
    ap.add_argument("--no-install", action="store_true", help="never apt-get/pip install a missing peer")
    ap.add_argument("--no-build", action="store_true", help="build nothing; use the binaries present")
    ap.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    ap.add_argument("--out", default=RESULTS, help="results folder (default Comparison/results)")
    ap.add_argument("--list", action="store_true", help="print the jobs that would run and exit")
    args = ap.parse_args(argv)
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.runs is None:
        args.runs = 3 if args.quick else 7
    if args.timeout is None:
        args.timeout = 30 if args.quick else 600
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    global CONFIGS
    CONFIGS = [c.strip() for c in args.configs.split(",") if c.strip() in ("1", "N")]
    if not CONFIGS:
        sys.exit("--configs: expected 1, N or 1,N")
    all_systems = NATIVE_SYSTEMS + PYTHON_SYSTEMS
    benches = QUICK_BENCHES if args.quick else DEFAULT_BENCHES
    if args.only:
        benches = [b.strip() for b in args.only.split(",") if b.strip()]
        bad = [b for b in benches if b not in SIZES]
        if bad:
            sys.exit("unknown benchmark(s): %s (known: %s)" % (", ".join(bad), ", ".join(SIZES)))
    systems = all_systems
    if args.systems:
        systems = [s.strip() for s in args.systems.split(",") if s.strip()]
        bad = [s for s in systems if s not in all_systems]
        if bad:
            sys.exit("unknown system(s): %s (known: %s)" % (", ".join(bad), ", ".join(all_systems)))
    for s in args.set:
        m = re.match(r"^([a-z_]+):([a-z_]+)=(\d+)$", s)
        if not m or m.group(1) not in SIZES:
            sys.exit("--set %s: expected BENCH:KEY=INTEGER with a known BENCH" % s)
        b, k, v = m.group(1), m.group(2), int(m.group(3))
        for table_ in (SIZES, PY_SIZES):
            if b in table_:
                table_[b] = [(dict(f, **{k: v}), dict(q, **{k: v})) for f, q in table_[b]]

    rows, jobs = make_jobs(benches, systems, args.quick)
    if args.list:
        for j in jobs:
            argv_, env = command(j["system"], j["config"], j["bench"], j["params"], args.warmup, args.runs)
            print(" ".join(["%s=%s" % (k, shlex.quote(v)) for k, v in env.items()] + [shlex.quote(a) for a in argv_]))
        return 0

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log("compare.py %s: %d benchmark rows, %d program runs, warmup=%d runs=%d, timeout %d s" % (
        "quick" if args.quick else "full", len(rows), len(jobs), args.warmup, args.runs, args.timeout))
    prep = prepare(sorted({j["system"] for j in jobs}), args)
    if not args.no_chart:
        try:
            import matplotlib  # noqa: F401  (only: is it there)
        except ImportError:
            ok, why = prep.pip_install(["matplotlib"])
            if not ok:
                prep.notes.append("skipped: chart: %s" % why)
                log("skipped: chart: %s" % why)
    vers = versions()
    log("versions: " + ", ".join("%s %s" % (k, v) for k, v in vers.items() if v is not None))

    for i, j in enumerate(jobs, 1):
        log("%d/%d %s %s: %s ..." % (i, len(jobs), j["bench"] + (" (py)" if j["group"] == "python" else ""),
                                     fmt_params(j["params"]), j["label"]))
        run_one(j, args, prep)
        if j["status"] == "ok":
            log("    %s s median [%s .. %s] (program %.1f s)" % (
                fmt_secs(j["median"]), fmt_secs(j["min"]), fmt_secs(j["max"]), j.get("elapsed_s", 0)))
        else:
            log("    %s: %s" % (j["status"], j.get("why", "")))

    compute_ratios(rows, jobs)
    gm = geomeans(jobs)
    py_pykka = {"%s %s" % (j["bench"], fmt_params(j["params"])): {"system": j["label"], "ratio_vs_pykka": j["ratio_vs_pykka"]}
                for j in jobs if j["system"] == "swerl-python" and "ratio_vs_pykka" in j}

    print()
    for n in prep.notes:
        print(n)
    if prep.notes:
        print()
    print(table(rows, jobs))
    print()
    print("vs BEAM = BEAM's median time / the system's median time in this run, same scheduler config "
          "(> 1: faster than BEAM); Pykka and asyncio are compared with BEAM +S 1:1.")
    if gm:
        print("Geometric mean of vs BEAM over the Savina benchmarks (%s):" % ", ".join(SAVINA))
        for lab in sorted(gm, key=lambda x: -gm[x]["geomean"]):
            g = gm[lab]
            print("  %-16s %6.2f  (%d of %d benchmarks)" % (lab, g["geomean"], g["benches"], g["of"]))
    rpk = [j for j in jobs if j["system"] == "swerl-python" and "ratio_vs_pykka" in j]
    if rpk:
        print("Swerl through Python vs Pykka (Pykka's time / Swerl's):")
        for j in rpk:
            print("  %-9s %-12s %-16s %.2fx" % (j["bench"], fmt_params(j["params"]), j["label"], j["ratio_vs_pykka"]))
    pp = [j for j in jobs if j["group"] == "python" and j["bench"] == "pingpong" and j.get("status") == "ok"]
    if pp:
        print("Ping-pong in the Python row, microseconds per round trip: " + ", ".join(
            "%s %.2f" % (j["label"], j["median"] / j["params"]["n"] * 1e6) for j in pp))

    os.makedirs(args.out, exist_ok=True)
    doc = {
        "timestamp": stamp,
        "mode": "quick" if args.quick else "full",
        "settings": {"warmup": args.warmup, "runs": args.runs, "timeout_s": args.timeout,
                     "configs": CONFIGS, "benches": benches, "systems": systems,
                     "argv": sys.argv},
        "versions": vers,
        "skipped": prep.notes,
        "sizes": {"native": {b: [r[1 if args.quick else 0] for r in SIZES[b]] for b in benches},
                  "python": {b: [r[1 if args.quick else 0] for r in PY_SIZES[b]] for b in benches if b in PY_SIZES}},
        "rows": rows,
        "results": jobs,
        "geomean_vs_beam_savina": gm,
        "swerl_python_vs_pykka": py_pykka,
        "elapsed_s": round(time.monotonic() - T_START, 1),
    }
    path = os.path.join(args.out, "%s.json" % stamp)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    shutil.copyfile(path, os.path.join(args.out, "latest.json"))
    print("\nwrote %s (and latest.json)" % os.path.relpath(path, ROOT))
    if not args.no_chart:
        png = os.path.join(args.out, "%s.png" % stamp)
        why = chart(rows, jobs, png, "Swerl and peers vs BEAM (%s, %s, warmup=%d runs=%d)" % (
            stamp, "quick" if args.quick else "full", args.warmup, args.runs))
        if why:
            print(why)
        else:
            shutil.copyfile(png, os.path.join(args.out, "latest.png"))
            print("wrote %s (and latest.png)" % os.path.relpath(png, ROOT))
    log("done in %.0f s" % (time.monotonic() - T_START))
    return 0


if __name__ == "__main__":
    sys.exit(main())
