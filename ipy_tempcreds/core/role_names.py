"""What a typed role word names when it is neither an ARN, an alias nor a profile: a role as the
panel's picker and the recently used list show it, or the closest known ones for the error.

    %assume_role analytics-reader   # the recent list shows that label for an ARN: that ARN
    %assume_role AnalyticsReader    # the name of one known role ARN: that ARN
    %assume_role analytics-reder    # refused: "did you mean analytics-reader?"

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
