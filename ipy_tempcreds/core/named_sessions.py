"""Sessions for other roles, beside the one in the environment: ``ipy_tempcreds.session("B")``.

One notebook can read with the environment's role (account A) and write with a session for a role
in account B. A named session never touches the environment. Its credentials are botocore
``RefreshableCredentials``: renewed lazily, when a client is about to use them inside botocore's
refresh windows, under botocore's own lock (so clients in several threads renew once). Each
renewal calls STS signed by the *source* credentials, the kernel's as they were before the first
assume, exactly as the environment's role is renewed: never chained through another role.

They show in ``%assume_role --status`` and ``manager.named_sessions()``, and end with ``clear()``:
a client still holding one fails on its next call with a message saying so.

The same cache serves a cell run as another role (``%%as_role``, core/cell_roles.py) and the read
checks of ``%aws_can`` (core/read_checks.py) through :meth:`NamedSessions.grant`: a role's grant is
reused while it outlives its renewal margin, so a loop of cells does not call STS each time. Read
checks do not list the roles they only tried (``shown=False``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..base.errors import InvalidInput, NotActive
from ..model.credentials import Grant
from ..model.requests import Request
from .renewal import refresh_margin

log = logging.getLogger("ipy_tempcreds")


def _credentials_class():
    from botocore.credentials import RefreshableCredentials

    class SessionCredentials(RefreshableCredentials):
        """Refreshable credentials that can be ended: once ended, every use asks for a refresh,
        and the refresh says the session was ended."""

        ended = False

        def refresh_needed(self, refresh_in=None):
            return self.ended or super().refresh_needed(refresh_in)

    return SessionCredentials


@dataclass(eq=False)
class NamedSession:
    """One role's credentials outside the environment; what status and the panel show of it."""

    label: str
    request: Request
    arn: str
    expiration: datetime
    credentials: Any = field(repr=False)  # SessionCredentials (botocore's class, made on first use): never rendered
    grant: Grant | None = field(default=None, repr=False)  # the newest grant obtained for it
    parent: Grant | None = field(default=None, repr=False)  # a chained role's: assumed from this grant
    shown: bool = True  # listed by entries(); a role only tried by %aws_can is not

    def __repr__(self) -> str:
        return f"NamedSession(label={self.label!r}, arn={self.arn!r}, expiration={self.expiration.isoformat()!r})"


class NamedSessions:
    """The named sessions of one manager: opened by :meth:`open`, all ended by :meth:`end_all`."""

    def __init__(self, manager):
        self.manager = manager
        # By request; a chained role (%%as_role --chain) by (request, the ARN it is chained from).
        self._sessions: dict[Request | tuple[Request, str], NamedSession] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, manager) -> NamedSessions:
        """The registry of ``manager`` (created on first use)."""
        return attached(manager, "named", cls)

    def grant(self, request: Request, *, mfa_code=None, parent: Grant | None = None, shown: bool = True) -> Grant:
        """The credentials for ``request`` as a grant: the cached one while it outlives its renewal
        margin, else a new one (one STS call). ``parent``: a chained role, assumed from that grant."""
        key = request if parent is None else (request, parent.arn)
        with self._lock:
            entry = self._sessions.get(key)
        if entry is None:
            entry = self._start(request, mfa_code, parent)
            with self._lock:
                entry = self._sessions.setdefault(key, entry)
        grant = entry.grant
        now = self.manager.clock()
        if grant is None or grant.remaining(now) <= refresh_margin(grant.lifetime(), self.manager.settings.refresh_margin):
            grant = self._renewed(entry, mfa_code)
        if shown and not entry.shown:
            entry.shown = True
            self.manager.announce("sessions")
        return grant

    def open(self, request: Request, *, mfa_code=None, region_name: str | None = None):
        """A ``boto3.Session`` for ``request``. The same request again shares the same renewing
        credentials; the first STS call happens here, so mistakes show at once."""
        import boto3
        import botocore.session

        if request.chain:
            raise InvalidInput("a named session is assumed from the kernel's original credentials; "
                               "chain=True applies only to assume_role().")
        if getattr(self.manager, "closed", False):
            raise NotActive("ipy_tempcreds was unloaded in this kernel; load it again to open sessions.")
        with self._lock:
            entry = self._sessions.get(request)
        if entry is None:
            entry = self._start(request, mfa_code)
            with self._lock:
                entry = self._sessions.setdefault(request, entry)
        if not entry.shown:  # new, or only tried by %aws_can so far
            entry.shown = True
            self.manager.announce("sessions")  # views list the new session
        from ..base.compat import set_session_credentials

        core = botocore.session.Session()
        # botocore has no public setter for refreshable credentials (the same as api.session()).
        set_session_credentials(core, entry.credentials)
        return boto3.Session(botocore_session=core, region_name=region_name or request.region)

    def _start(self, request: Request, mfa_code, parent: Grant | None = None) -> NamedSession:
        grant = self._obtain(request, mfa_code, parent)
        label = request.label or request.target  # a role ARN, or an SSO role and account
        held = grant.credentials
        entry = NamedSession(label, request, grant.arn, held.expiration, credentials=None, grant=grant,
                             parent=parent, shown=False)

        def fetch():
            if entry.credentials.ended:
                raise NotActive(f"the session for {label} was ended by clear(); "
                                f"call ipy_tempcreds.session({label!r}) again for a new one.")
            return self._renewed(entry, None).credentials.botocore_metadata()

        entry.credentials = _credentials_class()(
            held.access_key_id, held.secret_access_key, held.session_token, held.expiration,
            refresh_using=fetch, method="ipy_tempcreds-session", time_fetcher=self.manager.clock,
        )
        return entry

    def _renewed(self, entry: NamedSession, mfa_code) -> Grant:
        renewed = self._obtain(entry.request, mfa_code, entry.parent)
        entry.grant, entry.arn, entry.expiration = renewed, renewed.arn, renewed.expiration
        log.info("renewed the session for %s, expires %s", entry.label, renewed.expiration.isoformat())
        if entry.shown:
            self.manager.announce("sessions")
        return renewed

    def _obtain(self, request: Request, mfa_code, parent: Grant | None = None) -> Grant:
        # The manager's issuer: signed by the source credentials pinned to the environment as it
        # was before the first assume, with its MFA sessions (TempCreds.mfa_session_duration); a
        # chained role (%%as_role --chain) from its parent.
        return self.manager.issuer.obtain(request, mfa_code, parent)

    def entries(self) -> list[tuple[str, str, datetime]]:
        """(label, identity ARN, expiration) of each open session, in the order they were opened."""
        with self._lock:
            return [(s.label, s.arn, s.expiration) for s in self._sessions.values() if s.shown]

    def end_all(self) -> bool:
        """End every session: clients holding one fail on their next call. False if none was open."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for entry in sessions:
            entry.credentials.ended = True
        if sessions:
            log.info("ended %d named session(s)", len(sessions))
        return bool(sessions)


def attached(manager, name: str, make):
    """``manager.<name>``, the per-manager registry ``make(manager)`` creates on first use."""
    with _registry_lock:
        registry = getattr(manager, name, None)
        if registry is None:
            registry = make(manager)
            setattr(manager, name, registry)
        return registry


_registry_lock = threading.Lock()
