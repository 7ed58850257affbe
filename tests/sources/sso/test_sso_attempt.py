"""A sign-in on its own thread (what a panel button starts): the code is reported, approval ends it
signed in, cancel ends it with nothing written; the states carry no secret."""

from __future__ import annotations

import time

from ipy_tempcreds.sources.sso import device as sso
from ipy_tempcreds.sources.sso.attempt import SignInAttempt
from sso_support import sso as sso_world  # noqa: F401


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_approved_in_the_browser_ends_signed_in(sso_world):
    seen = []
    attempt = SignInAttempt(sso.resolve_target("analyst"),
                            on_change=lambda a: seen.append((a.state, a.message))).start()
    wait_for(lambda: attempt.state == "waiting")
    assert attempt.code.user_code in attempt.message
    sso_world.approve_latest()
    assert attempt.wait(10) and attempt.state == "signed-in"
    assert [state for state, _ in seen] == ["waiting", "signed-in"]
    assert "Signed in to https://corp.awsapps.com/start until" in seen[-1][1]
    assert len(sso_world.cache_files()) == 1
    text = repr(attempt) + repr(attempt.code) + repr(attempt.signed) + "".join(m for _, m in seen)
    for value in sso_world.standin.secrets():
        assert value not in text


def test_cancel_writes_nothing(sso_world):
    attempt = SignInAttempt(sso.resolve_target("analyst")).start()
    wait_for(lambda: attempt.state == "waiting")
    attempt.cancel()
    assert attempt.wait(5) and attempt.state == "cancelled"
    sso_world.approve_latest()  # too late: nobody polls any more
    assert sso_world.cache_files() == []


def test_a_denied_code_ends_failed_with_the_fix(sso_world):
    attempt = SignInAttempt(sso.resolve_target("analyst")).start()
    wait_for(lambda: attempt.state == "waiting")
    sso_world.standin.deny(attempt.code.user_code)
    assert attempt.wait(10) and attempt.state == "failed"
    assert "denied" in attempt.message and "%sso_login analyst" in attempt.message
