"""Obtaining credentials: one STS call for a request, with its MFA code, MFA session or parent.

The :class:`Issuer` turns a validated request into a :class:`~ipy_tempcreds.credentials.Grant`.
It never touches the environment and keeps no grant: the manager installs what it returns, and
named sessions (``session(ROLE)``) use it for roles beside the environment's.

MFA codes come from a *prompter*, as botocore's ``mfa_prompter``: a callable ``prompter(prompt)
-> code``, or None meaning "cannot ask" (then :class:`MfaCodeNeeded` says how to pass the code).
The magics pass getpass through the frontend, the API a given code wrapped by :func:`prompter_for`,
the renewal thread None (it never prompts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

from . import sso_portal
from . import validation as v
from .credentials import Grant, Request, RoleRequest, SessionTokenRequest, TemporaryCredentials
from .errors import Hint, InvalidInput, MfaCodeNeeded, StsError
from .renewal import refresh_margin
from .sso_portal import SsoRoleRequest

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
    """Obtains credentials from STS for requests; keeps the MFA sessions it opened (and nothing else)."""

    def __init__(self, settings, sts, clock: Callable[[], datetime]):
        self.settings = settings
        self.sts = sts
        self.clock = clock
        self._mfa_sessions: dict[tuple, TemporaryCredentials] = {}
        self._lock = threading.Lock()

    # -- public ----------------------------------------------------------------------------------

    def obtain(self, request: Request | SsoRoleRequest, prompter: Prompter | None = None,
               parent: Grant | None = None) -> Grant:
        """One grant for ``request``: from ``parent`` (chained), through an MFA session, or from
        the source credentials with a code from ``prompter``."""
        prompter = prompter_for(prompter)
        asked_at = self.clock()
        needs_code = False
        if isinstance(request, SsoRoleRequest):
            if isinstance(prompter, GivenCode) and prompter.given:
                raise InvalidInput(f"{request.label} signs in through IAM Identity Center, which asks for MFA "
                                   "in the browser at sign-in: pass no MFA code.")
            # No STS call: the portal hands out the role's credentials for the sign-in's token
            # (renewed with its refresh token when near expiry); a renewal asks the portal again.
            result = sso_portal.role_credentials(request.role, clock=self.clock)
            source = request.source
        elif parent is not None:
            # A chained role may need MFA too: its serial goes with a code, never alone (STS
            # refuses a SerialNumber without a TokenCode).
            code = self._mfa_code(request, prompter)
            result = self.sts.obtain(request, mfa_code=code, signer=parent.credentials, chained=True,
                                     signer_name=f"the active role ({parent.arn})")
            source = f"chained from {parent.arn}"
            needs_code = code is not None
        elif isinstance(request, RoleRequest) and request.mfa_serial and self._use_mfa_session(request):
            session = self._mfa_session(request, prompter)
            # The role is assumed from the MFA-backed session: no code on this call, and none on
            # renewals until that session ends.
            result = self.sts.obtain(replace(request, mfa_serial=None), signer=session,
                                     signer_name="the MFA session")
            source = f"{source_words(request)}, through an MFA session until {hhmm(session.expiration)}"
        else:
            code = self._mfa_code(request, prompter)
            result = self.sts.obtain(request, mfa_code=code)
            source = source_words(request)
            needs_code = code is not None
        if result.credentials.expiration <= asked_at:
            # Expired before they were even asked for: installing them would make renewal due at
            # once, and again after that (an STS call loop). Either STS answered nonsense or this
            # machine's clock is far ahead of AWS's. Compared with the time of asking, not of the
            # answer: a laptop that slept through a slow call is not a reason to refuse.
            raise StsError(
                f"STS answered with credentials for {request.label or request.target} that expire at "
                f"{hhmm(result.credentials.expiration)}, already past by this machine's clock "
                f"({hhmm(asked_at)}); nothing changed. Check the clock (is it ahead of AWS's?) and try again."
            )
        now = self.clock()
        return Grant(
            credentials=result.credentials,
            arn=result.arn,
            account=result.account,
            user_id=result.user_id,
            request=request,
            source=source,
            obtained_at=now,
            auto_refresh=self.settings.auto_refresh,
            parent=parent,
            renewal_needs_code=needs_code,
        )

    def renew(self, grant: Grant, prompter: Prompter | None = None) -> Grant:
        """A new grant with ``grant``'s request, from the same source (a chain renewed from its root)."""
        parent = self._renewed_parent(grant.parent) if grant.parent is not None else None
        return self.obtain(grant.request, prompter, parent).with_auto_refresh(grant.auto_refresh)

    def forget_mfa_sessions(self) -> None:
        """Drop every MFA session (a clear): the next assume of an MFA role asks for a code."""
        with self._lock:
            self._mfa_sessions.clear()

    def mfa_sessions(self) -> list[TemporaryCredentials]:
        """The MFA sessions held now (for tests that look for secrets everywhere)."""
        with self._lock:
            return list(self._mfa_sessions.values())

    # -- internals -------------------------------------------------------------------------------

    def _mfa_code(self, request: Request, prompter: Prompter | None) -> str | None:
        if request.mfa_serial is None:
            if isinstance(prompter, GivenCode) and prompter.given:
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

    def _use_mfa_session(self, request: RoleRequest) -> bool:
        # An MFA session's credentials are temporary, and AWS caps a role assumed with temporary
        # credentials at 1 hour: for more, the role is assumed directly with the code (as
        # aws-vault does), and its renewal will need a new code (Grant.renewal_needs_code).
        return (self.settings.mfa_session_duration > 0 and request.duration <= v.CHAINED_MAX_DURATION
                and not self.sts.source_is_temporary(request))

    def _mfa_session(self, request: RoleRequest, prompter: Prompter | None) -> TemporaryCredentials:
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
        session = self.sts.obtain(token_request, mfa_code=self._mfa_code(token_request, prompter)).credentials
        with self._lock:
            self._mfa_sessions[key] = session
        return session


def source_words(request: Request) -> str:
    """Where the credentials that call STS for ``request`` come from, in words."""
    if request.profile:
        return f"profile {request.profile!r}"
    if request.credential_source:
        return f"credential_source {request.credential_source}"
    return "the kernel's original credentials"


def hhmm(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%H:%M UTC")
