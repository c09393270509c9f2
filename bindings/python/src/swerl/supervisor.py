"""Supervisors declared with dataclasses over swerl_supervisor_* (swerl.h).

    import swerl
    from swerl import ChildSpec, SupervisorSpec

    spec = SupervisorSpec(strategy="one_for_one", intensity=3, period=5.0, children=[
        ChildSpec("cache", Cache),                       # a Process class
        ChildSpec("conn", lambda: Conn("db"), restart="transient"),
        ChildSpec("pool", SupervisorSpec([...], strategy="one_for_all")),
    ])
    sup = rt.start_supervisor(spec, name="top")
    sup.which_children(); sup.tree("dot")

A Python worker child is a fresh process object at every (re)start: the C
child's ``arg`` is the key of its factory (a class, a no-argument callable,
or a wrapper of a handle(msg, ctx) function) in the runtime's registry, and
the child's init (the runtime's ``_child_behavior``) calls the factory to
build the object, which then lives in the registry like any spawned
process's. A blocking child (``ChildSpec(blocking=True)``, or ``blocking =
True`` on its class) makes itself blocking in that init
(swerl_set_blocking). The supervisor owns the keys once
``swerl_supervisor_start`` (or ``start_child``/``spawn_child``) returned 0
and releases them with ``arg_free``; on an error this module releases them
itself. Of a Runtime this module uses the public methods and the internal
interface its docstring lists.
"""

import ctypes
import functools
import inspect
import json
from ctypes import byref, c_size_t
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Union

from . import _ffi
from ._ffi import lib
from .arguments import name as _name, pid as _pid
from .errors import ChildNotFound, InvalidArgument, NoProcess, NotSupervisor, check
from .message import Pid
from .native import NativeProcess
from .process import FunctionProcess

if TYPE_CHECKING:  # for annotations only: swerl.runtime imports this module
    from .runtime import Runtime

__all__ = ["ChildSpec", "SupervisorSpec", "Supervisor", "ChildInfo"]

_STRATEGIES = {"one_for_one": 0, "one_for_all": 1, "rest_for_one": 2, "simple_one_for_one": 3}
_RESTARTS = {"permanent": 0, "transient": 1, "temporary": 2}
_AUTO_SHUTDOWN = {"never": 0, "any_significant": 1, "all_significant": 2}
_STATES = {0: "running", 1: "restarting", 2: "undefined"}
_RESTART_NAMES = {v: k for k, v in _RESTARTS.items()}
_WORKER, _SUPERVISOR = 0, 1


def _choice(table: Dict[str, int], value: Any, what: str) -> int:
    if isinstance(value, str) and value in table:
        return table[value]
    raise InvalidArgument("%s must be one of %s, not %r" % (what, ", ".join(sorted(table)), value))


def _shutdown_ms(shutdown: Any) -> int:
    if shutdown == "brutal_kill":
        return 0  # SWERL_BRUTAL_KILL
    if shutdown is None:
        return _ffi.SWERL_INFINITY
    if isinstance(shutdown, bool) or not isinstance(shutdown, (int, float)):
        raise TypeError("shutdown is seconds, \"brutal_kill\" or None (infinity), not %r"
                        % (shutdown,))
    if shutdown <= 0:
        raise InvalidArgument("shutdown must be > 0 seconds (or \"brutal_kill\"): %r" % (shutdown,))
    ms = max(1, int(round(shutdown * 1000)))
    if ms >= _ffi.SWERL_INFINITY:
        raise InvalidArgument("shutdown is too long: %r s (use None for infinity)" % (shutdown,))
    return ms


@dataclass
class ChildSpec:
    """One child: ``start`` is a Process class, a no-argument factory
    returning a process object (or a handle(msg, ctx) function), a function
    handle(msg, ctx) itself, a :class:`swerl.NativeProcess` (a behaviour
    written in C), or a nested :class:`SupervisorSpec`. ``shutdown`` is
    seconds, ``"brutal_kill"`` or None (infinity). ``blocking``: the child
    runs on the blocking pool, where it may block (None: the process
    object's ``blocking`` attribute)."""

    id: str
    start: Any
    restart: str = "permanent"
    shutdown: Union[float, str, None] = 5.0
    significant: bool = False
    blocking: Optional[bool] = None

    @property
    def is_supervisor(self) -> bool:
        return isinstance(self.start, SupervisorSpec)


@dataclass
class SupervisorSpec:
    """A supervisor: its children (ChildSpec or dicts of ChildSpec keyword
    arguments), strategy, at most ``intensity`` restarts in ``period`` s."""

    children: Sequence[Any] = field(default_factory=list)
    strategy: str = "one_for_one"
    intensity: int = 1
    period: float = 5.0
    auto_shutdown: str = "never"


class ChildInfo(NamedTuple):
    """A record of which_children (a tuple: id, pid, state, is_supervisor, restarts)."""

    id: str
    pid: Optional[int]
    state: str  # "running", "restarting", "undefined"
    is_supervisor: bool
    restarts: int


def _child(c: Any) -> ChildSpec:
    if isinstance(c, ChildSpec):
        return c
    if isinstance(c, dict):
        return ChildSpec(**c)
    raise TypeError("a child is a swerl.ChildSpec (or a dict of its fields), not %r" % (c,))


def _required_arguments(fn: Any) -> Optional[int]:
    """How many arguments `fn` needs (-1: a keyword-only one; None: unknown)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    needed = [p for p in parameters if p.default is p.empty
              and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if any(p.kind is p.KEYWORD_ONLY for p in needed):
        return -1
    return len(needed)


def _factory(start: Any) -> Callable[[], Any]:
    """ChildSpec.start as what every (re)start calls with no arguments to
    build a fresh process object: a class or a factory as is, a function
    handle(msg, ctx) wrapped (it is the process itself)."""
    required = _required_arguments(start)
    if not required:
        factory: Callable[[], Any] = start  # callable: the caller checked
        return factory
    if required == 2 and not isinstance(start, type):
        return functools.partial(FunctionProcess, start)
    raise TypeError(
        "ChildSpec.start %r needs arguments, but each (re)start calls it with none to build a "
        "fresh process: pass a Process class whose __init__ needs no arguments, a no-argument "
        "factory (lambda: Worker(arg)), a function handle(msg, ctx), a swerl.NativeProcess or "
        "a swerl.SupervisorSpec" % (start,))


class _Builder:
    """C structures of a spec tree, alive as long as this object; `keys` are
    the factory keys it registered (to release if C does not take them)."""

    def __init__(self, rt: "Runtime") -> None:
        self.rt = rt
        self.keep: List[Any] = []
        self.keys: List[int] = []

    def factory_key(self, factory: Callable[[], Any], blocking: Optional[bool]) -> int:
        key = self.rt._registry.register_factory(factory, blocking)
        self.keys.append(key)
        return key

    def release(self) -> None:
        for k in self.keys:
            self.rt._registry.release(k)
        self.keys = []

    def child(self, c: Any, out: _ffi.SwerlChildSpec, template: bool = False) -> None:
        """Fill `out` from `c`. A simple_one_for_one `template`'s start is
        kept as given: spawn_child may call it with arguments."""
        c = _child(c)
        lib.swerl_child_spec_init(byref(out))
        if not isinstance(c.id, str):
            raise TypeError("a child id is a str, not %r" % (c.id,))
        cid = c.id.encode("utf-8")
        if not 0 < len(cid) <= _ffi.SWERL_NAME_MAX or b"\0" in cid:
            raise InvalidArgument("a child id is 1..%d bytes without NUL: %r"
                                  % (_ffi.SWERL_NAME_MAX, c.id))
        self.keep.append(cid)
        out.id = cid
        out.restart = _choice(_RESTARTS, c.restart, "restart")
        out.shutdown_ms = _shutdown_ms(c.shutdown)
        out.significant = 1 if c.significant else 0
        if c.blocking is not None and not isinstance(c.blocking, bool):
            raise TypeError("ChildSpec.blocking is True, False or None, not %r" % (c.blocking,))
        if isinstance(c.start, NativeProcess):
            if c.blocking:
                raise InvalidArgument("ChildSpec(blocking=True) with a NativeProcess: a C child "
                                      "makes itself blocking in its init (swerl_set_blocking)")
            out.type = _WORKER
            out.behavior = c.start.behavior
            out.arg = c.start.arg
            self.rt._registry.keep(c.start)  # its arg may be needed at any restart
        elif isinstance(c.start, SupervisorSpec):
            out.type = _SUPERVISOR
            out.supervisor = ctypes.pointer(self.spec(c.start))
        elif callable(c.start):
            out.type = _WORKER
            out.behavior = ctypes.pointer(self.rt._child_behavior)
            out.arg = self.factory_key(c.start if template else _factory(c.start), c.blocking)
            out.arg_free = self.rt._c_arg_free
        else:
            raise TypeError("ChildSpec.start is a Process class, a factory or a SupervisorSpec, "
                            "not %r (a process object could not be rebuilt at a restart)"
                            % (c.start,))

    def spec(self, s: SupervisorSpec) -> _ffi.SwerlSupervisorSpec:
        if not isinstance(s, SupervisorSpec):
            raise TypeError("expected a swerl.SupervisorSpec, not %r" % (s,))
        out = _ffi.SwerlSupervisorSpec()
        lib.swerl_supervisor_spec_init(byref(out))
        out.strategy = _choice(_STRATEGIES, s.strategy, "strategy")
        out.auto_shutdown = _choice(_AUTO_SHUTDOWN, s.auto_shutdown, "auto_shutdown")
        if isinstance(s.intensity, bool) or not isinstance(s.intensity, int) or not (
                0 <= s.intensity < 1 << 32):
            raise InvalidArgument("intensity is an int >= 0, not %r" % (s.intensity,))
        out.intensity = s.intensity
        if s.period is None or _shutdown_ms(s.period) == _ffi.SWERL_INFINITY:
            raise InvalidArgument("period is a number of seconds > 0, not %r" % (s.period,))
        out.period_ms = _shutdown_ms(s.period)
        children = list(s.children)
        arr = (_ffi.SwerlChildSpec * max(1, len(children)))()
        for i, c in enumerate(children):
            self.child(c, arr[i], template=out.strategy == _STRATEGIES["simple_one_for_one"])
        self.keep.extend([arr, out])
        out.children = ctypes.cast(arr, ctypes.POINTER(_ffi.SwerlChildSpec))
        out.n_children = len(children)
        return out


class Supervisor:
    """A running supervisor (from Runtime.start_supervisor). Every method is
    a synchronous call to it: use them outside process callbacks."""

    def __init__(self, rt: "Runtime", pid: int, spec: SupervisorSpec, name: Optional[str]) -> None:
        self.runtime = rt
        self.pid = Pid(pid)
        self.spec = spec
        self.name = name

    def __repr__(self) -> str:
        return "<swerl.Supervisor %r %s%s>" % (self.pid, self.spec.strategy,
                                              " %r" % self.name if self.name else "")

    def _pid_or_none(self, v: int) -> Optional[int]:
        return Pid(v) if v else None

    def start_child(self, spec: Any) -> Optional[int]:
        """Add and start a child; its pid, or None if its init returned IGNORE."""
        b = _Builder(self.runtime)
        cs = _ffi.SwerlChildSpec()
        try:
            b.child(spec, cs)
            out = _ffi.swerl_pid()
            rc = lib.swerl_supervisor_start_child(self.runtime._p(), self.pid, byref(cs), byref(out))
        except BaseException:
            b.release()
            raise
        if rc < 0:
            b.release()  # on any error the supervisor took nothing
            check(rc, "start_child")
        return self._pid_or_none(out.value)

    def spawn_child(self, *args: Any, **kwargs: Any) -> Optional[int]:
        """simple_one_for_one: start a child from the template. With
        arguments, its process object is ``template.start(*args, **kwargs)``
        (kept alive by the supervisor until that child is gone for good);
        without, the template's factory is called alone."""
        arg = 0
        rt = self.runtime
        if args or kwargs:
            children = list(self.spec.children)
            tmpl = _child(children[0]) if len(children) == 1 else None
            if tmpl is None or tmpl.is_supervisor or not callable(tmpl.start):
                raise InvalidArgument("spawn_child arguments need a simple_one_for_one "
                                      "supervisor whose template starts a Python worker")
            arg = rt._registry.register_factory(functools.partial(tmpl.start, *args, **kwargs),
                                                tmpl.blocking)
        out = _ffi.swerl_pid()
        try:
            rc = lib.swerl_supervisor_spawn_child(rt._p(), self.pid, arg or None, byref(out))
        except BaseException:
            rt._registry.release(arg)
            raise
        if rc < 0:
            rt._registry.release(arg)
            check(rc, "spawn_child")
        return self._pid_or_none(out.value)

    def terminate_child(self, id_or_pid: Union[str, int]) -> None:
        """Stop a child by id (its spec is kept) or, on simple_one_for_one, by pid."""
        if isinstance(id_or_pid, str):
            check(lib.swerl_supervisor_terminate_child(self.runtime._p(), self.pid,
                                                       id_or_pid.encode("utf-8")), "terminate_child")
        else:
            check(lib.swerl_supervisor_terminate_pid(self.runtime._p(), self.pid, _pid(id_or_pid)),
                  "terminate_child")

    def restart_child(self, id: str) -> Optional[int]:
        """Start a kept, not running child; its pid (None: init returned IGNORE)."""
        out = _ffi.swerl_pid()
        check(lib.swerl_supervisor_restart_child(self.runtime._p(), self.pid, _id(id), byref(out)),
              "restart_child")
        return self._pid_or_none(out.value)

    def delete_child(self, id: str) -> None:
        """Forget the spec of a child that is not running."""
        check(lib.swerl_supervisor_delete_child(self.runtime._p(), self.pid, _id(id)),
              "delete_child")

    def count_children(self) -> Dict[str, int]:
        """{"specs", "active", "supervisors", "workers"} (OTP's count_children)."""
        c = _ffi.SwerlChildCounts()
        c.size = ctypes.sizeof(c)
        check(lib.swerl_supervisor_count_children(self.runtime._p(), self.pid, byref(c)),
              "count_children")
        return {"specs": c.specs, "active": c.active, "supervisors": c.supervisors,
                "workers": c.workers}

    def which_children(self) -> List[ChildInfo]:
        """(id, pid or None, state, is_supervisor, restarts) per child, in start order."""
        count = c_size_t()
        cap = 16
        while True:
            buf = (_ffi.SwerlChildInfo * cap)()
            buf[0].size = ctypes.sizeof(_ffi.SwerlChildInfo)
            check(lib.swerl_supervisor_which_children(self.runtime._p(), self.pid, buf, cap,
                                                      byref(count)), "which_children")
            if count.value <= cap:
                break
            cap = count.value + 16
        return [ChildInfo(r.id.decode("utf-8", "replace"), self._pid_or_none(r.pid),
                          _STATES.get(r.state, str(r.state)), r.type == _SUPERVISOR, r.restarts)
                for r in buf[: count.value]]

    def tree(self, format: str = "json") -> str:
        """The supervision tree under this supervisor as JSON or DOT text."""
        fmt = _choice({"json": _ffi.SWERL_TREE_JSON, "dot": _ffi.SWERL_TREE_DOT}, format, "format")
        buf = _ffi.SwerlBuffer()
        check(lib.swerl_supervisor_tree(self.runtime._p(), self.pid, fmt, byref(buf)), "tree")
        try:
            raw = ctypes.string_at(buf.data, buf.len) if buf.len else b""
        finally:
            lib.swerl_buffer_free(byref(buf))
        return raw.rstrip(b"\0").decode("utf-8", "replace")

    def tree_dict(self) -> Any:
        """The JSON tree, parsed."""
        return json.loads(self.tree("json"))

    def is_alive(self) -> bool:
        return self.runtime.process_info(self.pid) is not None

    def child_supervisor(self, id: str) -> "Supervisor":
        """The running nested supervisor `id` (a child whose ``start`` is a
        SupervisorSpec), to manage its own children."""
        for c in self.which_children():
            if c.id != id:
                continue
            if not c.is_supervisor:
                raise NotSupervisor("child_supervisor: %r is a worker" % (id,))
            if c.pid is None:
                raise NoProcess("child_supervisor: %r is not running (%s)" % (id, c.state))
            spec = next((x.start for x in map(_child, self.spec.children) if x.id == id), None)
            return Supervisor(self.runtime, c.pid, spec if spec is not None else SupervisorSpec(), None)
        raise ChildNotFound("child_supervisor: no child %r" % (id,))


def _id(id: Any) -> bytes:
    if not isinstance(id, str):
        raise TypeError("a child id is a str, not %r" % (id,))
    return id.encode("utf-8")


def start_supervisor(rt: "Runtime", spec: SupervisorSpec, name: Optional[str] = None) -> Supervisor:
    """Runtime.start_supervisor: start `spec`'s supervisor and children."""
    b = _Builder(rt)
    try:
        cspec = b.spec(spec)
        opts = _ffi.SwerlSpawnOpts()
        lib.swerl_spawn_opts_init(byref(opts))
        if name is not None:
            opts.name = _name(name)
        out = _ffi.swerl_pid()
        rc = lib.swerl_supervisor_start(rt._p(), byref(cspec), byref(opts), byref(out))
    except BaseException:
        b.release()
        raise
    if rc < 0:
        b.release()  # on any error the supervisor took nothing
        check(rc, "start_supervisor")
    return Supervisor(rt, out.value, spec, name)
