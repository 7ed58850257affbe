"""Several roles at once: session("B") beside the environment's role, against the local STS/S3
with IAM auth on. Roles A and B trust only the base user alice; A may use only bucket-a, B only
bucket-b. So a renewal of B that works proves it was signed by alice, not chained through A.
"""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from aws_standin import ACCOUNT, allow
from ipy_tempcreds import api
from ipy_tempcreds.base.errors import InvalidInput, TempCredsError
from support import aws_environment, role_arn, signing_keys

A, B, D = role_arn("A"), role_arn("B"), role_arn("D")


def bucket_only(name: str) -> str:
    return allow(["s3:*"], [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"])


@pytest.fixture
def two_accounts(aws):
    alice = aws.base_user
    mallory = aws.create_user("mallory")
    aws.create_role("A", [alice.arn], bucket_only("bucket-a"))
    aws.create_role("B", [alice.arn], bucket_only("bucket-b"))
    aws.create_role("D", [mallory.arn])
    aws.create_bucket("bucket-a", {"in.csv": b"x\n1\n"})
    aws.create_bucket("bucket-b")
    aws.set_auth(True)
    return aws


def denied(call) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"] in ("AccessDenied", "403")
    return False


def test_read_with_the_environment_role_and_write_with_another(two_accounts):
    api.assume_role(A, session_name="reader")
    before = aws_environment()
    writer = api.session(B, session_name="writer", duration="30m")
    assert aws_environment() == before  # the environment still holds A
    body = boto3.client("s3").get_object(Bucket="bucket-a", Key="in.csv")["Body"].read()
    out = writer.client("s3")
    out.put_object(Bucket="bucket-b", Key="out.csv", Body=body)
    assert writer.client("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/B/writer"
    assert boto3.client("sts").get_caller_identity()["Arn"].endswith("assumed-role/A/reader")
    # Each identity keeps its own permissions.
    assert denied(lambda: boto3.client("s3").get_object(Bucket="bucket-b", Key="out.csv"))
    assert denied(lambda: out.get_object(Bucket="bucket-a", Key="in.csv"))
    assert out.get_object(Bucket="bucket-b", Key="out.csv")["Body"].read() == b"x\n1\n"


@pytest.fixture
def timed_world(two_accounts, timed):
    return timed


def test_a_named_session_renews_itself_from_the_original_user(timed_world):
    manager, gateway = timed_world
    api.assume_role(A, session_name="env-role")
    writer = api.session(B, session_name="writer", duration="1h")
    sts = writer.client("sts")
    keys = signing_keys(sts)
    sts.get_caller_identity()
    calls = list(gateway.calls)
    manager.clock.advance(3600 - 300)  # inside botocore's mandatory window, on the manager's clock
    assert sts.get_caller_identity()["Arn"].endswith("assumed-role/B/writer")
    # One new AssumeRole for B, signed by alice (B trusts only alice) while A is in the environment.
    assert gateway.calls == calls + ["AssumeRole"]
    assert keys[0] != keys[1]
    assert manager.named_sessions() == [
        (B, f"arn:aws:sts::{ACCOUNT}:assumed-role/B/writer", manager.clock() + timedelta(hours=1))]
    sts.get_caller_identity()
    assert gateway.calls == calls + ["AssumeRole"]  # renewed once, not on every call


def test_status_lists_other_sessions_and_clear_ends_them(two_accounts, run):
    run(f"%assume_role {A} --session-name reader")
    writer = api.session(B, session_name="writer")
    client = writer.client("sts")
    secret = writer.get_credentials().get_frozen_credentials().secret_key
    out = run("%assume_role --status")
    assert "Other sessions:" in out
    assert f"{B} · arn:aws:sts::{ACCOUNT}:assumed-role/B/writer · expires" in out
    assert secret not in out and secret not in repr(api.get_manager().named_sessions())

    run("%assume_role --clear")
    assert api.get_manager().named_sessions() == []
    assert "Other sessions" not in run("%assume_role --status")
    with pytest.raises(TempCredsError, match=r"ended by clear\(\)"):
        client.get_caller_identity()
    with pytest.raises(TempCredsError, match=r"ended by clear\(\)"):
        writer.client("s3").list_objects_v2(Bucket="bucket-b")


def test_named_sessions_without_an_environment_role(two_accounts, run):
    writer = api.session(B, session_name="alone")
    assert api.current() is None
    out = run("%assume_role --status")
    assert out.startswith("No temporary credentials") and "assumed-role/B/alone" in out
    assert writer.client("sts").get_caller_identity()["Arn"].endswith("assumed-role/B/alone")
    assert boto3.client("sts").get_caller_identity()["Arn"].endswith("user/alice")
    assert api.clear() is False  # nothing was in the environment, but the session ends
    with pytest.raises(TempCredsError, match="ended by clear"):
        writer.client("sts").get_caller_identity()


def test_the_same_request_shares_one_renewing_set(two_accounts):
    first = api.session(B, session_name="shared")
    second = api.session(B, session_name="shared", region_name="eu-west-1")
    assert first.get_credentials() is second.get_credentials()
    assert second.region_name == "eu-west-1"
    assert len(api.get_manager().named_sessions()) == 1
    api.session(B, session_name="other")
    assert [arn.rsplit("/", 1)[1] for _, arn, _ in api.get_manager().named_sessions()] == ["shared", "other"]


def test_mistakes_show_at_the_call_and_register_nothing(two_accounts):
    with pytest.raises(TempCredsError, match="was denied"):
        api.session(D)
    with pytest.raises(InvalidInput, match="only apply to session"):
        api.session(duration="1h")
    with pytest.raises(InvalidInput, match="chain=True applies only"):
        api.session(B, chain=True)
    with pytest.raises(InvalidInput):
        api.session(B, duration="5m")
    assert api.get_manager().named_sessions() == []


def test_session_without_a_role_still_follows_the_environment_role(two_accounts):
    api.assume_role(A, session_name="env")
    assert api.session().client("sts").get_caller_identity()["Arn"].endswith("assumed-role/A/env")
