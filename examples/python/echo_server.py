"""A TCP echo server: one Python process per connection (gen_tcp's shape).

    python3 echo_server.py          serve on 127.0.0.1 (a port the system
                                    picks), echo for three clients of its
                                    own, and exit
    python3 echo_server.py PORT     serve on 127.0.0.1:PORT until Ctrl-C
                                    (try: nc 127.0.0.1 PORT)

The acceptor owns the listener; each connection comes as a SOCKET_ACCEPTED
message and is handed to a Connection process (ctx.set_socket_owner), which
asks for one message at a time (ctx.activate), so a slow connection is never
flooded: the socket stops reading and TCP pushes back.
"""

import queue
import socket
import sys
import threading

import swerl


class Connection(swerl.Process):
    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.MESSAGE:          # from the acceptor: the socket is ours
            ctx.activate(int(msg.data))
        elif msg.kind == swerl.Kind.SOCKET_DATA:
            ctx.socket_send(msg.ref, msg.data)
            ctx.activate(msg.ref)
        elif msg.kind == swerl.Kind.SOCKET_CLOSED:
            return swerl.STOP                       # the peer is done: so are we


class Acceptor(swerl.Process):
    def __init__(self, address, listeners):
        self.address = address
        self.listeners = listeners

    def init(self, ctx):
        self.listeners.put(ctx.listen(self.address, active=1_000_000))

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.SOCKET_ACCEPTED:
            pid = ctx.spawn(Connection())
            ctx.set_socket_owner(msg.ref, pid)
            ctx.send(pid, str(msg.ref).encode())


def client(port, line):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(line)
        back = b""
        while len(back) < len(line):
            chunk = s.recv(len(line) - len(back))
            if not chunk:
                break
            back += chunk
    print("sent %r, echoed %r" % (line.decode(), back.decode()))
    return back == line


def main():
    port = sys.argv[1] if len(sys.argv) > 1 else "0"
    listeners = queue.Queue()
    with swerl.Runtime() as rt:
        rt.spawn(Acceptor("127.0.0.1:" + port, listeners))
        local = rt.socket_info(listeners.get(timeout=10))["local"]
        if len(sys.argv) > 1:
            print("echo server on %s: Ctrl-C stops it" % local, flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
            return 0
        print("echo server on 127.0.0.1")
        port_number = int(local.rsplit(":", 1)[1])
        ok = all([client(port_number, b"hello"), client(port_number, b"one process per connection"),
                  client(port_number, b"bye")])
    print("done: every echo matched" if ok else "done: an echo did not match")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
