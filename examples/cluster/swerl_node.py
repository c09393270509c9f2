"""The Swerl node of the cluster example: one runtime, a node of the Elixir
cluster, with C and Python processes (run.sh starts it; see README.md).

    sup (one_for_one, a Swerl supervisor)
    `-- kv          the C key-value server (cluster_procs.c, a shared object):
                    GenServer.call({:kv, node}, {:put, k, v} | {:get, k})
    python          a Python process: talks with Elixir in terms (match
                    msg.term), watches an Elixir process (monitor_name),
                    starts a partner for each Elixir worker
    partner         Python processes an Elixir GenServer links to

Every line printed here (and by the C process) starts with "swerl  | ".
It stops once Elixir says "done" (a GenServer.call), or after TIMEOUT s;
it exits 1 if a step Elixir drove was not seen here.

Environment: SWERL_CLUSTER_PROCS (the .so), SWERL_CLUSTER_COOKIE,
ERL_EPMD_PORT, SWERL_CLUSTER_NODE (swerl@127.0.0.1), SWERL_CLUSTER_PEER
(elixir@127.0.0.1), SWERL_CLUSTER_READY (a file written once the node
and its processes are up).
"""

import logging
import os
import sys
import threading

import swerl
from swerl import ChildSpec, SupervisorSpec
from swerl.terms import Atom

TIMEOUT = 30.0  # the whole story; run.sh bounds it too
NODE = os.environ.get("SWERL_CLUSTER_NODE", "swerl@127.0.0.1")
PEER = os.environ.get("SWERL_CLUSTER_PEER", "elixir@127.0.0.1")

done = threading.Event()
seen = set()  # the steps this side saw


def say(text):
    """One write per line: the C process and the runtime's threads print too."""
    sys.stdout.write("swerl  | %s\n" % text)
    sys.stdout.flush()


class Partner(swerl.Process):
    """The Swerl end of a link from an Elixir GenServer: answers :ping with
    :pong, and raises on {:crash, why}, which kills the linked worker."""

    def handle(self, msg, ctx):
        match msg.term:
            case "ping" if msg.kind == swerl.Kind.CALL:
                ctx.reply_term(msg, Atom("pong"))
            case ("crash", bytes() as why):
                say("  [Python partner %r] told to crash: raise RuntimeError(%r)" % (ctx.pid, why.decode()))
                seen.add("partner crashed")
                raise RuntimeError(why.decode())


class Python(swerl.Process):
    """Registered as "python"."""

    def init(self, ctx):
        self.peer_up = False
        self.watching = {}  # monitor ref -> the name watched
        self.kv_starts = 0

    def handle(self, msg, ctx):
        if msg.kind == swerl.Kind.DOWN:
            name = self.watching.pop(msg.ref, "?")
            reason = swerl.Reason(msg.reason).name
            say("  [Python %r] DOWN of {%s, %s}: reason %s, detail %r"
                % (ctx.pid, name, PEER, reason, msg.data.decode(errors="replace")))
            seen.add("saw DOWN")
            ctx.send_term(("cluster", PEER), (Atom("saw_down"), Atom(name), Atom(reason.lower()), bytes(msg.data)))
            return
        if msg.kind == swerl.Kind.CALL:
            self.call(msg, ctx)
            return
        match msg.term:
            case ("nodeup", node):
                say("  [Python %r] nodeup %s" % (ctx.pid, node))
                self.peer_up = self.peer_up or node == PEER
            case ("nodedown", node):
                say("  [Python %r] nodedown %s" % (ctx.pid, node))
            case ("kv_started", swerl.Pid() as kv):
                self.kv_starts += 1
                if self.kv_starts > 1:
                    say("  [Python %r] the supervisor restarted the C kv: %r; telling {cluster, %s}"
                        % (ctx.pid, kv, PEER))
                    seen.add("kv restarted")
                if self.peer_up:
                    ctx.send_term(("cluster", PEER), (Atom("kv_up"), kv))
            case ("hello", swerl.Pid() as sender, bytes() as text):
                say("  [Python %r] got %s from %s (matched); answering {hello_back, ...}"
                    % (ctx.pid, ctx.runtime.format_term(msg.data), ctx.runtime.pid_node(sender)))
                seen.add("hello")
                ctx.send_term(sender, (Atom("hello_back"), ctx.pid,
                                       {"from": "Python", "primes": [2, 3, 5, 7], "pi": 3.14159}))
            case other:
                say("  [Python %r] ignored %r" % (ctx.pid, other))

    def call(self, msg, ctx):
        match msg.term:
            case b"node started":  # from main(), once this runtime is a node
                ctx.monitor_nodes()
                ctx.reply(msg, b"ok")
            case "new_partner":
                partner = ctx.spawn(Partner)
                say("  [Python %r] started a partner for the Elixir worker: %r" % (ctx.pid, partner))
                ctx.reply_term(msg, partner)
            case ("watch", Atom() as name):
                ref = ctx.monitor_name(name, PEER)
                self.watching[ref] = name
                say("  [Python %r] monitoring {%s, %s} (monitor_name)" % (ctx.pid, name, PEER))
                ctx.reply_term(msg, Atom("ok"))
            case "done":
                ctx.reply_term(msg, (Atom("ok"), sorted(seen)))
                done.set()
            case other:
                ctx.reply_term(msg, (Atom("error"), Atom("unknown_request")))
                say("  [Python %r] unknown call %r" % (ctx.pid, other))


def log_reports():
    """The runtime's reports (supervisor restarts, crash reports), one line each."""
    class Hook(logging.Handler):
        def emit(self, record):
            lines = record.getMessage().strip().splitlines()
            if not lines:
                return
            text = lines[0]
            if text.endswith("Traceback (most recent call last):"):  # a Python crash: its last line
                text = text[:-len("Traceback (most recent call last):")] + lines[-1].strip()
            say("  [report] %s" % text)

    logger = logging.getLogger("swerl")
    logger.addHandler(Hook())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main():
    kv = swerl.NativeProcess.load(os.environ["SWERL_CLUSTER_PROCS"], "cluster_kv_behavior")
    log_reports()
    with swerl.Runtime(schedulers=2) as rt:
        # The processes first, so everything Elixir may address exists once
        # EPMD knows the node.
        rt.spawn(Python, name="python")
        rt.start_supervisor(SupervisorSpec(strategy="one_for_one", intensity=3, period=5, children=[
            ChildSpec("kv", kv),
        ]), name="sup")
        rt.start_node(NODE, cookie=os.environ["SWERL_CLUSTER_COOKIE"],
                      epmd_port=int(os.environ["ERL_EPMD_PORT"]), listen_host="127.0.0.1")
        rt.call("python", b"node started", timeout=TIMEOUT)
        say("node %s up (Swerl %s): C kv %r under a Swerl supervisor, Python process %r"
            % (rt.node_name, swerl.version(), rt.whereis("kv"), rt.whereis("python")))
        ready = os.environ.get("SWERL_CLUSTER_READY")
        if ready:
            with open(ready, "w") as f:
                f.write("ready\n")
        if not done.wait(TIMEOUT):
            say("FAILED: Elixir did not say done within %.0f s" % TIMEOUT)
            return 1
    want = {"hello", "kv restarted", "saw DOWN", "partner crashed"}
    missing = want - seen
    if missing:
        say("FAILED: this side did not see: %s" % ", ".join(sorted(missing)))
        return 1
    say("done: saw %s; node stopped" % ", ".join(sorted(seen)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
