"""One time display everywhere: the magic's line, the status, whoami, a Grant's table and the panel
write the same time in the same zone, named (TempCreds.time_zone: "UTC" by default, "local" or a
zone name). The browser's side of the same agreement is tests/ui/widgets/test_browser.py.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import ipy_tempcreds
from ipy_tempcreds import api
from ipy_tempcreds.base import times
from ipy_tempcreds.base.errors import InvalidInput
from ipy_tempcreds.ui import display
from support import role_arn

READER = role_arn("Reader")
EXPIRY = datetime(2026, 11, 29, 14, 59, 7, tzinfo=timezone.utc)


@pytest.mark.parametrize("zone, clock, full", [
    ("UTC", "14:59 UTC", "2026-11-29 14:59:07 UTC"),
    ("America/New_York", "09:59 EST", "2026-11-29 09:59:07 EST"),
    # The date appears when the expiry falls on another day in that zone than now does.
    ("Pacific/Kiritimati", "2026-11-30 04:59 UTC+14", "2026-11-30 04:59:07 UTC+14"),
    ("Asia/Kolkata", "20:29 IST", "2026-11-29 20:29:07 IST"),
])
def test_times_are_written_in_the_zone_and_name_it(zone, clock, full):
    now = EXPIRY - timedelta(hours=9)  # 05:59 UTC: the same day in UTC, New York and Kolkata
    assert times.clock_text(EXPIRY, now, zone) == clock
    assert times.moment_text(EXPIRY, zone) == full


def test_summer_time_is_named_as_such():
    july = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert times.clock_text(july, july, "America/New_York") == "08:00 EDT"


@pytest.mark.parametrize("setting", ["UTC", "utc", "Etc/UTC", "GMT", ""])
def test_utc_has_one_name(setting):
    assert times.zone_name(setting) == "UTC"


def test_local_is_the_kernels_zone_by_a_name_browsers_know(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert times.zone_name("local") == "Europe/Berlin"
    monkeypatch.setenv("TZ", ":America/New_York")
    assert times.zone_name("local") == "America/New_York"


def test_an_unknown_zone_is_refused_with_the_choices():
    with pytest.raises(InvalidInput, match=r"'Mars/Base' is not a zone .*\"UTC\", \"local\""):
        times.zone_name("Mars/Base")


def test_config_refuses_an_unknown_zone_and_keeps_the_old_one(shell, caplog):
    settings = api.get_settings()
    shell.run_line_magic("config", 'TempCreds.time_zone = "Europe/Berlin"')
    shell.run_line_magic("config", 'TempCreds.time_zone = "../../etc/passwd"')
    assert settings.time_zone == "Europe/Berlin"
    shell.run_line_magic("config", 'TempCreds.time_zone = "UTC"')


def expected(moment: datetime, zone: str) -> str:
    """The same time computed independently of ui/display.py."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%H:%M} {local.tzname()}"


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_magic_the_status_whoami_the_grant_and_the_panel_agree(run, shell, zone):
    shell.run_line_magic("config", f'TempCreds.time_zone = "{zone}"')
    try:
        line = run(f"%assume_role {READER} --duration 2h")
        grant = api.current()
        said = expected(grant.expiration, zone)
        assert f"· expires {said} (in " in line
        assert re.search(rf"Lifetime: +expires {said} \(in ", run("%assume_role --status"))
        assert f"expires {said} (in " in run("%aws_whoami")
        table = shell.display_formatter.formatters["text/html"].lookup(grant)(grant)  # as a notebook shows it
        assert f"{said[:5]}:" in table and f"{said[6:]}</td>" in table
        panel = ipy_tempcreds.panel()
        try:
            # The browser formats expires_at in time_zone and writes expires_zone after it.
            assert (panel.time_zone, panel.expires_zone) == (zone, said[6:])
            assert f"expires {said}" in repr(panel)
        finally:
            panel.close()
    finally:
        shell.run_line_magic("config", 'TempCreds.time_zone = "UTC"')


def test_an_open_panel_follows_a_change_of_zone(run, shell):
    run(f"%assume_role {READER} -q")
    panel = ipy_tempcreds.panel()
    try:
        assert (panel.time_zone, panel.expires_zone) == ("UTC", "UTC")
        shell.run_line_magic("config", 'TempCreds.time_zone = "Pacific/Kiritimati"')
        assert (panel.time_zone, panel.expires_zone) == ("Pacific/Kiritimati", "UTC+14")
    finally:
        shell.run_line_magic("config", 'TempCreds.time_zone = "UTC"')
        panel.close()


@pytest.mark.parametrize("source, method, words", [
    ("the kernel's original credentials", "env", "IAM user keys"),
    ("the kernel's original credentials", "env+token", "temporary keys"),
    ("the kernel's original credentials", "iam-role", "instance role"),
    ("profile 'dev'", "sso", "Identity Center · profile dev"),
    ("profile 'dev', through an MFA session until 18:00 UTC", "shared-credentials-file",
     "IAM user keys · profile dev · MFA session"),
    ("chained from arn:aws:sts::123456789012:assumed-role/Hub/alice", None, "chained from Hub"),
    ("something new", None, "something new"),
])
def test_the_source_in_a_few_words(source, method, words):
    assert display.source_summary(source, method) == words
