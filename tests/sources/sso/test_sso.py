"""IAM Identity Center sign-in, core (no IPython): the device flow against the SSO stand-in, the
token in botocore's cache, its refresh, a lapsed sign-in, logout, and what to sign in to."""

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest

from ipy_tempcreds.base.errors import InvalidInput
from ipy_tempcreds.model.settings import TempCreds
from ipy_tempcreds.sources.sso import device as sso
from ipy_tempcreds.sources.sso.watch import SignInWatch
from sso_support import LEGACY_URL, START_URL, SsoWorld
from sso_support import sso as sso_world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.usefixtures("sso_world")

CACHE_FIELDS = {"startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret",
                "registrationExpiresAt", "refreshToken"}


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class Sleeper:
    """The sign-in's sleep: moves the fake clock and records each wait; ``then`` runs at a given wait."""

    def __init__(self, clock, actions=None):
        self.clock, self.waits, self.actions = clock, [], actions or {}

    def __call__(self, seconds):
        self.waits.append(seconds)
        self.clock.advance(seconds)
        action = self.actions.get(len(self.waits))
        if action:
            action()


def login(world: SsoWorld, clock, actions=None, name="analyst"):
    shown = []
    sleeper = Sleeper(clock, actions)
    result = sso.sign_in(sso.resolve_target(name), show=shown.append, clock=clock, sleep=sleeper)
    return result, shown, sleeper


def assert_no_secret(world: SsoWorld, text: str) -> None:
    for value in world.standin.secrets():
        assert value not in text


def test_approved_after_pending_polls_writes_botocores_cache_file(sso_world, clock):
    signed, shown, sleeper = login(sso_world, clock, {3: sso_world.approve_latest})
    # Two answers "pending", then the token: each poll waited the interval the service gave (1 s).
    assert sleeper.waits == [1, 1, 1]
    results = [d["result"] for op, d in sso_world.standin.calls if op == "CreateToken"]
    assert results == ["AuthorizationPendingException", "AuthorizationPendingException", "ok"]
    assert shown[0].user_code in shown[0].verification_uri_complete
    path = sso_world.cache / f"{sha1('corp')}.json"
    assert sso_world.cache_files() == [path]
    assert SsoWorld.mode(path) == 0o600 and SsoWorld.mode(sso_world.cache) == 0o700
    token = json.loads(path.read_text())
    assert set(token) == CACHE_FIELDS
    assert token["startUrl"] == START_URL and token["region"] == "us-east-1"
    assert token["expiresAt"].endswith("Z") and signed.expires_at.isoformat().startswith(token["expiresAt"][:19])
    assert abs((signed.expires_at - clock()).total_seconds() - 8 * 3600) < 2
    assert signed.refreshable
    assert token["accessToken"] in sso_world.standin.secrets()
    assert repr(signed).count("aoa") == 0 and repr(shown[0]).count("dev-") == 0


def test_slow_down_adds_five_seconds_to_the_interval(sso_world, clock):
    def slow():
        sso_world.standin.slow_down(sso_world.standin.user_codes()[-1])

    _, _, sleeper = login(sso_world, clock, {1: slow, 3: sso_world.approve_latest})
    assert sleeper.waits == [1, 6, 6]


@pytest.mark.parametrize("how, words", [("deny", "denied"), ("expire", "expired")])
def test_denied_or_expired_code_writes_nothing(sso_world, clock, how, words):
    def act():
        getattr(sso_world.standin, how)(sso_world.standin.user_codes()[-1])

    with pytest.raises(sso.SignInFailed) as caught:
        login(sso_world, clock, {2: act})
    assert words in str(caught.value) and "%sso_login analyst" in str(caught.value)
    assert sso_world.cache_files() == []
    assert_no_secret(sso_world, str(caught.value))


def test_polling_stops_when_the_device_code_expires(sso_world, clock):
    sso_world.standin.device_lifetime = 5
    with pytest.raises(sso.SignInFailed, match="expired"):
        login(sso_world, clock)
    polls = [d for op, d in sso_world.standin.calls if op == "CreateToken"]
    assert len(polls) == 4  # at +1 .. +4 s; at +5 s the code has expired and nobody asks again
    assert sso_world.cache_files() == []


def test_interrupt_writes_nothing(sso_world, clock):
    def interrupt():
        sso_world.approve_latest()  # approved, but the person pressed Ctrl-C before the next poll
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        login(sso_world, clock, {2: interrupt})
    assert sso_world.cache_files() == []
    assert not sso_world.cache.exists() or not list(sso_world.cache.iterdir())


def test_legacy_profile_is_cached_under_the_start_url(sso_world, clock):
    login(sso_world, clock, {1: sso_world.approve_latest}, name="legacy")
    assert sso_world.cache_files() == [sso_world.cache / f"{sha1(LEGACY_URL)}.json"]


def test_the_cache_file_is_never_readable_by_others_even_with_a_lax_umask(sso_world, clock):
    old = os.umask(0)
    try:
        login(sso_world, clock, {1: sso_world.approve_latest})
    finally:
        os.umask(old)
    (path,) = sso_world.cache_files()
    assert SsoWorld.mode(path) == 0o600


def test_refresh_before_expiry_uses_the_refresh_token(sso_world, clock):
    signed, _, _ = login(sso_world, clock, {1: sso_world.approve_latest})
    target = signed.target
    first = sso.access_token(target, clock=clock)
    assert [d["grantType"] for op, d in sso_world.standin.calls if op == "CreateToken"][-1].endswith("device_code")
    clock.advance(8 * 3600 - 10 * 60)  # inside botocore's refresh window
    second = sso.access_token(target, clock=clock)
    assert second != first
    assert [d["grantType"] for op, d in sso_world.standin.calls if op == "CreateToken"][-1] == "refresh_token"
    (path,) = sso_world.cache_files()
    token = json.loads(path.read_text())
    assert token["accessToken"] == second and set(token) == CACHE_FIELDS
    assert SsoWorld.mode(path) == 0o600
    assert sso.token_status(target, clock()).expires_at > clock()


def test_a_lapsed_sign_in_is_said_once_with_the_fix(sso_world, clock):
    signed, _, _ = login(sso_world, clock, {1: sso_world.approve_latest})
    watch = SignInWatch(TempCreds(), clock)
    watch.add(signed.target)
    assert watch.check() == []
    sso_world.standin.revoke_refresh_tokens()
    clock.advance(8 * 3600 + 1)
    (message,) = watch.check()
    assert "lapsed" in message and "%sso_login analyst" in message
    assert watch.check() == []  # said once
    with pytest.raises(sso.SignInNeeded, match="%sso_login analyst"):
        sso.access_token(signed.target, clock=clock)
    login(sso_world, clock, {1: sso_world.approve_latest})
    assert watch.check() == []


def test_the_watch_renews_in_the_last_minutes_so_nothing_lapses(sso_world, clock):
    signed, _, _ = login(sso_world, clock, {1: sso_world.approve_latest})
    watch = SignInWatch(TempCreds(), clock)
    watch.add(signed.target)
    clock.advance(8 * 3600 - 5 * 60)
    assert watch.check() == []
    clock.advance(6 * 60)  # past the first token's expiry
    assert watch.check() == []
    assert sso.token_status(signed.target, clock()).expires_at > clock()


def test_logout_ends_the_token_at_the_portal_and_removes_the_file(sso_world, clock):
    signed, _, _ = login(sso_world, clock, {1: sso_world.approve_latest})
    token = json.loads(sso_world.cache_files()[0].read_text())["accessToken"]
    assert sso.logout(signed.target) is True
    assert sso_world.cache_files() == []
    assert sso_world.standin.operations()[-1] == "Logout"
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    portal = boto3.client("sso", region_name="us-east-1", config=Config(signature_version=UNSIGNED))
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.list_accounts(accessToken=token)
    assert sso.logout(signed.target) is False


def test_which_sign_in(sso_world, monkeypatch):
    assert sso.resolve_target("analyst") == sso.SsoTarget(START_URL, "us-east-1", "corp", "analyst")
    assert sso.resolve_target("corp").session_name == "corp"
    assert sso.resolve_target("data").session_name == "corp"  # through its source_profile
    assert sso.resolve_target("legacy").session_name is None
    assert sso.resolve_target(start_url=START_URL, region="us-east-1").session_name == "corp"
    other = sso.resolve_target(start_url="https://other.awsapps.com/start", region="eu-west-1")
    assert other.session_name is None and other.login_line.startswith("%sso_login --start-url")
    assert sso.resolve_target().session_name == "corp"  # the config's only sso-session
    monkeypatch.setenv("AWS_PROFILE", "legacy")
    assert sso.resolve_target().start_url == LEGACY_URL
    for args, words in [(("nobody",), "no profile or sso-session named 'nobody'"),
                        (("keys",), "does not use IAM Identity Center")]:
        with pytest.raises(InvalidInput, match=words):
            sso.resolve_target(*args)
    with pytest.raises(InvalidInput, match="go together"):
        sso.resolve_target(start_url=START_URL)
    with pytest.raises(InvalidInput, match="not an https"):
        sso.resolve_target(start_url="corp.awsapps.com", region="us-east-1")
    with pytest.raises(InvalidInput, match="not both"):
        sso.resolve_target("analyst", start_url=START_URL, region="us-east-1")


def test_logout_with_the_portal_unreachable_still_deletes_the_token_and_says_so(sso_world, clock):
    signed, _, _ = login(sso_world, clock, {1: sso_world.approve_latest})
    sso_world.standin.stop()
    with pytest.raises(sso.SsoError, match=r"could not be reached.*deleted anyway") as caught:
        sso.logout(signed.target)
    assert sso_world.cache_files() == []
    assert_no_secret(sso_world, str(caught.value))


def test_a_still_valid_client_registration_is_reused(sso_world, clock):
    """As the CLI: a sign-in reuses the registration kept in the cache while it lasts more than
    15 minutes, registers anew after that, and once more when the service refuses the kept one."""
    def registrations():
        return sso_world.standin.operations().count("RegisterClient")

    login(sso_world, clock, {1: sso_world.approve_latest})
    first = json.loads(sso_world.cache_files()[0].read_text())
    login(sso_world, clock, {1: sso_world.approve_latest})
    second = json.loads(sso_world.cache_files()[0].read_text())
    assert registrations() == 1
    assert (second["clientId"], second["registrationExpiresAt"]) == (first["clientId"], first["registrationExpiresAt"])
    assert second["accessToken"] != first["accessToken"]
    sso_world.standin._clients.clear()  # the service forgot it (revoked): one new registration
    login(sso_world, clock, {1: sso_world.approve_latest})
    assert registrations() == 2
    clock.advance(90 * 86400 - 10 * 60)  # the kept registration has 10 minutes left
    login(sso_world, clock, {1: sso_world.approve_latest})
    assert registrations() == 3
    assert json.loads(sso_world.cache_files()[0].read_text())["clientId"] != first["clientId"]


def test_the_watch_never_holds_a_cell_for_a_hanging_renewal(sso_world, clock):
    """A renewal stuck on a slow IAM Identity Center runs on its own thread: the pre-cell check
    goes on after a short wait, says nothing while it is in flight, and nothing is written."""
    from ipy_tempcreds.sources.sso import watch as sso_watch

    signed, _, _ = login(sso_world, clock, {1: sso_world.approve_latest})
    before = sso_world.cache_files()[0].read_bytes()
    watch = SignInWatch(TempCreds(), clock)
    watch.add(signed.target)
    sso_world.standin.fault("CreateToken", "delay", seconds=30)
    clock.advance(8 * 3600 + 60)  # expired, with a refresh token: the watch tries to renew
    started = time.monotonic()
    assert watch.check() == []  # in flight: not said yet
    assert time.monotonic() - started < sso_watch.PRE_CELL_WAIT + 1.5
    assert sso_world.cache_files()[0].read_bytes() == before


@pytest.mark.parametrize("interval, waits", [(-1, [5, 5]), (0, [5, 5]), (10 ** 9, [60, 60]), ("2", [2, 2])])
def test_a_damaged_poll_interval_neither_spins_nor_hangs(sso_world, clock, interval, waits):
    """A negative interval slept for nothing (the panel's attempt then polled without pause) or
    raised from time.sleep; a huge one waited forever. It is kept between 1 s and 60 s (5 s, RFC 8628's default, when it is none)."""
    sso_world.standin.fault("StartDeviceAuthorization", "set", field="interval", value=interval)
    _, _, sleeper = login(sso_world, clock, {2: sso_world.approve_latest})
    assert sleeper.waits[:2] == waits


def test_a_cache_directory_others_could_list_is_made_owner_only(sso_world, clock):
    """botocore and the AWS CLI create the cache directory with the umask's mode (0755): file names
    (hashes of session names) listed by any local user. A sign-in makes it 0700; files are 0600;
    a sign-out removes the file, leaving nothing behind."""
    sso_world.cache.mkdir(parents=True, mode=0o755)
    sso_world.cache.chmod(0o755)
    signed, _, _ = login(sso_world, clock, {1: sso_world.approve_latest})
    assert SsoWorld.mode(sso_world.cache) == 0o700
    assert [SsoWorld.mode(path) for path in sso_world.cache_files()] == [0o600]
    assert sso.logout(signed.target) is True
    assert list(sso_world.cache.iterdir()) == []
