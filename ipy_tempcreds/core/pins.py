"""Pinned grants (``%assume_role ROLE --pin``): a job keeps the identity it started with while the
kernel switches to other roles.

By default processes started from the kernel in endpoint delivery *follow the kernel*: they ask the
kernel's credential server for the credentials in force, so after ``%assume_role B`` a job started
under A signs as B from its next refresh on. A pin serves one grant at a path and token of its own
(delivery/endpoint_delivery.py), and while that grant is the kernel's, ``os.environ`` points new
processes there: a job started then keeps the grant, renewed, whatever the kernel does next.

Renewal: while the pinned grant is the kernel's, the manager's renewals reach the pin too (one STS
call, not two); once the kernel has switched, this module's thread renews it from its own request,
as the manager would (a chain from its root, never through the kernel's current role), retrying
with the manager's backoff. A pin that cannot be renewed before it expires (an MFA code needed, a
lasting refusal) is withdrawn at its expiry: children then get a 404 that says so.

A pin ends with :meth:`Pins.release` (``ipy_tempcreds.unpin()``), with ``--clear`` (which stops
everything the kernel serves), and with the kernel (or ``%unload_ext``). docs/endpoint.md says so.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..base import forks
from ..base.errors import InvalidInput, MfaCodeNeeded, TempCredsError, scrub
from ..delivery.switch import PIN_NEEDS_ENDPOINT, Route
from ..model.credentials import Grant, iso_utc
from .renewal import MAX_SLEEP, due_at, retry_delay

log = logging.getLogger("ipy_tempcreds")


@dataclass(eq=False)
class Pin:
    """One pinned grant: where it is served (``url``, ``token_file``), and until when."""

    grant: Grant
    route: Route = field(repr=False)
    due: datetime | None = None
    failures: int = 0
    last_error: str | None = None

    @property
    def arn(self) -> str:
        return self.grant.arn

    @property
    def url(self) -> str:
        return self.route.url

    @property
    def expiration(self) -> datetime:
        return self.grant.expiration

    def environ(self) -> dict[str, str]:
        """The variables that give a process this pin (``subprocess.Popen(env={**os.environ, **pin.environ()})``):
        the URI and the token *file*, never the token."""
        return {name: value for name, value in self.route.environment().items() if value is not None}

    def __repr__(self) -> str:
        return f"Pin(arn={self.arn!r}, url={self.url!r}, expiration={iso_utc(self.expiration)!r})"


class Pins:
    """The pins of one manager, and the thread that renews those the kernel has switched away from."""

    def __init__(self, issuer, delivery, clock, settings):
        self._issuer, self._delivery, self._clock, self._settings = issuer, delivery, clock, settings
        self._pins: list[Pin] = []
        self._active: Pin | None = None  # the pin of the kernel's grant in force, renewed with it
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        forks.renew_in_child(self)

    def _after_fork(self) -> None:
        # The parent's server serves the pins; a forked child renews and releases none of them.
        self._lock, self._pins, self._active, self._thread = threading.Lock(), [], None, None

    def all(self) -> list[Pin]:
        with self._lock:
            return list(self._pins)

    def check_available(self, pin: bool = True) -> None:
        """Before any STS call: a pin needs the endpoint delivery."""
        if pin and self._delivery.mode != "endpoint":
            raise InvalidInput(PIN_NEEDS_ENDPOINT)

    def children_for(self, grant: Grant, kind: str, pin: bool) -> Route | None:
        """Called by the manager as it installs ``grant`` (under its lock): the route ``os.environ``
        sends new processes to, or None (the credentials that follow the kernel)."""
        if not pin and not self._pins:
            return None  # no pin at all (most kernels): nothing to do, no lock taken
        with self._lock:
            active = self._active
            if kind in ("refresh", "renewal") and active is not None and active.grant.request is grant.request:
                self._delivery.repin(active.route, grant.credentials, grant.account)
                active.grant, active.failures, active.last_error = grant, 0, None
                active.due = self._due(grant)
                return active.route
            if kind != "assume" or not pin:
                self._active = None  # the kernel switched: the pins it leaves behind renew on their own
                self._wake.set()
                return None
            made = Pin(grant, self._delivery.pin(grant.credentials, grant.account), self._due(grant))
            self._pins.append(made)
            self._active = made
            self._start()
            return made.route

    def release(self, which=None) -> int:
        """Stop serving ``which`` (a Pin, a role ARN or identity ARN; None: every pin); the number
        released. Processes that had the pin get a 404 at their next refresh."""
        with self._lock:
            chosen = [p for p in self._pins if which is None or p is which or which in _names(p)]
            if which is not None and not chosen:
                raise InvalidInput(f"no pin matches {which!r}: pins() lists them.")
            self._pins = [p for p in self._pins if p not in chosen]
            if self._active in chosen:
                self._active = None
        for pinned in chosen:
            self._delivery.unpin(pinned.route)
        if chosen:
            log.info("released %d pinned grant(s)", len(chosen))
        self._wake.set()
        return len(chosen)

    # -- renewal of the pins the kernel switched away from --------------------------------------------

    def _due(self, grant: Grant) -> datetime:
        return due_at(grant.expiration, grant.lifetime(), self._settings.refresh_margin)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="ipy_tempcreds-pins", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pins:
                    self._thread = None
                    return
                waiting = [p for p in self._pins if p is not self._active]
            now = self._clock()
            for pinned in waiting:
                if now >= pinned.expiration:
                    self._expire(pinned)
                elif pinned.due is not None and now >= pinned.due:
                    self._renew(pinned)
            with self._lock:
                moments = [m for p in self._pins if p is not self._active for m in (p.due, p.expiration) if m]
            wait = min([(m - self._clock()).total_seconds() for m in moments] + [MAX_SLEEP])
            self._wake.wait(max(wait, 0.05))
            self._wake.clear()

    def _renew(self, pinned: Pin) -> None:
        try:
            new = self._issuer.renew(pinned.grant, None) if pinned.grant.auto_refresh else None
        except MfaCodeNeeded:
            pinned.due, pinned.last_error = None, "its renewal needs an MFA code"  # serves until it expires
            log.warning("ipy_tempcreds: the pin of %s cannot be renewed without an MFA code; it ends at %s",
                        pinned.arn, iso_utc(pinned.expiration))
            return
        except TempCredsError as exc:
            self._failed(pinned, str(exc))
            return
        except Exception:  # a bug must not end the thread that renews every pin
            log.exception("ipy_tempcreds: unexpected error while renewing a pin")
            self._failed(pinned, None)
            return
        if new is None:
            pinned.due = None  # auto-refresh off: served until it expires
            return
        with self._lock:
            if pinned not in self._pins:
                return  # released meanwhile
            try:
                self._delivery.repin(pinned.route, new.credentials, new.account)
            except TempCredsError as exc:  # the server could not take it: retried, not every 50 ms
                self._failed(pinned, str(exc))
                return
            pinned.grant, pinned.failures, pinned.last_error, pinned.due = new, 0, None, self._due(new)
        log.info("renewed the pin of %s, expires %s", new.arn, iso_utc(new.expiration))

    def _failed(self, pinned: Pin, error: str | None) -> None:
        """A renewal, or serving its result, failed: tried again with the renewal thread's backoff
        (core/renewal.py), said once."""
        pinned.failures += 1
        if error is not None:
            pinned.last_error = scrub(error)
        pinned.due = self._clock() + timedelta(seconds=retry_delay(pinned.failures))
        if pinned.failures == 1:
            log.warning("ipy_tempcreds: renewing the pin of %s failed (retrying): %s", pinned.arn, pinned.last_error)

    def _expire(self, pinned: Pin) -> None:
        with self._lock:
            if pinned not in self._pins:
                return
            self._pins.remove(pinned)
        why = f" ({pinned.last_error})" if pinned.last_error else ""
        self._delivery.unpin(pinned.route, f"The pinned credentials of {pinned.arn} expired and could not be "
                             f"renewed{why}.")
        log.warning("ipy_tempcreds: the pin of %s expired%s", pinned.arn, why)


def _names(pinned: Pin) -> tuple:
    """What a user may call a pin by: the identity, the role's ARN, what they typed."""
    request = pinned.grant.request
    return pinned.arn, getattr(request, "target", None), getattr(request, "label", None) or None

