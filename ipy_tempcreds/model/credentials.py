"""Value objects: a set of temporary credentials, what a source issued, and what is active.

Objects here hold secrets, so their repr, str and HTML show only masked key ids; the secret access
key and session token are reachable as attributes, never in any rendering. What was asked for is
in model/requests.py.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..base import redaction
from ..base.errors import StsError, unreadable_answer
from ..base.times import clock_text, moment_text

if TYPE_CHECKING:
    from .requests import Request

# AWS's own constraint on an access key id (IAM API reference: 16-128 word characters). Every
# source checks the key ids it is given against it.
ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9_]{16,128}")


def account_of(arn: str) -> str | None:
    """The account id in an ARN (``arn:aws:sts::123456789012:...``), None if it has none."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


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
    """A set of temporary credentials, as a source issued them.

    Its repr and str show the access key id masked (`ASIA…WXYZ`) and hide the secret access key and
    the session token.

    Attributes:
        access_key_id: The access key id.
        secret_access_key: The secret access key (never shown).
        session_token: The session token (never shown).
        expiration: When they expire, an aware `datetime` in UTC.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime

    def __post_init__(self) -> None:
        # Whatever the source: from now on no log record of this process shows them (base/logs.py).
        redaction.remember(self.secret_access_key, self.session_token)

    @classmethod
    def from_sts(cls, response_credentials: dict | None, *, action: str = "The STS call") -> TemporaryCredentials:
        """The ``Credentials`` of an STS answer, checked: anything missing, empty or malformed is
        refused with an :class:`StsError` naming the field, never its value. ``action`` says what
        was asked ("AssumeRole ARN"). Whether they have expired already is the issuer's question
        (on the manager's clock), the same for every source."""
        if not isinstance(response_credentials, dict):
            raise unreadable_answer(action, "holds no credentials")
        missing = [name for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
                   if not response_credentials.get(name)]
        if missing:
            raise unreadable_answer(action, f"has no {' and no '.join(missing)}")
        key_id, secret, token = (response_credentials[name] for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"))
        if not all(isinstance(value, str) for value in (key_id, secret, token)) or not ACCESS_KEY_ID.fullmatch(key_id):
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


def refuse_expired(credentials: TemporaryCredentials, *, asked_at: datetime, what: str, service: str,
                   zone: str | None = None) -> None:
    """Refuse credentials that expired before they were asked for, whichever source issued them.

    Installing them would make every AWS call fail and renewal due at once, and again after that (a
    call loop). Either the source answered nonsense (a stale answer from a caching proxy) or this
    machine's clock is far ahead of AWS's. Compared with the time of asking, on the manager's clock:
    a laptop that slept through a slow call is not a reason to refuse.
    """
    if credentials.expiration > asked_at:
        return
    raise StsError(
        f"{what} failed: {service} answered with credentials that expired at "
        f"{clock_text(credentials.expiration, asked_at, zone)}, already past by this machine's clock "
        f"({clock_text(asked_at, asked_at, zone)}); nothing changed. Either the answer is stale (a caching "
        "proxy in the way) or this machine's clock is wrong: check its time synchronisation, then try again.",
        "ExpiredAnswer",
    )


@dataclass(frozen=True, repr=False)
class Issued:
    """What a source handed out for a request: the credentials and the identity they carry."""

    credentials: TemporaryCredentials
    arn: str
    account: str | None
    user_id: str | None

    def __repr__(self) -> str:
        return f"Issued(arn={self.arn!r}, credentials={self.credentials!r})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class Grant:
    """The credentials in force and where they came from: what `current()` and `assume_role()` return.

    Its repr, str and HTML table show the identity, the masked key id, the expiry and the source,
    never a secret.

    Attributes:
        credentials: The `TemporaryCredentials`.
        arn: The identity AWS sees; for a role `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
        account: The account id, when known.
        user_id: The unique id of the identity, when known.
        source: Where the credentials that called STS came from (a profile, the environment, ...).
        obtained_at: When they were obtained.
        auto_refresh: Whether they renew before expiry.
        parent: The grant a chained role was assumed from; a refresh renews the chain from its root.
        expiration: When they expire, an aware `datetime` in UTC.
        access_key_id: The access key id (shown masked).
    """

    credentials: TemporaryCredentials
    arn: str
    account: str | None
    user_id: str | None
    request: Request
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

    def _repr_html_(self, zone: str | None = None) -> str:
        """A table; times in ``zone`` (UTC when not given: in a kernel with the extension loaded,
        the display formatter passes ``TempCreds.time_zone``, so a table and the magics agree)."""
        rows = [
            ("Identity", self.arn),
            ("Account", self.account or "?"),
            ("Access key", mask_key_id(self.access_key_id)),
            ("Expires", moment_text(self.expiration, zone)),
            ("Auto-refresh", "on" if self.auto_refresh else "off"),
            ("Source", self.source),
        ]
        body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f'<table class="tempcreds-grant">{body}</table>'
