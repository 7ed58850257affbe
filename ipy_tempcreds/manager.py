"""The core: which credentials are active, how they were obtained, and how to renew or drop them.

``CredentialManager`` imports nothing from IPython or ipywidgets; the magics, the panel and the
Python API are views over one instance. STS calls happen outside the lock (a slow endpoint must not
block status or clear); installing a result happens under it, and only if nothing else (a clear, a
switch) happened meanwhile.
"""

from __future__ import annotations

import functools
import getpass
import logging
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from . import profiles
from . import validation as v
from .credentials import FederationRequest, Grant, Request, RoleRequest, SessionTokenRequest, TemporaryCredentials
from .display import format_remaining
from .environment import KernelEnvironment
from .errors import InvalidInput, MfaCodeNeeded, NotActive, TempCredsError
from .recent import RecentRoles
from .renewal import MAX_SLEEP, RenewalThread, due_at, refresh_margin, retry_delay
from .settings import TempCreds
from .sts import StsGateway

log = logging.getLogger("ipy_tempcreds")

MfaCode = str | Callable[[str], str] | None


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


class CredentialManager:
    """Owns the active grant, its renewal, and the kernel environment it is injected into.

    ``clock`` returns an aware UTC datetime (tests pass a fake one); ``background=False`` keeps
    renewal to explicit ``renew_if_due()`` calls, for deterministic tests.
    """

    def __init__(self, settings: TempCreds | None = None, *, environ=None, clock=now_utc, gateway=None,
                 background: bool = True):
        self.settings = settings if settings is not None else TempCreds()
        self.environment = KernelEnvironment(environ)
        self.clock = clock
        self.sts = gateway if gateway is not None else StsGateway(self.settings, self.environment)
        self.background = background
        self._grant: Grant | None = None
        self._generation = 0
        self._lock = threading.RLock()
        self._renew_lock = threading.Lock()
        self._listeners: list[Callable[[Grant | None], None]] = []
        self._due: datetime | None = None
        self._failures = 0  # renewal failures since the last success
        self._last_error: str | None = None
        self._announced = False  # the current failure episode was shown before a cell
        self._needs_mfa_code = False
        self._mfa_sessions: dict[tuple, TemporaryCredentials] = {}
        self._thread: RenewalThread | None = None
        self._closed = False
        self._named_sessions = None  # named_sessions.NamedSessions, created by the first session(ROLE)
        self._recent_roles: tuple[tuple, RecentRoles] | None = None  # (settings it was made for, it)
        self.settings.observe(self._reschedule, names=["refresh_margin"])

    # -- state -----------------------------------------------------------------------------------

    def current(self) -> Grant | None:
        """The grant in force, or None."""
        return self._grant

    @property
    def problem(self) -> str | None:
        """What needs the user's attention about the active credentials (expired, a renewal that
        failed or needs an MFA code), with the fix; None when all is well."""
        grant = self._grant
        if grant is None:
            return None
        now = self.clock()
        if now >= grant.expiration:
            cause = f" Last renewal attempt: {self._last_error}" if self._last_error else ""
            return (
                f"The credentials of {grant.arn} expired at {_hhmm(grant.expiration)}; AWS calls "
                f"will fail.{cause} Run `%assume_role --refresh` to renew them or "
                "`%assume_role --clear` to go back to the kernel's own credentials."
            )
        if self._needs_mfa_code:
            return (
                f"{grant.arn} needs a new MFA code to be renewed before it {_expiry_words(grant, now)}: "
                "run `%assume_role --refresh --mfa-code 123456` (or use the panel)."
            )
        if self._last_error:
            retry = f"retrying in {format_remaining(self.seconds_until_due() or 0)}" if self._due else "not retrying"
            return (
                f"Renewing {grant.arn} failed: {self._last_error} The current credentials stay in "
                f"use ({_expiry_words(grant, now)}); {retry}."
            )
        return None

    @property
    def needs_mfa_code(self) -> bool:
        """True when the next renewal cannot happen without a new MFA code."""
        return self._needs_mfa_code

    def renewal_due(self) -> datetime | None:
        return self._due

    def role_candidates(self) -> list[tuple[str, str]]:
        """(label, role ARN) pairs to offer in pickers and completion: aliases, role profiles,
        then recently used roles, without repeats."""
        seen: set[str] = set()
        out = []
        try:
            profile_roles = [(name, section["role_arn"]) for name, section in sorted(profiles.role_profiles().items())]
        except InvalidInput:
            profile_roles = []
        for label, arn in sorted(self.settings.roles.items()) + profile_roles + self.recent_roles().load():
            if label not in seen:
                seen.add(label)
                out.append((label, arn))
        return out

    def named_sessions(self) -> list[tuple[str, str, datetime]]:
        """(label, identity ARN, expiration) of each session opened with ``session(ROLE)``: roles
        used beside the environment's, renewed on use, ended by :meth:`clear`."""
        named = self._named_sessions
        return named.entries() if named is not None else []

    def recent_roles(self) -> RecentRoles:
        where = (self.settings.recent_roles_file or None, self.settings.recent_roles_limit)
        if self._recent_roles is None or self._recent_roles[0] != where:
            # One object while the settings stay: building its Path on every assume was part of
            # the cost a switch adds to its STS call (benchmarks/bench_switch.py).
            self._recent_roles = (where, RecentRoles(*where))
        return self._recent_roles[1]

    def subscribe(self, listener: Callable[[Grant | None], None]) -> None:
        """Call ``listener(grant_or_None)`` after every change of the grant or of ``problem``.

        Listeners may be called from the renewal thread and must not block.
        """
        self._listeners.append(listener)

    def unsubscribe(self, listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self) -> None:
        grant = self._grant
        for listener in list(self._listeners):
            try:
                listener(grant)
            except Exception:  # a broken view must not break the credentials
                log.exception("ipy_tempcreds listener failed")

    # -- requests --------------------------------------------------------------------------------

    def role_request(
        self,
        role: str,
        *,
        session_name: str | None = None,
        duration=None,
        profile: str | None = None,
        region: str | None = None,
        external_id: str | None = None,
        mfa_serial: str | None = None,
        tags=None,
        transitive_tags=None,
        policy=None,
        policy_arns=None,
        source_identity: str | None = None,
        chain: bool = False,
    ) -> RoleRequest:
        """Resolve an alias or a role profile and validate every parameter, before any call."""
        if not role or not str(role).strip():
            raise InvalidInput("no role given: pass a role ARN, an alias from TempCreds.roles or a role profile.")
        label = str(role).strip()
        section: dict = {}
        if label in self.settings.roles:
            arn_text = self.settings.roles[label]
        elif not label.startswith("arn:") and (found := profiles.role_profile(label)) is not None:
            section, arn_text = found, found["role_arn"]
        else:
            arn_text = label
        arn = v.parse_role_arn(arn_text)
        if duration is None:
            duration = section.get("duration_seconds", self.settings.default_duration)
        seconds = v.parse_duration(duration)
        if chain:
            v.check_duration(seconds, high=v.CHAINED_MAX_DURATION, what="a chained AssumeRole (AWS's 1-hour cap)")
        else:
            v.check_duration(seconds)
        self._check_margin(seconds)
        tag_map = v.parse_tags(tags)
        session_name = session_name or section.get("role_session_name")
        region = region or section.get("region")
        external_id = external_id or section.get("external_id")
        mfa_serial = mfa_serial or section.get("mfa_serial")
        credential_source = None
        if section and not profile:
            profile, credential_source = section.get("source_profile"), section.get("credential_source")
        return RoleRequest(
            role_arn=arn.arn,
            session_name=v.check_session_name(session_name) if session_name else self.default_session_name(),
            duration=seconds,
            label=label,
            profile=profile or None,
            region=v.check_region(region) if region else None,
            credential_source=credential_source,
            external_id=v.check_external_id(external_id) if external_id else None,
            mfa_serial=v.check_mfa_serial(mfa_serial) if mfa_serial else None,
            tags=tuple(tag_map.items()),
            transitive_tag_keys=tuple(v.check_transitive_tags(transitive_tags, tag_map)),
            policy=v.load_policy(policy),
            policy_arns=tuple(v.check_policy_arns(policy_arns)),
            source_identity=v.check_source_identity(source_identity) if source_identity else None,
            chain=bool(chain),
        )

    def federation_request(self, name: str, *, duration=None, policy=None, policy_arns=None,
                           profile: str | None = None, region: str | None = None) -> FederationRequest:
        seconds = v.parse_duration(duration if duration is not None else self.settings.default_duration)
        v.check_duration(seconds, high=v.MAX_SESSION_TOKEN_DURATION, what="GetFederationToken")
        self._check_margin(seconds)
        return FederationRequest(
            name=v.check_federation_name(name or ""), duration=seconds, policy=v.load_policy(policy),
            policy_arns=tuple(v.check_policy_arns(policy_arns)), profile=profile or None,
            region=v.check_region(region) if region else None, label=name,
        )

    def session_token_request(self, *, duration=None, mfa_serial: str | None = None,
                              profile: str | None = None, region: str | None = None) -> SessionTokenRequest:
        seconds = v.parse_duration(duration if duration is not None else self.settings.default_duration)
        v.check_duration(seconds, high=v.MAX_SESSION_TOKEN_DURATION, what="GetSessionToken")
        self._check_margin(seconds)
        return SessionTokenRequest(
            duration=seconds, mfa_serial=v.check_mfa_serial(mfa_serial) if mfa_serial else None,
            profile=profile or None, region=v.check_region(region) if region else None,
            label="session token",
        )

    def _check_margin(self, seconds: int) -> None:
        margin = self.settings.refresh_margin
        if margin is not None and margin >= seconds:
            raise InvalidInput(
                f"TempCreds.refresh_margin ({margin} s) is not less than the requested lifetime "
                f"({seconds} s): the credentials would be renewed without pause. Ask for a longer "
                "--duration, or `%config TempCreds.refresh_margin = None` (automatic)."
            )

    def default_session_name(self) -> str:
        return _session_name_from(self.settings.session_name)

    # -- operations ------------------------------------------------------------------------------

    def activate(self, request: Request, *, mfa_code: MfaCode = None, auto_refresh: bool | None = None) -> Grant:
        """Obtain credentials for ``request`` and inject them; on any failure nothing changes."""
        if self._closed:
            raise NotActive("ipy_tempcreds was unloaded in this kernel; `%load_ext ipy_tempcreds` "
                            "again (and show a new panel) to assume roles.")
        parent = None
        if request.chain:
            parent = self._grant
            if parent is None:
                raise NotActive("--chain assumes the role from the active role, and none is active. "
                                "Assume the first role without --chain.")
        grant = self._obtain(request, mfa_code, parent)
        if auto_refresh is not None:
            grant = grant.with_auto_refresh(auto_refresh)
        if isinstance(request, RoleRequest):  # before installing, so listeners see it in role_candidates()
            self.recent_roles().remember(request.label or request.role_arn, request.role_arn)
        self._install(grant, generation=None)
        log.info("%s %s, expires %s", request.operation, grant.arn, grant.expiration)
        return grant


    def refresh(self, *, mfa_code: MfaCode = None) -> Grant:
        """Obtain a new set for the active grant with the same parameters, from the same source."""
        with self._renew_lock:
            # The generation first, then the grant: a clear or switch landing between two reads the
            # other way round left a matching generation, and the old role's renewal was installed
            # after the clear or over the switch (tests/test_races.py). Read under the renew lock,
            # a background renewal cannot slip in between and make this refresh fail for nothing.
            generation = self._generation
            grant = self._grant
            if grant is None:
                raise NotActive("no temporary credentials are active: nothing to refresh.")
            new = self._renew(grant, mfa_code)
            if not self._install(new, generation=generation):
                raise NotActive("the credentials were cleared or replaced while renewing; nothing changed.")
        log.info("renewed %s, expires %s", new.arn, new.expiration)
        return new

    def clear(self) -> bool:
        """Drop the active grant, stop renewing, restore the environment exactly.

        False if nothing was active.
        """
        with self._lock:
            self._generation += 1
            had = self._grant is not None
            self._grant = None
            self._due = None
            self._reset_problems()
            self._mfa_sessions.clear()
            thread, self._thread = self._thread, None
            self.environment.restore()
        self.recent_roles().flush()
        if thread is not None:
            thread.stop()
        named = self._named_sessions
        ended = named.end_all() if named is not None else False
        if had:
            log.info("cleared temporary credentials")
        if had or ended:
            self._notify()
        return had

    def close(self) -> None:
        """Clear, and refuse new credentials from now on: the extension was unloaded, and views
        still attached to this manager (an open panel) must not inject what nobody would clear."""
        self._closed = True
        self.clear()
        self._notify()

    @property
    def closed(self) -> bool:
        return self._closed

    def whoami(self) -> dict:
        """GetCallerIdentity with what a new boto3 client in the kernel would use now."""
        return self.sts.caller_identity()

    # -- renewal ---------------------------------------------------------------------------------

    def seconds_until_due(self) -> float | None:
        due = self._due
        if due is None:
            return None
        return (due - self.clock()).total_seconds()

    def renew_if_due(self, *, manual_too: bool = False) -> bool:
        """Renew if the due time has passed: from the renewal thread, before each cell, and from
        sessions' refresh functions. Never raises and never asks for input; a failure keeps the
        current credentials and schedules a retry. True if a renewal happened."""
        grant, due = self._grant, self._due
        if grant is None or due is None or (not grant.auto_refresh and not manual_too):
            return False
        if self.clock() < due:
            return False
        generation = self._generation
        with self._renew_lock:
            due = self._due  # read once: a clear() from another thread may set it to None
            if self._grant is not grant or due is None or self.clock() < due:
                return False  # another caller renewed, switched or cleared meanwhile
            try:
                new = self._renew(grant, None)
            except MfaCodeNeeded:
                with self._lock:
                    if generation != self._generation:
                        return False  # cleared or switched while renewing: not the new grant's problem
                    self._needs_mfa_code = True
                    self._due = None  # wait for the user: retrying cannot help
                self._report_problem()
                return False
            except TempCredsError as exc:
                return self._renewal_failed(grant, exc, generation)
            except Exception:  # a bug must not kill the renewal thread or the cell
                log.exception("ipy_tempcreds: unexpected error while renewing")
                return self._renewal_failed(grant, TempCredsError("an unexpected error (see the log)"), generation)
            if not self._install(new, generation=generation):
                return False
        log.info("renewed %s in the background, expires %s", new.arn, new.expiration)
        return True

    def before_cell(self) -> str | None:
        """The pre-cell check: renew if a renewal was missed, and return what the user must see
        before the cell runs (a new problem once; expired credentials before every cell)."""
        grant = self._grant
        if grant is None:
            return None
        now = self.clock()
        due = self._due
        if due is not None and now >= due:
            self.renew_if_due()
            grant = self._grant
            if grant is None:
                return None
        if now >= grant.expiration:
            return self.problem  # before every cell until renewed or cleared
        if (self._last_error or self._needs_mfa_code) and not self._announced:
            self._announced = True
            return self.problem
        return None

    def _renewal_failed(self, grant: Grant, exc: TempCredsError, generation: int) -> bool:
        with self._lock:
            # A switch (or clear) while the old grant was renewing: its failure would otherwise be
            # reported against the new grant, and move its renewal to 15 s from now.
            if generation != self._generation:
                return False
            self._failures += 1
            self._last_error = str(exc)
            self._due = self.clock() + timedelta(seconds=retry_delay(self._failures))
        if self._failures == 1:
            self._report_problem()
        else:
            self._notify()  # views show the new retry time; the log and the cell hear it once
        if self._thread is not None:
            self._thread.poke()
        return False

    def _report_problem(self) -> None:
        log.warning("%s", self.problem)
        self._notify()

    def _reset_problems(self) -> None:
        self._failures = 0
        self._last_error = None
        self._announced = False
        self._needs_mfa_code = False

    def _reschedule(self, change=None) -> None:
        with self._lock:
            grant = self._grant
            if grant is not None and not self._needs_mfa_code:
                self._due = due_at(grant.expiration, grant.lifetime(), self.settings.refresh_margin)
        if self._thread is not None:
            self._thread.poke()

    # -- internals -------------------------------------------------------------------------------

    def _mfa_code(self, request: Request, mfa_code: MfaCode) -> str | None:
        if mfa_code is not None and not isinstance(mfa_code, str) and not callable(mfa_code):
            # From the Python API: an int would be called as a prompt (TypeError traceback) or,
            # without a serial, silently ignored. Never echo the code.
            raise InvalidInput(f"the MFA code must be text such as '012345', not {type(mfa_code).__name__} "
                               "(as a number it would lose its leading zeros).")
        if request.mfa_serial is None:
            if isinstance(mfa_code, str) and mfa_code:
                raise InvalidInput("an MFA code was given without an MFA serial; pass --mfa-serial ARN too.")
            return None
        if isinstance(mfa_code, str):
            return v.check_mfa_code(mfa_code)
        if mfa_code is None:
            raise MfaCodeNeeded(
                f"{request.label or request.target} needs an MFA code from {request.mfa_serial}; "
                "pass it with --mfa-code 123456 (mfa_code='123456' in Python)."
            )
        return v.check_mfa_code(mfa_code(f"MFA code for {request.mfa_serial}: "))

    def _renew(self, grant: Grant, mfa_code: MfaCode) -> Grant:
        parent = self._renewed_parent(grant.parent) if grant.parent is not None else None
        return self._obtain(grant.request, mfa_code, parent).with_auto_refresh(grant.auto_refresh)

    def _renewed_parent(self, parent: Grant) -> Grant:
        """The grant a chained role is assumed from, renewed first if it is about to lapse."""
        if parent.remaining(self.clock()) > refresh_margin(parent.lifetime(), self.settings.refresh_margin):
            return parent
        grandparent = self._renewed_parent(parent.parent) if parent.parent is not None else None
        return self._obtain(parent.request, None, grandparent)

    def _obtain(self, request: Request, mfa_code: MfaCode, parent: Grant | None) -> Grant:
        if parent is not None:
            result = self.sts.obtain(request, signer=parent.credentials, chained=True,
                                     signer_name=f"the active role ({parent.arn})")
            source = f"chained from {parent.arn}"
        elif isinstance(request, RoleRequest) and request.mfa_serial and self._use_mfa_session(request):
            session = self._mfa_session(request, mfa_code)
            # The role is assumed from the MFA-backed session: no code on this call, and none on
            # renewals until that session ends.
            result = self.sts.obtain(replace(request, mfa_serial=None), signer=session,
                                     signer_name="the MFA session")
            source = f"{self._source_words(request)}, through an MFA session until {_hhmm(session.expiration)}"
        else:
            result = self.sts.obtain(request, mfa_code=self._mfa_code(request, mfa_code))
            source = self._source_words(request)
        return Grant(
            credentials=result.credentials,
            arn=result.arn,
            account=result.account,
            user_id=result.user_id,
            request=request,
            source=source,
            obtained_at=self.clock(),
            auto_refresh=self.settings.auto_refresh,
            parent=parent,
        )

    @staticmethod
    def _source_words(request: Request) -> str:
        if request.profile:
            return f"profile {request.profile!r}"
        if request.credential_source:
            return f"credential_source {request.credential_source}"
        return "the kernel's original credentials"

    def _use_mfa_session(self, request: RoleRequest) -> bool:
        return self.settings.mfa_session_duration > 0 and not self.sts.source_is_temporary(request)

    def _mfa_session(self, request: RoleRequest, mfa_code: MfaCode) -> TemporaryCredentials:
        """An MFA-backed session for the request's source and device, reused while it lasts."""
        key = (request.profile, request.credential_source, request.mfa_serial)
        session = self._mfa_sessions.get(key)
        # Keep a session only while it outlives the margin: a role assumed from it must be renewable.
        if session is not None and (session.expiration - self.clock()).total_seconds() > 300:
            return session
        token_request = SessionTokenRequest(
            duration=self.settings.mfa_session_duration, mfa_serial=request.mfa_serial,
            profile=request.profile, region=request.region, label="MFA session",
        )
        session = self.sts.obtain(token_request, mfa_code=self._mfa_code(token_request, mfa_code)).credentials
        self._mfa_sessions[key] = session
        return session

    def _install(self, grant: Grant, *, generation: int | None) -> bool:
        """Make ``grant`` current; with ``generation``, only if nothing changed since it was read."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return False
            self.environment.inject(grant.credentials, grant.account)
            self._grant = grant
            self._generation += 1
            self._reset_problems()
            self._due = due_at(grant.expiration, grant.lifetime(), self.settings.refresh_margin)
            if self.background and self._thread is None:
                self._thread = RenewalThread(self)
            elif self._thread is not None and (self._due - self.clock()).total_seconds() < MAX_SLEEP:
                # The thread re-reads the due time at least every MAX_SLEEP seconds, so only a
                # sooner due time needs it woken. Waking it on every switch cost ~0.4 ms of thread
                # hand-off per %assume_role (benchmarks/bench_switch.py, 2 busy cores).
                self._thread.poke()
        self._notify()
        return True


@functools.lru_cache(maxsize=8)
def _session_name_from(template: str) -> str:
    """TempCreds.session_name filled in and made valid for STS (once per template)."""
    user, host = _user_and_host()
    name = template.format(user=user, host=host)
    name = re.sub(r"[^\w+=,.@-]", "-", name)[:64]
    return name if len(name) >= 2 else f"{name}-ipy"


@functools.lru_cache(maxsize=1)
def _user_and_host() -> tuple[str, str]:
    """The OS user and the short host name, looked up once per kernel: every assume names its
    session, and the lookups were ~0.08 ms of each %assume_role (benchmarks/bench_switch.py)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "jupyter"
    return user, socket.gethostname().split(".")[0]


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%H:%M UTC")


def _expiry_words(grant: Grant, now: datetime) -> str:
    remaining = grant.remaining(now)
    if remaining <= 0:
        return f"expired at {_hhmm(grant.expiration)}"
    return f"expires at {_hhmm(grant.expiration)} (in {format_remaining(remaining)})"
