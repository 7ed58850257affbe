"""Identities in words, and every role one kernel knows: what the AccessDenied note
(core/access_note.py), ``%aws_can`` (core/read_checks.py) and ``%%as_role`` say.

Words never hold a key: an identity is its role, session name and account (or user, or federated
user), read from its ARN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model.credentials import Grant

_ARN = re.compile(r"arn:[\w-]+:(?:sts|iam)::(?P<account>\d{12}):(?P<kind>[\w-]+)/(?P<rest>.+)")


def arn_words(arn: str) -> str:
    """``role Reader (session alice, account 123456789012)``, ``IAM user alice (account ...)``."""
    match = _ARN.fullmatch(arn or "")
    if match is None:
        return arn or "an unknown identity"
    account, kind, rest = match["account"], match["kind"], match["rest"]
    if kind == "assumed-role" and "/" in rest:
        role, session = rest.rsplit("/", 1)
        return f"role {role} (session {session}, account {account})"
    if kind == "user":
        return f"IAM user {rest.rsplit('/', 1)[-1]} (account {account})"
    if kind == "federated-user":
        return f"federated user {rest} (account {account})"
    if kind == "role":
        return f"role {rest.rsplit('/', 1)[-1]} (account {account})"
    return arn


def grant_words(grant: Grant | None) -> str:
    """The identity of ``grant`` in words; None is the kernel's own credentials."""
    return arn_words(grant.arn) if grant is not None else "the kernel's own credentials"


def own_identity(manager) -> str:
    """The kernel's own identity in words (one GetCallerIdentity with what a new client uses when
    no role is in force), or a plain description when it cannot be had."""
    from ..base.errors import TempCredsError

    try:
        return arn_words(manager.whoami()["Arn"])
    except (TempCredsError, KeyError):
        return "the kernel's own credentials"


@dataclass(frozen=True)
class KnownRole:
    """A role the kernel knows: how to name it (alias, profile or ARN), its ARN, and whence."""

    label: str
    arn: str
    origin: str  # "in use", "used this session", "alias", "AWS config", "SSO profile", "remembered"


def known_roles(manager) -> list[KnownRole]:
    """The role in force, roles used this session (``session(ROLE)``, ``%%as_role``), then
    aliases, role profiles and remembered roles; each once (by label and by ARN)."""
    found: list[KnownRole] = []
    seen: set[str] = set()

    def add(label: str, arn: str, origin: str) -> None:
        if label in seen or arn in seen:
            return
        seen.update((label, arn))
        found.append(KnownRole(label, arn, origin))

    grant = manager.current()
    if grant is not None and getattr(grant.request, "role_arn", None):
        add(grant.request.label or grant.request.role_arn, grant.request.role_arn, "in use")
    named = getattr(manager, "named", None)
    for label, arn, _ in (named.entries() if named is not None else []):
        add(label, _role_of(arn), "used this session")
    for label, arn, origin in manager.roles.known():
        add(label, arn, origin)
    return found


def _role_of(arn: str) -> str:
    """The role ARN behind an assumed-role session ARN (the session's ARN otherwise)."""
    match = _ARN.fullmatch(arn)
    if match is None or match["kind"] != "assumed-role":
        return arn
    partition = arn.split(":")[1]
    return f"arn:{partition}:iam::{match['account']}:role/{match['rest'].rsplit('/', 1)[0]}"
