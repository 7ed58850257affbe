"""The core: which credentials are active, how they were obtained, and how to renew or drop them.

``CredentialManager`` imports nothing from IPython or ipywidgets; the magics, the panel and the
Python API are views over one instance. STS calls happen outside the lock (a slow endpoint must not
block status or clear); installing a result happens under it, and only if nothing else (a clear, a
switch) happened meanwhile.
"""

from __future__ import annotations

import getpass
import logging
import re
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from . import validation as v
from .credentials import Grant, RoleRequest
from .environment import KernelEnvironment
from .errors import InvalidInput, MfaCodeNeeded, NotActive
from .settings import TempCreds
from .sts import StsGateway

log = logging.getLogger("ipy_tempcreds")

MfaCode = str | Callable[[str], str] | None


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


class CredentialManager:
    """Owns the active grant and the kernel environment it is injected into."""

    def __init__(self, settings: TempCreds | None = None, *, environ=None, clock=now_utc, gateway=None):
        self.settings = settings if settings is not None else TempCreds()
        self.environment = KernelEnvironment(environ)
        self.clock = clock
        self.sts = gateway if gateway is not None else StsGateway(self.settings, self.environment.original)
        self._grant: Grant | None = None
        self._generation = 0
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Grant | None], None]] = []
        self._problem: str | None = None

    # -- state -----------------------------------------------------------------------------------

    def current(self) -> Grant | None:
        """The grant in force, or None."""
        return self._grant

    @property
    def problem(self) -> str | None:
        """What needs the user's attention about the active credentials (a failed or blocked
        renewal), in one sentence with the fix; None when all is well."""
        return self._problem

    def role_candidates(self) -> list[tuple[str, str]]:
        """(label, role ARN) pairs to offer in pickers and completion: aliases first."""
        return [(alias, arn) for alias, arn in sorted(self.settings.roles.items())]

    def subscribe(self, listener: Callable[[Grant | None], None]) -> None:
        """Call ``listener(grant_or_None)`` after every change of the grant or of ``problem``.

        Listeners may be called from a background thread (renewal) and must not block.
        """
        self._listeners.append(listener)

    def unsubscribe(self, listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, grant: Grant | None) -> None:
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
        """Resolve an alias and validate every parameter; raises InvalidInput before any call."""
        if not role or not str(role).strip():
            raise InvalidInput("no role given: pass a role ARN or an alias from TempCreds.roles.")
        label = str(role).strip()
        arn = v.parse_role_arn(self.settings.roles.get(label, label))
        seconds = v.parse_duration(duration if duration is not None else self.settings.default_duration)
        if chain:
            v.check_duration(seconds, high=v.CHAINED_MAX_DURATION, what="a chained AssumeRole (AWS's 1-hour cap)")
        else:
            v.check_duration(seconds)
        tag_map = v.parse_tags(tags)
        return RoleRequest(
            role_arn=arn.arn,
            session_name=v.check_session_name(session_name) if session_name else self.default_session_name(),
            duration=seconds,
            label=label,
            profile=profile or None,
            region=v.check_region(region) if region else None,
            external_id=v.check_external_id(external_id) if external_id else None,
            mfa_serial=v.check_mfa_serial(mfa_serial) if mfa_serial else None,
            tags=tuple(tag_map.items()),
            transitive_tag_keys=tuple(v.check_transitive_tags(transitive_tags, tag_map)),
            policy=v.load_policy(policy),
            policy_arns=tuple(v.check_policy_arns(policy_arns)),
            source_identity=v.check_source_identity(source_identity) if source_identity else None,
            chain=bool(chain),
        )

    def default_session_name(self) -> str:
        try:
            user = getpass.getuser()
        except Exception:  # no user name in some containers
            user = "jupyter"
        name = self.settings.session_name.format(user=user, host=socket.gethostname().split(".")[0])
        name = re.sub(r"[^\w+=,.@-]", "-", name)[:64]
        return name if len(name) >= 2 else f"{name}-ipy"

    # -- operations ------------------------------------------------------------------------------

    def assume_role(self, request: RoleRequest, *, mfa_code: MfaCode = None, auto_refresh: bool | None = None) -> Grant:
        """Assume ``request``'s role and inject the result; on any failure nothing changes."""
        code = self._mfa_code(request, mfa_code)
        parent = None
        if request.chain:
            parent = self._grant
            if parent is None:
                raise NotActive("--chain assumes the role from the active role, and none is active. "
                                "Assume the first role without --chain.")
        grant = self._obtain(request, code, parent)
        if auto_refresh is not None:
            grant = grant.with_auto_refresh(auto_refresh)
        self._install(grant, generation=None)
        log.info("assumed %s, expires %s", grant.arn, grant.expiration.isoformat())
        return grant

    def refresh(self, *, mfa_code: MfaCode = None) -> Grant:
        """Obtain a new set for the active grant with the same parameters, from the same source."""
        grant = self._grant
        if grant is None:
            raise NotActive("no temporary credentials are active: nothing to refresh.")
        generation = self._generation
        code = self._mfa_code(grant.request, mfa_code)
        parent = self._renewed_parent(grant.parent) if grant.parent is not None else None
        new = self._obtain(grant.request, code, parent).with_auto_refresh(grant.auto_refresh)
        if not self._install(new, generation=generation):
            raise NotActive("the credentials were cleared or replaced while renewing; nothing changed.")
        log.info("renewed %s, expires %s", new.arn, new.expiration.isoformat())
        return new

    def clear(self) -> bool:
        """Drop the active grant and restore the environment exactly; False if none was active."""
        with self._lock:
            self._generation += 1
            had = self._grant is not None
            self._grant = None
            self.environment.restore()
        if had:
            log.info("cleared temporary credentials")
            self._notify(None)
        return had

    def whoami(self) -> dict:
        """GetCallerIdentity with what a new boto3 client in the kernel would use now."""
        return self.sts.caller_identity()

    # -- internals -------------------------------------------------------------------------------

    def _mfa_code(self, request: RoleRequest, mfa_code: MfaCode) -> str | None:
        if request.mfa_serial is None:
            if isinstance(mfa_code, str) and mfa_code:
                raise InvalidInput("an MFA code was given without an MFA serial; pass --mfa-serial ARN too.")
            return None
        if isinstance(mfa_code, str):
            return v.check_mfa_code(mfa_code)
        if mfa_code is None:
            raise MfaCodeNeeded(
                f"{request.label or request.role_arn} needs an MFA code from {request.mfa_serial}; "
                "pass it with --mfa-code 123456 (mfa_code='123456' in Python)."
            )
        return v.check_mfa_code(mfa_code(f"MFA code for {request.mfa_serial}: "))

    def _renewed_parent(self, parent: Grant) -> Grant:
        """The grant a chained role is assumed from, renewed first if it is about to lapse."""
        if parent.remaining(self.clock()) > self.settings.refresh_margin:
            return parent
        grandparent = self._renewed_parent(parent.parent) if parent.parent is not None else None
        return self._obtain(parent.request, None, grandparent)

    def _obtain(self, request: RoleRequest, code: str | None, parent: Grant | None) -> Grant:
        partition = request.role_arn.split(":")[1]
        result = self.sts.assume_role(
            request, mfa_code=code, partition=partition,
            chain_from=parent.credentials if parent is not None else None,
        )
        if parent is not None:
            source = f"chained from {parent.arn}"
        else:
            source = f"profile {request.profile!r}" if request.profile else "the kernel's original credentials"
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

    def _install(self, grant: Grant, *, generation: int | None) -> bool:
        """Make ``grant`` current; with ``generation``, only if nothing changed since it was read."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return False
            self.environment.inject(grant.credentials, grant.account)
            self._grant = grant
            self._generation += 1
        self._notify(grant)
        return True
