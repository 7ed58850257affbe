"""The renewal half of the manager: when the active grant is due, renewing it without ever making a
cell wait, and saying what needs the user's attention.

``Renewing`` is a base class of :class:`~ipy_tempcreds.core.manager.CredentialManager`, kept in its
own module because renewal is a job of its own (the renewal thread, the pre-cell check and
``session()`` clients call it). It works on the manager's state, which the manager documents and
owns: ``_grant``, ``_generation``, ``_renewal`` (a :class:`~ipy_tempcreds.core.renewal.RenewalState`,
replaced whole under ``_lock``), ``_renew_lock`` (one renewal or refresh at a time), ``_thread``,
``issuer``, ``settings``, ``clock``, ``_install`` and ``announce``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from ..base.errors import MfaCodeNeeded, TempCredsError
from ..model.credentials import Grant
from .renewal import RenewalState, RenewalThread, due_at

if TYPE_CHECKING:
    from ..model.settings import TempCreds
    from .issuer import Issuer

log = logging.getLogger("ipy_tempcreds")


class Renewing:
    """Renewal of the manager's active grant (see the module docstring for the state it shares)."""

    # The manager's state this half works on; CredentialManager sets every one of them.
    settings: TempCreds
    clock: Callable[[], datetime]
    issuer: Issuer
    _grant: Grant | None
    _generation: int
    _renewal: RenewalState
    _lock: threading.RLock
    _renew_lock: threading.Lock
    _thread: RenewalThread | None
    _install: Callable[..., bool]
    announce: Callable[..., None]

    @property
    def problem(self) -> str | None:  # the manager's (core/problems.py), declared for the type checker
        raise NotImplementedError

    def seconds_until_due(self) -> float | None:
        due = self._renewal.due
        if due is None:
            return None
        return (due - self.clock()).total_seconds()

    def renew_if_due(self, *, manual_too: bool = False) -> bool:
        """Renew if the due time has passed: from the renewal thread, before each cell, and from
        sessions' refresh functions. Never raises, never asks for input and never waits for a
        renewal already in flight (that one will install its answer); a failure keeps the current
        credentials and schedules a retry. True if a renewal happened."""
        grant, due = self._grant, self._renewal.due
        if grant is None or due is None or (not grant.auto_refresh and not manual_too):
            return False
        if self.clock() < due:
            return False
        generation = self._generation
        # Not blocking: a cell must not wait for a renewal stuck on a slow STS (issue: 1+1 took
        # 30 s). The renewal in flight installs its answer, or reports its failure, itself.
        if not self._renew_lock.acquire(blocking=False):
            return False
        try:
            due = self._renewal.due  # read once: a clear() from another thread may reset it
            if self._grant is not grant or due is None or self.clock() < due:
                return False  # another caller renewed, switched or cleared meanwhile
            try:
                new = self.issuer.renew(grant, None)
            except MfaCodeNeeded:
                with self._lock:
                    if generation != self._generation:
                        return False  # cleared or switched while renewing: not the new grant's problem
                    self._renewal = self._renewal.waiting_for_code()
                self._report_problem()
                return False
            except TempCredsError as exc:
                return self._renewal_failed(exc, generation)
            except Exception:  # a bug must not kill the renewal thread or the cell
                log.exception("ipy_tempcreds: unexpected error while renewing")
                return self._renewal_failed(TempCredsError("an unexpected error (see the log)"), generation)
            if not self._install(new, generation=generation, kind="renewal"):
                return False
        finally:
            self._renew_lock.release()
        log.info("renewed %s in the background, expires %s", new.arn, new.expiration)
        return True

    def before_cell(self) -> str | None:
        """The pre-cell check: renew if a renewal was missed, and return what the user must see
        before the cell runs (a new problem once; expired credentials before every cell)."""
        grant = self._grant
        if grant is None:
            return None
        now = self.clock()
        due = self._renewal.due
        if due is not None and now >= due:
            self.renew_if_due()
            grant = self._grant
            if grant is None:
                return None
        if now >= grant.expiration:
            return self.problem  # before every cell until renewed or cleared
        state = self._renewal
        if (state.last_error or state.needs_mfa_code) and not state.announced:
            with self._lock:
                if self._renewal is state:
                    self._renewal = state.announce()
            return self.problem
        return None

    def _renewal_failed(self, exc: TempCredsError, generation: int) -> bool:
        with self._lock:
            # A switch (or clear) while the old grant was renewing: its failure would otherwise be
            # reported against the new grant, and move its renewal to 15 s from now.
            if generation != self._generation:
                return False
            self._renewal = self._renewal.failed(str(exc), self.clock())
            failures = self._renewal.failures
        if failures == 1:
            self._report_problem()
        else:
            self.announce("problem")  # views show the new retry time; the log and the cell hear it once
        thread = self._thread
        if thread is not None:
            thread.poke()
        return False

    def _report_problem(self) -> None:
        log.warning("%s", self.problem)
        self.announce("problem")

    def _due_for(self, grant: Grant) -> datetime:
        return due_at(grant.expiration, grant.lifetime(), self.settings.refresh_margin)

    def _reschedule(self, change=None) -> None:
        with self._lock:
            grant = self._grant
            if grant is not None and not self._renewal.needs_mfa_code:
                self._renewal = self._renewal.rescheduled(self._due_for(grant))
        if self._thread is not None:
            self._thread.poke()

