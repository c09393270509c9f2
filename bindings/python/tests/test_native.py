"""swerl.NativeProcess: processes written in C, in a Python runtime.

The C behaviour (native_counter.c) is compiled here with the system's C
compiler against include/swerl.h and the library under test, exactly as a
user's extension would be.
"""

import ctypes
import os
import queue
import shutil
import subprocess
import sys

import pytest

import swerl
from swerl import ChildSpec, SupervisorSpec, _ffi, errors

from conftest import TIMEOUT, get, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.path.join(HERE, "..", "..", "..", "include")


@pytest.fixture(scope="module")
def native_lib(tmp_path_factory):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler (cc) to build the native test process")
    libpath = _ffi.lib._name
    out = str(tmp_path_factory.mktemp("native") / "libnative_counter.so")
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                    "-I", INCLUDE, "-o", out, os.path.join(HERE, "native_counter.c"),
                    libpath], check=True)
    return out


def count(rt, pid):
    return int(rt.call(pid, b"count", timeout=TIMEOUT))


def test_spawn_send_and_call(rt, native_lib):
    counter = swerl.NativeProcess.load(native_lib, "native_counter_behavior")
    pid = rt.spawn(counter)
    for _ in range(100):
        rt.send(pid, b"+")
    assert count(rt, pid) == 100


def test_arg_reaches_init(rt, native_lib):
    start = ctypes.c_int(41)
    counter = swerl.NativeProcess.load(native_lib, "native_counter_behavior",
                                       arg=ctypes.addressof(start), keep=start)
    pid = rt.spawn(counter)
    rt.send(pid, b"+")
    assert count(rt, pid) == 42


def test_python_process_talks_to_c_process(rt, native_lib):
    counter = rt.spawn(swerl.NativeProcess.load(native_lib, "native_counter_behavior"))
    answers = queue.Queue()

    class Client(swerl.Process):
        def init(self, ctx):
            for _ in range(10):
                ctx.send(counter, b"+")
            ctx.call_async(counter, b"count")  # after the sends: per-sender order

        def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.REPLY:
                answers.put((msg.reason, msg.data))

    rt.spawn(Client)
    assert get(answers) == (0, b"10")


def test_supervised_c_child_is_restarted(rt, native_lib):
    counter = swerl.NativeProcess.load(native_lib, "native_counter_behavior")
    sup = rt.start_supervisor(SupervisorSpec(children=[
        ChildSpec("counter", counter),
        ChildSpec("echo", lambda: (lambda msg, ctx: msg.data if msg.kind == swerl.Kind.CALL else None)),
    ], intensity=5, period=10))
    first = {c.id: c.pid for c in sup.which_children()}["counter"]
    rt.send(first, b"+")
    assert count(rt, first) == 1
    with pytest.raises(errors.ServerExited):
        rt.call(first, b"crash", timeout=TIMEOUT)
    now = wait_until(lambda: {c.id: c.pid for c in sup.which_children()}["counter"] not in (None, first)
                     and {c.id: c.pid for c in sup.which_children()}["counter"], "the C child's restart")
    assert count(rt, now) == 0  # a fresh incarnation
    assert sup.count_children()["active"] == 2


def test_bad_input(native_lib):
    with pytest.raises(ValueError, match="exports no"):
        swerl.NativeProcess.load(native_lib, "no_such_symbol")
    with pytest.raises(OSError):
        swerl.NativeProcess.load(native_lib + ".missing", "native_counter_behavior")
    with pytest.raises(ValueError):
        swerl.NativeProcess(0)
    with pytest.raises(TypeError):
        swerl.NativeProcess("not an address")
    zeros = ctypes.create_string_buffer(64)
    with pytest.raises(ValueError, match="not a swerl_behavior"):
        swerl.NativeProcess(ctypes.addressof(zeros))


def test_data_symbols_are_checked_not_called(native_lib):
    """Issue 11: load() given a data symbol called it as a function and
    killed the interpreter (so this runs in a child: a crash is a failure).
    Now a swerl_behavior variable is taken as is, anything else is a clear
    ValueError; so are addresses that are not behaviours."""
    code = r"""
import ctypes, swerl
from swerl import _ffi
lib = %r
with swerl.Runtime(schedulers=1) as rt:
    pid = rt.spawn(swerl.NativeProcess.load(lib, "native_counter_behavior_variable"))
    rt.send(pid, b"+")
    print("variable:", rt.call(pid, b"count", timeout=10).decode())
    fake = (ctypes.c_uint64 * 4)(ctypes.sizeof(_ffi.SwerlBehavior), 0, ctypes.addressof(rt._behavior), 0)
    for attempt in (lambda: swerl.NativeProcess.load(lib, "native_counter_not_a_behavior"),
                    lambda: swerl.NativeProcess(8),  # page 0: unmapped
                    lambda: swerl.NativeProcess(ctypes.addressof(fake))):  # a handle into data
        try:
            attempt()
        except ValueError as e:
            print("refused:", e)
""" % native_lib
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "the interpreter died (status %d): %s" % (p.returncode, p.stderr)
    lines = p.stdout.splitlines()
    assert lines[0] == "variable: 1", p.stdout
    assert lines[1].startswith("refused: native_counter_not_a_behavior"), p.stdout
    assert "not a swerl_behavior" in lines[1], p.stdout
    assert "not readable memory" in lines[2], p.stdout
    assert "handle" in lines[3] and "does not point to code" in lines[3], p.stdout
