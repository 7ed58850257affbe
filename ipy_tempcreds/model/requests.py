"""What a user can ask for: one request type per kind of temporary credentials.

Each request is plain, frozen data, validated when built (core/request_builder.py) and kept by the grant
it produced, so a renewal asks again with the same parameters. ``source`` names the credential
source that serves it (sources: ``"sts"`` for AssumeRole, GetFederationToken and GetSessionToken,
``"sso"`` for IAM Identity Center's GetRoleCredentials, ``"login"`` for the console sign-in of
``%aws_login``); the issuer hands a request to that source
and never looks at its type. Every request has the same small surface (``operation``, ``target``,
``label``, ``region``, ``duration``, ``profile``, ``credential_source``, ``mfa_serial``, ``chain``,
``partition``), so renewal, status and the panel treat them alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

DEFAULT_SCOPES = ("sso:account:access",)  # what `aws configure sso` registers: it brings a refresh token


@dataclass(frozen=True)
class RoleRequest:
    """Everything needed to call AssumeRole again, minus the MFA code (used once, never kept).

    ``profile`` and ``credential_source`` say which credentials sign the call (neither: the
    kernel's own, as they were before the first assume).
    """

    role_arn: str
    session_name: str
    duration: int
    label: str = ""  # what the user typed: an alias, a profile name or the ARN itself
    profile: str | None = None
    region: str | None = None
    credential_source: str | None = None
    external_id: str | None = None
    mfa_serial: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    source_identity: str | None = None
    chain: bool = False

    operation = "AssumeRole"
    source = "sts"
    # An MFA-backed session (GetSessionToken, TempCreds.mfa_session_duration) may sign it, so that
    # renewals need no new code.
    mfa_session_signs = True

    @property
    def target(self) -> str:
        return self.role_arn

    @property
    def partition(self) -> str:
        return self.role_arn.split(":")[1]

    @property
    def remembered_as(self) -> tuple[str, str]:
        """(label, role ARN) for the recently used roles."""
        return self.label or self.role_arn, self.role_arn

    def sts_parameters(self) -> dict:
        params = {"RoleArn": self.role_arn, "RoleSessionName": self.session_name, "DurationSeconds": self.duration}
        if self.external_id:
            params["ExternalId"] = self.external_id
        if self.tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags]
        if self.transitive_tag_keys:
            params["TransitiveTagKeys"] = list(self.transitive_tag_keys)
        if self.policy:
            params["Policy"] = self.policy
        if self.policy_arns:
            params["PolicyArns"] = [{"arn": arn} for arn in self.policy_arns]
        if self.source_identity:
            params["SourceIdentity"] = self.source_identity
        if self.mfa_serial:
            params["SerialNumber"] = self.mfa_serial
        return params


@dataclass(frozen=True)
class FederationRequest:
    """GetFederationToken for a federated user ``name`` (signed by IAM user credentials)."""

    name: str
    duration: int
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    profile: str | None = None
    region: str | None = None
    label: str = ""
    operation = "GetFederationToken"
    mfa_session_signs = False
    source = "sts"
    remembered_as = None
    credential_source = None
    mfa_serial = None
    chain = False
    partition = "aws"

    @property
    def target(self) -> str:
        return f"federated user {self.name}"

    def sts_parameters(self) -> dict:
        params = {"Name": self.name, "DurationSeconds": self.duration}
        if self.policy:
            params["Policy"] = self.policy
        if self.policy_arns:
            params["PolicyArns"] = [{"arn": arn} for arn in self.policy_arns]
        return params


@dataclass(frozen=True)
class SessionTokenRequest:
    """GetSessionToken: temporary credentials for the source user itself, with MFA if given."""

    duration: int
    mfa_serial: str | None = None
    profile: str | None = None
    region: str | None = None
    label: str = ""
    operation = "GetSessionToken"
    mfa_session_signs = False
    source = "sts"
    remembered_as = None
    credential_source = None
    chain = False
    partition = "aws"

    @property
    def target(self) -> str:
        return "session token" + (f" (MFA {self.mfa_serial})" if self.mfa_serial else "")

    def sts_parameters(self) -> dict:
        params: dict[str, object] = {"DurationSeconds": self.duration}
        if self.mfa_serial:
            params["SerialNumber"] = self.mfa_serial
        return params




@dataclass(frozen=True)
class SsoTarget:
    """An IAM Identity Center sign-in: a start URL in a region, named by an sso-session or not.

    ``session_name`` None is the legacy form (profile with sso_start_url/sso_region): botocore then
    keys its cache by the start URL. ``profile`` is the profile it was found through, if any.
    """

    start_url: str
    region: str
    session_name: str | None = None
    profile: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @property
    def label(self) -> str:
        return self.session_name or self.start_url

    @property
    def cache_key(self) -> str:
        # botocore's SSOTokenLoader: sha1 of the sso-session name, else of the start URL.
        return hashlib.sha1((self.session_name or self.start_url).encode("utf-8")).hexdigest()

    @property
    def login_line(self) -> str:
        """The magic that signs in to this again."""
        name = self.profile or self.session_name
        return f"%sso_login {name}" if name else f"%sso_login --start-url {self.start_url} --sso-region {self.region}"


@dataclass(frozen=True)
class SsoRole:
    """An SSO profile's role: which sign-in, which account, which role (and the profile's region)."""

    target: SsoTarget
    account_id: str
    role_name: str
    region: str | None = None

    @property
    def label(self) -> str:
        return f"{self.role_name} in {self.account_id}"


@dataclass(frozen=True)
class SsoRoleRequest:
    """``%assume_role SSO_PROFILE``: the role's credentials from the portal (GetRoleCredentials),
    obtained again at each renewal while the sign-in lasts.

    Shaped like the STS requests (operation, target, label, region, ...), so the renewal, the
    status and the panel treat it as any other. IAM Identity Center sets the lifetime (the
    permission set's session duration): ``duration`` is None.
    """

    role: SsoRole
    label: str = ""
    operation = "GetRoleCredentials"
    mfa_session_signs = False
    source = "sso"
    remembered_as = None
    duration = None
    profile = None  # the sign-in, not a profile's credentials, signs nothing here: no STS source
    credential_source = None
    mfa_serial = None
    chain = False
    partition = "aws"

    @property
    def target(self) -> str:
        return f"{self.role.role_name} in account {self.role.account_id}"

    @property
    def region(self) -> str | None:
        return self.role.region

    @property
    def source_text(self) -> str:
        """How the status names where the credentials come from."""
        return f"IAM Identity Center, {self.role.target.label}"


@dataclass(frozen=True)
class LoginRequest:
    """``%aws_login``: the credentials of a console sign-in (``aws login``), read from botocore's
    login cache and renewed there with the refresh token (CreateOAuth2Token, AWS Sign-In).

    ``session`` is the login session (the console identity's ARN, the profile's ``login_session``),
    ``login_profile`` the profile that names it, ``session_ends`` when the login session ends at
    the latest (AWS Sign-In: 12 hours after the sign-in). The grant it yields is the kernel's *base
    identity* (``base_identity``): roles are assumed from it and ``--clear`` goes back to it.
    AWS Sign-In sets the lifetime (15 minutes): ``duration`` is None.
    """

    session: str
    login_profile: str
    region: str | None = None
    session_ends: datetime | None = None
    label: str = ""
    operation = "CreateOAuth2Token"
    mfa_session_signs = False
    source = "login"
    base_identity = True
    remembered_as = None
    duration = None
    profile = None  # no STS source: the refresh token and its DPoP key are the proof
    credential_source = None
    mfa_serial = None
    chain = False

    @property
    def partition(self) -> str:
        parts = self.session.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"

    @property
    def target(self) -> str:
        return f"the console sign-in {self.session}"

    @property
    def source_text(self) -> str:
        """How the status names where the credentials come from."""
        return f"console sign-in (aws login), profile {self.login_profile}"


Request = RoleRequest | FederationRequest | SessionTokenRequest | SsoRoleRequest | LoginRequest
