"""STS failing in every way a user can meet, at assume time and during background renewal.

The local STS (moto) runs with IAM auth on, behind a loopback fault-injecting proxy
(tests/faultproxy.py) that ``AWS_ENDPOINT_URL_STS`` points at. Faults moto produces itself are
real: a role whose trust policy excludes the caller, a user without sts:AssumeRole, a deleted access
key. The proxy produces what moto cannot: resets, silence longer than the timeout, HTTP 500/503,
throttling, and STS's error XML for ExpiredToken, MFA failures, MaxSessionDuration and the chaining
cap (moto 5 enforces neither: it granted 2 h on a role with MaxSessionDuration=3600 when measured),
malformed or oversized policies and disabled regions. A closed loopback port is the unreachable
endpoint.

Timeouts are short (``TempCreds.sts_timeout = 1``) and every call is timed with time.monotonic()
against an upper bound: what is asserted is that a dead endpoint cannot hang a cell, not a speed.
"""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

import pytest
from IPython.core.error import UsageError

from faultproxy import FaultProxy, closed_port_url
from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api
from ipy_tempcreds.core.manager import CredentialManager
from support import RestampingGateway, SecretWatch, loaded_behind_proxy, proxied_environ, role_arn

READER, OTHER, UNTRUSTED = role_arn("Reader"), role_arn("Other"), role_arn("Untrusted")
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
# What a dead or slow endpoint may cost, at most, with sts_timeout = 1 s: three attempts of 1 s
# plus botocore's standard-mode backoff (up to 1 s, then 2 s) and slack for a loaded CI machine.
BOUND = 10.0
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})

MAX_SESSION = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
CHAINING = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
REGION_OFF = ("STS is not activated in this region for account:123456789012. Your account administrator "
              "can activate STS in this region using the IAM Console.")


@pytest.fixture(scope="module")
def world(local_aws, tmp_path_factory):
    """Users and roles created once for the module (moto reset once), and the proxy in front."""
    local_aws.reset()
    alice = local_aws.create_user("alice")
    mallory = local_aws.create_user("mallory")
    retired = local_aws.create_user("retired")
    local_aws.client("iam").delete_access_key(UserName="retired", AccessKeyId=retired.access_key_id)
    for name in ("Reader", "Other"):
        local_aws.create_role(name, [alice.arn])
    local_aws.create_role("Untrusted", [mallory.arn])
    proxy = FaultProxy(local_aws.url).start()
    environ = proxied_environ(local_aws, alice, proxy.url, tmp_path_factory.mktemp("faults"))
    yield SimpleNamespace(aws=local_aws, alice=alice, retired=retired, proxy=proxy, environ=environ)
    proxy.stop()


@pytest.fixture
def faulty(world, isolated_environment):
    """IAM auth on, STS through the proxy (forwarding), the extension loaded, with
    `%config TempCreds.sts_timeout = 1`."""
    world.proxy.seen.clear()
    with loaded_behind_proxy(world, sts_timeout=1) as (ip, watch):
        manager = api.get_manager()
        assert manager.settings.sts_timeout == 1
        yield SimpleNamespace(shell=ip, manager=manager, proxy=world.proxy, aws=world.aws, secrets=watch, world=world)


def environment_bytes() -> dict[bytes, bytes]:
    return dict(os.environ._data)


def revoke_alice(aws):
    """Take sts:AssumeRole away from alice (auth is off while IAM is edited); returns the undo."""
    iam = aws.client("iam")
    aws.set_auth(False)
    policy = iam.get_user_policy(UserName="alice", PolicyName="access")["PolicyDocument"]
    iam.delete_user_policy(UserName="alice", PolicyName="access")
    aws.set_auth(True)

    def restore():
        aws.set_auth(False)
        iam.put_user_policy(UserName="alice", PolicyName="access", PolicyDocument=json.dumps(policy))
        aws.set_auth(True)

    return restore


def role_session_as_source(aws, alice):
    """The kernel started with a role session (assumed outside it) as its own credentials."""
    import boto3

    sts = boto3.client("sts", endpoint_url=aws.url, region_name="us-east-1",
                       aws_access_key_id=alice.access_key_id, aws_secret_access_key=alice.secret_access_key)
    credentials = sts.assume_role(RoleArn=READER, RoleSessionName="from-terminal")["Credentials"]
    os.environ.update(AWS_ACCESS_KEY_ID=credentials["AccessKeyId"], AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
                      AWS_SESSION_TOKEN=credentials["SessionToken"])


# Each: (id, set the fault up (gets the fixture, returns an undo or None), the magic line, the key
# phrase of translate_sts_error's message, whether to run it without a role only: faults botocore
# retries cost seconds (the renewal tests below cover them with a role active), and faults that
# change the kernel's own credentials cannot be set up while a role was assumed with them.)
ASSUME_FAULTS = [
    ("unreachable", lambda f: os.environ.update(AWS_ENDPOINT_URL_STS=closed_port_url()),
     f"%assume_role {READER}", "could not connect to the STS endpoint", True),
    ("connection-reset", lambda f: f.proxy.fault("reset"),
     f"%assume_role {READER}", "closed the connection without answering", True),
    ("throttling", lambda f: f.proxy.sts_error("Throttling", "Rate exceeded"),
     f"%assume_role {READER}", "STS is throttling requests", True),
    ("access-denied-trust", None,
     f"%assume_role {UNTRUSTED}", "the role's trust policy does not allow", False),
    ("access-denied-permissions", lambda f: revoke_alice(f.aws),
     f"%assume_role {READER}", "they lack sts:AssumeRole permission", False),
    ("access-denied-wrong-mfa-code",
     lambda f: f.proxy.sts_error("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.", status=403),
     f"%assume_role {READER} --mfa-serial {SERIAL} --mfa-code 123456", "the MFA code was wrong, expired or already used", False),
    ("source-expired-token",
     lambda f: f.proxy.sts_error("ExpiredToken", "The security token included in the request is expired", status=403),
     f"%assume_role {READER}", "the source credentials (environment variables) have expired", False),
    ("source-invalid-client-token-id", lambda f: os.environ.update(f.world.retired.environ()),
     f"%assume_role {READER}", "AWS does not recognise the access key of the source credentials", True),
    ("max-session-duration", lambda f: f.proxy.sts_error("ValidationError", MAX_SESSION),
     f"%assume_role {READER} --duration 2h", "7200 s is more than the role's maximum session duration", False),
    ("chaining-cap-source-is-a-role", lambda f: (role_session_as_source(f.aws, f.world.alice),
                                                 f.proxy.sts_error("ValidationError", CHAINING))[-1],
     f"%assume_role {OTHER} --duration 2h", "from temporary credentials last at most 1 hour", True),
    ("malformed-policy",
     lambda f: f.proxy.sts_error("MalformedPolicyDocument", "Syntax errors in policy."),
     f"%assume_role {READER} --policy '{POLICY}'", "the session policy is not a valid IAM policy", False),
    ("packed-policy-too-large",
     lambda f: f.proxy.sts_error("PackedPolicyTooLarge", "Serialized token too large for session"),
     f"%assume_role {READER} --policy '{POLICY}' --tag project=churn --tag team=ds",
     "too large once packed", False),
    ("region-disabled", lambda f: f.proxy.sts_error("RegionDisabledException", REGION_OFF, status=403),
     f"%assume_role {READER} --region ap-east-1", "STS is not activated in this region", False),
]


@pytest.mark.parametrize("with_role", [False, True], ids=["no-role", "role-active"])
@pytest.mark.parametrize("setup, line, phrase, no_role_only", [c[1:] for c in ASSUME_FAULTS], ids=[c[0] for c in ASSUME_FAULTS])
def test_a_failing_sts_gives_a_specific_message_quickly_and_changes_nothing(faulty, capsys, setup, line, phrase,
                                                                           no_role_only, with_role):
    if with_role and no_role_only:
        pytest.skip("retried (seconds; covered with a role active by the renewal tests) or changes the source")
    if with_role:
        faulty.manager.activate(faulty.manager.role_request(OTHER, session_name="active"))
    undo = setup(faulty) if setup else None
    try:
        before, grant = environment_bytes(), faulty.manager.current()
        capsys.readouterr()
        name, _, rest = line.lstrip("%").partition(" ")
        started = time.monotonic()
        with pytest.raises(UsageError) as raised:
            faulty.shell.run_line_magic(name, rest)
        elapsed = time.monotonic() - started
    finally:
        if callable(undo):
            undo()
    message = str(raised.value)
    assert phrase in message, message
    assert "\n" not in message and "Traceback" not in message
    faulty.secrets.assert_absent(message, where=line)
    assert capsys.readouterr() == ("", "")
    assert elapsed < BOUND, f"{line!r} took {elapsed:.1f} s"
    assert environment_bytes() == before
    assert faulty.manager.current() is grant


def test_a_slow_endpoint_is_given_up_after_three_attempts_of_one_second(faulty, capsys):
    """The slow case of the table above, with the attempts counted."""
    faulty.proxy.fault("delay", seconds=5)
    before = environment_bytes()
    started = time.monotonic()
    with pytest.raises(UsageError) as raised:
        faulty.shell.run_line_magic("assume_role", READER)
    elapsed = time.monotonic() - started
    assert str(raised.value).startswith(f"AssumeRole {READER} failed: the STS endpoint did not answer in time.")
    assert capsys.readouterr() == ("", "") and environment_bytes() == before and faulty.manager.current() is None
    # 3 attempts (not botocore's max_attempts=3 *retries*, which made 4) of sts_timeout = 1 s.
    assert faulty.proxy.actions("delay") == ["AssumeRole"] * 3
    assert 3.0 <= elapsed < BOUND


def test_one_transient_503_or_throttle_is_retried_and_the_user_sees_only_success(faulty, capsys):
    faulty.proxy.fault("status", status=503, times=1)
    faulty.shell.run_line_magic("assume_role", f"{READER} --session-name after-503")
    faulty.proxy.sts_error("Throttling", "Rate exceeded", times=1)
    faulty.shell.run_line_magic("assume_role", "--refresh")
    out = capsys.readouterr()
    assert out.out.startswith("Assumed arn:aws:sts::123456789012:assumed-role/Reader/after-503")
    assert "Renewed" in out.out and out.err == ""
    assert faulty.proxy.actions() == ["AssumeRole"] * 4


def test_the_chaining_cap_with_chain_is_explained(faulty):
    """--chain 1h passes the local check; were AWS to refuse it (a longer cap elsewhere in the
    chain), the message must still name chaining, not the role's MaxSessionDuration."""
    faulty.shell.run_line_magic("assume_role", f"{READER} --session-name first -q")
    faulty.proxy.sts_error("ValidationError", CHAINING)
    before = environment_bytes()
    with pytest.raises(UsageError, match=r"role chaining\) lasts at most 1 hour"):
        faulty.shell.run_line_magic("assume_role", f"{OTHER} --chain --duration 1h")
    assert environment_bytes() == before


# -- during background renewal -------------------------------------------------------------------------

@pytest.fixture
def renewing(faulty, clock):
    """A manager on a fake clock without the renewal thread (renew_if_due() is called by the test),
    holding a 1-hour Reader session obtained through the proxy; STS calls recorded."""
    manager = CredentialManager(clock=clock, background=False)
    manager.settings.sts_timeout = 1
    gateway = manager.sts = RestampingGateway(manager.sts, clock)
    kernel_state.install(manager)
    watch = SecretWatch(manager)
    grant = manager.activate(manager.role_request(READER, duration="1h", session_name="renewing"))
    yield SimpleNamespace(manager=manager, gateway=gateway, grant=grant, proxy=faulty.proxy, clock=clock,
                          secrets=watch, aws=faulty.aws, world=faulty.world)
    watch.close()
    manager.clear()


RENEWAL_FAULTS = [
    # (id, fault, key phrase, retried by botocore)
    ("unreachable", lambda r: r.proxy.pause(), "could not connect to the STS endpoint", True),
    ("http-500", lambda r: r.proxy.fault("status", status=500), "STS answered with a server error (HTTP 500", True),
    ("source-expired-token", lambda r: r.proxy.sts_error("ExpiredToken", "The security token included in the request is expired", status=403),
     "have expired", False),
    ("source-invalid-client-token-id",
     lambda r: r.proxy.sts_error("InvalidClientTokenId", "The security token included in the request is invalid.", status=403),
     "does not recognise the access key", False),
    ("access-denied", lambda r: r.proxy.sts_error("AccessDenied", f"User: {r.world.alice.arn} is not authorized to perform: sts:AssumeRole", status=403),
     "was denied", False),
    ("max-session-duration-lowered", lambda r: r.proxy.sts_error("ValidationError", MAX_SESSION),
     "more than the role's maximum session duration", False),
    ("region-disabled", lambda r: r.proxy.sts_error("RegionDisabledException", REGION_OFF, status=403),
     "STS is not activated in this region", False),
]


@pytest.mark.parametrize("fault, phrase, retried", [c[1:] for c in RENEWAL_FAULTS], ids=[c[0] for c in RENEWAL_FAULTS])
def test_renewal_failure_keeps_the_credentials_warns_once_backs_off_and_recovers(renewing, caplog, fault, phrase, retried):
    manager, clock, proxy = renewing.manager, renewing.clock, renewing.proxy
    before = environment_bytes()
    clock.advance(40 * 60)  # the renewal is due (20 minutes before expiry)
    fault(renewing)
    try:
        started = time.monotonic()
        assert manager.renew_if_due() is False
        assert time.monotonic() - started < BOUND

        # The old set stays, whole; the user is told once, before the next cell, what failed.
        assert environment_bytes() == before and manager.current() is renewing.grant
        message = manager.before_cell()
        assert message.startswith(f"Renewing {renewing.grant.arn} failed: ")
        assert phrase in message and "The current credentials stay in use" in message
        assert "retrying in 15s" in message
        renewing.secrets.assert_absent(message, where="before_cell")
        assert manager.before_cell() is None
        calls = len(renewing.gateway.calls)

        # Bounded backoff: nothing before the retry time; then 15 s, 30 s, ... silently.
        clock.advance(14)
        assert manager.renew_if_due() is False and len(renewing.gateway.calls) == calls
        if not retried:  # (a retried fault costs seconds per attempt: one failure shows the rest)
            clock.advance(1)
            assert manager.renew_if_due() is False and len(renewing.gateway.calls) == calls + 1
            assert manager.before_cell() is None and "retrying in 30s" in manager.problem
            assert environment_bytes() == before
        warnings = [r for r in caplog.records if r.name == "ipy_tempcreds" and r.levelname == "WARNING"]
        assert len(warnings) == 1 and phrase in warnings[0].getMessage()
    finally:
        if fault is RENEWAL_FAULTS[0][1]:
            proxy.resume()
        proxy.forward()

    # STS answers again: the next attempt renews, and the problem is gone.
    clock.advance(30)
    assert manager.renew_if_due() is True
    assert manager.problem is None and manager.before_cell() is None
    renewed = manager.current()
    assert renewed is not renewing.grant and os.environ["AWS_ACCESS_KEY_ID"] == renewed.access_key_id
    assert renewed.arn == renewing.grant.arn and renewed.expiration > renewing.grant.expiration


def test_a_slow_renewal_blocks_neither_status_nor_clear_and_its_late_answer_installs_nothing(renewing):
    """The background renewal's AssumeRole is answered 0.8 s late (inside sts_timeout = 1 s). Meanwhile
    the user's status and clear answer at once; the renewal's answer, arriving after the clear, is
    not installed."""
    import threading

    from ipy_tempcreds.ui import display

    manager, proxy = renewing.manager, renewing.proxy
    original = dict(renewing.world.environ)
    renewing.clock.advance(40 * 60)
    proxy.fault("delay", seconds=0.8, times=1)
    results = []
    renewal = threading.Thread(target=lambda: results.append(manager.renew_if_due()))
    started = time.monotonic()
    renewal.start()
    while not proxy.actions("delay") and time.monotonic() - started < BOUND:
        time.sleep(0.01)  # until the renewal's request is in flight

    quick = time.monotonic()
    status = display.status_text(manager.current(), manager.clock(), manager.problem, manager.renewal_due())
    assert "assumed-role/Reader/renewing" in status
    assert manager.clear() is True
    assert time.monotonic() - quick < 0.5
    after_clear = environment_bytes()

    renewal.join(BOUND)
    assert not renewal.is_alive() and time.monotonic() - started < BOUND
    assert results == [False] and manager.current() is None
    assert environment_bytes() == after_clear
    assert {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")} == {
        k: original[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    assert "AWS_SESSION_TOKEN" not in os.environ and manager.problem is None and manager.before_cell() is None
