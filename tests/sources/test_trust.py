"""With moto's IAM auth on, prove which credentials sign each STS call.

Roles A and B trust only the base user alice; C trusts only a session of B; D trusts someone else.
So a switch A -> B or a refresh succeeds only if it is signed by alice (no accidental chaining),
and C is reachable only with --chain. moto matches trust principals exactly, so C names B's
session ARN (real AWS would also accept the role ARN).
"""

from __future__ import annotations

import os

import boto3
import pytest

from aws_standin import ACCOUNT
from ipy_tempcreds import api
from support import aws_environment, role_arn


@pytest.fixture
def trusting_world(aws):
    alice = aws.base_user
    mallory = aws.create_user("mallory")
    aws.create_role("A", [alice.arn])
    aws.create_role("B", [alice.arn])
    aws.create_role("C", [f"arn:aws:sts::{ACCOUNT}:assumed-role/B/via-b"])
    aws.create_role("D", [mallory.arn])
    aws.create_bucket("bucket-a", {"x.csv": b"a,b\n1,2\n"})
    aws.set_auth(True)
    return aws


def identity() -> str:
    return boto3.client("sts").get_caller_identity()["Arn"]


def test_switch_and_refresh_are_signed_by_the_original_user(trusting_world, run):
    run(f"%assume_role {role_arn('A')} --session-name on-a")
    assert identity().endswith("assumed-role/A/on-a")
    # B trusts only alice: this works only if STS is called with alice's keys, not A's.
    run(f"%assume_role {role_arn('B')} --session-name on-b")
    assert identity().endswith("assumed-role/B/on-b")
    key = os.environ["AWS_ACCESS_KEY_ID"]
    run("%assume_role --refresh")
    assert os.environ["AWS_ACCESS_KEY_ID"] != key
    assert identity().endswith("assumed-role/B/on-b")


def test_a_source_client_first_built_while_a_role_is_active_still_signs_as_the_user(trusting_world, run):
    run(f"%assume_role {role_arn('A')} --session-name on-a")
    # Another region needs a new STS client, created while A's keys are in the environment.
    run(f"%assume_role {role_arn('B')} --session-name on-b --region eu-west-1")
    assert identity().endswith("assumed-role/B/on-b")


def test_chain_reaches_a_role_that_trusts_only_the_active_role(trusting_world, run):
    run(f"%assume_role {role_arn('B')} --session-name via-b")
    before = aws_environment()
    # Without --chain the call is signed by alice, whom C does not trust.
    error = run(f"%assume_role {role_arn('C')} --session-name on-c", expect_error=True)
    assert "was denied" in error and aws_environment() == before

    out = run(f"%assume_role {role_arn('C')} --session-name on-c --chain --duration 1h")
    assert "assumed-role/C/on-c" in out
    assert identity().endswith("assumed-role/C/on-c")
    assert api.current().source == f"chained from arn:aws:sts::{ACCOUNT}:assumed-role/B/via-b"
    # A refresh renews the chain: B from alice, then C from B.
    run("%assume_role --refresh")
    assert identity().endswith("assumed-role/C/on-c")


def test_chained_duration_over_one_hour_is_refused_before_the_call(trusting_world, run):
    run(f"%assume_role {role_arn('B')} --session-name via-b")
    error = run(f"%assume_role {role_arn('C')} --chain --duration 2h", expect_error=True)
    assert "1-hour cap" in error


def test_untrusted_role_is_denied_with_advice_and_nothing_changes(trusting_world, run):
    for active in (None, "A"):
        if active:
            run(f"%assume_role {role_arn(active)} --session-name on-a")
        before, grant = aws_environment(), api.current()
        error = run(f"%assume_role {role_arn('D')}", expect_error=True)
        assert error.startswith(f"AssumeRole {role_arn('D')} was denied")
        assert "trust policy" in error and "%aws_whoami" in error
        assert aws_environment() == before and api.current() is grant


def test_unknown_source_key_is_explained(trusting_world, run):
    os.environ["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE"
    error = run(f"%assume_role {role_arn('A')}", expect_error=True)
    assert "does not recognise the access key" in error


def test_wrong_source_secret_is_explained(trusting_world, run):
    os.environ["AWS_SECRET_ACCESS_KEY"] = "x" * 40
    error = run(f"%assume_role {role_arn('A')}", expect_error=True)
    assert "secret access key" in error and "x" * 40 not in error


def test_no_source_credentials_at_all(trusting_world, run):
    del os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    error = run(f"%assume_role {role_arn('A')}", expect_error=True)
    assert "no source credentials were found" in error
    assert "AWS_ACCESS_KEY_ID" not in os.environ


def test_source_profile_from_the_config_files(trusting_world, run, isolated_environment):
    alice = trusting_world.base_user
    (isolated_environment / "credentials").write_text(
        f"[analyst]\naws_access_key_id = {alice.access_key_id}\naws_secret_access_key = {alice.secret_access_key}\n"
    )
    del os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    run(f"%assume_role {role_arn('A')} --profile analyst --session-name from-profile")
    assert identity().endswith("assumed-role/A/from-profile")
    run(f"%assume_role {role_arn('B')} --profile analyst --session-name switched")
    assert identity().endswith("assumed-role/B/switched")
    error = run(f"%assume_role {role_arn('A')} --profile nobody", expect_error=True)
    assert "nobody" in error and "list-profiles" in error
