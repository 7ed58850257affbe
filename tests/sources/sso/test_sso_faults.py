"""IAM Identity Center's answers damaged on the way (issue 12's attack, applied to issue 16's calls).

The SSO stand-in (tests/sso_standin.py) does its work, then damages the answer of one operation:
cut mid-body, malformed JSON, a 200 missing a field, a captive portal's HTML page with 200, an
expiry already past, an empty key, an HTML 503, or no answer within the timeout. Through
``%sso_login``, ``%assume_role SSO_PROFILE``, its background renewal, the token's refresh and the
panel's Sign in, the user must get one line saying what failed; the previous sign-in and
credentials stay in force; the token cache is never written with a damaged token; and no secret
the stand-in handed out (tokens, client secrets, device codes, role secrets), nor a piece of one,
reaches any output, log record, exception message or widget state.
"""

from __future__ import annotations

import json
import logging
import os
import time

import pytest
from IPython.core.error import UsageError

import ipy_tempcreds
from ipy_tempcreds.ui import sso_magic
from sso_support import sso as sso_world  # noqa: F401
from support import aws_environment

FRAGMENT = 20  # no run of this many characters of any secret may appear anywhere

BROKEN = [("cut", {}), ("malformed", {}), ("html", {}), ("status", {})]
SIGN_IN_FAULTS = (
    [("RegisterClient", kind, extra) for kind, extra in BROKEN]
    + [("RegisterClient", "drop", {"field": f}) for f in ("clientSecret", "clientSecretExpiresAt")]
    + [("StartDeviceAuthorization", kind, extra) for kind, extra in BROKEN]
    + [("StartDeviceAuthorization", "drop", {"field": f}) for f in ("deviceCode", "userCode")]
    + [("CreateToken", kind, extra) for kind, extra in BROKEN + [("expired", {}), ("empty_key", {})]]
    + [("CreateToken", "drop", {"field": f}) for f in ("accessToken", "expiresIn")]
)
ROLE_FAULTS = BROKEN + [("expired", {}), ("empty_key", {})] + [
    ("drop", {"field": f}) for f in ("accessKeyId", "secretAccessKey", "sessionToken", "expiration", "roleCredentials")]


@pytest.fixture
def watch(sso_world, caplog, capsys):
    """``check(text)``: no secret of the stand-in (or piece of one) in ``text``, stdout, stderr or
    the log."""
    caplog.set_level(logging.DEBUG, logger="ipy_tempcreds")

    def check(text: str = "") -> None:
        captured = capsys.readouterr()
        everything = f"{text}\n{captured.out}\n{captured.err}\n{caplog.text}"
        secrets = sso_world.standin.secrets()
        assert secrets, "nothing to look for: the test would prove nothing"
        for secret in secrets:
            pieces = {secret[i:i + FRAGMENT] for i in range(max(len(secret) - FRAGMENT, 0) + 1)}
            assert not any(piece in everything for piece in pieces), "a secret (or part of one) leaked"

    return check


@pytest.fixture
def login(sso_world, timed, shell, monkeypatch):
    """``login()`` runs ``%sso_login analyst``, approved at the first poll; the message of its
    UsageError, or None."""
    manager, _ = timed
    monkeypatch.setattr(sso_magic, "sleep", manager.clock.advance)
    sso_world.standin.auto_approve = True

    def run() -> str | None:
        try:
            shell.run_line_magic("sso_login", "analyst")
        except UsageError as exc:
            return str(exc)
        return None

    return run


def one_line(message: str | None, *words: str) -> str:
    assert message is not None, "the damaged answer was accepted"
    assert "\n" not in message.strip() and "Traceback" not in message and "<" not in message, message
    assert "{" not in message, message  # no JSON quoted
    for word in words:
        assert word in message, message
    return message


def cache_bytes(world) -> dict:
    return {path.name: path.read_bytes() for path in world.cache_files()}


@pytest.mark.parametrize("operation, kind, extra", SIGN_IN_FAULTS,
                         ids=[f"{o}-{k}-{e.get('field', '')}".rstrip("-") for o, k, e in SIGN_IN_FAULTS])
def test_sign_in_answer_damaged(sso_world, login, watch, operation, kind, extra):
    assert login() is None  # a first sign-in, in force
    before = cache_bytes(sso_world)
    if operation == "RegisterClient":
        sso_world.standin.forget_clients()  # else the kept registration is reused (no RegisterClient)
    sso_world.standin.fault(operation, kind, **extra)
    message = one_line(login(), "IAM Identity Center")
    assert cache_bytes(sso_world) == before, "the cache was written from a damaged answer"
    watch(message)
    sso_world.standin.heal()
    assert login() is None  # and nothing stuck


@pytest.fixture
def assumed(sso_world, login, run):
    assert login() is None
    run("%assume_role analyst")
    return aws_environment()


@pytest.mark.parametrize("kind, extra", ROLE_FAULTS,
                         ids=[f"{k}-{e.get('field', '')}".rstrip("-") for k, e in ROLE_FAULTS])
def test_role_credentials_damaged(sso_world, assumed, timed, shell, watch, kind, extra):
    manager, _ = timed
    sso_world.standin.fault("GetRoleCredentials", kind, **extra)
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("assume_role", "analyst")
    one_line(str(caught.value), "IAM Identity Center")
    assert aws_environment() == assumed
    # The background renewal: a failure with backoff, the credentials in force kept.
    manager.clock.now = manager.renewal_due()
    assert manager.renew_if_due() is False
    one_line(manager.problem)
    assert aws_environment() == assumed
    assert manager.seconds_until_due() > 0  # backoff: no loop
    calls = sso_world.standin.operations().count("GetRoleCredentials")
    assert manager.renew_if_due() is False and sso_world.standin.operations().count("GetRoleCredentials") == calls
    watch(str(caught.value) + manager.problem)
    sso_world.standin.heal()
    shell.run_line_magic("assume_role", "analyst")
    assert aws_environment() != assumed


@pytest.mark.parametrize("kind, extra", BROKEN + [("expired", {}), ("empty_key", {}), ("drop", {"field": "accessToken"})],
                         ids=["cut", "malformed", "html", "status", "expired", "empty_key", "drop-accessToken"])
def test_token_refresh_damaged_leaves_the_cache_alone(sso_world, assumed, timed, shell, watch, kind, extra):
    manager, _ = timed
    before = cache_bytes(sso_world)
    manager.clock.advance(8 * 3600 - 10 * 60)  # inside botocore's refresh window
    sso_world.standin.fault("CreateToken", kind, **extra)
    # The refresh fails; the cached token, valid for 10 more minutes, still serves.
    shell.run_line_magic("assume_role", "analyst")
    assert aws_environment() != assumed
    assert cache_bytes(sso_world) == before, "a damaged refresh was written to the cache"
    shell.run_cell("1")  # the pre-cell watch tries the refresh too: quietly
    in_force = aws_environment()
    manager.clock.advance(11 * 60)  # the cached token has expired now
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("assume_role", "analyst")
    one_line(str(caught.value), "IAM Identity Center")
    assert cache_bytes(sso_world) == before
    assert aws_environment() == in_force
    watch(str(caught.value))


def test_a_slow_portal_gives_up_within_the_timeout(sso_world, assumed, timed, shell, watch):
    shell.run_line_magic("config", "TempCreds.sts_timeout = 1")
    sso_world.standin.fault("GetRoleCredentials", "delay", seconds=30)
    started = time.monotonic()
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("assume_role", "analyst")
    assert time.monotonic() - started < 8  # 3 attempts of 1 s, not 3 of 30 s
    one_line(str(caught.value), "did not answer in time")
    assert aws_environment() == assumed
    watch(str(caught.value))


def test_a_slow_oidc_service_gives_up_within_the_timeout(sso_world, login, shell, watch):
    shell.run_line_magic("config", "TempCreds.sts_timeout = 1")
    sso_world.standin.fault("RegisterClient", "delay", seconds=30)
    started = time.monotonic()
    one_line(login(), "did not answer in time")
    assert time.monotonic() - started < 8
    assert set(sso_world.standin.operations()) == {"RegisterClient"}  # nothing after the registration that never came
    assert sso_world.cache_files() == []
    watch()


def test_the_panel_sign_in_with_a_damaged_token(sso_world, shell, watch):
    from test_panel import click
    from test_sso_panel import wait_for

    sso_world.standin.auto_approve = True
    sso_world.standin.fault("CreateToken", "cut")
    panel = ipy_tempcreds.panel()
    try:
        click(panel, "sso")
        wait_for(lambda: panel.sso_prompt.get("state") == "failed")
        one_line(panel.sso_prompt["message"], "IAM Identity Center")
        assert sso_world.cache_files() == [] and panel.show_sso is True
        watch(json.dumps(panel.get_state()))
    finally:
        panel.close()


def test_logout_with_a_broken_portal_still_deletes_the_token(sso_world, login, shell, watch):
    assert login() is None
    sso_world.standin.fault("Logout", "status")
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("sso_login", "analyst --logout")
    one_line(str(caught.value), "deleted anyway")
    assert sso_world.cache_files() == []
    watch(str(caught.value))
    assert os.environ.get("AWS_SESSION_TOKEN") is None
