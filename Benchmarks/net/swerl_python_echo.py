"""Swerl (Python) echo server for the echo benchmark: gen_tcp's shape in
Python processes. An acceptor owns the listener and hands each connection
to a process of its own, which echoes with active-once flow control.

    python3 swerl_python_echo.py PORT [SCHEDULERS]   (PORT 0: any; prints "listening PORT")

Runs against the installed swerl package, or the repository's staged
library (SWERL_LIBRARY, which run.py sets).
"""

import queue
import signal
import sys
import threading

import swerl


class Connection(swerl.Process):
    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.SOCKET_DATA:
            ctx.socket_send(msg.ref, msg.data)
            ctx.activate(msg.ref)
        elif msg.kind == swerl.Kind.MESSAGE:           # the acceptor's "the socket is yours"
            ctx.activate(int(msg.data))
        elif msg.kind == swerl.Kind.SOCKET_CLOSED:
            return swerl.STOP


class Acceptor(swerl.Process):
    def __init__(self, address, listeners):
        self.address = address
        self.listeners = listeners

    def init(self, ctx):
        self.listeners.put(ctx.listen(self.address, active=1 << 30, backlog=1024))

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.SOCKET_ACCEPTED:
            pid = ctx.spawn(Connection())
            ctx.set_socket_owner(msg.ref, pid)
            ctx.send(pid, b"%d" % msg.ref)


def main():
    port = sys.argv[1] if len(sys.argv) > 1 else "0"
    schedulers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    listeners = queue.Queue()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with swerl.Runtime(schedulers=schedulers) as rt:
        rt.spawn(Acceptor("127.0.0.1:" + port, listeners))
        local = rt.socket_info(listeners.get(timeout=10))["local"]
        print("listening", local.rsplit(":", 1)[1], flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
