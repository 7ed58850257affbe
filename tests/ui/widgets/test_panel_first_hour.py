"""What the first hour with the panel showed (issue 29), from its kernel side: the duration picker
shows the active role's lifetime, Refresh says what it did, "working…" lasts as long as AWS is
called, and "nothing to refresh" says what to do. The browser side is test_browser.py."""

from __future__ import annotations

import pytest
from test_panel import click, panels  # noqa: F401 (fixture)

from ipy_tempcreds import api
from ipy_tempcreds.base.times import clock_text
from support import role_arn

READER = role_arn("Reader")


def test_the_duration_picker_shows_the_active_roles_lifetime(panels, run):
    panel = panels()
    assert (panel.active_duration, panel.default_duration) == (0, 3600)
    run(f"%assume_role {READER} --duration 15m -q")
    assert panel.active_duration == 900  # the picker shows 15m, not the default 1h
    assert {"label": "15m", "seconds": 900} in panel.duration_options
    run(f"%assume_role {READER} --duration 1h30m -q")
    assert panel.active_duration == 5400 and {"label": "1h 30m", "seconds": 5400} in panel.duration_options
    run("%assume_role --clear -q")
    assert panel.active_duration == 0 and 5400 not in [o["seconds"] for o in panel.duration_options]


def test_refresh_confirms_with_the_new_expiry_in_the_configured_zone(panels, run):
    run('%config TempCreds.time_zone = "America/New_York"')
    panel = panels()
    click(panel, "assume", role=READER, duration=900)
    assert panel.notice == ""  # an assume shows itself (identity, countdown)
    click(panel, "refresh")
    grant = api.current()
    said = clock_text(grant.expiration, api.get_manager().clock(), "America/New_York")
    assert panel.notice == f"renewed, expires {said}" and said.endswith((" EST", " EDT"))
    # Stale once the credentials change another way, and gone with the next action.
    api.refresh()
    assert panel.notice == ""
    click(panel, "refresh")
    assert panel.notice.startswith("renewed, expires ")
    click(panel, "release")
    assert panel.notice == ""


class RecordingSource:
    """The real STS gateway; each call is recorded in ``events`` where it starts and ends."""

    def __init__(self, gateway, events):
        self.gateway, self.events = gateway, events

    def obtain(self, request, **kwargs):
        self.events.append("sts")
        try:
            return self.gateway.obtain(request, **kwargs)
        finally:
            self.events.append("answered")

    def __getattr__(self, name):
        return getattr(self.gateway, name)


@pytest.fixture
def timeline(panels, monkeypatch):
    """(panel, events): "busy"/"idle" as the browser sees the panel's busy trait change, around
    the STS calls, the checking of what was typed ("resolve") and the pickers read again ("pickers")."""
    manager = api.get_manager()
    events: list[str] = []
    manager.sts = RecordingSource(manager.sts, events)
    resolve = manager.role_request

    def recorded(role, **options):
        events.append("resolve")
        return resolve(role, **options)

    monkeypatch.setattr(manager, "role_request", recorded)
    candidates = manager.roles.candidates
    monkeypatch.setattr(manager.roles, "candidates", lambda: events.append("pickers") or candidates())
    panel = panels()
    panel.observe(lambda change: events.append("busy" if change["new"] else "idle"), names="busy")
    return panel, events


def test_working_is_shown_only_while_sts_is_called(timeline):
    panel, events = timeline
    events.clear()
    click(panel, "assume", role=READER, duration=900)
    # Checking the input comes first and the pickers after: neither is "working…".
    assert events[:5] == ["resolve", "busy", "sts", "answered", "idle"] and set(events[5:]) == {"pickers"}
    events.clear()
    click(panel, "refresh")
    assert events[:4] == ["busy", "sts", "answered", "idle"] and set(events[4:]) == {"pickers"}
    events.clear()
    click(panel, "release")  # no AWS call: no "working…" at all
    click(panel, "assume", role="not a role")
    assert "busy" not in events and panel.error


def test_nothing_to_refresh_says_what_to_do_in_each_frontend(panels, run):
    import ipy_tempcreds

    panel = panels()
    click(panel, "refresh")
    assert panel.error == ("nothing to refresh: no temporary credentials are active. Assume a role first: "
                           "pick one in the role field and click Assume.")
    assert run("%assume_role --refresh", expect_error=True).endswith("Assume a role first: `%assume_role ROLE`.")
    with pytest.raises(ipy_tempcreds.TempCredsError, match=r"Assume a role first: ipy_tempcreds\.assume_role\(ROLE\)\.$"):
        ipy_tempcreds.refresh()
