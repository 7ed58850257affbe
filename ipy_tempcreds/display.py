"""Text for users: the one-line confirmation, status and whoami. Pure functions of state and time."""

from __future__ import annotations

from datetime import datetime, timezone

from .credentials import Grant, mask_key_id


def format_remaining(seconds: float) -> str:
    """``1h 59m 59s``, ``59m 58s``, ``42s``; ``expired 3m 2s ago`` below zero."""
    if seconds < 0:
        return f"expired {format_remaining(-seconds)} ago"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def format_duration(seconds: int) -> str:
    """``1h``, ``1h 30m``, ``15m``, ``90s``: a requested lifetime, without zero parts."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return " ".join(parts) or "0s"


def expiry_phrase(grant: Grant, now: datetime) -> str:
    """``expires 14:32 UTC (in 59m 58s)`` (with the date when it is not today)."""
    return expiry_phrase_at(grant.expiration, now)


def expiry_phrase_at(expiration: datetime, now: datetime) -> str:
    expiration = expiration.astimezone(timezone.utc)
    same_day = expiration.date() == now.astimezone(timezone.utc).date()
    # Fields, not strftime: the same text without strftime's detour through the time module.
    when = f"{expiration.hour:02d}:{expiration.minute:02d} UTC"
    if not same_day:
        when = f"{expiration.year:04d}-{expiration.month:02d}-{expiration.day:02d} {when}"
    remaining = (expiration - now).total_seconds()
    if remaining < 0:
        return f"expired at {when} ({format_remaining(remaining)})"
    return f"expires {when} (in {format_remaining(remaining)})"


def assumed_line(grant: Grant, now: datetime, verb: str = "Assumed") -> str:
    refresh = "auto-refresh on" if grant.auto_refresh else "auto-refresh off"
    return f"{verb} {grant.arn} · {expiry_phrase(grant, now)} · {refresh}"


def status_text(grant: Grant | None, now: datetime, problem: str | None = None,
                renewal_due: datetime | None = None, others=(), shared_with=()) -> str:
    """The status table; ``others`` are (label, ARN, expiration) of sessions opened with
    ``session(ROLE)``, listed under "Other sessions:"; ``shared_with`` the Dask clusters that
    follow the credentials."""
    if grant is None:
        text = ("No temporary credentials from ipy_tempcreds are active; the kernel uses its own "
                "credentials. `%assume_role ROLE` assumes one, `%aws_whoami` shows who you are.")
        return text + other_sessions_text(others, now)
    return _grant_status(grant, now, problem, renewal_due, shared_with) + other_sessions_text(others, now)


def other_sessions_text(others, now: datetime) -> str:
    """``Other sessions:`` and one line per named session (empty without any)."""
    if not others:
        return ""
    lines = [f"  {label} · {arn} · {expiry_phrase_at(expiration, now)} · renewed on use"
             for label, arn, expiration in others]
    return "\nOther sessions:\n" + "\n".join(lines)


def _grant_status(grant: Grant, now: datetime, problem: str | None, renewal_due: datetime | None,
                  shared_with=()) -> str:
    request = grant.request
    rows = [("Attention", problem)] if problem else []
    rows += [
        ("Identity", grant.arn),
        ("Account", grant.account or "?"),
        ("Access key", mask_key_id(grant.access_key_id)),
        ("Lifetime", expiry_phrase(grant, now)),
        ("Auto-refresh", _renewal_words(grant, now, renewal_due)),
        ("Requested", request.target + (f" (as {request.label})" if request.label not in ("", request.target) else "")),
        ("Duration", format_duration(request.duration)),
        ("Source", grant.source),
    ]
    if getattr(request, "session_name", None):
        rows.insert(-2, ("Session name", request.session_name))
    if request.region:
        rows.append(("Region", request.region))
    if request.mfa_serial:
        rows.append(("MFA device", request.mfa_serial))
    if shared_with:
        rows.append(("Dask", "shared with " + ", ".join(shared_with)))
    return _table(rows)


def _renewal_words(grant: Grant, now: datetime, due: datetime | None) -> str:
    if not grant.auto_refresh:
        return "off"
    if due is None:
        return "on (waiting for you: see Attention)"
    if due <= now:
        return "on (renewing now)"
    return f"on (next renewal {due.astimezone(timezone.utc).strftime('%H:%M UTC')}, in {format_remaining((due - now).total_seconds())})"


def whoami_text(identity: dict, grant: Grant | None, now: datetime) -> str:
    rows = [
        ("Account", identity.get("Account", "?")),
        ("ARN", identity.get("Arn", "?")),
        ("User id", identity.get("UserId", "?")),
    ]
    if grant is not None and identity.get("Arn") == grant.arn:
        rows.append(("Credentials", f"temporary, from ipy_tempcreds; {expiry_phrase(grant, now)}"))
    elif grant is not None:
        rows.append(("Credentials", f"not the ones ipy_tempcreds injected ({grant.arn}): something "
                                    "else in this kernel takes precedence"))
    else:
        rows.append(("Credentials", "the kernel's own (not managed by ipy_tempcreds)"))
    return _table(rows)


def _table(rows) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in rows)


def problem_text(grant: Grant, renewal, now: datetime) -> str | None:
    """What needs the user's attention about ``grant`` given its renewal state (a
    renewal.RenewalState), with the fix; None when all is well."""
    if now >= grant.expiration:
        cause = f" Last renewal attempt: {renewal.last_error}" if renewal.last_error else ""
        return (
            f"The credentials of {grant.arn} expired at {_hhmm(grant.expiration)}; AWS calls "
            f"will fail.{cause} Run `%assume_role --refresh` to renew them or "
            "`%assume_role --clear` to go back to the kernel's own credentials."
        )
    if renewal.needs_mfa_code:
        return (
            f"{grant.arn} needs a new MFA code to be renewed before it {_expiry_words(grant, now)}: "
            "run `%assume_role --refresh --mfa-code 123456` (or use the panel)."
        )
    if renewal.last_error:
        due = renewal.due
        retry = f"retrying in {format_remaining((due - now).total_seconds())}" if due else "not retrying"
        return (
            f"Renewing {grant.arn} failed: {renewal.last_error} The current credentials stay in "
            f"use ({_expiry_words(grant, now)}); {retry}."
        )
    return None


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%H:%M UTC")


def _expiry_words(grant: Grant, now: datetime) -> str:
    remaining = grant.remaining(now)
    if remaining <= 0:
        return f"expired at {_hhmm(grant.expiration)}"
    return f"expires at {_hhmm(grant.expiration)} (in {format_remaining(remaining)})"
