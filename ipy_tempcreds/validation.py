"""Checks and parsers for everything a user passes, applied before any call to AWS.

The patterns are STS's own (AssumeRole / GetFederationToken / GetSessionToken API reference), so
input refused here would also be refused by AWS, only later and with a vaguer message.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .errors import Hint, InvalidInput

MIN_DURATION = 900
MAX_DURATION = 43200
CHAINED_MAX_DURATION = 3600
# GetSessionToken and GetFederationToken: up to 36 hours for IAM users (1 hour for the root user).
MAX_SESSION_TOKEN_DURATION = 129600
MAX_POLICY_CHARS = 2048
MAX_POLICY_FILE_BYTES = 64 * 1024  # room for an indented, commented-out-by-hand policy
MAX_POLICY_ARNS = 10
MAX_TAGS = 50

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_PARTITION = "|".join(re.escape(p) for p in PARTITIONS)
# STS's patterns are ASCII: Python's \w and \d would also take other scripts' letters and digits
# ("élise", "١٢٣٤٥٦"), so they are spelled out. Checks use fullmatch: `$` would let a trailing
# newline through. Either would only fail later, at AWS, with a vaguer message.
_NAME_CHARS = r"[A-Za-z0-9_+=,.@-]"
_DIGIT = "[0-9]"
# A path is any printable ASCII (IAM's pattern for paths: \u0021-\u007E, so "$", "!" or "~" too,
# up to 512 characters); the role name after it is restricted to _NAME_CHARS.
_PATH_CHARS = r"[\x21-\x2e\x30-\x7e]"
_ROLE_ARN = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):iam::(?P<account>{_DIGIT}{{12}}):role/"
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
_POLICY_ARN = re.compile(rf"arn:(?:{_PARTITION}):iam::(?:{_DIGIT}{{12}}|aws):policy/[\x21-\x7e]{{1,2000}}")
# Tag keys and values: letters (any script), digits, spaces and _ . : / = + - @ (STS's
# [\p{L}\p{Z}\p{N}_.:/=+\-@]). \s would also let tabs and newlines through: spaces are listed.
_TAG_CHARS = r"[\w.:/=+\-@ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_TAG_KEY = re.compile(rf"{_TAG_CHARS}{{1,128}}")
_TAG_VALUE = re.compile(rf"{_TAG_CHARS}{{0,256}}")
_DURATION_UNITS = re.compile(r"(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?")

DEFAULT_REGION_BY_PARTITION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


@dataclass(frozen=True)
class RoleArn:
    """A parsed IAM role ARN."""

    arn: str
    partition: str
    account: str
    path: str
    name: str


def _text(value, what: str) -> str:
    """``value`` if it is a string; else a clear refusal (the Python API takes any object, and a
    TypeError from deep inside a regex would reach the user as a traceback)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {type(value).__name__} ({value!r}).")
    return value


def _text_list(values, what: str, example: str) -> list[str]:
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
    text = _text(text, "the role").strip()
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
    name = _text(name, "the session name")
    if not _SESSION_NAME.fullmatch(name):
        raise InvalidInput(
            f"session name {name!r} must be 2-64 characters of letters, digits and +=,.@_- "
            "(no spaces)."
        )
    return name


def check_federation_name(name: str) -> str:
    name = _text(name, "the federated user name")
    if not _FEDERATION_NAME.fullmatch(name):
        raise InvalidInput(
            f"federated user name {name!r} must be 2-32 characters of letters, digits and +=,.@_-."
        )
    return name


def check_source_identity(value: str) -> str:
    value = _text(value, "the source identity")
    if not _SOURCE_IDENTITY.fullmatch(value):
        raise InvalidInput(
            f"source identity {value!r} must be 2-64 characters of letters, digits and +=,.@_-."
        )
    return value


def check_external_id(value: str) -> str:
    value = _text(value, "the external ID")
    if not _EXTERNAL_ID.fullmatch(value):
        raise InvalidInput("the external ID must be 2-1224 characters of letters, digits and +=,.@:/-.")
    return value


def check_mfa_serial(value: str) -> str:
    value = _text(value, "the MFA serial")
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
    value = _text(value, "the region")
    if not _REGION.fullmatch(value):
        raise InvalidInput(f"region {value!r} is not a region name like us-east-1 or eu-central-2.")
    return value


def parse_tags(items) -> dict[str, str]:
    """``["k=v", ...]`` or a mapping to an ordered dict; keys are unique ignoring case, as in STS."""
    if items is None:
        return {}
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        pairs = [_split_tag(item) for item in _text_list(items, "tags", "project=churn")]
    if len(pairs) > MAX_TAGS:
        raise InvalidInput(f"{len(pairs)} session tags given; STS allows at most {MAX_TAGS}.")
    tags: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, value in pairs:
        key, value = _text(key, "a tag key"), _text(value, f"the value of tag {key!r}")
        if key.lower().startswith("aws:"):
            raise InvalidInput(f"tag key {key!r}: the prefix aws: is reserved for AWS.")
        if not _TAG_KEY.fullmatch(key):
            raise InvalidInput(
                f"tag key {key!r} must be 1-128 characters of letters, digits, spaces and _.:/=+-@."
            )
        if not _TAG_VALUE.fullmatch(value):
            raise InvalidInput(
                f"the value of tag {key!r} must be at most 256 characters of letters, digits, spaces and _.:/=+-@."
            )
        if key.lower() in seen:
            raise InvalidInput(
                f"tag {key!r} is given twice (tag keys are case-insensitive; first as {seen[key.lower()]!r})."
            )
        seen[key.lower()] = key
        tags[key] = value
    return tags


def _split_tag(item: str) -> tuple[str, str]:
    if "=" not in item:
        raise InvalidInput(f"tag {item!r} must be KEY=VALUE (for example {{hint}}).", hint=Hint("tags", "project=churn"))
    key, value = item.split("=", 1)
    if not key:
        raise InvalidInput(f"tag {item!r} has an empty key; use KEY=VALUE.")
    return key, value


def check_transitive_tags(keys, tags: dict[str, str]) -> list[str]:
    keys = _text_list(keys, "transitive tags", "project")
    known = {k.lower() for k in tags}
    for key in keys:
        if key.lower() not in known:
            raise InvalidInput(
                f"transitive tag {key!r} is not among the session tags; add {{hint}} too.",
                hint=Hint("tags", f"{key}=VALUE"),
            )
    return keys


def load_policy(value) -> str | None:
    """A session policy from a dict, a JSON string or ``@file``, as compact JSON text."""
    if value is None:
        return None
    if isinstance(value, dict):
        document = value
    else:
        text = str(value).strip()
        if text.startswith("@"):
            path = Path(text[1:]).expanduser()
            try:
                # Read a bounded amount: "@/dev/zero" or a wrong multi-GB file must not exhaust
                # memory; anything longer than this is refused below anyway.
                with path.open("rb") as handle:
                    raw = handle.read(MAX_POLICY_FILE_BYTES + 1)
            except OSError as exc:
                raise InvalidInput(f"cannot read the policy file {str(path)!r}: {exc.strerror}.") from None
            if len(raw) > MAX_POLICY_FILE_BYTES:
                raise InvalidInput(
                    f"the policy file {str(path)!r} is larger than {MAX_POLICY_FILE_BYTES // 1024} KiB; a "
                    f"session policy is at most {MAX_POLICY_CHARS} characters."
                )
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput(f"the policy file {str(path)!r} is not UTF-8 text.") from None
        try:
            document = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"the session policy is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
            ) from None
    if not isinstance(document, dict):
        raise InvalidInput("the session policy must be a JSON object with a Statement list.")
    if "Statement" not in document:
        raise InvalidInput('the session policy has no "Statement"; an IAM policy needs one.')
    try:
        # allow_nan=False: NaN/Infinity are not JSON, and STS would refuse them.
        compact = json.dumps(document, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the session policy cannot be written as JSON: {exc}.") from None
    if len(compact) > MAX_POLICY_CHARS:
        raise InvalidInput(
            f"the session policy is {len(compact)} characters without spaces; STS allows {MAX_POLICY_CHARS}. "
            "Use a managed policy with {hint} instead.", hint=Hint("policy_arns")
        )
    return compact


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, refused if a key appears twice in it.

    json.loads keeps the last of two equal keys without a word: a Deny under one "Statement" and an
    Allow under a second reached STS as the Allow alone. IAM's own parser may read it otherwise, so
    what the user meant is unknowable: refuse, and name the key.
    """
    document: dict = {}
    for key, value in pairs:
        if key in document:
            raise InvalidInput(
                f"the session policy has the key {key!r} twice in one object; only one would reach "
                "STS (JSON keeps the last). Merge them into one (several statements go in one "
                '"Statement" list).'
            )
        document[key] = value
    return document


def check_profile_name(name) -> str:
    """A --profile value: a non-empty name (an empty one would silently mean the default profile)."""
    name = _text(name, "the profile")
    if not name.strip():
        raise InvalidInput("{hint} is empty; name a profile from your AWS config files (`aws configure "
                           "list-profiles`), or leave it out to use the kernel's own credentials.", hint=Hint("profile"))
    if name != name.strip():
        raise InvalidInput(f"profile {name!r} has spaces around it; no profile is named that way.")
    return name


def check_policy_arns(arns) -> list[str]:
    arns = _text_list(arns, "policy ARNs", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    if len(arns) > MAX_POLICY_ARNS:
        raise InvalidInput(f"{len(arns)} policy ARNs given; STS allows at most {MAX_POLICY_ARNS}.")
    for arn in arns:
        if not _POLICY_ARN.fullmatch(arn):
            raise InvalidInput(
                f"{arn!r} is not a managed policy ARN (arn:aws:iam::123456789012:policy/NAME or "
                "arn:aws:iam::aws:policy/NAME)."
            )
    return arns
