"""%aws_login in a real IPython shell against the AWS Sign-In stand-in: both flows, the login as the
kernel's base identity (%aws_whoami, a role assumed from it, --clear back to it, renewal with the
refresh token, the notice before the login session ends, --logout), and every bad input in one
line with nothing written and nothing secret shown."""

from __future__ import annotations

import getpass
import os
import re
import webbrowser
from datetime import timedelta

import pytest
from IPython.core.error import StdinNotImplementedError

from aws_standin import ACCOUNT
from ipy_tempcreds import _kernel
from ipy_tempcreds.ui import login_magic
from login_support import CONFIG, SESSION, TRUSTED, assert_no_secret
from login_support import login_world as world  # noqa: F401 (the fixture)


@pytest.fixture
def no_input(monkeypatch):
    """The frontend cannot prompt (nbclient, papermill): getpass raises as ipykernel's does there."""
    def refuse(prompt=""):
        raise StdinNotImplementedError("raw_input was called, but this frontend does not support input requests.")

    monkeypatch.setattr(getpass, "getpass", refuse)


@pytest.fixture
def manager(timed):
    return timed[0]


def pending_link(out: str) -> str:
    return re.search(r"(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)", out).group(1)


def sign_in_remote(run, world, profile="console") -> str:
    out = run(f"%aws_login --remote --profile {profile}")
    assert "cannot ask for input" in out and "%aws_login --code CODE" in out
    code = world.standin.sign_in(pending_link(out)).paste_code
    return run(f"%aws_login --code {code}")


def test_cross_device_with_code_then_the_login_is_the_kernels_base_identity(world, no_input, run, manager, clock):
    alice_key = os.environ["AWS_ACCESS_KEY_ID"]
    out = sign_in_remote(run, world)
    assert out.startswith(f"Signed in as {SESSION} · ") and "login session until" in out
    assert_no_secret(out, world)
    token = world.cache_entry()
    assert os.environ["AWS_ACCESS_KEY_ID"] == token["accessToken"]["accessKeyId"] != alice_key
    assert manager.base is manager.current() and manager.current().arn == SESSION

    whoami = run("%aws_whoami")
    assert SESSION in whoami and "temporary, from ipy_tempcreds" in whoami

    # A role is assumed from the login (its trust names the console role), and --clear goes back.
    world.aws.create_role("Data", [TRUSTED])
    out = run(f"%assume_role arn:aws:iam::{ACCOUNT}:role/Data")
    assert f"Assumed arn:aws:sts::{ACCOUNT}:assumed-role/Data/" in out
    assert manager.current().parent.arn == SESSION and "console sign-in" in manager.current().source
    out = run("%assume_role --clear")
    assert out.startswith(f"Released the role; the kernel is back on the console sign-in {SESSION}")
    assert os.environ["AWS_ACCESS_KEY_ID"] == world.cache_entry()["accessToken"]["accessKeyId"]

    out = run("%aws_login --logout")
    assert "Removed cached login credentials for profile 'console'; the environment is as it was before" in out
    assert world.cache_files() == [] and os.environ["AWS_ACCESS_KEY_ID"] == alice_key and manager.base is None


def test_more_than_an_hour_from_the_login_is_refused_before_sts(world, no_input, run, manager):
    sign_in_remote(run, world)
    world.aws.create_role("Data", [TRUSTED])
    out = run(f"%assume_role arn:aws:iam::{ACCOUNT}:role/Data --duration 2h", expect_error=True)
    assert "at most 1 hour. Use --duration 1h or less." in out and manager.current().arn == SESSION


def test_same_device_opens_the_browser_on_this_machine(world, run, manager, monkeypatch):
    monkeypatch.setenv("BROWSER", "the-test's-browser")  # a browser on the kernel's machine
    opened = world.standin.browser()
    monkeypatch.setattr(webbrowser, "open", opened)
    out = run("%aws_login")
    assert "Waiting for the browser" in out and f"Signed in as {SESSION}" in out
    assert world.cache_entry()["clientId"].endswith("/same-device") and len(opened.visits) <= 1
    assert f"login_session = {SESSION}" in world.config().split("[profile reader]")[0]  # [default]


def test_the_refresh_token_renews_the_login_and_rotates_in_the_cache(world, no_input, run, manager, clock):
    sign_in_remote(run, world)
    first = world.cache_entry()
    clock.advance(8 * 60)  # half of 15 minutes is past: due
    assert manager.renew_if_due()
    renewed = world.cache_entry()
    assert renewed["refreshToken"] != first["refreshToken"] and renewed["dpopKey"] == first["dpopKey"]
    assert os.environ["AWS_ACCESS_KEY_ID"] == renewed["accessToken"]["accessKeyId"] != first["accessToken"]["accessKeyId"]
    assert [c["grantType"] for c in world.standin.token_calls()] == ["authorization_code", "refresh_token"]
    assert manager.current().arn == SESSION and manager.base is manager.current()


def test_a_login_renewed_for_an_assume_is_the_base_the_panel_shows(world, no_input, run, manager, clock):
    """Assuming a role from a login inside its renewal margin renews the login once, and that
    renewed login is the kernel's base from then on (its lifetime is what the panel shows beside the
    role's), not the one it replaced; the clear goes back to it without another call."""
    sign_in_remote(run, world)
    world.aws.create_role("Data", [TRUSTED])
    manager.background = False
    clock.advance(8 * 60)  # the login's credentials are due
    run(f"%assume_role arn:aws:iam::{ACCOUNT}:role/Data -q")
    renewed = world.cache_entry()["accessToken"]
    assert manager.base.access_key_id == renewed["accessKeyId"]
    assert manager.base.remaining(clock()) > 14 * 60
    run("%assume_role --clear -q")
    assert [c["grantType"] for c in world.standin.token_calls()] == ["authorization_code", "refresh_token"]
    assert manager.current() is manager.base and os.environ["AWS_ACCESS_KEY_ID"] == renewed["accessKeyId"]


def test_a_notice_before_the_login_session_ends_and_a_clear_line_when_it_has(world, no_input, run, manager, clock,
                                                                            capsys, shell):
    sign_in_remote(run, world)
    ends = manager.base.request.session_ends
    clock.advance((ends - clock() - timedelta(minutes=20)).total_seconds())
    capsys.readouterr()
    login_magic.before_cell()
    login_magic.before_cell()
    err = capsys.readouterr().err
    assert err.count("the console login session ends") == 1 and "run %aws_login to sign in again" in err
    world.standin.revoke_sessions()
    clock.advance(20 * 60)
    manager.renew_if_due()
    assert "the console login session has expired. Run %aws_login to sign in again." in manager.problem


def test_a_wrong_code_or_another_sign_ins_code_leaves_the_sign_in_open(world, no_input, run, manager):
    out = run("%aws_login --remote --profile console")
    link = pending_link(out)
    other = login_magic.start("console", True, manager)[0]  # replaced the first: its link is dead now
    assert _kernel.STATE.login is other
    stranger = world.standin.sign_in(link).paste_code
    out = run(f"%aws_login --code {stranger}", expect_error=True)
    assert "belongs to another sign-in" in out and other.open
    out = run("%aws_login --code c2FsdA==", expect_error=True)
    assert "names no sign-in" in out and other.open
    assert world.cache_files() == [] and world.config() == CONFIG
    out = run(f"%aws_login --code {world.standin.sign_in(other.link).paste_code}")
    assert out.startswith(f"Signed in as {SESSION}")


def test_cancel_and_timeout(world, no_input, run, manager, clock):
    run("%aws_login --remote")
    assert run("%aws_login --cancel").startswith("Sign-in cancelled; nothing was written.")
    assert "No console sign-in is waiting" in run("%aws_login --code abc", expect_error=True)
    run("%aws_login --remote")
    clock.advance(601)
    out = run("%aws_login --code c2FsdA==", expect_error=True)
    assert "The sign-in timed out" in out and world.cache_files() == []


@pytest.mark.parametrize("fault, said", [
    ({"kind": "error", "status": 500}, "AWS Sign-In answered with a server error (HTTP 500)"),
    ({"kind": "error", "status": 400}, "AWS Sign-In refused the code (INVALID_REQUEST"),
    ({"kind": "html"}, "AWS Sign-In's answer"),
    ({"kind": "drop", "field": "refreshToken"}, "AWS Sign-In's answer has no refreshToken"),
], ids=["500", "400", "html", "no-refresh-token"])
def test_a_failing_or_damaged_token_answer_is_one_line_and_writes_nothing(world, no_input, run, manager, fault, said):
    world.standin.fault(grant="authorization_code", times=3, **fault)
    out = run("%aws_login --remote --profile console")
    code = world.standin.sign_in(pending_link(out)).paste_code
    out = run(f"%aws_login --code {code}", expect_error=True)
    assert said in out and "\n" not in out.strip()
    assert_no_secret(out, world)
    assert world.cache_files() == [] and world.config() == CONFIG and manager.current() is None


def test_a_profile_with_keys_is_refused_with_the_clis_rule(world, run):
    (world.home / "credentials").write_text("[work]\naws_access_key_id = some-key-id\naws_secret_access_key = s\n")
    out = run("%aws_login --profile work", expect_error=True)
    assert out == ("Profile 'work' is already configured with Access Key credentials. You may run '%aws_login "
                   "--profile new-profile-name' to create a new profile with the specified name. Otherwise you must "
                   "first manually remove the existing credentials from 'work'.")
    assert world.standin.calls == [] and _kernel.STATE.login is None


def test_a_damaged_cache_file_is_one_line_when_renewing(world, no_input, run, manager, clock):
    sign_in_remote(run, world)
    (path,) = world.cache_files()
    path.write_text(path.read_text()[:100])
    out = run("%assume_role --refresh", expect_error=True)
    assert f"The cached console sign-in {path} is not JSON (damaged or cut short): run %aws_login" in out
    assert manager.current().arn == SESSION  # the credentials in force stay


def test_without_awscrt_the_extra_is_named_and_nothing_starts(world, run, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "awscrt.crypto", None)
    out = run("%aws_login --remote", expect_error=True)
    assert 'pip install "ipy_tempcreds[login]"' in out and world.standin.calls == []


def test_a_slow_sign_in_service_is_given_up_in_one_line(world, no_input, run, manager):
    manager.settings.sts_timeout = 1
    world.standin.fault("delay", grant="authorization_code", seconds=2.5)
    out = run("%aws_login --remote --profile console")
    code = world.standin.sign_in(pending_link(out)).paste_code
    out = run(f"%aws_login --code {code}", expect_error=True)
    assert "AWS Sign-In did not answer in time (1 s, TempCreds.sts_timeout)" in out
    assert world.cache_files() == [] and world.config() == CONFIG
