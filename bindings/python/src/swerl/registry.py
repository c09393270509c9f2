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

A process object sits in a slot of a list, and its key is the slot's
number: a live process costs the registry one pointer, not an int object
and a dict entry (about 80 bytes, a third of an idle process). A slot is
reused once its process is taken out: C never passes a key again after the
callback that takes it (a failed or ignoring init, terminate, a spawn that
returned an error), so a reused key cannot reach a process it did not
name. Factories keep a dict, with keys from 2**40 up, so a key still names
one thing.

Owned by one Runtime (``Runtime._registry``); cleared once
swerl_runtime_free has returned. Any thread may call any method: a slot is
drawn by one ``list.pop`` of the free slots, atomic under the GIL, and the
list grows under a lock.
"""

import itertools
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = ["ProcessRegistry", "Factory"]

#: a supervised Python worker's factory and its ChildSpec.blocking
Factory = Tuple[Callable[[], Any], Optional[bool]]


#: slots added at a time when none is free: the lock is taken once per this many spawns
_GROWTH = 1024
#: the first factory key: above any slot number a runtime can reach
_FIRST_FACTORY_KEY = 1 << 40


class ProcessRegistry:
    """A runtime's process objects, child factories and native behaviours."""

    __slots__ = ("_slots", "_free", "_growing", "_keys", "_factories", "_natives", "objects")

    def __init__(self) -> None:
        self._slots: List[Any] = [None]  # slot number -> process object; 0 is C's NULL, never a key
        self._free: List[int] = []  # the slots nobody holds, drawn from the end
        self._growing = threading.Lock()
        self._keys = itertools.count(_FIRST_FACTORY_KEY)
        self._factories: Dict[int, Factory] = {}  # key -> (factory, blocking)
        self._natives: Dict[int, object] = {}  # id -> NativeProcess
        #: The process objects by key, read-only: ``objects[key]`` looks one
        #: up (None for a free slot). A subscript, not a method: it is on
        #: every message's path, where a method call added ~1% to a
        #: ping-pong round trip.
        self.objects: Sequence[Any] = self._slots

    def __repr__(self) -> str:
        return "<swerl.ProcessRegistry processes=%d factories=%d natives=%d>" % (
            self.process_count(), len(self._factories), len(self._natives))

    # -- process objects -------------------------------------------------------

    def register(self, proc: Any) -> int:
        """Hold `proc`; returns its key (never 0)."""
        while True:
            try:
                key = self._free.pop()
            except IndexError:
                key = self._grow()
            try:
                self._slots[key] = proc
                return key
            except IndexError:  # cleared meanwhile (a spawn racing the runtime's close): draw again
                continue

    def _grow(self) -> int:
        """A slot when none was free: _GROWTH more, under the lock (another
        thread may have added them meanwhile)."""
        with self._growing:
            free = self._free
            if not free:
                first = len(self._slots)
                self._slots.extend([None] * _GROWTH)
                free.extend(range(first + _GROWTH - 1, first - 1, -1))
            return free.pop()

    def take(self, key: int) -> Any:
        """Remove and return the process object of `key` (None if none).
        A key is taken once: by its process's last callback, or by the
        spawn that failed."""
        slots = self._slots
        if not 0 < key < len(slots):
            return None
        proc = slots[key]
        if proc is None:
            return None
        slots[key] = None
        self._free.append(key)
        return proc

    def process_count(self) -> int:
        return len(self._slots) - 1 - len(self._free)

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
        with self._growing:
            del self._slots[1:]
            self._free.clear()
        self._factories.clear()
        self._natives.clear()
