"""A console sign-in (sources/login/) against the AWS Sign-In stand-in, both ways, in this process:
what is written (the cache as `aws login` writes it, the profile with its comments), and what a
wrong code, another sign-in's code, a cancel and a timeout do (nothing written, the sign-in open
for another try where that makes sense)."""

from __future__ import annotations

import base64
import re
import threading

import pytest
from botocore.utils import JSONFileCache, LoginTokenLoader

from ipy_tempcreds.sources.login import errors
from ipy_tempcreds.sources.login.authorization import CROSS_DEVICE, SAME_DEVICE
from ipy_tempcreds.sources.login.signin import SignIn, resolve_target
from login_support import CONFIG, SESSION, assert_no_secret
from login_support import login_world as world  # noqa: F401 (the fixture)


def signin(clock, *, remote=True, profile="console", **kwargs):
    import os

    return SignIn(resolve_target(profile, os.environ), remote=remote, clock=clock, **kwargs)


def test_a_cross_device_sign_in_writes_what_aws_login_writes(world, clock):
    attempt = signin(clock)
    assert attempt.link.startswith(f"{world.standin.url}/v1/authorize?response_type=code&client_id=")
    visit = world.standin.sign_in(attempt.link)
    signed = attempt.complete(visit.paste_code)

    assert signed.session == SESSION and attempt.state == "signed-in"
    token = world.cache_entry()
    assert set(token) == {"accessToken", "tokenType", "clientId", "refreshToken", "idToken", "dpopKey"}
    assert token["clientId"] == CROSS_DEVICE and token["tokenType"] == "aws_sigv4"
    assert token["accessToken"]["accountId"] == SESSION.split(":")[4]
    assert token["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY-----\n")
    assert all(len(line) <= 64 for line in token["dpopKey"].splitlines())
    assert world.modes() == ("0o600", "0o700")
    # botocore's own loader finds it under sha256(login_session).
    assert LoginTokenLoader(JSONFileCache(str(world.cache_dir))).load_token(SESSION) == token
    # The profile is added after the others; every comment and section stays.
    assert world.config() == CONFIG + f"\n[profile console]\nlogin_session = {SESSION}\n"
    assert_no_secret(repr(attempt) + repr(signed), world)


def test_a_same_device_sign_in_takes_the_browsers_redirect_on_loopback(world, clock):
    attempt = signin(clock, remote=False, profile="default")
    redirect = attempt.authorization.redirect_uri
    assert redirect.startswith("http://127.0.0.1:") and redirect.endswith("/oauth/callback")
    world.standin.browser()(attempt.link)  # the person, in a browser of their own
    signed = attempt.wait_for_browser()
    assert signed.session == SESSION and world.cache_entry()["clientId"] == SAME_DEVICE
    # [default] had a region: login_session goes at the end of its section, nothing else moves.
    assert world.config() == CONFIG.replace("region = eu-west-1\n", f"region = eu-west-1\nlogin_session = {SESSION}\n")


def test_denied_in_the_browser_writes_nothing(world, clock):
    attempt = signin(clock, remote=False)
    world.standin.browser("deny")(attempt.link)
    with pytest.raises(errors.LoginError, match="access was denied in the browser; nothing was written"):
        attempt.wait_for_browser()
    assert world.cache_files() == [] and world.config() == CONFIG


@pytest.mark.parametrize("pasted, said", [
    ("not base64 at all!", "not the code the sign-in page shows"),
    (base64.b64encode(b"hello=world").decode(), "names no sign-in"),
    ("", "No code was given"),
], ids=["garbled", "not-a-sign-in", "empty"])
def test_a_mistyped_code_leaves_the_sign_in_open(world, clock, pasted, said):
    attempt = signin(clock)
    visit = world.standin.sign_in(attempt.link)
    with pytest.raises(errors.CodeRejected, match=said):
        attempt.complete(pasted)
    assert attempt.open and world.cache_files() == []
    assert attempt.complete(f"  {visit.paste_code[:20]}\n{visit.paste_code[20:]} ").session == SESSION  # wrapped, padded


def test_a_code_from_another_sign_in_is_refused_by_its_state(world, clock):
    first, second = signin(clock), signin(clock)
    other = world.standin.sign_in(second.link).paste_code
    with pytest.raises(errors.CodeRejected, match="belongs to another sign-in"):
        first.complete(other)
    assert first.open and world.cache_files() == []
    assert [c for c in world.standin.token_calls()] == []  # refused before any call


def test_a_stale_code_says_so_and_a_new_one_from_the_same_link_works(world, clock):
    attempt = signin(clock)
    stale = world.standin.sign_in(attempt.link).paste_code
    clock.advance(world.standin.code_lifetime)
    with pytest.raises(errors.CodeRejected, match="expired authorization code"):
        attempt.complete(stale)
    assert attempt.open and world.cache_files() == []
    assert attempt.complete(world.standin.sign_in(attempt.link).paste_code).session == SESSION


def test_cancel_and_timeout_end_the_sign_in_with_nothing_written(world, clock):
    cancelled = signin(clock)
    cancelled.cancel()
    with pytest.raises(errors.LoginError, match="cancelled; nothing was written"):
        cancelled.complete(world.standin.sign_in(cancelled.link).paste_code)
    waiting = signin(clock, remote=False)
    done = []

    def wait():
        try:
            waiting.wait_for_browser()
        except errors.LoginError as exc:
            done.append(str(exc))

    thread = threading.Thread(target=wait)
    thread.start()
    clock.advance(600)
    thread.join(5)
    assert done and "timed out" in done[0] and waiting.state == "timed-out"
    assert world.cache_files() == [] and world.config() == CONFIG


def test_a_profile_with_other_credentials_is_refused_before_anything_starts(world, clock):
    from ipy_tempcreds.base.errors import InvalidInput

    with pytest.raises(InvalidInput, match="Profile 'reader' is already configured with Assume Role credentials"):
        signin(clock, profile="reader")
    (world.home / "credentials").write_text("[keys]\naws_access_key_id = some-key-id\naws_secret_access_key = x\n")
    with pytest.raises(InvalidInput, match=re.escape("'keys' is already configured with Access Key credentials. "
                                                     "You may run '%aws_login --profile new-profile-name'")):
        signin(clock, profile="keys")
    assert world.standin.calls == [] and world.config() == CONFIG
