"""What a typed role word names when it is neither an ARN, an alias nor a profile: a role as the
panel's picker and the recently used list show it, or the closest known ones for the error.

    %assume_role analytics-reader   # the recent list shows that label for an ARN: that ARN
    %assume_role AnalyticsReader    # the name of one known role ARN: that ARN
    %assume_role analytics-reder    # refused: "did you mean analytics-reader?"
    %assume_role arn:aws:iam::123456789012:role/analytics-reder
                                    # denied by STS: "did you mean ...role/analytics-reader?"

The known roles are :meth:`Roles.candidates` (aliases, role and SSO profiles, recently used
roles), so a suggestion always names something the user has or had. Only what the user typed
exactly is resolved; anything merely close is suggested, never assumed.
"""

from __future__ import annotations

from ..base.errors import InvalidInput
from ..base.suggest import closest


def _role_name(arn: str) -> str | None:
    """``Reader`` of ``arn:aws:iam::123456789012:role/team/Reader``; None for what is not a role ARN."""
    if not arn.startswith("arn:") or ":role/" not in arn:
        return None
    return arn.rsplit("/", 1)[-1] or None


def resolve(typed: str, candidates: list[tuple[str, str]]) -> tuple[str, str] | None:
    """(label, role ARN) that ``typed`` names exactly: a label of the list (a recently used role's),
    else the name of exactly one known role ARN. None if it names none; InvalidInput if it names
    roles in several accounts (or paths)."""
    for label, arn in candidates:
        if label == typed and _role_name(arn) is not None:
            return label, arn
    named = {arn: label for label, arn in candidates if _role_name(arn) == typed}
    if len(named) == 1:
        ((arn, label),) = named.items()
        return label, arn
    if named:
        raise InvalidInput(f"{typed!r} is the name of several known roles: {', '.join(sorted(named))}. "
                           "Give the whole role ARN, or an alias (TempCreds.roles).")
    return None


def suggestion(typed: str, candidates: list[tuple[str, str]]) -> str:
    """``"did you mean analytics-reader?"`` for the known label or role name closest to ``typed``;
    "" when none is close."""
    words = [label for label, _ in candidates]
    words += [name for _, arn in candidates if (name := _role_name(arn)) is not None]
    found = closest(typed, words)
    return f"did you mean {found[0]}?" if found else ""


def near_arn(arn: str, candidates: list[tuple[str, str]]) -> str:
    """For a role ARN that STS refused: the known role ARN in the same account whose name is
    closest (``analytics-reder`` for ``analytics-reader``), or one of the same name in an account
    that differs by a digit or two; "" when none is, or when ``arn`` is itself known (then the refusal
    is about trust or permissions, not spelling)."""
    name = _role_name(arn)
    known = {known for _, known in candidates if _role_name(known) is not None}
    if name is None or arn in known:
        return ""
    prefix = arn[: len(arn) - len(name)]
    same_account = {other[len(prefix):]: other for other in known if other.startswith(prefix) and "/" not in other[len(prefix):]}
    found = closest(name, same_account)
    if found:
        return same_account[found[0]]
    account = arn.split(":")[4]
    slips = [other for other in known if _role_name(other) == name and len(other.split(":")[4]) == len(account)
             and sum(a != b for a, b in zip(other.split(":")[4], account, strict=True)) <= 2]
    return slips[0] if len(slips) == 1 else ""
