"""A thread that applies only the newest of the changes handed to it, one at a time.

Followers are called from the renewal thread too, which must not wait on a reader (a DuckDB
connection busy with a long query, say). So the work goes here; a caller on the kernel's main
thread (a switch, a clear) waits briefly for it, so the next cell finds the reader on the new
identity.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("ipy_tempcreds")

MAIN_THREAD_WAIT = 5.0  # seconds a switch or clear waits for the readers before the next cell


class LatestOnlyWorker:
    """Runs ``apply(item)`` on a daemon thread for the newest item submitted; older ones are
    skipped if a newer one arrived before they started."""

    def __init__(self, name: str, apply: Callable):
        self.name = name
        self._apply = apply
        self._condition = threading.Condition()
        self._wanted = 0
        self._done = 0
        self._item = None
        self._thread: threading.Thread | None = None

    def submit(self, item, *, wait_on_main_thread: bool = True) -> None:
        with self._condition:
            self._item = item
            self._wanted += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._condition.notify_all()
        if wait_on_main_thread and threading.current_thread() is threading.main_thread():
            if not self.wait(MAIN_THREAD_WAIT):
                log.warning("ipy_tempcreds: %s has not applied the new credentials yet; it will "
                            "when it is free.", self.name)

    def wait(self, timeout: float | None = None) -> bool:
        """True once everything submitted so far was applied (or failed and was logged)."""
        with self._condition:
            return self._condition.wait_for(lambda: self._done >= self._wanted, timeout)

    def _run(self) -> None:
        while True:
            with self._condition:
                if not self._condition.wait_for(lambda: self._done < self._wanted, timeout=30):
                    self._thread = None  # idle: a later submit starts a new thread
                    return
                target, item = self._wanted, self._item
            try:
                self._apply(item)
            except Exception:  # a broken reader must not kill the thread (apply logs scrubbed text)
                log.warning("ipy_tempcreds: %s failed to apply a change", self.name)
            with self._condition:
                self._done = target
                self._condition.notify_all()
