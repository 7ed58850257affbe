"""Renewal before expiry, failures and backoff, the pre-cell check, and the renewal thread.

Time is a fake clock (tests/support.py); STS is moto over HTTP, with only the Expiration of each
issued set moved onto the fake clock (RestampingGateway says why).
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import boto3
import pytest

from ipy_tempcreds import api
from ipy_tempcreds.base.errors import InvalidInput
from ipy_tempcreds.core.renewal import refresh_margin, retry_delay
from support import follow_clock, role_arn, signing_keys

READER = role_arn("Reader")


def assume(manager, duration="1h", **kwargs):
    return manager.activate(manager.role_request(READER, duration=duration, session_name="lifetime", **kwargs))


# -- the schedule -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "lifetime, configured, margin",
    [
        (3600, None, 1200),    # automatic: 20 min, so botocore's 15-min window finds fresh keys
        (43200, None, 1200),
        (900, None, 450),      # 15-minute credentials: at half-life
        (2400, None, 1200),
        (3600, 600, 600),      # a configured margin is honoured as given
        (900, 800, 800),
    ],
)
def test_refresh_margin(lifetime, configured, margin):
    assert refresh_margin(lifetime, configured) == margin


def test_a_margin_not_less_than_the_lifetime_is_refused(timed):
    manager, gateway = timed
    manager.settings.refresh_margin = 900
    with pytest.raises(InvalidInput, match="refresh_margin"):
        assume(manager, duration=900)
    assert gateway.calls == [] and "AWS_SESSION_TOKEN" not in os.environ


def test_backoff_is_bounded():
    assert [retry_delay(n) for n in range(1, 8)] == [15, 30, 60, 120, 240, 300, 300]


# -- renewal --------------------------------------------------------------------------------------

def test_renews_at_the_margin_and_not_before(timed, clock):
    manager, gateway = timed
    first = assume(manager)
    clock.advance(40 * 60 - 1)
    assert manager.renew_if_due() is False and gateway.calls == ["AssumeRole"]
    clock.advance(1)
    assert manager.renew_if_due() is True
    assert gateway.calls == ["AssumeRole", "AssumeRole"]
    assert os.environ["AWS_ACCESS_KEY_ID"] == manager.current().access_key_id != first.access_key_id
    assert manager.current().expiration > first.expiration


def test_auto_refresh_off_never_renews_but_warns_at_expiry(timed, clock):
    manager, gateway = timed
    manager.activate(manager.role_request(READER, duration="1h"), auto_refresh=False)
    clock.advance(3599)
    assert manager.renew_if_due() is False and manager.before_cell() is None
    clock.advance(2)
    assert "expired at" in manager.before_cell() and "--refresh" in manager.before_cell()
    assert gateway.calls == ["AssumeRole"]


def test_clients_made_before_and_after_a_renewal_sign_with_the_new_keys(timed, clock, aws):
    manager, _ = timed
    aws.create_bucket("data")
    assume(manager)
    old_key = os.environ["AWS_ACCESS_KEY_ID"]
    before = boto3.client("s3")
    follow_clock(before, clock)
    keys_before = signing_keys(before)
    before.list_objects_v2(Bucket="data")

    clock.advance(46 * 60)  # past the renewal (40 min), and inside botocore's 15-minute window of the old set
    assert manager.renew_if_due()
    new_key = os.environ["AWS_ACCESS_KEY_ID"]
    before.list_objects_v2(Bucket="data")
    after = boto3.client("s3")
    keys_after = signing_keys(after)
    after.list_objects_v2(Bucket="data")

    assert keys_before == [old_key, new_key]
    assert keys_after == [new_key]


def test_a_client_made_during_a_role_says_what_to_do_when_it_cannot_renew_after_clear(timed, clock, aws):
    """After --clear, a client created while the role was active signs as the role until botocore's
    mandatory refresh window, then finds no temporary set to renew: the error says why and what to
    do (botocore's own words were "Partial credentials found in env, missing: ...")."""
    from botocore.exceptions import PartialCredentialsError

    manager, _ = timed
    aws.create_bucket("data")
    assume(manager)
    during = boto3.client("s3")
    follow_clock(during, clock)
    during.list_objects_v2(Bucket="data")
    manager.clear()

    clock.advance(55 * 60)  # inside the last 10 minutes of the role's hour: refreshing is mandatory
    with pytest.raises(PartialCredentialsError, match=r"no longer in the environment .*Create the client again"):
        during.list_objects_v2(Bucket="data")
    boto3.client("s3").list_objects_v2(Bucket="data")  # a new client, on the kernel's own credentials


def test_a_day_of_15_minute_credentials_with_a_client_in_use(timed, clock, aws):
    """24 simulated hours, a call at least every 2 simulated minutes from one long-lived client.

    The loop wakes like the renewal thread: at the due time, or after at most 2 minutes."""
    manager, gateway = timed
    aws.create_bucket("data")
    assume(manager, duration="15m")
    client = boto3.client("s3")
    follow_clock(client, clock)
    keys = signing_keys(client)
    expiry_of = {manager.current().access_key_id: manager.current().expiration}
    failures = renewals = 0
    end = clock() + timedelta(hours=24)
    while clock() < end:
        clock.advance(min(120, max(manager.seconds_until_due(), 0)) or 0.001)
        renewals += manager.renew_if_due()
        grant = manager.current()
        expiry_of[grant.access_key_id] = grant.expiration
        try:
            client.list_objects_v2(Bucket="data")
        except Exception:
            failures += 1
            continue
        # moto does not enforce expiry; AWS would refuse a call signed by an expired set.
        failures += expiry_of[keys[-1]] <= clock()
    assert failures == 0
    assert renewals in (191, 192)  # at half-life: every 7.5 minutes
    assert gateway.calls.count("AssumeRole") == renewals + 1


# -- failures -------------------------------------------------------------------------------------

@pytest.fixture
def revocable(aws):
    """IAM auth on; returns (revoke, restore) for the base user's permission to assume roles."""
    iam = aws.client("iam")
    policy = iam.get_user_policy(UserName="alice", PolicyName="access")["PolicyDocument"]
    aws.set_auth(True)

    def set_allowed(allowed: bool):
        aws.set_auth(False)
        if allowed:
            import json

            iam.put_user_policy(UserName="alice", PolicyName="access", PolicyDocument=json.dumps(policy))
        else:
            iam.delete_user_policy(UserName="alice", PolicyName="access")
        aws.set_auth(True)

    return set_allowed


def test_a_failed_renewal_keeps_the_credentials_backs_off_tells_once_and_recovers(timed, clock, revocable):
    manager, gateway = timed
    assume(manager)
    environment = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    clock.advance(40 * 60)
    revocable(False)

    assert manager.renew_if_due() is False
    assert {k: v for k, v in os.environ.items() if k.startswith("AWS_")} == environment
    message = manager.before_cell()
    assert message.startswith(f"Renewing {manager.current().arn} failed: AssumeRole")
    assert "was denied" in message and "stay in use" in message and "retrying in 15s" in message
    assert manager.before_cell() is None  # told once
    assert manager.renew_if_due() is False and gateway.calls.count("AssumeRole") == 2  # waits 15 s

    clock.advance(15)
    assert manager.renew_if_due() is False  # second failure: 30 s next, still no new message
    assert manager.before_cell() is None and "retrying in 30s" in manager.problem
    revocable(True)
    clock.advance(30)
    assert manager.renew_if_due() is True
    assert manager.problem is None and os.environ["AWS_ACCESS_KEY_ID"] != environment["AWS_ACCESS_KEY_ID"]


def test_expired_and_not_renewable_is_said_before_every_cell(timed, clock, revocable, shell, capsys):
    manager, _ = timed
    assume(manager)
    revocable(False)
    clock.advance(3601)
    for _ in range(2):
        shell.run_cell("1 + 1")
        err = capsys.readouterr().err
        assert "ipy_tempcreds: The credentials of" in err and "expired at" in err
        assert "Last renewal attempt: AssumeRole" in err and "%assume_role --clear" in err
    shell.run_line_magic("assume_role", "--clear")
    shell.run_cell("1 + 1")
    assert capsys.readouterr().err == ""


def test_the_pre_cell_check_renews_what_a_sleeping_laptop_missed(timed, clock, shell):
    manager, gateway = timed
    assume(manager)
    old = os.environ["AWS_ACCESS_KEY_ID"]
    clock.advance(50 * 60)  # the renewal thread never ran (here it does not exist)
    shell.run_cell("key_in_cell = __import__('os').environ['AWS_ACCESS_KEY_ID']")
    assert shell.user_ns["key_in_cell"] != old
    assert gateway.calls == ["AssumeRole", "AssumeRole"]


def test_status_shows_the_next_renewal_and_problems(timed, clock, shell, capsys, revocable):
    manager, _ = timed
    assume(manager)
    shell.run_line_magic("assume_role", "")
    assert "on (next renewal" in capsys.readouterr().out
    revocable(False)
    clock.advance(40 * 60)
    manager.renew_if_due()
    shell.run_line_magic("assume_role", "--status")
    out = capsys.readouterr().out
    assert out.startswith("Attention:") and "failed" in out


# -- the thread -----------------------------------------------------------------------------------

def renewal_threads():
    return [t for t in threading.enumerate() if t.name == "ipy_tempcreds-renewal"]


def test_the_thread_lives_only_while_credentials_are_active(shell):
    shell.run_line_magic("assume_role", f"{READER} -q")
    assert len(renewal_threads()) == 1
    shell.run_line_magic("assume_role", f"{role_arn('Other')} -q")
    assert len(renewal_threads()) == 1  # a switch reuses it
    shell.run_line_magic("assume_role", "--clear")
    assert renewal_threads() == []
    shell.run_line_magic("assume_role", f"{READER} -q")
    shell.extension_manager.unload_extension("ipy_tempcreds")
    try:
        assert renewal_threads() == []
    finally:
        shell.extension_manager.load_extension("ipy_tempcreds")


def test_the_thread_renews_on_its_own_and_never_after_clear(aws, shell):
    manager = api.get_manager()
    manager.settings.refresh_margin = 899  # 900-second credentials: due one second after assuming
    shell.run_line_magic("assume_role", f"{READER} --duration 900 -q")
    first = os.environ["AWS_ACCESS_KEY_ID"]
    deadline = time.monotonic() + 10
    while os.environ["AWS_ACCESS_KEY_ID"] == first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert os.environ["AWS_ACCESS_KEY_ID"] != first
    shell.run_line_magic("assume_role", "--clear")
    restored = os.environ["AWS_ACCESS_KEY_ID"]
    time.sleep(1.5)
    assert os.environ["AWS_ACCESS_KEY_ID"] == restored and api.current() is None
