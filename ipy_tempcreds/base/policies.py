"""Session tags and session policies, checked before any call to AWS (AssumeRole's own limits).

A policy comes as a dict, JSON text or ``@file``; tags as ``KEY=VALUE`` items or a mapping. What STS
would refuse is refused here, with a message that names the part to fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import Hint, InvalidInput
from .validation import PARTITION_PATTERN, text_list, text_value

MAX_POLICY_CHARS = 2048
MAX_POLICY_FILE_BYTES = 64 * 1024  # room for an indented, commented-out-by-hand policy
MAX_POLICY_ARNS = 10
MAX_TAGS = 50

_POLICY_ARN = re.compile(rf"arn:(?:{PARTITION_PATTERN}):iam::(?:[0-9]{{12}}|aws):policy/[\x21-\x7e]{{1,2000}}")
# Tag keys and values: letters (any script), digits, spaces and _ . : / = + - @ (STS's
# [\p{L}\p{Z}\p{N}_.:/=+\-@]). \s would also let tabs and newlines through: spaces are listed.
_TAG_CHARS = r"[\w.:/=+\-@ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_TAG_KEY = re.compile(rf"{_TAG_CHARS}{{1,128}}")
_TAG_VALUE = re.compile(rf"{_TAG_CHARS}{{0,256}}")


def parse_tags(items) -> dict[str, str]:
    """``["k=v", ...]`` or a mapping to an ordered dict; keys are unique ignoring case, as in STS."""
    if items is None:
        return {}
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        pairs = [_split_tag(item) for item in text_list(items, "tags", "project=churn")]
    if len(pairs) > MAX_TAGS:
        raise InvalidInput(f"{len(pairs)} session tags given; STS allows at most {MAX_TAGS}.")
    tags: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, value in pairs:
        key, value = text_value(key, "a tag key"), text_value(value, f"the value of tag {key!r}")
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
    keys = text_list(keys, "transitive tags", "project")
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


def check_policy_arns(arns) -> list[str]:
    arns = text_list(arns, "policy ARNs", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    if len(arns) > MAX_POLICY_ARNS:
        raise InvalidInput(f"{len(arns)} policy ARNs given; STS allows at most {MAX_POLICY_ARNS}.")
    for arn in arns:
        if not _POLICY_ARN.fullmatch(arn):
            raise InvalidInput(
                f"{arn!r} is not a managed policy ARN (arn:aws:iam::123456789012:policy/NAME or "
                "arn:aws:iam::aws:policy/NAME)."
            )
    return arns
