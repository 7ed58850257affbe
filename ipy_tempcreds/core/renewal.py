"""When to renew, how long to wait after a failure, and the thread that does it in the background.

A cell that runs for an hour blocks the kernel's event loop, so renewal cannot be an event-loop
timer: it is one daemon thread per manager, alive only while credentials are active. The thread
sleeps at most ``MAX_SLEEP`` seconds at a time and then compares the wall clock with the due time,
because a laptop that sleeps stops monotonic timers but not the credentials' expiry.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..model.settings import AUTO_REFRESH_MARGIN

MAX_SLEEP = 30.0
FIRST_RETRY = 15.0
MAX_RETRY = 300.0
BUSY_JOIN = 0.2  # seconds a clear waits for a renewal in flight before leaving it behind


def refresh_margin(lifetime: float, configured: int | None) -> float:
    """Seconds before expiry to renew credentials that live ``lifetime`` seconds.

    A configured margin is honoured as given when it is less than the lifetime (the manager refuses
    others when assuming); automatic: 20 minutes, or half the lifetime when that is shorter.
    """
    if configured is not None and configured < lifetime:
        return float(configured)
    return min(float(AUTO_REFRESH_MARGIN), lifetime / 2)


def due_at(expiration: datetime, lifetime: float, configured: int | None) -> datetime:
    return expiration - timedelta(seconds=refresh_margin(lifetime, configured))


def retry_delay(failures: int) -> float:
    """Bounded exponential backoff: 15 s, 30 s, 1 min, 2 min, 4 min, then every 5 min."""
    return min(FIRST_RETRY * 2 ** max(failures - 1, 0), MAX_RETRY)


@dataclass(frozen=True)
class RenewalState:
    """Where the renewal of the active grant stands: one value, replaced whole under the
    manager's lock by the transitions below (never a field at a time)."""

    due: datetime | None = None  # when to renew next; None: not scheduled
    failures: int = 0  # renewal failures since the last success
    last_error: str | None = None
    announced: bool = False  # the current failure episode was shown before a cell
    needs_mfa_code: bool = False  # renewal waits for the user: retrying cannot help

    @staticmethod
    def scheduled(due: datetime) -> RenewalState:
        """Fresh credentials installed: renew at ``due``, no problem to report."""
        return RenewalState(due=due)

    def rescheduled(self, due: datetime) -> RenewalState:
        """The margin changed: the same episode, a new due time."""
        return replace(self, due=due)

    def failed(self, error: str, now: datetime) -> RenewalState:
        """One more failure: retry after the backoff, announce the episode again if new."""
        failures = self.failures + 1
        return replace(self, failures=failures, last_error=error,
                       due=now + timedelta(seconds=retry_delay(failures)))

    def waiting_for_code(self) -> RenewalState:
        """The next renewal needs a new MFA code: stop retrying until the user gives one."""
        return replace(self, needs_mfa_code=True, due=None)

    def announce(self) -> RenewalState:
        """The problem was shown before a cell: not again until the next episode."""
        return replace(self, announced=True)


IDLE = RenewalState()


class RenewalThread:
    """Calls ``manager.renew_if_due()`` when due, from a daemon thread, until stopped."""

    def __init__(self, manager):
        self._manager = manager
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._busy = False  # renewing now (perhaps waiting for a slow STS)
        self._thread = threading.Thread(target=self._run, name="ipy_tempcreds-renewal", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Re-read the due time now (after a renewal, a switch or a config change)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop, and wait for the thread to end; while it renews, at most BUSY_JOIN seconds (a
        clear must not wait for a slow STS: the manager discards the late answer by its generation)."""
        self._stopped.set()
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(min(timeout, BUSY_JOIN) if self._busy else timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        declined = False
        while not self._stopped.is_set():
            wait = self._manager.seconds_until_due()
            if wait is None or (declined and wait <= 0):
                # Nothing scheduled; or due, and the last look declined to renew: auto-refresh is
                # off, or a refresh in flight holds the renewal lock (it installs or reports its
                # own answer). Look again when poked or after MAX_SLEEP, not at once: going round
                # at once took a whole core of an idle kernel (tests/core/test_idle_cpu.py).
                timeout = MAX_SLEEP
            else:
                timeout = min(max(wait, 0.0), MAX_SLEEP)
            self._wake.wait(timeout)
            self._wake.clear()
            if self._stopped.is_set():
                break
            self._busy = True
            renewed = False
            try:
                renewed = self._manager.renew_if_due()
            except Exception:  # a bug must not end renewals for the rest of the kernel's life
                logging.getLogger("ipy_tempcreds").exception("ipy_tempcreds: renewal thread error")
            finally:
                self._busy = False
            declined = not renewed
