"""Shared by the package's tests: a runtime per test, bounded waits."""

import queue
import time

import pytest

import swerl

TIMEOUT = 10  # seconds any single wait may take before the test fails


def get(q):
    """The next item of `q`, or a failure after TIMEOUT s (never a hang)."""
    try:
        return q.get(timeout=TIMEOUT)
    except queue.Empty:
        raise AssertionError("nothing arrived within %ss" % TIMEOUT) from None


def wait_until(fn, what="condition"):
    """Poll fn() until it is truthy (its value), or fail after TIMEOUT s."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("%s not reached within %ss" % (what, TIMEOUT))
        time.sleep(0.005)


@pytest.fixture
def rt():
    r = swerl.Runtime(schedulers=2)
    try:
        yield r
    finally:
        r.close()
    assert not r.callback_errors, "\n".join(r.callback_errors)
