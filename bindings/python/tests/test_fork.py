"""fork() with swerl loaded: a child process starts a runtime of its own
(multiprocessing's default start method on Linux, pre-forking servers).
Before 1.2 the forking thread carried its parent's thread id into the Swift
runtime's locks, and the child could hang at random."""

import os
import time

import swerl


class Echo(swerl.Process):
    def handle(self, msg, ctx):
        return msg.data


def child_main():
    with swerl.Runtime(schedulers=2) as rt:
        pids = [rt.spawn(Echo) for _ in range(50)]
        for i, pid in enumerate(pids):
            if rt.call(pid, b"%d" % i, timeout=10) != b"%d" % i:
                return 1
    return 0


def wait_child(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError(f"forked child {pid} did not finish in {timeout} s")


def test_forked_children_start_runtimes_of_their_own(rt):
    # The parent has a runtime running while it forks; each child uses only
    # its own.
    assert rt.call(rt.spawn(Echo), b"parent", timeout=10) == b"parent"
    for _ in range(20):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = child_main()
            finally:
                os._exit(code)
        assert wait_child(pid, 60) == 0
    assert rt.call(rt.spawn(Echo), b"still", timeout=10) == b"still"
