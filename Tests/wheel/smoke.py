"""Run by check.sh in a fresh venv where only the wheel is installed: the
library is the wheel's, libuv the copy auditwheel put beside it, and
processes, calls, supervisors and a loop-driven runtime work."""

import asyncio
import os
import sys

import swerl

site = os.path.dirname(os.path.dirname(swerl.__file__))
library = swerl._ffi.lib._name
assert library.startswith(site), "the library is not the wheel's: %s" % library
maps = open("/proc/self/maps").read()
libuv = sorted({line.split()[-1] for line in maps.splitlines() if "libuv" in line})
assert libuv and all("swerl.libs" in path for path in libuv), "libuv is not the wheel's: %s" % libuv


def echo(msg, ctx):
    if msg.kind == swerl.Kind.CALL:
        return b"echo:" + msg.data


with swerl.Runtime(schedulers=2) as rt:
    pid = rt.spawn(echo, name="echo")
    assert rt.call("echo", b"hi", timeout=10) == b"echo:hi"
    sup = rt.start_supervisor(swerl.SupervisorSpec(children=[swerl.ChildSpec("echo2", echo)]))
    child = sup.which_children()[0].pid
    assert rt.call(child, b"sup", timeout=10) == b"echo:sup"


async def on_loop():
    class Slow(swerl.Process):
        async def handle(self, msg, ctx):
            if msg.kind == swerl.Kind.CALL:
                await asyncio.sleep(0.01)
                return msg.data

    with swerl.Runtime(loop=asyncio.get_running_loop()) as rt:
        assert await rt.call_async(rt.spawn(Slow), b"loop") == b"loop"


asyncio.run(on_loop())
print("wheel ok: swerl %s from %s (Python %s), libuv %s" % (
    swerl.version(), library, sys.version.split()[0], os.path.basename(libuv[0])))
