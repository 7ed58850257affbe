"""What needs the user's attention about the active credentials, and the fix, in words.

The manager asks here after every change of its renewal state (``manager.problem``); the magics'
status, the pre-cell notice, the log and the panel all show the same text.
"""

from __future__ import annotations

from datetime import datetime

from ..base.times import clock_text, format_remaining
from ..model.credentials import Grant


def problem_text(grant: Grant, renewal, now: datetime, zone: str | None) -> str | None:
    """What needs the user's attention about ``grant`` given its renewal state (a
    renewal.RenewalState), with the fix; None when all is well. Times in ``zone``."""
    if now >= grant.expiration:
        cause = f" Last renewal attempt: {renewal.last_error}" if renewal.last_error else ""
        return (
            f"The credentials of {grant.arn} expired at {clock_text(grant.expiration, now, zone)}; AWS calls "
            f"will fail.{cause} Run `%assume_role --refresh` to renew them or "
            "`%assume_role --clear` to go back to the kernel's own credentials."
        )
    if renewal.needs_mfa_code:
        return (
            f"{grant.arn} needs a new MFA code to be renewed before it {_expiry_words(grant, now, zone)}: "
            "run `%assume_role --refresh --mfa-code 123456` (or use the panel)."
        )
    if renewal.last_error:
        due = renewal.due
        retry = f"retrying in {format_remaining((due - now).total_seconds())}" if due else "not retrying"
        return (
            f"Renewing {grant.arn} failed: {renewal.last_error} The current credentials stay in "
            f"use ({_expiry_words(grant, now, zone)}); {retry}."
        )
    return None


def _expiry_words(grant: Grant, now: datetime, zone: str | None) -> str:
    remaining = grant.remaining(now)
    if remaining <= 0:
        return f"expired at {clock_text(grant.expiration, now, zone)}"
    return f"expires at {clock_text(grant.expiration, now, zone)} (in {format_remaining(remaining)})"
