"""Checks and parsers for everything a user passes, applied before any call to AWS.

The patterns are STS's own (AssumeRole / GetFederationToken / GetSessionToken API reference), so
input refused here would also be refused by AWS, only later and with a vaguer message.
"""

from __future__ import annotations

import ipaddress
import math
import numbers
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from .errors import Hint, InvalidInput

MIN_DURATION = 900
MAX_DURATION = 43200
CHAINED_MAX_DURATION = 3600
# GetSessionToken and GetFederationToken: up to 36 hours for IAM users (1 hour for the root user).
MAX_SESSION_TOKEN_DURATION = 129600

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
PARTITION_PATTERN = "|".join(re.escape(p) for p in PARTITIONS)
# STS's patterns are ASCII: Python's \w and \d would also take other scripts' letters and digits
# ("élise", "١٢٣٤٥٦"), so they are spelled out. Checks use fullmatch: `$` would let a trailing
# newline through. Either would only fail later, at AWS, with a vaguer message.
_NAME_CHARS = r"[A-Za-z0-9_+=,.@-]"
_DIGIT = "[0-9]"
# A path is any printable ASCII (IAM's pattern for paths: \u0021-\u007E, so "$", "!" or "~" too,
# up to 512 characters); the role name after it is restricted to _NAME_CHARS.
_PATH_CHARS = r"[\x21-\x2e\x30-\x7e]"
_ROLE_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION_PATTERN}):iam::(?P<account>{_DIGIT}{{12}}):role/"
    rf"(?P<path>(?:{_PATH_CHARS}+/)*)(?P<name>{_NAME_CHARS}{{1,64}})"
)
MAX_ROLE_PATH = 512
_ANY_ARN = re.compile(r"arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)", re.S)
_SESSION_NAME = re.compile(rf"{_NAME_CHARS}{{2,64}}")
_FEDERATION_NAME = re.compile(rf"{_NAME_CHARS}{{2,32}}")
_SOURCE_IDENTITY = re.compile(rf"{_NAME_CHARS}{{2,64}}")
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")
_MFA_SERIAL = re.compile(r"[A-Za-z0-9_+=/:,.@-]{9,256}")
_MFA_CODE = re.compile(r"[0-9]{6}")
_REGION = re.compile(r"[a-z]{2,}(?:-[a-z]+)+-[0-9]{1,2}")
_DURATION_UNITS = re.compile(r"(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?")

# The federation endpoints for console sign-in, by partition (TempCreds.signin_endpoint overrides).
SIGNIN_ENDPOINTS = {
    "aws": "https://signin.aws.amazon.com/federation",
    "aws-us-gov": "https://signin.amazonaws-us-gov.com/federation",
    "aws-cn": "https://signin.amazonaws.cn/federation",
}

DEFAULT_REGION_BY_PARTITION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


@dataclass(frozen=True)
class RoleArn:
    """A parsed IAM role ARN."""

    arn: str
    partition: str
    account: str
    path: str
    name: str


def text_value(value, what: str) -> str:
    """``value`` if it is a string; else a clear refusal (the Python API takes any object, and a
    TypeError from deep inside a regex would reach the user as a traceback)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {type(value).__name__} ({value!r}).")
    return value


def text_list(values, what: str, example: str) -> list[str]:
    """A list of strings from a list/tuple of strings or one string (not its characters)."""
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    if isinstance(values, (bytes, bytearray, Mapping)) or not isinstance(values, Iterable):
        raise InvalidInput(f"{what} must be a list of strings such as [{example!r}], not {type(values).__name__}.")
    values = list(values)
    for value in values:
        if not isinstance(value, str):
            raise InvalidInput(f"{what} must be strings such as {example!r}, not {type(value).__name__} ({value!r}).")
    return values


def parse_role_arn(text: str) -> RoleArn:
    """Parse an IAM role ARN, with advice when ``text`` is an ARN of the wrong kind."""
    text = text_value(text, "the role").strip()
    match = _ROLE_ARN.fullmatch(text)
    if match and len(match["path"]) + 1 > MAX_ROLE_PATH:
        raise InvalidInput(f"{text[:80]!r}…: the role's path is longer than IAM's {MAX_ROLE_PATH} characters.")
    if match:
        return RoleArn(text, match["partition"], match["account"], match["path"], match["name"])
    any_arn = _ANY_ARN.fullmatch(text)
    if not any_arn and _MFA_CODE.fullmatch(text.replace(" ", "")):
        # An MFA code typed into the role field: this message is shown, and in the panel it is
        # widget state saved into the notebook, so it never repeats the digits.
        raise InvalidInput("the role given is 6 digits, which looks like an MFA code, not a role (not shown "
                           "here). Put a role ARN, alias or profile as the role, and the code in {hint}.",
                           hint=Hint("mfa_code"))
    if not any_arn:
        raise InvalidInput(
            f"{text!r} is not a role ARN, an alias from TempCreds.roles, or a profile with role_arn. "
            "A role ARN looks like arn:aws:iam::123456789012:role/Reader."
        )
    partition, service, account, resource = (
        any_arn["partition"], any_arn["service"], any_arn["account"], any_arn["resource"])
    if partition not in PARTITIONS:
        raise InvalidInput(
            f"{text!r} names the unknown partition {partition!r}; expected one of {', '.join(PARTITIONS)}."
        )
    if service == "sts" and resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        raise InvalidInput(
            f"{text!r} is an assumed-role session, not a role. Assume the role itself: "
            f"arn:{partition}:iam::{account}:role/{role}"
        )
    if service == "iam" and not resource.startswith("role/"):
        kind = resource.split("/")[0] or "resource"
        raise InvalidInput(f"{text!r} is an IAM {kind} ARN, not a role ARN (…:role/NAME).")
    if service != "iam":
        raise InvalidInput(f"{text!r} is an ARN of the {service or '?'} service; a role ARN is arn:{partition}:iam::ACCOUNT:role/NAME.")
    if not re.fullmatch(r"[0-9]{12}", any_arn["account"]):
        raise InvalidInput(f"{text!r}: the account id must be 12 digits.")
    if any_arn["region"]:
        raise InvalidInput(f"{text!r}: IAM ARNs have no region (arn:{partition}:iam::ACCOUNT:role/NAME).")
    raise InvalidInput(
        f"{text!r}: the role name must be 1-64 characters of letters, digits and +=,.@_- "
        "(with an optional /path/ of printable characters before it)."
    )


def parse_duration(value) -> int:
    """Seconds from ``3600``, ``"3600"``, ``"15m"``, ``"1h30m"``, ``"12h"`` or a ``timedelta``."""
    if type(value) is int:  # TempCreds.default_duration: skip the numbers ABCs on every assume
        return value
    if isinstance(value, timedelta):
        total = value.total_seconds()
        if total != int(total):
            raise InvalidInput(f"duration {value} has a fraction of a second; STS counts whole seconds.")
        seconds = int(total)
    elif isinstance(value, bool):
        raise InvalidInput(f"duration {value!r} is not a number of seconds.")
    elif isinstance(value, numbers.Integral):  # also numpy integers
        seconds = int(value)
    elif isinstance(value, numbers.Real):  # float, numpy floats, Fraction
        if value != value or value in (float("inf"), float("-inf")) or value != math.trunc(value):
            raise InvalidInput(f"duration {value!r} is not a whole number of seconds; STS counts whole seconds.")
        seconds = int(math.trunc(value))  # noqa: RUF046 - typeshed types Real.__trunc__ as an Integral, not int
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        # Not str.isdigit(): it is True for "³" and other digits int() refuses (a ValueError
        # traceback instead of this message).
        if re.fullmatch(r"[0-9]+", text):
            seconds = int(text)
        else:
            match = _DURATION_UNITS.fullmatch(text)
            if not text or not match:
                raise InvalidInput(
                    f"duration {value!r} is not understood: use seconds (3600) or units such as 15m, 1h, 1h30m, 12h."
                )
            seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    else:
        raise InvalidInput(f"duration {value!r} is not a number of seconds or a string like '1h'.")
    return seconds


def check_duration(seconds: int, *, low: int = MIN_DURATION, high: int = MAX_DURATION, what: str = "AssumeRole") -> int:
    """Refuse a duration outside what STS allows for ``what``."""
    if not low <= seconds <= high:
        raise InvalidInput(
            f"duration {seconds} s is outside what {what} allows ({_span(low)} to {_span(high)})."
        )
    return seconds


def _span(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def check_session_name(name: str) -> str:
    name = text_value(name, "the session name")
    if not _SESSION_NAME.fullmatch(name):
        raise InvalidInput(
            f"session name {name!r} must be 2-64 characters of letters, digits and +=,.@_- "
            "(no spaces)."
        )
    return name


def check_federation_name(name: str) -> str:
    name = text_value(name, "the federated user name")
    if not _FEDERATION_NAME.fullmatch(name):
        raise InvalidInput(
            f"federated user name {name!r} must be 2-32 characters of letters, digits and +=,.@_-."
        )
    return name


def check_source_identity(value: str) -> str:
    value = text_value(value, "the source identity")
    if not _SOURCE_IDENTITY.fullmatch(value):
        raise InvalidInput(
            f"source identity {value!r} must be 2-64 characters of letters, digits and +=,.@_-."
        )
    return value


def check_external_id(value: str) -> str:
    value = text_value(value, "the external ID")
    if not _EXTERNAL_ID.fullmatch(value):
        raise InvalidInput("the external ID must be 2-1224 characters of letters, digits and +=,.@:/-.")
    return value


def check_mfa_serial(value: str) -> str:
    value = text_value(value, "the MFA serial")
    if not _MFA_SERIAL.fullmatch(value):
        raise InvalidInput(
            f"MFA serial {value!r} is neither an MFA device ARN (arn:aws:iam::123456789012:mfa/NAME) "
            "nor a hardware token serial."
        )
    return value


def check_mfa_code(value: str) -> str:
    if not isinstance(value, str) or not _MFA_CODE.fullmatch(value.strip()):
        # Never echo the code: a near-miss of a real code is still sensitive for ~30 seconds.
        raise InvalidInput("the MFA code must be exactly 6 digits.")
    return value.strip()


def check_region(value: str) -> str:
    value = text_value(value, "the region")
    if not _REGION.fullmatch(value):
        raise InvalidInput(f"region {value!r} is not a region name like us-east-1 or eu-central-2.")
    return value


def check_profile_name(name) -> str:
    """A --profile value: a non-empty name (an empty one would silently mean the default profile)."""
    name = text_value(name, "the profile")
    if not name.strip():
        raise InvalidInput("{hint} is empty; name a profile from your AWS config files (`aws configure "
                           "list-profiles`), or leave it out to use the kernel's own credentials.", hint=Hint("profile"))
    if name != name.strip():
        raise InvalidInput(f"profile {name!r} has spaces around it; no profile is named that way.")
    return name


def check_signin_endpoint(value: str | None) -> str | None:
    """The federation endpoint as given, if it is usable: https, or http to a loopback address only
    (the request carries the secret access key in its query). None or '': the partition's."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    parts = urllib.parse.urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidInput(f"signin_endpoint {text!r} is not an https URL such as {SIGNIN_ENDPOINTS['aws']}.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidInput("signin_endpoint must be a plain URL: no user:password@, no ?query and no #fragment.")
    if parts.scheme == "http" and not _is_loopback(host):
        raise InvalidInput(
            f"signin_endpoint {text!r} uses http to {host}: the request carries the secret access key, so "
            "plain http is allowed only to a loopback address (127.0.0.1, ::1, localhost). Use https."
        )
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
