"""The note after a cell that AWS refused: who the kernel was signed as, which roles it knows, the
command that checks them; for expired credentials, when and why, and the one command that renews.

Shown after the traceback (never instead of it) by the post-run hook (ui/access_hook.py) when
``TempCreds.explain_access_denied`` is on. What is a refusal is core/denials.py's; the identity
is the one in force when the error happened (a ``%%as_role`` cell's role, core/cell_roles.py),
named by role, session and account, never by a key.
"""

from __future__ import annotations

from ..base.errors import TempCredsError
from ..base.times import clock_text, format_remaining
from ..model.credentials import Grant
from .denials import EXPIRED, LOGIN_ENDED, SSO_ENDED, Denial, classify
from .identities import arn_words, grant_words, known_roles, own_identity

MAX_ROLES = 6  # roles named in the note; the rest counted


def access_note(manager, error: BaseException) -> str | None:
    """The note for ``error``, or None when it is not AWS refusing the credentials."""
    denial = classify(error)
    if denial is None:
        return None
    if denial.code in (SSO_ENDED, LOGIN_ENDED):  # before whoami: that call would fail the same way
        return _sign_in_ended(manager, denial)
    roles = getattr(manager, "cell_roles", None)
    known, grant = roles.signed_as(error) if roles is not None else (False, None)
    if not known:
        grant = manager.current()
    if grant is not None:
        who = grant_words(grant)
    elif denial.caller:  # AWS named who it refused: no GetCallerIdentity needed
        who = arn_words(denial.caller)
    else:
        who = own_identity(manager)
    if denial.kind == EXPIRED:
        return _expired(manager, denial, grant, who)
    now = manager.clock()
    lifetime = ""
    if grant is not None:
        left = grant.remaining(now)
        lifetime = (f", credentials valid for {format_remaining(left)} more" if left > 0
                    else f", credentials expired {format_remaining(-left)} ago")
    where = f" for {denial.url}" if denial.url else ""
    lines = [f"ipy_tempcreds: AWS refused this ({denial.code}){where}. The kernel was signed as {who}{lifetime}."]
    if denial.caller and arn_words(denial.caller) != who:
        lines.append(f"AWS names the caller {arn_words(denial.caller)}.")
    lines.append(_roles_line(manager, grant, denial))
    return "\n".join(lines)


def _roles_line(manager, grant: Grant | None, denial: Denial) -> str:
    target = denial.url or "s3://BUCKET/KEY"
    try:
        roles = [role for role in known_roles(manager) if grant is None or role.arn != getattr(grant.request, "role_arn", None)]
    except TempCredsError:  # an unreadable AWS config: say what can still be said
        roles = []
    if not roles:
        return (f"No other role is known to this kernel (TempCreds.roles, role profiles in the AWS config). "
                f"Check who can read it: %aws_can {target}")
    named = ", ".join(f"{role.label} ({role.origin})" for role in roles[:MAX_ROLES])
    more = f" and {len(roles) - MAX_ROLES} more" if len(roles) > MAX_ROLES else ""
    return f"Roles this kernel knows: {named}{more}. Check which can read it: %aws_can {target}"


def _sign_in_ended(manager, denial: Denial) -> str:
    """The kernel's own credentials come from a profile whose sign-in ended: the magic that signs in
    again from the notebook (botocore's message names the terminal's ``aws sso login``/``aws login``)."""
    profile = manager.environment.original().get("AWS_PROFILE")
    if denial.code == SSO_ENDED:
        what, command = "IAM Identity Center sign-in", f"%sso_login {profile}" if profile else "%sso_login PROFILE"
    else:
        what, command = "console sign-in (aws login)", f"%aws_login --profile {profile}" if profile else "%aws_login"
    where = f" (the kernel's profile: {profile})" if profile else ""
    return (f"ipy_tempcreds: the {what} these credentials come from has ended{where}, so AWS cannot be "
            f"called with them. Sign in again from the notebook: {command}")


def _expired(manager, denial: Denial, grant: Grant | None, who: str) -> str:
    now = manager.clock()
    zone = manager.settings.time_zone
    if grant is None:
        return (f"ipy_tempcreds: AWS says the credentials have expired ({denial.code}). The kernel was signed "
                f"as {who}, which ipy_tempcreds does not renew: renew them where they come from "
                "(%sso_login, %aws_login, new keys), or assume a role: %assume_role ROLE")
    if now < grant.expiration:
        return (f"ipy_tempcreds: AWS says the credentials have expired ({denial.code}), but those of {who} in "
                f"force now are valid until {clock_text(grant.expiration, now, zone)}: the reader used an older "
                "set (a process started before the last renewal keeps its own). Run the cell again; for "
                'subprocesses, c.TempCreds.delivery = "endpoint" keeps them current.')
    renewal = manager.renewal if grant is manager.current() else None
    command = "%assume_role --refresh"
    if not grant.auto_refresh:
        why = "auto-refresh is off for them"
    elif renewal is not None and renewal.needs_mfa_code:
        why, command = "renewing them needs a new MFA code", "%assume_role --refresh --mfa-code 123456"
    elif renewal is not None and renewal.last_error:
        why = f"the last renewal failed: {renewal.last_error.rstrip('.')}"
    else:
        why = "no renewal was due yet (was this machine asleep?)"
    return (f"ipy_tempcreds: the credentials of {who} expired at {clock_text(grant.expiration, now, zone)} "
            f"({format_remaining(grant.remaining(now) * -1)} ago); they were not renewed: {why}. Renew: {command}")
