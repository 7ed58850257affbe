"""Times as users read them: in one zone, always named (``TempCreds.time_zone``).

"UTC" by default ("14:59 UTC"), "local" for the kernel's own zone, or a zone name ("09:59 EST").
The magics, the status, a Grant's HTML and the panel all word times through here, so they agree.
The zone is always passed in (the caller has the settings); None means UTC. It imports nothing from
the package but the errors.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone, tzinfo

from .errors import InvalidInput

UTC = "UTC"


def now_utc() -> datetime:
    """The wall clock, aware, in UTC: the default clock of every part that takes one."""
    return datetime.now(timezone.utc)


def zone_name(setting: str | None = None) -> str:
    """The zone name (IANA, as browsers' Intl.DateTimeFormat take it) times are shown in.

    ``setting`` is ``TempCreds.time_zone``: "UTC", "local" or a zone name; None is UTC. Raises
    InvalidInput for a name the zone database does not know.
    """
    value = (setting or UTC).strip()
    if value.upper() in ("UTC", "Z", "ETC/UTC", "GMT"):
        return UTC
    if value.lower() == "local":
        return _local_zone_name()
    try:
        _zone(value)
    except Exception:
        raise InvalidInput(
            f"time_zone {value!r} is not a zone this kernel knows: use \"UTC\", \"local\" (the "
            "kernel's zone) or a zone name such as \"Europe/Berlin\" or \"America/New_York\"."
        ) from None
    return value


def _zone(name: str) -> tzinfo:
    if name == UTC:
        return timezone.utc
    from zoneinfo import ZoneInfo  # only when a zone other than UTC is asked for

    return ZoneInfo(name)


def _local_zone_name() -> str:
    """The kernel's zone as a name a browser knows: TZ, /etc/localtime's link, /etc/timezone, else
    a whole-hour offset as Etc/GMT±N (a POSIX TZ string means nothing to a browser)."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in target:
            candidates.append(target.split("/zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        with open("/etc/timezone") as file:
            candidates.append(file.read().strip())
    except OSError:
        pass
    for candidate in candidates:
        if candidate and not candidate.startswith("/"):
            try:
                _zone(candidate)
            except Exception:
                continue
            return UTC if candidate in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu") else candidate
    offset = datetime.now().astimezone().utcoffset() or timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if hours == 0 and rest == 0:
        return UTC
    # POSIX sign convention: Etc/GMT-5 is five hours ahead of UTC. Half-hour offsets have no
    # such name; those kernels show UTC (named) rather than a wrong zone.
    return f"Etc/GMT{-hours:+d}" if rest == 0 else UTC


def zone_label(moment: datetime, name: str) -> str:
    """What follows a time: "UTC", "EST", "CEST"; "UTC+14" where the zone has no abbreviation."""
    if name == UTC:
        return UTC
    local = moment.astimezone(_zone(name))
    label = local.tzname() or ""
    if label.isalpha():
        return label
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def clock_text(moment: datetime, now: datetime, zone: str | None = None) -> str:
    """``14:32 UTC``, with the date when it is not the same day in that zone: ``2026-11-30 09:59 EST``."""
    name = zone_name(zone)
    tz = _zone(name)
    local = moment.astimezone(tz)
    # Fields, not strftime: the same text without strftime's detour through the time module.
    when = f"{local.hour:02d}:{local.minute:02d} {zone_label(moment, name)}"
    if local.date() != now.astimezone(tz).date():
        when = f"{local.year:04d}-{local.month:02d}-{local.day:02d} {when}"
    return when


def moment_text(moment: datetime, zone: str | None = None) -> str:
    """``2026-11-29 14:32:07 UTC``: a full date and time, for tables and tooltips."""
    name = zone_name(zone)
    local = moment.astimezone(_zone(name))
    return (f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
            f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {zone_label(moment, name)}")


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
