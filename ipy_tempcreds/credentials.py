"""Value objects: a set of temporary credentials, what was asked for, and what is active.

Objects here hold secrets, so their repr, str and HTML show only masked key ids; the secret access
key and session token are reachable as attributes, never in any rendering.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .errors import StsError, unreadable_answer
from .times import moment_text

if TYPE_CHECKING:  # sso_portal builds on this module
    from .sso_portal import SsoRoleRequest

# AWS's own constraint on an access key id (IAM API reference: 16-128 word characters).
_ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9_]{16,128}")


def mask_key_id(access_key_id: str) -> str:
    """``ASIA…WXYZ``: enough to tell key sets apart in CloudTrail, not enough to use one."""
    if len(access_key_id) < 12:
        return "…"
    return f"{access_key_id[:4]}…{access_key_id[-4:]}"


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: what botocore and the AWS CLI parse in AWS_CREDENTIAL_EXPIRATION."""
    # isoformat, not strftime: the same text, and strftime's detour through the time module was
    # ~20 us of every switch right after the STS call (benchmarks/bench_switch.py).
    return moment.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


@dataclass(frozen=True, repr=False)
class TemporaryCredentials:
    """Access key id, secret access key, session token and expiry, as STS returned them."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime

    @classmethod
    def from_sts(cls, response_credentials: dict | None, *, action: str = "The STS call",
                 now: datetime | None = None) -> TemporaryCredentials:
        """The ``Credentials`` of an STS answer, checked: anything missing, empty, malformed or
        already expired (by ``now``, default the wall clock) is refused with an :class:`StsError`
        naming the field, never its value. ``action`` says what was asked ("AssumeRole ARN")."""
        if not isinstance(response_credentials, dict):
            raise unreadable_answer(action, "holds no credentials")
        missing = [name for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
                   if not response_credentials.get(name)]
        if missing:
            raise unreadable_answer(action, f"has no {' and no '.join(missing)}")
        key_id, secret, token = (response_credentials[name] for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"))
        if not all(isinstance(value, str) for value in (key_id, secret, token)) or not _ACCESS_KEY_ID.fullmatch(key_id):
            raise unreadable_answer(action, "holds an access key that is not one")
        expiration = response_credentials["Expiration"]
        if not isinstance(expiration, datetime):
            raise unreadable_answer(action, "holds an Expiration that is not a time")
        if expiration.tzinfo is None:  # botocore parses ISO timestamps aware; be sure anyway
            expiration = expiration.replace(tzinfo=timezone.utc)
        else:
            # botocore's tzinfo is dateutil's tzutc, whose Python code runs on every conversion
            # and comparison; the stdlib's UTC is C (each switch converts several times).
            expiration = expiration.astimezone(timezone.utc)
        now = now or datetime.now(timezone.utc)
        if expiration <= now:
            # Installing them would make every AWS call fail, and a renewal of credentials that
            # are due at once would run again at once, without pause.
            raise StsError(
                f"{action} failed: STS answered with credentials that expired at "
                f"{iso_utc(expiration)}, before this machine's time ({iso_utc(now)}). Either the "
                "answer is stale (a caching proxy in the way) or this machine's clock is wrong: "
                "check its time synchronisation, then try again.",
                "ExpiredAnswer",
            )
        return cls(key_id, secret, token, expiration)

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
            "AWS_CREDENTIAL_EXPIRATION": iso_utc(self.expiration),
        }

    def botocore_metadata(self) -> dict[str, str]:
        """The dict botocore's ``RefreshableCredentials`` expects from a refresh function."""
        return {
            "access_key": self.access_key_id,
            "secret_key": self.secret_access_key,
            "token": self.session_token,
            "expiry_time": iso_utc(self.expiration),
        }

    def __repr__(self) -> str:
        return (
            f"TemporaryCredentials(access_key_id={mask_key_id(self.access_key_id)!r}, "
            f"secret_access_key=<hidden>, session_token=<hidden>, expiration={iso_utc(self.expiration)!r})"
        )

    __str__ = __repr__


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

    @property
    def target(self) -> str:
        return self.role_arn

    @property
    def partition(self) -> str:
        return self.role_arn.split(":")[1]

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


Request = RoleRequest | FederationRequest | SessionTokenRequest


@dataclass(frozen=True, repr=False)
class Grant:
    """Credentials in force and where they came from: what ``current()`` returns.

    ``arn`` is the identity AWS will see (for a role: ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``).
    ``parent`` is the grant a chained role was assumed from; a refresh renews the chain from its root.
    """

    credentials: TemporaryCredentials
    arn: str
    account: str | None
    user_id: str | None
    request: Request | SsoRoleRequest
    source: str
    obtained_at: datetime
    auto_refresh: bool = True
    parent: Grant | None = field(default=None, compare=False)
    # Obtained with an MFA code that no MFA session keeps: every renewal needs a new code.
    renewal_needs_code: bool = field(default=False, compare=False)

    @property
    def expiration(self) -> datetime:
        return self.credentials.expiration

    @property
    def access_key_id(self) -> str:
        return self.credentials.access_key_id

    def remaining(self, now: datetime) -> float:
        return (self.expiration - now).total_seconds()

    def lifetime(self) -> float:
        return (self.expiration - self.obtained_at).total_seconds()

    def with_auto_refresh(self, value: bool) -> Grant:
        return replace(self, auto_refresh=value)

    def __repr__(self) -> str:
        return (
            f"Grant(arn={self.arn!r}, access_key_id={mask_key_id(self.access_key_id)!r}, "
            f"expiration={iso_utc(self.expiration)!r}, auto_refresh={self.auto_refresh}, "
            f"source={self.source!r})"
        )

    __str__ = __repr__

    def _repr_html_(self) -> str:
        rows = [
            ("Identity", self.arn),
            ("Account", self.account or "?"),
            ("Access key", mask_key_id(self.access_key_id)),
            ("Expires", moment_text(self.expiration)),  # in TempCreds.time_zone, as the magics say
            ("Auto-refresh", "on" if self.auto_refresh else "off"),
            ("Source", self.source),
        ]
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f'<table class="tempcreds-grant">{body}</table>'
