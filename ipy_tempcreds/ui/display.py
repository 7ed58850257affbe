"""Text for users: the one-line confirmation, status and whoami. Pure functions of state and time.

Every time a user reads names its zone, and the magics, the status, a Grant's HTML and the panel
use the same one: ``TempCreds.time_zone``, "UTC" by default ("expires 14:59 UTC"), "local" for the
kernel's own zone or a zone name ("expires 09:59 EST"). The panel is told the zone's name and
formats with it in the browser (panel.js), never with the browser's own zone.
"""

from __future__ import annotations

from datetime import datetime

from ..base.times import UTC, clock_text, format_duration, format_remaining, zone_name
from ..model.credentials import Grant, mask_key_id
from .sso_names import role_name

# -- phrases ----------------------------------------------------------------------------------

def expiry_phrase(grant: Grant, now: datetime, zone: str | None = None) -> str:
    """``expires 14:32 UTC (in 59m 58s)`` (with the date when it is not today)."""
    return expiry_phrase_at(grant.expiration, now, zone)


def expiry_phrase_at(expiration: datetime, now: datetime, zone: str | None = None) -> str:
    when = clock_text(expiration, now, zone)
    remaining = (expiration - now).total_seconds()
    if remaining < 0:
        return f"expired at {when} ({format_remaining(remaining)})"
    return f"expires {when} (in {format_remaining(remaining)})"


def assumed_line(grant: Grant, now: datetime, verb: str = "Assumed", zone: str | None = None) -> str:
    refresh = "auto-refresh on" if grant.auto_refresh else "auto-refresh off"
    if grant.renewal_needs_code:
        # Said at once, not at the first renewal: the user knows a new code will be asked.
        refresh += " (each renewal will need a new MFA code)"
    name = role_name(grant.request)  # an IAM Identity Center role: "analytics / Reader" (ui/sso_names.py)
    shown = f"{grant.arn} ({name})" if name else grant.arn
    return f"{verb} {shown} · {expiry_phrase(grant, now, zone)} · {refresh}"


def status_text(grant: Grant | None, now: datetime, problem: str | None = None,
                renewal_due: datetime | None = None, others=(), shared_with=(), zone: str | None = None,
                delivery: str | None = None) -> str:
    """The status table; ``others`` are (label, ARN, expiration) of sessions opened with
    ``session(ROLE)``, listed under "Other sessions:"; ``shared_with`` the Dask clusters that
    follow the credentials; ``delivery`` how they reach processes (TempCreds.delivery, described)."""
    zone = zone_name(zone)
    if grant is None:
        text = ("No temporary credentials from ipy_tempcreds are active; the kernel uses its own "
                "credentials. `%assume_role ROLE` assumes one, `%aws_whoami` shows who you are.")
        if delivery and not delivery.startswith("environment"):
            text += f"\nDelivery: {delivery}"
        return text + other_sessions_text(others, now, zone)
    status = _grant_status(grant, now, problem, renewal_due, shared_with, zone, delivery)
    return status + other_sessions_text(others, now, zone)


def cell_role_line(label: str, kernel_grant: Grant | None) -> str:
    """The first line of the status inside a ``%%as_role`` cell: whose credentials the table shows,
    and what the kernel is on again once the cell ends."""
    after = kernel_grant.arn if kernel_grant is not None else "its own credentials"
    return f"This cell runs as {label} (%%as_role); when it ends, the kernel is back on {after}.\n"


def other_sessions_text(others, now: datetime, zone: str | None = None) -> str:
    """``Other sessions:`` and one line per named session (empty without any)."""
    if not others:
        return ""
    lines = [f"  {label} · {arn} · {expiry_phrase_at(expiration, now, zone)} · renewed on use"
             for label, arn, expiration in others]
    return "\nOther sessions:\n" + "\n".join(lines)


def pinned_text(pins, now: datetime, zone: str | None = None) -> str:
    """``Pinned:`` and one line per pinned grant (``--pin``; empty without any): what processes
    started with each keep, and where they ask (never the token)."""
    if not pins:
        return ""
    lines = [f"  {pin.arn} · {expiry_phrase_at(pin.expiration, now, zone)} · {pin.url}" for pin in pins]
    return ("\nPinned: processes started with these keep them, renewed, until `ipy_tempcreds.unpin()` or "
            "--clear.\n" + "\n".join(lines))


def _grant_status(grant: Grant, now: datetime, problem: str | None, renewal_due: datetime | None,
                  shared_with=(), zone: str = UTC, delivery: str | None = None) -> str:
    request = grant.request
    rows = [("Attention", problem)] if problem else []
    name = role_name(request)
    rows += [("Role", name)] if name else []
    rows += [
        ("Identity", grant.arn),
        ("Account", grant.account or "?"),
        ("Access key", mask_key_id(grant.access_key_id)),
        ("Lifetime", expiry_phrase(grant, now, zone)),
        ("Auto-refresh", _renewal_words(grant, now, renewal_due, zone)),
        ("Requested", request.target + (f" (as {request.label})" if request.label not in ("", request.target) else "")),
        ("Duration", format_duration(request.duration) if request.duration else "set by the permission set"),
        ("Source", grant.source),
    ]
    session_name = getattr(request, "session_name", None)  # role requests have one
    if session_name:
        rows.insert(-2, ("Session name", session_name))
    if request.region:
        rows.append(("Region", request.region))
    if request.mfa_serial:
        rows.append(("MFA device", request.mfa_serial))
    if shared_with:
        rows.append(("Dask", "shared with " + ", ".join(shared_with)))
    if delivery:
        rows.append(("Delivery", delivery))
    return _table(rows)


def _renewal_words(grant: Grant, now: datetime, due: datetime | None, zone: str = UTC) -> str:
    if not grant.auto_refresh:
        return "off"
    if due is None:
        return "on (waiting for you: see Attention)"
    if due <= now:
        return "on (renewing now)"
    return f"on (next renewal {clock_text(due, now, zone)}, in {format_remaining((due - now).total_seconds())})"


def whoami_text(identity: dict, grant: Grant | None, now: datetime, zone: str | None = None) -> str:
    rows = [
        ("Account", identity.get("Account", "?")),
        ("ARN", identity.get("Arn", "?")),
        ("User id", identity.get("UserId", "?")),
    ]
    if grant is not None and identity.get("Arn") == grant.arn:
        rows.append(("Credentials", f"temporary, from ipy_tempcreds; {expiry_phrase(grant, now, zone)}"))
    elif grant is not None:
        rows.append(("Credentials", f"not the ones ipy_tempcreds injected ({grant.arn}): something "
                                    "else in this kernel takes precedence"))
    else:
        rows.append(("Credentials", "the kernel's own (not managed by ipy_tempcreds)"))
    return _table(rows)


# botocore's provider names (Credentials.method), as a person says them.
_METHOD_WORDS = {
    "env": "IAM user keys",
    "shared-credentials-file": "IAM user keys",
    "config-file": "IAM user keys",
    "boto-config": "IAM user keys",
    "explicit": "IAM user keys",
    "iam-role": "instance role",
    "ec2-credentials-file": "instance role",
    "container-role": "container role",
    "sso": "Identity Center",
    "login": "console sign-in",
    "assume-role": "role profile",
    "assume-role-with-web-identity": "web identity",
    "custom-process": "credential_process",
}


def source_summary(source: str, method: str | None = None) -> str:
    """A few words on where credentials come from, for the panel: ``IAM user keys · profile dev``.

    ``source`` is a Grant's source text, ``method`` botocore's name for the provider of the source
    credentials when known. Neither holds a secret.
    """
    if source.startswith("chained from "):
        arn = source[len("chained from "):]
        return f"chained from {arn.rsplit('/', 2)[-2] if ':assumed-role/' in arn else arn}"
    if source.startswith(("from the console sign-in", "console sign-in")):
        return "console sign-in"  # %aws_login's login, or a role assumed from it (the ARN is in the tooltip)
    method = method or ""
    if method.endswith("+token"):
        method = method[:-len("+token")]
        words = "temporary keys" if _METHOD_WORDS.get(method) == "IAM user keys" else _METHOD_WORDS.get(method, method)
    else:
        words = _METHOD_WORDS.get(method, method)
    parts = [words]
    if source.startswith("profile "):
        parts.append("profile " + source.split(",")[0][len("profile "):].strip("'\""))
    elif source.startswith("credential_source "):
        parts.append(source.split(",")[0])
    if "MFA session" in source:
        parts.append("MFA session")
    parts = [part for part in parts if part]
    return " · ".join(parts) if parts else source


def _table(rows) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in rows)
