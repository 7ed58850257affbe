"""Python's ``os.environ`` and the C library's ``environ`` array, written as one step each.

Private or platform-specific on both sides: ``os._Environ`` keeps encoded keys and values in
``._data`` (replaced whole, so readers see the old mapping or the new one), and the C environment
is written by publishing a new ``environ`` array that is never freed (what getenv() in native
threads reads; setenv would move the array under them). See docs/ARCHITECTURE.md, "Threads and
the C environment", for what each libc does.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import sys
import threading
from collections.abc import Mapping
from typing import TypeGuard

from .. import forks

CHECKED_ON = {
    "python": "3.10-3.13 (os.environ._data, os._Environ)",
    "C library": "glibc 2.36 (environ, setenv.c); musl 1.2.x (environ, putenv.c); macOS Libc "
                 "(_NSGetEnviron, getenv.c's environ_lock_np): see docs/ARCHITECTURE.md",
}


# -- os.environ (CPython: os._Environ keeps encoded keys and values in ._data) ---------------------


def is_os_environ(environ: object) -> TypeGuard[os._Environ[str]]:
    """True for ``os.environ`` (or another ``os._Environ``), whose mapping can be swapped whole."""
    return isinstance(environ, os._Environ)


def environ_data(environ) -> dict:
    """The mapping behind ``os.environ`` (encoded bytes keys and values); one read, so a copy of it
    is one instant of the environment (``dict(os.environ)`` reads key by key)."""
    return environ._data


def swap_environ_data(environ, data: dict) -> None:
    """Replace the mapping behind ``os.environ`` in one assignment (readers see old or new).

    ``os.environb`` shares that mapping on POSIX (os.py builds it over ``environ._data``): it is
    pointed at the new one too, or ``os.environb`` / ``os.getenvb`` would keep the old values.
    """
    environ._data = data
    environb = getattr(os, "environb", None)
    if environ is os.environ and environb is not None:
        environb._data = data


# -- the C environment (what getenv() in native threads and child processes read) ---------------
# glibc's and musl's setenv() realloc the `environ` array when they add a name and free the old
# block while a native thread (the AWS C++ SDK in pyarrow, DuckDB's httpfs, polars' runtime) may be
# walking it in getenv(), which takes no lock: a segmentation fault. So the product never calls
# setenv(): it builds a new array (with its new strings, in one block) and stores the `environ`
# pointer once, and frees neither old arrays nor strings (docs/ARCHITECTURE.md, "Threads and the
# C environment", says why each C library is safe with it, and what it costs).

_POINTER = ctypes.sizeof(ctypes.c_void_p)


class CEnvironment:
    """The process's C environment, written by publishing a new array (never in place).

    ``cell`` is the ``char **environ`` variable itself (a ``c_void_p`` at its address);
    ``malloc`` and ``free`` the C library's. ``kept_bytes`` counts what was published and is never
    freed (arrays and "NAME=value" strings), ``published`` the arrays.
    """

    def __init__(self, cell: ctypes.c_void_p, malloc, free):
        self._cell = cell
        self._malloc = malloc
        self._free = free
        self._lock = threading.Lock()
        # The array this writer published last: address, length with the NULL, entries, names.
        self._last: tuple[int, int, list[int], list[bytes]] = (0, 0, [], [])
        self.kept_bytes = 0
        self.published = 0
        forks.renew_in_child(self)  # weakly: the tests' writers must not live on in fork handlers

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # a child forked while a writer held it must not wait forever

    def pointer(self) -> int:
        """The address of the array in force (tests watch it move)."""
        return self._cell.value or 0

    def entries(self, address: int | None = None) -> list[int]:
        """The addresses of the "NAME=value" strings of the array at ``address`` (the one in force)."""
        address = self.pointer() if address is None else address
        if not address:
            return []
        if address == self._last[0]:
            # Our own last array: its length is known, one slice reads it (up to the first NULL:
            # unsetenv() may have shifted entries down in place since).
            slots = (ctypes.c_void_p * self._last[1]).from_address(address)[:]
            return [slot for slot in slots[:slots.index(None)] if slot is not None]  # (for the type checker)
        array = ctypes.cast(address, ctypes.POINTER(ctypes.c_void_p))
        found: list[int] = []
        while (entry := array[len(found)]) is not None:
            found.append(entry)
        return found

    def publish(self, changes: Mapping[bytes, bytes | None]) -> None:
        """Set (value) or remove (None) each name, in one store of the ``environ`` pointer: a
        getenv() sees the array before or after, a child forked meanwhile inherits one whole."""
        for name, value in changes.items():
            _check(name, value)
        with self._lock:
            set_names = [name for name, value in changes.items() if value is not None]
            pieces = [name + b"=" + value + b"\0" for name, value in changes.items() if value is not None]
            data = b"".join(pieces)
            while True:
                old, current, names = self._snapshot()
                kept = [(entry, name) for entry, name in zip(current, names, strict=True) if name not in changes]
                count = len(kept) + len(pieces) + 1
                # One block: the array, then the new "NAME=value" strings (C libraries free only
                # strings they allocated themselves, so none needs a block of its own).
                block = self._allocate(count * _POINTER + len(data))
                base = block + count * _POINTER
                ctypes.memmove(base, data, len(data))
                offsets = itertools.accumulate(map(len, pieces), initial=0)
                entries = [entry for entry, _ in kept] + [base + offset for offset, _ in zip(offsets, pieces, strict=False)]
                (ctypes.c_void_p * count).from_address(block)[:] = [*entries, None]
                self._order_stores(block)
                # The GIL was released in the foreign calls: a Python thread may have called
                # os.putenv meanwhile. Then build again from what it left (this block was never
                # published, so it can be freed).
                if self.pointer() == old and self.entries(old) == current:
                    self._cell.value = block
                    self._last = (block, count, entries, [name for _, name in kept] + set_names)
                    break
                self._free(block)
            self.kept_bytes += count * _POINTER + len(data)
            self.published += 1

    def _snapshot(self) -> tuple[int, list[int], list[bytes]]:
        """The array in force: its address, its entries and their names. The names of our own
        last array are known; others' are read (one ctypes slice)."""
        old = self.pointer()
        current = self.entries(old)
        block, _count, entries, names = self._last
        if old == block and current == entries:
            return old, current, names
        texts = (ctypes.c_char_p * len(current)).from_address(old)[:] if current else []
        return old, current, [(text or b"").partition(b"=")[0] for text in texts]

    def _order_stores(self, block: int) -> None:
        """Make every store so far visible before the pointer store that follows, on weakly
        ordered CPUs (arm64) too: a foreign call, before which ctypes releases the GIL and after
        which it takes it back (a mutex unlock, a release, then a lock, an acquire). x86-64 keeps
        stores in order anyway. The pointer store itself is one aligned pointer-sized write
        (ctypes' c_void_p setter), which no reader can see half done."""
        ctypes.memmove(block, block, 0)

    def _allocate(self, size: int) -> int:
        address = self._malloc(size)
        if not address:
            raise MemoryError("no memory for the environment")
        return address


def _check(name: bytes, value: bytes | None) -> None:
    """Refuse what os.putenv refuses, before anything is written."""
    if not name or b"=" in name:
        raise ValueError("illegal environment variable name")
    if b"\0" in name or (value is not None and b"\0" in value):
        raise ValueError("embedded null byte")


def c_environment_of(library, platform: str) -> CEnvironment | None:
    """The writer for ``library`` (a ``ctypes.CDLL``) on ``platform`` (``sys.platform``), or None
    where there is no such mechanism (Windows: its C runtime locks the environment itself).

    Linux, glibc and musl alike, exports the ``environ`` variable; macOS exports it only to the
    main program, and libraries reach it through ``_NSGetEnviron()``, which returns its address.
    """
    if platform == "darwin":
        getter = library._NSGetEnviron
        getter.restype = ctypes.c_void_p
        getter.argtypes = []
        cell = ctypes.c_void_p.from_address(getter())
    elif platform.startswith("linux"):
        cell = ctypes.c_void_p.in_dll(library, "environ")
    else:
        return None
    malloc, free = library.malloc, library.free
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    return CEnvironment(cell, malloc, free)


_C_ENVIRONMENT: list[CEnvironment | None] = []  # [writer or None] once looked up
_LOOKUP_LOCK = threading.Lock()


def c_environment() -> CEnvironment | None:
    """This process's C environment writer (looked up once), or None where unavailable."""
    with _LOOKUP_LOCK:
        if not _C_ENVIRONMENT:
            try:
                # A CDLL of our own: restype/argtypes set on its functions touch no one else's.
                library = ctypes.CDLL(None) if sys.platform != "win32" else None
                _C_ENVIRONMENT.append(c_environment_of(library, sys.platform) if library is not None else None)
            except (OSError, AttributeError, ValueError):  # no such symbol here: the fallback
                _C_ENVIRONMENT.append(None)
        return _C_ENVIRONMENT[0]


def publish_c_environment(changes: Mapping[str, str | None] | Mapping[bytes, bytes | None]) -> bool:
    """Write ``changes`` (name: value, None removes) to the C environment in one step that frees
    nothing; False, having written nothing, where the mechanism is unavailable (the caller then
    uses os.putenv/os.unsetenv, as on Windows, whose C runtime locks the environment itself)."""
    writer = c_environment()
    if writer is None:
        return False
    if not changes:  # nothing to change: no array to publish (and keep)
        return True
    writer.publish({os.fsencode(name): None if value is None else os.fsencode(value)
                    for name, value in changes.items()})
    return True
