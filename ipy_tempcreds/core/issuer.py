"""Obtaining credentials: one call to a credential source for a request, with its MFA code, MFA
session or parent.

The :class:`Issuer` turns a validated request into a :class:`~ipy_tempcreds.model.credentials.Grant`.
It never touches the environment and keeps no grant: the manager installs what it returns, and
named sessions (``session(ROLE)``) use it for roles beside the environment's.

Sources: each request names its source (``request.source``: ``"sts"``, ``"sso"``, ``"login"``), and the issuer
hands it to that object, which has one small interface: ``obtain(request, *, mfa_code=None,
signer=None, signer_name=..., chained=False) -> Issued``, ``describe(request)`` (where the signing
credentials come from, in words), ``service`` (its name for messages) and ``mfa_note`` (None, or
why an MFA code makes no sense for it). A new source is one new module and one entry in
:meth:`Issuer.__init__`'s table; nothing here branches on a request's type.

MFA codes come from a *prompter*, as botocore's ``mfa_prompter``: a callable ``prompter(prompt)
-> code``, or None meaning "cannot ask" (then :class:`MfaCodeNeeded` says how to pass the code).
The magics pass getpass through the frontend, the API a given code wrapped by :func:`prompter_for`,
the renewal thread None (it never prompts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from ..base import forks
from ..base import validation as v
from ..base.errors import Hint, InvalidInput, MfaCodeNeeded
from ..base.times import clock_text
from ..model.credentials import Grant, TemporaryCredentials, refuse_expired
from ..model.requests import Request, SessionTokenRequest
from ..sources.login.source import LoginSource
from ..sources.sso.portal import IdentityCenterSource
from .renewal import refresh_margin

Prompter = Callable[[str], str]
MfaCode = str | Prompter | None  # what the public API accepts; prompter_for makes it a Prompter

MFA_SESSION_KEEP = 300  # seconds an MFA session must still last to be reused for an assume


class GivenCode:
    """A code the caller already gave, as a prompter (it answers every prompt with that code)."""

    __slots__ = ("_code",)

    def __init__(self, code: str):
        self._code = code

    def __call__(self, prompt: str) -> str:
        return self._code

    @property
    def given(self) -> bool:
        """True unless the code is empty (an empty code with no MFA device is no mistake)."""
        return bool(self._code)

    def __repr__(self) -> str:
        return "GivenCode(***)"  # never the code


def prompter_for(mfa_code: MfaCode) -> Prompter | None:
    """The prompter for what a caller passed: a code (text), a prompter, or None (cannot ask)."""
    if mfa_code is None or isinstance(mfa_code, GivenCode):
        return mfa_code
    if isinstance(mfa_code, str):
        return GivenCode(mfa_code)
    if callable(mfa_code):
        return mfa_code
    # From the Python API: an int would be called as a prompt (TypeError traceback) or, without a
    # serial, silently ignored. Never echo the code.
    raise InvalidInput(f"the MFA code must be text such as '012345', not {type(mfa_code).__name__} "
                       "(as a number it would lose its leading zeros).")


class Issuer:
    """Obtains credentials from the sources for requests; keeps the MFA sessions it opened (and
    nothing else)."""

    def __init__(self, settings, sts, clock: Callable[[], datetime]):
        self.settings = settings
        self.clock = clock
        # Every source, by the name requests give in ``request.source``.
        self.sources = {"sts": sts, "sso": IdentityCenterSource(settings, clock), "login": LoginSource(settings, clock)}
        self._mfa_sessions: dict[tuple, TemporaryCredentials] = {}
        self._lock = threading.Lock()
        forks.renew_in_child(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # a fork copies it as it was: perhaps held mid-MFA session

    @property
    def sts(self):
        """The STS source (tests wrap it; MFA sessions and chains go through it)."""
        return self.sources["sts"]

    @sts.setter
    def sts(self, gateway) -> None:
        self.sources["sts"] = gateway

    # -- public ----------------------------------------------------------------------------------

    def obtain(self, request: Request, prompter: Prompter | None = None, parent: Grant | None = None) -> Grant:
        """One grant for ``request``: from ``parent`` (chained), through an MFA session, or from
        the source credentials with a code from ``prompter``."""
        prompter = prompter_for(prompter)
        source = self.sources[request.source]
        asked_at = self.clock()
        needs_code = False
        if parent is not None:
            # A chained role may need MFA too: its serial goes with a code, never alone (STS
            # refuses a SerialNumber without a TokenCode).
            code = self._mfa_code(request, prompter, source)
            # The kernel's base identity (a console sign-in) signs like a parent: AWS caps what it
            # assumes at 1 hour, as for any temporary credentials.
            base = getattr(parent.request, "base_identity", False)
            signer_name = f"the console sign-in ({parent.arn})" if base else f"the active role ({parent.arn})"
            result = source.obtain(request, mfa_code=code, signer=parent.credentials, chained=True,
                                   signer_name=signer_name)
            described = f"from the console sign-in {parent.arn}" if base else f"chained from {parent.arn}"
            needs_code = code is not None
        elif request.mfa_serial and request.mfa_session_signs and self._use_mfa_session(request):
            session = self._mfa_session(request, prompter)
            # The role is assumed from the MFA-backed session: no code on this call, and none on
            # renewals until that session ends.
            result = source.obtain(replace(request, mfa_serial=None), signer=session, signer_name="the MFA session")
            described = f"{source.describe(request)}, through an MFA session until {self._time(session.expiration)}"
        else:
            code = self._mfa_code(request, prompter, source)
            result = source.obtain(request, mfa_code=code)
            described = source.describe(request)
            needs_code = code is not None
        refuse_expired(result.credentials, asked_at=asked_at, what=f"{request.operation} {request.target}",
                       service=source.service, zone=self.settings.time_zone)
        now = self.clock()
        return Grant(
            credentials=result.credentials,
            arn=result.arn,
            account=result.account,
            user_id=result.user_id,
            request=request,
            source=described,
            obtained_at=now,
            auto_refresh=self.settings.auto_refresh,
            parent=parent,
            renewal_needs_code=needs_code,
        )

    def renew(self, grant: Grant, prompter: Prompter | None = None) -> Grant:
        """A new grant with ``grant``'s request, from the same source (a chain renewed from its root)."""
        parent = self._renewed_parent(grant.parent) if grant.parent is not None else None
        return self.obtain(grant.request, prompter, parent).with_auto_refresh(grant.auto_refresh)

    def fresh(self, grant: Grant) -> Grant:
        """``grant`` itself while it outlives its renewal margin, else a renewed one (a parent, or
        the base identity a role is assumed from)."""
        return self._renewed_parent(grant)

    def forget_mfa_sessions(self) -> None:
        """Drop every MFA session (a clear): the next assume of an MFA role asks for a code."""
        with self._lock:
            self._mfa_sessions.clear()

    def mfa_sessions(self) -> list[TemporaryCredentials]:
        """The MFA sessions held now (for tests that look for secrets everywhere)."""
        with self._lock:
            return list(self._mfa_sessions.values())

    # -- internals -------------------------------------------------------------------------------

    def _mfa_code(self, request: Request, prompter: Prompter | None, source) -> str | None:
        if request.mfa_serial is None:
            if isinstance(prompter, GivenCode) and prompter.given:
                if source.mfa_note:
                    raise InvalidInput(f"{request.label or request.target} {source.mfa_note}: pass no MFA code.")
                raise InvalidInput("an MFA code was given without an MFA serial; pass {hint} too.",
                                   hint=Hint("mfa_serial", "ARN"))
            return None
        if prompter is None:
            raise MfaCodeNeeded(
                f"{request.label or request.target} needs an MFA code from {request.mfa_serial}; "
                "pass it with {hint}.", hint=Hint("mfa_code", "123456"),
            )
        return v.check_mfa_code(prompter(f"MFA code for {request.mfa_serial}: "))

    def _renewed_parent(self, parent: Grant) -> Grant:
        """The grant a chained role is assumed from, renewed first if it is about to lapse."""
        if parent.remaining(self.clock()) > refresh_margin(parent.lifetime(), self.settings.refresh_margin):
            return parent
        grandparent = self._renewed_parent(parent.parent) if parent.parent is not None else None
        return self.obtain(parent.request, None, grandparent)

    def _time(self, moment: datetime) -> str:
        return clock_text(moment, self.clock(), self.settings.time_zone)

    def _use_mfa_session(self, request: Request) -> bool:
        # An MFA session's credentials are temporary, and AWS caps a role assumed with temporary
        # credentials at 1 hour: for more, the role is assumed directly with the code (as
        # aws-vault does), and its renewal will need a new code (Grant.renewal_needs_code).
        return (self.settings.mfa_session_duration > 0 and request.duration is not None
                and request.duration <= v.CHAINED_MAX_DURATION
                and not self.sts.source_is_temporary(request))

    def _mfa_session(self, request: Request, prompter: Prompter | None) -> TemporaryCredentials:
        """An MFA-backed session for the request's source and device, reused while it lasts."""
        key = (request.profile, request.credential_source, request.mfa_serial)
        with self._lock:
            session = self._mfa_sessions.get(key)
        # Keep a session only while it outlives the margin: a role assumed from it must be renewable.
        if session is not None and (session.expiration - self.clock()).total_seconds() > MFA_SESSION_KEEP:
            return session
        token_request = SessionTokenRequest(
            duration=self.settings.mfa_session_duration, mfa_serial=request.mfa_serial,
            profile=request.profile, region=request.region, label="MFA session",
        )
        session = self.sts.obtain(token_request, mfa_code=self._mfa_code(token_request, prompter, self.sts)).credentials
        with self._lock:
            self._mfa_sessions[key] = session
        return session
