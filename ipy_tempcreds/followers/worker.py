"""Apply only the newest of the changes handed over, one at a time, never from the renewal thread.

Followers are called from the renewal thread too, which must not wait on a reader (a DuckDB
connection busy with a long query, say): from there the work goes to a short-lived thread of its
own, which ends as soon as nothing is pending. On the kernel's main thread (a switch, a clear)
the work is done at once, so the next cell finds the reader on the new identity; if a background
write holds the reader longer than ``MAIN_THREAD_WAIT``, that thread applies the newest change
when it is free.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("ipy_tempcreds")

MAIN_THREAD_WAIT = 5.0  # seconds a switch or clear may wait for a background write to finish


class LatestOnlyWorker:
    """Runs ``apply(item)`` for the newest item submitted; an older item not started yet is
    skipped. Every run takes the newest item under one lock, so the last one applied is the
    newest."""

    def __init__(self, name: str, apply: Callable):
        self.name = name
        self._apply = apply
        self._condition = threading.Condition()
        self._apply_lock = threading.Lock()
        self._wanted = 0
        self._done = 0
        self._item = None
        self._thread: threading.Thread | None = None

    def submit(self, item) -> None:
        with self._condition:
            self._item = item
            self._wanted += 1
        if threading.current_thread() is threading.main_thread():
            if self._drain(timeout=MAIN_THREAD_WAIT):
                return
            log.warning("ipy_tempcreds: %s is busy; it gets the new credentials when it is free.", self.name)
        with self._condition:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """True once everything submitted so far was applied (or failed and was logged)."""
        with self._condition:
            return self._condition.wait_for(lambda: self._done >= self._wanted, timeout)

    def _run(self) -> None:
        while True:
            self._drain(timeout=-1)
            with self._condition:
                if self._done >= self._wanted:
                    self._thread = None  # nothing pending: a later submit starts a new thread
                    return

    def _drain(self, timeout: float) -> bool:
        """Apply the newest item until none is pending; False if the lock was not had in time."""
        if not self._apply_lock.acquire(timeout=timeout):
            return False
        try:
            while True:
                with self._condition:
                    if self._done >= self._wanted:
                        return True
                    target, item = self._wanted, self._item
                try:
                    self._apply(item)
                except Exception:  # apply logs its own scrubbed words; keep the worker alive
                    log.warning("ipy_tempcreds: %s failed to apply a change", self.name)
                with self._condition:
                    self._done = max(self._done, target)
                    self._condition.notify_all()
        finally:
            self._apply_lock.release()
