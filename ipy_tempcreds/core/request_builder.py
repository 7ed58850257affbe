"""What will be asked of STS: requests built from what the user typed, validated before any call.

Resolves aliases (``TempCreds.roles``) and role profiles of the AWS config, fills in the defaults
from :class:`~ipy_tempcreds.model.settings.TempCreds` and the session name template, and refuses bad
input with an :class:`~ipy_tempcreds.base.errors.InvalidInput` before anything reaches STS.
"""

from __future__ import annotations

import functools
import getpass
import re
import socket
from dataclasses import replace

from ..base import aws_config, policies
from ..base import validation as v
from ..base.errors import Hint, InvalidInput
from ..model.requests import FederationRequest, RoleRequest, SessionTokenRequest, SsoRoleRequest
from ..sources.sso import portal
from . import role_names


class RequestBuilder:
    """Builds :class:`RoleRequest`, :class:`FederationRequest` and :class:`SessionTokenRequest`
    from the user's words and the kernel's settings (read at every call: ``%config`` applies at once)."""

    def __init__(self, settings, roles=None):
        self.settings = settings
        # core/roles.Roles: the roles a word may name as the picker and the recent list show them.
        self.roles = roles

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
    ) -> RoleRequest | SsoRoleRequest:
        """Resolve an alias, a role profile or an SSO profile and validate every parameter, before any call."""
        if not role or not str(role).strip():
            raise InvalidInput("no role given: pass a role ARN, an alias from TempCreds.roles or a role profile.")
        label = str(role).strip()
        if profile is not None:
            v.check_profile_name(profile)  # before a role profile's source_profile could hide it
        section: dict = {}
        if label in self.settings.roles:
            arn_text = self.settings.roles[label]
        elif not label.startswith("arn:") and (found := aws_config.role_profile(label)) is not None:
            section, arn_text = found, found["role_arn"]
        elif not label.startswith("arn:") and (sso_request := portal.role_request(label)) is not None:
            given = {"session_name": session_name, "duration": duration, "profile": profile,
                     "external_id": external_id, "mfa_serial": mfa_serial, "tags": tags,
                     "transitive_tags": transitive_tags, "policy": policy, "policy_arns": policy_arns,
                     "source_identity": source_identity, "chain": chain}
            return self.sso_role_request(sso_request, region, given)
        elif not label.startswith("arn:") and (named := self._named_role(label)) is not None:
            label, arn_text = named
        else:
            arn_text = label
        arn = self._role_arn(arn_text, typed=label)
        if duration is None:
            duration = section.get("duration_seconds", self.settings.default_duration)
        seconds = v.parse_duration(duration)
        if chain:
            v.check_duration(seconds, high=v.CHAINED_MAX_DURATION, what="a chained AssumeRole (AWS's 1-hour cap)")
        else:
            v.check_duration(seconds)
        self.check_margin(seconds)
        tag_map = policies.parse_tags(tags)
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
            transitive_tag_keys=tuple(policies.check_transitive_tags(transitive_tags, tag_map)),
            policy=policies.load_policy(policy),
            policy_arns=tuple(policies.check_policy_arns(policy_arns)),
            source_identity=v.check_source_identity(source_identity) if source_identity else None,
            chain=bool(chain),
        )

    def _known_roles(self) -> list[tuple[str, str]]:
        return self.roles.candidates() if self.roles is not None else []

    def near_known_role(self, request) -> str:
        """The sentence ``Did you mean ARN, ...?`` for a role request STS refused whose ARN is a slip
        of a known role's (core/role_names.py); "" otherwise."""
        arn = getattr(request, "role_arn", None)
        near = role_names.near_arn(arn, self._known_roles()) if arn else ""
        return f" Did you mean {near}, a role this kernel knows?" if near else ""

    def _named_role(self, label: str) -> tuple[str, str] | None:
        """(label, ARN) of a role as the picker and the recent list show it (core/role_names.py)."""
        return role_names.resolve(label, self._known_roles())

    def _role_arn(self, text: str, *, typed: str) -> v.RoleArn:
        """The parsed ARN; a word that is no ARN is refused with the closest known role named."""
        try:
            return v.parse_role_arn(text)
        except InvalidInput:
            if text.startswith("arn:") or text != typed or text.replace(" ", "").isdigit():
                raise
            hint = role_names.suggestion(text, self._known_roles())
            if not hint:
                raise
            raise InvalidInput(f"{text!r} is not a role ARN, an alias from TempCreds.roles, a profile or a "
                               f"recently used role: {hint}") from None

    def sso_role_request(self, request: SsoRoleRequest, region: str | None, given: dict) -> SsoRoleRequest:
        """``%assume_role SSO_PROFILE``: the portal's role credentials. IAM Identity Center's
        permission set decides the lifetime, the policies and the session name, and the sign-in
        is the only source, so the STS options are refused rather than silently dropped."""
        refused = [name for name, value in given.items() if value]
        if refused:
            raise InvalidInput(
                f"profile {request.label!r} is an IAM Identity Center profile: its permission set decides "
                "the session, so {hint} does not apply. Run it without.", hint=Hint(refused[0]))
        if region:
            request = replace(request, role=replace(request.role, region=v.check_region(region)))
        return request

    def federation_request(self, name: str, *, duration=None, policy=None, policy_arns=None,
                           profile: str | None = None, region: str | None = None) -> FederationRequest:
        """GetFederationToken for federated user ``name``, validated."""
        seconds = v.parse_duration(duration if duration is not None else self.settings.default_duration)
        v.check_duration(seconds, high=v.MAX_SESSION_TOKEN_DURATION, what="GetFederationToken")
        self.check_margin(seconds)
        return FederationRequest(
            name=v.check_federation_name(name or ""), duration=seconds, policy=policies.load_policy(policy),
            policy_arns=tuple(policies.check_policy_arns(policy_arns)), profile=v.check_profile_name(profile) if profile is not None else None,
            region=v.check_region(region) if region else None, label=name,
        )

    def session_token_request(self, *, duration=None, mfa_serial: str | None = None,
                              profile: str | None = None, region: str | None = None) -> SessionTokenRequest:
        """GetSessionToken (MFA-backed with ``mfa_serial``), validated."""
        seconds = v.parse_duration(duration if duration is not None else self.settings.default_duration)
        v.check_duration(seconds, high=v.MAX_SESSION_TOKEN_DURATION, what="GetSessionToken")
        self.check_margin(seconds)
        return SessionTokenRequest(
            duration=seconds, mfa_serial=v.check_mfa_serial(mfa_serial) if mfa_serial else None,
            profile=v.check_profile_name(profile) if profile is not None else None, region=v.check_region(region) if region else None,
            label="session token",
        )

    def check_margin(self, seconds: int) -> None:
        """Refuse a lifetime that the configured refresh margin would renew without pause."""
        margin = self.settings.refresh_margin
        if margin is not None and margin >= seconds:
            raise InvalidInput(
                f"TempCreds.refresh_margin ({margin} s) is not less than the requested lifetime "
                f"({seconds} s): the credentials would be renewed without pause. Ask for a longer "
                "lifetime ({hint}), or `%config TempCreds.refresh_margin = None` (automatic).",
                hint=Hint("duration"),
            )

    def default_session_name(self) -> str:
        """TempCreds.session_name filled in with the OS user and host, valid for STS."""
        return session_name_from(self.settings.session_name)


@functools.lru_cache(maxsize=8)
def session_name_from(template: str) -> str:
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
