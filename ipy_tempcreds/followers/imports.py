"""Run a function right after a module is imported by anyone, without importing it ourselves.

Readers the product adapts (botocore sessions, polars, DuckDB) must follow from the moment the
user imports them: a client made in the same cell as ``import boto3`` and kept is the common case,
and a check before the next cell would come too late for it. Loading the extension must not import
any of them (it would cost ~300 ms for boto3 alone), so :func:`when_imported` registers a
meta-path finder that lets the normal finders locate the module and, once the module has run,
calls the function. A module imported already gets the function at once.

The finder answers only for the exact names registered and steps aside otherwise (one dict lookup
per import). The module keeps its own loader: the wrapper is removed from the module's spec once
it has run, so ``importlib.resources`` and reloads see what they would without us.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable

log = logging.getLogger("ipy_tempcreds")


class _AfterImport(importlib.abc.Loader):
    """Delegates to the real loader; after the module ran, calls the registered functions."""

    def __init__(self, loader, spec, callbacks: list[Callable]):
        self.loader = loader
        self.spec = spec
        self.callbacks = callbacks

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        # Give the module its real loader back before it runs: code inside it may look at it.
        self.spec.loader = self.loader
        module.__loader__ = self.loader
        self.loader.exec_module(module)
        for callback in self.callbacks:
            _call(callback, module)


class _Finder:
    def __init__(self):
        self.callbacks: dict[str, list[Callable]] = {}
        self._looking = threading.local()

    def find_spec(self, name, path=None, target=None):
        callbacks = self.callbacks.get(name)
        if not callbacks or getattr(self._looking, "name", None) == name:
            return None
        self._looking.name = name  # the lookup below asks every finder again, us included
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._looking.name = None
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _AfterImport(spec.loader, spec, list(callbacks))
        return spec


_finder = _Finder()
_lock = threading.Lock()


def when_imported(name: str, callback: Callable) -> None:
    """Call ``callback(module)`` now if ``name`` is imported, else right after it is imported.

    The callback runs inside the importer's ``import`` statement: it must be quick and must not
    raise (an exception is logged; the import still succeeds).
    """
    with _lock:
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
        callbacks = _finder.callbacks.setdefault(name, [])
        if callback not in callbacks:
            callbacks.append(callback)
    module = sys.modules.get(name)
    if module is not None:
        _call(callback, module)


def forget(name: str, callback: Callable) -> None:
    """Undo :func:`when_imported` (on unload); the finder leaves sys.meta_path with its last name."""
    with _lock:
        callbacks = _finder.callbacks.get(name, [])
        if callback in callbacks:
            callbacks.remove(callback)
        if not callbacks:
            _finder.callbacks.pop(name, None)
        if not _finder.callbacks and _finder in sys.meta_path:
            sys.meta_path.remove(_finder)


def _call(callback: Callable, module) -> None:
    try:
        callback(module)
    except Exception:  # a follower that cannot attach must not break the user's import
        log.warning("ipy_tempcreds: could not attach to %s", getattr(module, "__name__", "?"), exc_info=True)
