"""The observer page in a real browser: Debian's ``chromium``, headless,
against a runtime whose state the test made (a supervisor whose child
crashed once, a few named processes). The page's own script must fill in
the views from the JSON endpoints and the event stream; the test parses
the DOM chromium dumps (html.parser) and keeps its screenshot in
build/observer.png (or $SWERL_OBSERVER_SCREENSHOT).

Two chromium runs at once, each a subprocess with a timeout:
``--dump-dom`` and ``--screenshot``, both under ``--virtual-time-budget``
(the page closes its stream between samples when it finds its clock
standing still, so the budget runs out). The runtime's schedulers are
threads of their own: they answer the browser while this thread waits for
the subprocesses without the GIL.

``make deps`` installs chromium; run by hand without it, the test is
skipped, saying so.
"""

import html.parser
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import swerl
from swerl import ChildSpec, SupervisorSpec

from conftest import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SCREENSHOT = os.environ.get("SWERL_OBSERVER_SCREENSHOT") or os.path.join(REPO, "build", "observer.png")
VIRTUAL_BUDGET_MS = 8000  # page time: the page polls every 2 s, its stream samples every 1 s
BROWSER_TIMEOUT = 60  # seconds of real time either chromium run may take
NAMES = ["alpha", "beta", "gamma"]


class Worker(swerl.Process):
    def handle(self, msg, ctx):
        if msg.data == b"crash":
            raise RuntimeError("asked to crash")


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


# -- the rendered DOM ------------------------------------------------------------------


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def all_text(self):
        return "".join(self.text) + "".join(c.all_text() for c in self.children)

    def find_all(self, tag=None, cls=None, **attrs):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
                and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, id):
        found = self.find_all(id=id)
        assert found, "the page has no #%s" % id
        return found[0]


class DOM(html.parser.HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self._at = self.root
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self._at)
        self._at.children.append(node)
        if tag not in self.VOID:
            self._at = node

    def handle_startendtag(self, tag, attrs):
        self._at.children.append(Node(tag, attrs, self._at))

    def handle_endtag(self, tag):
        n = self._at
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self._at = n.parent

    def handle_data(self, data):
        self._at.text.append(data)


def run_chromium(extra, profile, log):
    """A headless chromium on the page, started now; (process, its options)."""
    args = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
            "--user-data-dir=" + profile, "--virtual-time-budget=%d" % VIRTUAL_BUDGET_MS] + extra
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)


def finish(proc, log, what):
    """Its stdout, once it exited 0 within BROWSER_TIMEOUT s (else the test fails, saying why)."""
    try:
        out, _ = proc.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("chromium %s did not finish within %s s" % (what, BROWSER_TIMEOUT)) from None
    if proc.returncode != 0:
        log.seek(0)
        raise AssertionError("chromium %s exited with %d: %s" % (
            what, proc.returncode, log.read().decode("utf-8", "replace")[-2000:]))
    return out


# Skipped only when run by hand without chromium: under `make test` (which
# sets SWERL_OBSERVER_SCREENSHOT) a missing browser is a failure, not a skip.
@pytest.mark.skipif(chromium() is None and not os.environ.get("SWERL_OBSERVER_SCREENSHOT"),
                    reason="chromium is not installed (make deps installs it; "
                    "apt-get install chromium), so the page is not checked in a browser here")
def test_the_page_shows_the_runtime_in_a_browser(rt):
    assert chromium() is not None, "make test checks the page in chromium: it is missing (make deps installs it)"
    sup = rt.start_supervisor(SupervisorSpec([ChildSpec("worker", Worker)], intensity=5), name="top")
    pids = {n: rt.spawn(Worker, name=n) for n in NAMES}
    before = len(rt.processes())
    url = rt.observe()
    old = sup.which_children()[0].pid
    rt.send(old, b"crash")  # after observe: the page's events are those since it started
    child = wait_until(lambda: (lambda p: p if p and p != old else None)(sup.which_children()[0].pid),
                       "the restart")

    os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
    if os.path.exists(SCREENSHOT):
        os.unlink(SCREENSHOT)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="swerl-chromium-") as tmp, \
            tempfile.TemporaryFile() as dump_log, tempfile.TemporaryFile() as shot_log:
        os.mkdir(os.path.join(tmp, "dump"))
        os.mkdir(os.path.join(tmp, "shot"))
        dump = run_chromium(["--dump-dom", url], os.path.join(tmp, "dump"), dump_log)
        try:
            shot = run_chromium(["--screenshot=" + SCREENSHOT, "--window-size=1400,1000", url],
                                os.path.join(tmp, "shot"), shot_log)
        except BaseException:
            dump.kill()
            dump.wait()
            raise
        try:
            text = finish(dump, dump_log, "--dump-dom").decode("utf-8")
        finally:
            finish(shot, shot_log, "--screenshot")
    elapsed = time.monotonic() - started
    print("observer page: %s (screenshot %s, chromium %.1f s)" % (url, SCREENSHOT, elapsed))

    dom = DOM(text).root
    with open(SCREENSHOT, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG"

    banner = dom.by_id("banner")
    assert "hidden" in banner.attrs, "the page shows an error: %s" % banner.all_text()

    # the process table lists the named processes, with their pids
    rows = dom.by_id("processes-table").find_all("tr", cls="process-row")
    assert rows, "no #processes-table tr.process-row"
    by_name = {r.attrs.get("data-name"): r.attrs.get("data-pid") for r in rows}
    for name, pid in pids.items():
        assert by_name.get(name) == str(pid), "#processes-table has no row data-name=%r data-pid=%r: %r" % (
            name, str(pid), by_name)
    assert by_name.get("top") == str(sup.pid)

    # the supervision tree shows the child, restarted once
    children = dom.by_id("supervisor-trees").find_all(cls="tree-child")
    worker = [c for c in children if c.attrs.get("data-id") == "worker"]
    assert worker, "#supervisor-trees has no .tree-child[data-id=worker]: %r" % [c.attrs for c in children]
    assert worker[0].attrs.get("data-restarts") == "1", worker[0].attrs
    assert worker[0].attrs.get("data-pid") == str(child), worker[0].attrs
    assert worker[0].attrs.get("data-state") == "running", worker[0].attrs

    # the events list has the child's termination
    kinds = [e.attrs.get("data-kind") for e in dom.by_id("events-list").find_all(cls="event")]
    assert "child_terminated" in kinds or "crash" in kinds, "#events-list .event[data-kind]: %r" % kinds

    # live data: the stream is connected, the overview's count, the schedulers, the chart
    assert dom.by_id("connection-status").all_text().strip() == "live"
    shown = dom.by_id("stat-processes").all_text().strip()
    assert shown.isdigit(), "#stat-processes says %r" % shown
    # the listener and at most max_connections (16) connections besides the test's processes
    assert before + 1 <= int(shown) <= before + 1 + 16, (shown, before)
    bars = dom.by_id("scheduler-bars").find_all(cls="scheduler-bar")
    assert len(bars) == 2, "#scheduler-bars .scheduler-bar: %d for 2 schedulers" % len(bars)
    restarts = dom.by_id("stat-restarts").all_text().strip()
    assert restarts == "1", "#stat-restarts says %r" % restarts
    points = dom.by_id("chart-utilization").attrs.get("data-points")
    assert points is not None and int(points) >= 1, "#chart-utilization data-points=%r" % points
    assert dom.by_id("overview")
