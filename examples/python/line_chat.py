"""A line chat over TCP: a room, an acceptor, a process per connection.

    python3 line_chat.py            serve on 127.0.0.1, chat with three
                                    clients of its own (one of them crashes
                                    its session), and exit
    python3 line_chat.py PORT       serve until Ctrl-C (in two terminals:
                                    nc 127.0.0.1 PORT; your first line is
                                    your name)

The runtime frames the input (packet=swerl.Packet.LINE): a session gets one
whole line per message however TCP cut the bytes. The room monitors every
session, so a session that crashes (an exception in its handler) takes only
its own connection down, and the room tells the others it left.
"""

import queue
import socket
import sys
import threading

import swerl


class Room(swerl.Process):
    def init(self, ctx):
        self.members = {}                                  # pid -> name
        ctx.runtime.register("room", ctx.pid)

    def say(self, ctx, text, but=None):
        for pid in self.members:
            if pid != but:
                ctx.send(pid, b"say " + text)

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.DOWN:
            name = self.members.pop(msg.sender, None)
            if name:
                self.say(ctx, b"* %s left\n" % name)
            return
        verb, _, rest = msg.data.partition(b" ")
        if verb == b"join":
            self.members[msg.sender] = rest
            ctx.monitor(msg.sender)
            ctx.send(msg.sender, b"say * welcome, %s (%d here)\n" % (rest, len(self.members)))
            self.say(ctx, b"* %s joined\n" % rest, but=msg.sender)
        elif verb == b"post" and msg.sender in self.members:
            self.say(ctx, b"%s: %s\n" % (self.members[msg.sender], rest), but=msg.sender)


class Session(swerl.Process):
    socket = None
    named = False

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.MESSAGE:
            verb, _, rest = msg.data.partition(b" ")
            if verb == b"go":                              # from the acceptor: the socket is ours
                self.socket = int(rest)
                ctx.activate(self.socket)
            elif verb == b"say":
                ctx.socket_send(self.socket, rest)
        elif msg.kind == swerl.Kind.SOCKET_DATA:
            line = msg.data.rstrip(b"\r\n")
            if line == b"/crash":
                raise RuntimeError("asked to crash")
            ctx.send("room", (b"post " if self.named else b"join ") + line)
            self.named = True
            ctx.activate(self.socket)
        elif msg.kind == swerl.Kind.SOCKET_CLOSED:
            return swerl.STOP


class Acceptor(swerl.Process):
    def __init__(self, address, listeners):
        self.address = address
        self.listeners = listeners

    def init(self, ctx):
        self.listeners.put(ctx.listen(self.address, packet=swerl.Packet.LINE, max_frame=200,
                                      active=1_000_000))

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.SOCKET_ACCEPTED:
            pid = ctx.spawn(Session())
            ctx.set_socket_owner(msg.ref, pid)
            ctx.send(pid, b"go %d" % msg.ref)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s, s.makefile("rb")


def hear(client, who):
    line = client[1].readline()
    print("%s got: %s" % (who, line.decode().rstrip("\n")) if line else "%s: connection closed" % who)


def main():
    port = sys.argv[1] if len(sys.argv) > 1 else "0"
    listeners = queue.Queue()
    with swerl.Runtime() as rt:
        rt.spawn(Room())
        rt.spawn(Acceptor("127.0.0.1:" + port, listeners))
        local = rt.socket_info(listeners.get(timeout=10))["local"]
        if len(sys.argv) > 1:
            print("chat on %s: Ctrl-C stops it" % local, flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
            return 0
        port_number = int(local.rsplit(":", 1)[1])
        alice = connect(port_number)
        alice[0].sendall(b"alice\n")
        hear(alice, "alice")
        bob = connect(port_number)
        bob[0].sendall(b"bob\n")
        hear(bob, "bob")
        hear(alice, "alice")
        carol = connect(port_number)
        carol[0].sendall(b"carol\n")
        hear(carol, "carol")
        hear(alice, "alice")
        hear(bob, "bob")
        alice[0].sendall(b"hello, ")
        alice[0].sendall(b"everyone\n")                    # one line, in two pieces
        hear(bob, "bob")
        hear(carol, "carol")
        carol[0].sendall(b"/crash\n")                      # carol's session crashes
        hear(carol, "carol")
        hear(alice, "alice")
        hear(bob, "bob")
        bob[0].sendall(b"bye\n")
        hear(alice, "alice")
        for s, f in (alice, bob, carol):
            f.close()
            s.close()
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
