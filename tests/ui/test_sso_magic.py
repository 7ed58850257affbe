"""%sso_login in a real IPython shell: the link and code, the wait, the outcome in one line, logout,
and the lapsed sign-in said before the next cell."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ipy_tempcreds.base.times import clock_text
from ipy_tempcreds.ui import sso_magic
from sso_support import START_URL
from sso_support import sso as sso_world  # noqa: F401 (the fixture)


@pytest.fixture
def polls(sso_world, timed, monkeypatch):
    """The magic's wait between polls moves the fake clock; ``actions[n]`` runs at the n-th wait."""
    manager, _ = timed
    actions = {}
    count = []

    def fake_sleep(seconds):
        count.append(seconds)
        manager.clock.advance(seconds)
        if len(count) in actions:
            actions[len(count)]()

    monkeypatch.setattr(sso_magic, "sleep", fake_sleep)
    return actions


def no_secret(world, text):
    for value in world.standin.secrets():
        assert value not in text


def test_sign_in_shows_link_and_code_then_the_outcome(sso_world, polls, run, clock):
    polls[2] = sso_world.approve_latest
    out = run("%sso_login analyst")
    (code,) = sso_world.standin.user_codes()
    assert f"To sign in, open {sso_world.standin.url}/device?user_code={code}  (code {code})" in out
    until = clock_text(clock() + timedelta(hours=8), clock(), "UTC")  # the stand-in's tokens last 8 h
    assert f"Waiting for approval… signed in to {START_URL} until {until}." in out
    no_secret(sso_world, out)
    assert len(sso_world.cache_files()) == 1


def test_sign_in_times_follow_the_time_zone_setting(sso_world, polls, run, shell, clock):
    shell.run_line_magic("config", 'TempCreds.time_zone = "America/New_York"')
    polls[1] = sso_world.approve_latest
    out = run("%sso_login analyst")
    until = clock_text(clock() + timedelta(hours=8), clock(), "America/New_York")
    assert until.endswith((" EST", " EDT")) and f"until {until}." in out
    assert "UTC" not in out.split("signed in to", 1)[1]
    # The code's expiry too: said in the same zone when the code lapses.
    polls.clear()
    sso_world.standin.device_lifetime = 3
    error = run("%sso_login analyst", expect_error=True)
    assert "expired at" in error and error.split("expired at ", 1)[1].split(" before")[0].endswith((" EST", " EDT"))


def test_denied_is_one_line_and_writes_nothing(sso_world, polls, run):
    polls[1] = lambda: sso_world.standin.deny(sso_world.standin.user_codes()[-1])
    error = run("%sso_login analyst", expect_error=True)
    assert "denied" in error and "\n" not in error and "%sso_login analyst" in error
    assert sso_world.cache_files() == []


def test_interrupted_writes_nothing(sso_world, polls, run):
    def interrupt():
        raise KeyboardInterrupt

    polls[1] = interrupt
    error = run("%sso_login analyst", expect_error=True)
    assert "interrupted: nothing was written" in error
    assert sso_world.cache_files() == []


def test_logout_ends_the_sign_in(sso_world, polls, run):
    polls[1] = sso_world.approve_latest
    run("%sso_login analyst")
    assert "Signed out of corp" in run("%sso_login analyst --logout")
    assert sso_world.cache_files() == [] and sso_world.standin.operations()[-1] == "Logout"
    assert "nothing to end" in run("%sso_login --logout")


def test_a_lapsed_sign_in_is_said_before_the_next_cell(sso_world, polls, run, shell, capsys, clock):
    polls[1] = sso_world.approve_latest
    run("%sso_login analyst")
    sso_world.standin.revoke_refresh_tokens()
    clock.advance(8 * 3600 + 60)
    capsys.readouterr()
    shell.run_cell("1 + 1")
    err = capsys.readouterr().err
    assert "sign-in to corp lapsed" in err and "`%sso_login analyst`" in err
    shell.run_cell("2 + 2")
    assert "lapsed" not in capsys.readouterr().err  # said once
    no_secret(sso_world, err)


def test_bad_lines_say_what_to_do(sso_world, run):
    assert "no profile or sso-session named 'nobody'" in run("%sso_login nobody", expect_error=True)
    assert "go together" in run(f"%sso_login --start-url {START_URL}", expect_error=True)
    assert "--sso-region" in run("%sso_login --help")
    assert sso_world.standin.calls == []


def test_sso_profiles_complete_after_assume_role(sso_world, shell):
    from test_profiles_completion import completions

    for line, whole in (("%assume_role ana", "analyst"), ("%assume_role leg", "legacy")):
        start, text, kind = completions(shell, line)[0]
        assert line[:start] + text == f"%assume_role {whole}" and kind == "role"


def test_a_deliberate_logout_is_no_lapse_and_drawn_panels_follow_sign_in_and_out(sso_world, polls, run, shell,
                                                                                capsys, timed):
    from ipy_tempcreds.ui.widgets.role_panel import RolePanel

    manager, _ = timed
    panel = RolePanel(manager)  # drawn before the sign-in, as in a notebook
    try:
        assert panel.show_sso  # SSO profiles, no sign-in: the Sign in button
        polls[1] = sso_world.approve_latest
        run("%sso_login analyst")
        assert not panel.show_sso  # signed in from a cell: the button goes
        # Named otherwise than at sign-in (the config's one sso-session), the same sign-in.
        assert "Signed out of corp" in run("%sso_login --logout")
        assert panel.show_sso  # and comes back
        capsys.readouterr()
        shell.run_cell("1 + 1")
        assert "ipy_tempcreds" not in capsys.readouterr().err  # no "lapsed" after a deliberate logout
    finally:
        panel.close()


def test_a_sign_in_ended_outside_the_notebook_is_not_called_a_lapse(sso_world, polls, run, shell, capsys):
    polls[1] = sso_world.approve_latest
    run("%sso_login analyst")
    for path in sso_world.cache_files():  # what `aws sso logout` in a terminal does
        path.unlink()
    capsys.readouterr()
    shell.run_cell("1 + 1")
    err = capsys.readouterr().err
    assert "sign-in to corp was ended outside this notebook" in err and "lapsed" not in err
    assert "run `%sso_login analyst` to sign in again" in err
