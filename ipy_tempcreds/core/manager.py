"""The core: which credentials are in force, and the only place that changes them.

``CredentialManager`` keeps the grant, the generation (a counter bumped by every install and
clear), the locks, the followers and the renewal state; it delegates building requests to
:mod:`request_builder`, obtaining credentials to :mod:`issuer` and the roles to offer to
:mod:`roles`. It imports nothing from IPython or ipywidgets; the magics, the panel and the Python
API are views over one instance. STS calls happen outside the lock (a slow endpoint must not
block status, clear or a switch); installing a result happens under it, and only if nothing else
(a clear, a switch) happened meanwhile. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from ..base import forks, times
from ..base.errors import Hint, NotActive, StsError, TempCredsError, scrub
from ..delivery.switch import DeliverySwitch
from ..model.changes import Change, Follower, Followers
from ..model.credentials import Grant
from ..model.settings import TempCreds
from ..sources.sts import StsGateway
from .base_identity import is_base, parent_from_base, signs_with_base
from .cell_roles import refuse_inside_scope
from .issuer import Issuer, MfaCode, prompter_for
from .pins import Pins
from .problems import problem_text
from .renewal import IDLE, MAX_SLEEP, RenewalState, RenewalThread
from .renewing import Renewing
from .request_builder import RequestBuilder
from .roles import Roles

if TYPE_CHECKING:
    from ..model.requests import Request

log = logging.getLogger("ipy_tempcreds")

now_utc = times.now_utc


class CredentialManager(Renewing):
    """Owns the active grant, its renewal, and the kernel environment it is injected into.

    ``clock`` returns an aware UTC datetime (tests pass a fake one); ``background=False`` keeps
    renewal to explicit ``renew_if_due()`` calls, for deterministic tests.
    """

    def __init__(self, settings: TempCreds | None = None, *, environ=None, clock=now_utc, gateway=None,
                 background: bool = True):
        self.settings = settings if settings is not None else TempCreds()
        # The environment writer of the delivery in force (delivery/environment.py or delivery/switch.py).
        self.environment = DeliverySwitch(environ, self.settings.delivery)
        self.clock = clock
        self.roles = Roles(self.settings)
        self.issuer = Issuer(self.settings, gateway if gateway is not None else
                             StsGateway(self.settings, self.environment, clock), clock)
        self.requests = RequestBuilder(self.settings, self.roles)
        self.pins = Pins(self.issuer, self.environment, clock, self.settings)  # --pin (core/pins.py)
        self.background = background
        self.named = None  # named_sessions.NamedSessions, created by the first session(ROLE)
        self.cell_roles = None  # cell_roles.CellRoles, created by the first %%as_role / as_role()
        self._grant: Grant | None = None
        self._base: Grant | None = None
        self._generation = 0
        self._lock = threading.RLock()
        self._renew_lock = threading.Lock()
        self._renewal: RenewalState = IDLE
        # The kernel's wiring subscribes the readers (_kernel.install): the core imports none of them.
        self._followers = Followers()
        self._thread: RenewalThread | None = None
        self._closed = False
        self.settings.observe(self._reschedule, names=["refresh_margin"])
        self.settings.observe(self._deliver_through, names=["delivery"])
        forks.renew_in_child(self)

    def _after_fork(self) -> None:
        """In a child of os.fork(): fresh locks (base/forks.py) and no renewal thread (the parent's is not
        copied). The child starts its own at its next install, not at once: a pool of forked workers
        must not renew the same role once per process."""
        self._lock = threading.RLock()
        self._renew_lock = threading.Lock()
        self._thread = None

    @property
    def sts(self):
        """The STS gateway the issuer calls (tests wrap it)."""
        return self.issuer.sts

    @sts.setter
    def sts(self, gateway) -> None:
        self.issuer.sts = gateway

    # -- state -----------------------------------------------------------------------------------

    def current(self) -> Grant | None:
        """The grant in force, or None."""
        return self._grant

    base = property(lambda self: self._base, doc="The base identity (core/base_identity.py: %aws_login), or None.")

    @property
    def renewal(self) -> RenewalState:
        """Where the renewal of the active grant stands (one immutable value)."""
        return self._renewal

    @property
    def problem(self) -> str | None:
        """What needs the user's attention about the active credentials (expired, a renewal that
        failed or needs an MFA code), with the fix; None when all is well."""
        grant = self._grant
        if grant is None:
            return None
        return problem_text(grant, self._renewal, self.clock(), self.settings.time_zone)

    @property
    def needs_mfa_code(self) -> bool:
        """True when the next renewal cannot happen without a new MFA code."""
        return self._renewal.needs_mfa_code

    def renewal_due(self) -> datetime | None:
        return self._renewal.due

    def named_sessions(self) -> list[tuple[str, str, datetime]]:
        """(label, identity ARN, expiration) of each session opened with ``session(ROLE)``: roles
        used beside the environment's, renewed on use, ended by :meth:`clear`."""
        named = self.named
        return named.entries() if named is not None else []

    # -- followers -------------------------------------------------------------------------------

    def subscribe(self, follower: Follower) -> None:
        """Call ``follower(change)`` (a :class:`~ipy_tempcreds.model.changes.Change`) after every change
        of the grant, of ``problem`` or of the named sessions.

        Followers may be called from the renewal thread and must not block.
        """
        self._followers.subscribe(follower)

    def unsubscribe(self, follower) -> None:
        self._followers.unsubscribe(follower)

    def announce(self, kind: str, previous: Grant | None = None) -> None:
        """Tell every follower that something of ``kind`` changed (e.g. ``"sessions"``)."""
        self._announce(Change(kind, self._grant, previous if kind in _SWITCHING else self._grant))

    def _announce(self, change: Change) -> None:
        self._followers.tell(change)

    # -- requests --------------------------------------------------------------------------------

    def role_request(self, role: str, **options) -> Request:
        """Resolve an alias or a role profile and validate every parameter, before any call."""
        return self.requests.role_request(role, **options)

    # -- operations ------------------------------------------------------------------------------

    def activate(self, request: Request, *, mfa_code: MfaCode = None, auto_refresh: bool | None = None,
                 pin: bool = False) -> Grant:
        """Obtain credentials for ``request`` and inject them (``pin``: core/pins.py); on any failure nothing changes."""
        if self._closed:
            raise NotActive("ipy_tempcreds was unloaded in this kernel; `%load_ext ipy_tempcreds` "
                            "again (and show a new panel) to assume roles.")
        refuse_inside_scope(self, "a switch to another role")
        parent = None
        if request.chain:
            parent = self._grant
            if parent is None:
                raise NotActive("{hint} assumes the role from the active role, and none is active. "
                                "Assume the first role without it.", hint=Hint("chain", True))
        elif (base := self._base) is not None and signs_with_base(request, self.sts.name):
            parent = parent_from_base(self.issuer, request, base)
            if parent is not base:  # renewed: kept, so the next assume or clear does not renew it again
                self._base = parent
        self.pins.check_available(pin)
        try:
            grant = self.issuer.obtain(request, prompter_for(mfa_code), parent)
        except StsError as refused:
            if refused.code == "AccessDenied" and (near := self.requests.near_known_role(request)):
                refused.args = (f"{refused.args[0]}{near}", *refused.args[1:])  # a slip of a known role's ARN
            raise
        if auto_refresh is not None:
            grant = grant.with_auto_refresh(auto_refresh)
        if request.remembered_as is not None:  # before installing, so followers see it in role_candidates()
            self.roles.remember(*request.remembered_as)
        self._install(grant, generation=None, kind="assume", pin=pin)
        log.info("%s %s, expires %s", request.operation, grant.arn, grant.expiration)
        return grant

    def refresh(self, *, mfa_code: MfaCode = None) -> Grant:
        """Obtain a new set for the active grant with the same parameters, from the same source."""
        prompter = prompter_for(mfa_code)
        with self._renew_lock:
            # The generation first, then the grant: a clear or switch landing between two reads the
            # other way round left a matching generation, and the old role's renewal was installed
            # after the clear or over the switch (tests/core/test_races.py). Read under the renew lock,
            # a background renewal cannot slip in between and make this refresh fail for nothing.
            generation = self._generation
            grant = self._grant
            if grant is None:
                raise NotActive("nothing to refresh: no temporary credentials are active. Assume a role first: {hint}.",
                                hint=Hint("assume"))
            new = self.issuer.renew(grant, prompter)
            if not self._install(new, generation=generation, kind="refresh"):
                raise NotActive("the credentials were cleared or replaced while renewing; nothing changed.")
        log.info("renewed %s, expires %s", new.arn, new.expiration)
        return new

    def clear(self) -> bool:
        """Drop the active grant, stop renewing, restore the environment exactly.

        A role cleared over a base identity goes back to it (core/base_identity.py). False if nothing
        was active. Never waits for a renewal in flight: the generation moves on.
        """
        if not self._closed:  # an unload inside a %%as_role cell ends everything, scopes included
            refuse_inside_scope(self, "a release")
        self.pins.release()  # --clear stops everything the kernel serves (docs/endpoint.md)
        base, current = self._base, self._grant
        if base is not None and current is not None and not is_base(current) and self._back_to_base(base, current):
            return True
        self._base = None
        with self._lock:
            self._generation += 1
            previous = self._grant
            self._grant = None
            self._renewal = IDLE
            self.issuer.forget_mfa_sessions()
            thread, self._thread = self._thread, None
            self.environment.restore()
        self.roles.flush()
        if thread is not None:
            thread.stop()
        named = self.named
        ended = named.end_all() if named is not None else False
        if previous is not None:
            log.info("cleared temporary credentials")
        if previous is not None or ended:
            self._announce(Change("clear", None, previous))
        return previous is not None

    def forget_base(self) -> bool:
        """Drop the base identity (%aws_login --logout), restore the environment; False if none was active."""
        refuse_inside_scope(self, "a sign-out")
        self._base = None
        return self.clear()

    def _back_to_base(self, base: Grant, current: Grant) -> bool:
        """Install the base identity in place of ``current`` (a role); False if it cannot be renewed."""
        try:
            fresh = self.issuer.fresh(base)
        except TempCredsError as exc:  # the login session ended, say: release everything
            log.warning("ipy_tempcreds: the console sign-in could not be renewed: %s", scrub(str(exc)))
            return False
        self.issuer.forget_mfa_sessions()
        if self.named is not None:
            self.named.end_all()
        self.roles.flush()
        self._install(fresh, generation=None, kind="assume")
        log.info("released %s; back to the console sign-in %s", current.arn, fresh.arn)
        return True

    def close(self) -> None:
        """Clear, and refuse new credentials from now on: the extension was unloaded, and views
        still attached to this manager (an open panel) must not inject what nobody would clear.
        Closing twice does nothing (a test or a frontend may close what the kernel then resets)."""
        if self._closed:
            return
        self._closed = True
        self._base = None
        self.settings.unobserve(self._deliver_through, names=["delivery"])
        self.clear()
        self.environment.close()  # the credential server, if one was started
        self._announce(Change("closed", None, None))

    @property
    def closed(self) -> bool:
        return self._closed

    def whoami(self) -> dict:
        """GetCallerIdentity with what a new boto3 client in the kernel would use now."""
        return self.sts.caller_identity()

    def _deliver_through(self, change) -> None:
        """``%config TempCreds.delivery = ...``: the credentials in force move to the new delivery
        at once, under the lock (no renewal lands meanwhile); the grant does not change."""
        if not self._closed:
            self.environment.follow_setting(change, self._lock, self.settings)

    def reinstate(self, grant: Grant | None, renewal: RenewalState | None = None, *,
                  announce: bool = True) -> tuple[Grant | None, RenewalState]:
        """Put ``grant`` in force (None: the kernel's own credentials) with ``renewal`` as its renewal
        state (None: scheduled afresh); return the grant and renewal state it replaced. How a cell
        runs as another role and then gets back exactly what was there (core/cell_roles.py). Unlike
        :meth:`clear`, named sessions and MFA sessions stay; a renewal in flight is discarded."""
        thread = None
        with self._lock:
            replaced = (self._grant, self._renewal)
            if grant is not None:
                self._install(grant, generation=None, kind="assume", renewal=renewal, announce=False)
            else:
                self._generation += 1
                self._grant, self._renewal = None, IDLE
                thread, self._thread = self._thread, None
                self.environment.restore()
        if thread is not None:
            thread.stop()
        if announce:
            self._announce(Change("assume" if grant is not None else "clear", grant, replaced[0]))
        return replaced

    def _install(self, grant: Grant, *, generation: int | None, kind: str, pin: bool = False,
                 renewal: RenewalState | None = None, announce: bool = True) -> bool:
        """Make ``grant`` current; with ``generation``, only if nothing changed since it was read."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return False
            previous = self._grant
            self.environment.inject(grant.credentials, grant.account, self.pins.children_for(grant, kind, pin))
            self._grant = grant
            if is_base(grant):
                self._base = grant
            self._generation += 1
            self._renewal = renewal if renewal is not None else RenewalState.scheduled(self._due_for(grant))
            if self.background and self._thread is None:
                self._thread = RenewalThread(self)
            elif self._thread is not None and (due := self._renewal.due) is not None \
                    and (due - self.clock()).total_seconds() < MAX_SLEEP:
                # The thread re-reads the due time at least every MAX_SLEEP seconds, so only a
                # sooner due time needs it woken. Waking it on every switch cost ~0.4 ms of thread
                # hand-off per %assume_role (benchmarks/bench_switch.py, 2 busy cores).
                self._thread.poke()
        if announce:
            self._announce(Change(kind, grant, previous))
        return True


_SWITCHING = ("assume", "refresh", "renewal", "clear")
