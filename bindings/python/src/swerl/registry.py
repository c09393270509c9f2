"""The Python objects a runtime's C side may call, by the key C carries.

C holds a ``void *`` per process (the ``arg`` its init gets, then the
``state`` every callback gets) and per supervised child (the child spec's
``arg``, passed to every restart's init and finally to ``arg_free``). For a
Python process that ``void *`` is a key into this registry, never a
pointer to a Python object: nothing C holds can outlive what it names.

* a process object is registered when its process is spawned (or its
  supervised child is built), looked up on every callback, and taken out
  when its init fails or ignores, or by terminate;
* a supervised child's factory (what builds a fresh process object at each
  restart) is registered when its spec is handed to C, and released by
  ``arg_free`` or, if C did not take it, by whoever registered it;
* a NativeProcess (a behaviour written in C, whose ``arg`` C may pass to an
  init at any restart) is kept until the runtime is freed.

Owned by one Runtime (``Runtime._registry``); cleared once
swerl_runtime_free has returned. Any thread may call any method: each
one's dict operation and key draw are atomic under the GIL. Keys are never
reused.
"""

import itertools
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

__all__ = ["ProcessRegistry", "Factory"]

#: a supervised Python worker's factory and its ChildSpec.blocking
Factory = Tuple[Callable[[], Any], Optional[bool]]


class ProcessRegistry:
    """A runtime's process objects, child factories and native behaviours."""

    __slots__ = ("_keys", "_procs", "_factories", "_natives", "objects")

    def __init__(self) -> None:
        self._keys = itertools.count(1)  # one sequence for both tables: a key names one thing
        self._procs: Dict[int, Any] = {}  # key -> process object
        self._factories: Dict[int, Factory] = {}  # key -> (factory, blocking)
        self._natives: Dict[int, object] = {}  # id -> NativeProcess
        #: The process objects by key, read-only: ``objects[key]`` looks one
        #: up (KeyError if none). A subscript, not a method: it is on every
        #: message's path, where a method call added ~1% to a ping-pong round trip.
        self.objects: Mapping[int, Any] = self._procs

    def __repr__(self) -> str:
        return "<swerl.ProcessRegistry processes=%d factories=%d natives=%d>" % (
            len(self._procs), len(self._factories), len(self._natives))

    # -- process objects -------------------------------------------------------

    def register(self, proc: Any) -> int:
        """Hold `proc`; returns its key (never 0)."""
        key = next(self._keys)
        self._procs[key] = proc
        return key

    def take(self, key: int) -> Any:
        """Remove and return the process object of `key` (None if none)."""
        return self._procs.pop(key, None)

    def process_count(self) -> int:
        return len(self._procs)

    # -- supervised children's factories ---------------------------------------

    def register_factory(self, factory: Callable[[], Any], blocking: Optional[bool]) -> int:
        """Hold a child's factory and its blocking choice; returns its key."""
        key = next(self._keys)
        self._factories[key] = (factory, blocking)
        return key

    def factory(self, key: int) -> Factory:
        """(factory, blocking) of `key` (KeyError if released)."""
        return self._factories[key]

    def release(self, key: int) -> None:
        """Forget the factory of `key` (nothing if it is not held)."""
        self._factories.pop(key, None)

    def factory_count(self) -> int:
        return len(self._factories)

    # -- native behaviours -------------------------------------------------------

    def keep(self, native: object) -> None:
        """Hold `native` (a NativeProcess) until clear(): C may use its arg at any restart."""
        self._natives[id(native)] = native

    # -- the end -----------------------------------------------------------------

    def clear(self) -> None:
        """Drop everything (after swerl_runtime_free: nothing can call back now)."""
        self._procs.clear()
        self._factories.clear()
        self._natives.clear()
