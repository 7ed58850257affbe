"""The kernel's base identity: a console sign-in (``%aws_login``) under the roles.

Without one, a role is assumed with the kernel's own credentials as they were before the first
assume (sources/sts.py). With one, the login's grant is what the environment holds while no role is
active, what a role is assumed from (as a parent, like a chain: its credentials are temporary, so
AWS caps such a role at 1 hour) and what ``clear()`` of a role goes back to. A request that names
its own source credentials (``--profile``, ``credential_source``) or another source (IAM Identity
Center) does not use it. The manager keeps the grant; these are its rules.
"""

from __future__ import annotations

from ..base import times
from ..base import validation as v
from ..base.errors import Hint, InvalidInput
from ..model.credentials import Grant


def is_base(grant: Grant | None) -> bool:
    """True for a grant that is a base identity (its request says so)."""
    return grant is not None and bool(getattr(grant.request, "base_identity", False))


def signs_with_base(request, sts_name: str) -> bool:
    """True when ``request`` is an STS call that names no source credentials of its own (with a
    base identity, that call is signed by it)."""
    return (request.source == sts_name and request.profile is None and request.credential_source is None
            and not request.chain)


def parent_from_base(issuer, request, base: Grant) -> Grant:
    """The base identity, renewed if due, as the parent of ``request``; the 1-hour cap checked first."""
    if request.duration is not None and request.duration > v.CHAINED_MAX_DURATION:
        raise InvalidInput(f"{request.target} cannot be assumed for {times.format_duration(request.duration)} "
                           "from the console sign-in: its credentials are temporary, and AWS lets a role "
                           "assumed from temporary credentials last at most 1 hour. Use {hint} or less.",
                           hint=Hint("duration", "1h"))
    return issuer.fresh(base)
