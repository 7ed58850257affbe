"""The strict stand-in (tests/strict_sts.py) behaves as AWS does where moto does not: credentials
that expire, the 1-hour cap for any temporary caller, MaxSessionDuration. Real moto behind it,
IAM auth on (so the forwarded Host header must keep every signature valid)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from aws_standin import ACCOUNT
from strict_sts import CHAINING_CAP, MAX_SESSION, StrictSts, strict_aws  # noqa: F401 (the fixture)
from support import FakeClock, role_arn


def client(strict, service, key_id, secret, token=None):
    import boto3

    return boto3.client(service, endpoint_url=strict.url, region_name="us-east-1", aws_access_key_id=key_id,
                        aws_secret_access_key=secret, aws_session_token=token)


@pytest.fixture
def world(aws, strict_aws):
    alice = aws.base_user
    aws.create_role("Short", [alice.arn], max_session=3600)
    aws.create_role("Long", [alice.arn, f"arn:aws:sts::{ACCOUNT}:assumed-role/Long/strict"], max_session=43200)
    aws.create_bucket("data", {"a.csv": b"x\n1\n"})
    aws.set_auth(True)
    return alice


def assume(strict, signer, role, duration, token=None):
    sts = client(strict, "sts", *signer, token)
    return sts.assume_role(RoleArn=role_arn(role), RoleSessionName="strict", DurationSeconds=duration)["Credentials"]


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"], \
        caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_signatures_still_hold_and_expired_keys_get_expired_token_from_sts_and_s3(world, strict_aws):
    clock = FakeClock()
    strict_aws.clock, strict_aws.lifetime = clock, 60
    alice = (world.access_key_id, world.secret_access_key)
    issued = assume(strict_aws, alice, "Long", 3600)
    assert (issued["Expiration"] - clock()).total_seconds() == pytest.approx(60, abs=1)
    role = (issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])
    s3 = client(strict_aws, "s3", *role)
    assert s3.get_object(Bucket="data", Key="a.csv")["Body"].read() == b"x\n1\n"
    s3.put_object(Bucket="data", Key="b.csv", Body=b"k=v&x=y\n" * 1000)  # Expect: 100-continue; not a form
    assert s3.get_object(Bucket="data", Key="b.csv")["ContentLength"] == 8000
    # A wrong secret is still refused by moto behind the proxy: the signature is checked.
    assert error_of(lambda: client(strict_aws, "sts", role[0], "x" * 40, role[2]).get_caller_identity())[0] \
        == "SignatureDoesNotMatch"
    clock.advance(61)
    assert error_of(lambda: s3.get_object(Bucket="data", Key="a.csv"))[::2] == ("ExpiredToken", 400)
    code, message, status = error_of(lambda: client(strict_aws, "sts", *role).get_caller_identity())
    assert (code, status) == ("ExpiredToken", 403) and "expired" in message
    # Long-term keys never expire.
    assert client(strict_aws, "sts", *alice).get_caller_identity()["Arn"] == world.arn
    assert [code for _, code in strict_aws.refused] == ["ExpiredToken", "ExpiredToken"]


def test_expire_makes_one_key_expired_at_once(world, strict_aws):
    alice = (world.access_key_id, world.secret_access_key)
    first, second = assume(strict_aws, alice, "Long", 3600), assume(strict_aws, alice, "Short", 3600)
    strict_aws.expire(first["AccessKeyId"])
    assert error_of(lambda: client(strict_aws, "sts", first["AccessKeyId"], first["SecretAccessKey"],
                                   first["SessionToken"]).get_caller_identity())[0] == "ExpiredToken"
    assert client(strict_aws, "sts", second["AccessKeyId"], second["SecretAccessKey"],
                  second["SessionToken"]).get_caller_identity()["Arn"].endswith("assumed-role/Short/strict")


def test_more_than_an_hour_from_temporary_credentials_is_refused_with_aws_words(world, strict_aws):
    alice = (world.access_key_id, world.secret_access_key)
    role = assume(strict_aws, alice, "Long", 3600)
    signer = (role["AccessKeyId"], role["SecretAccessKey"])
    assert error_of(lambda: assume(strict_aws, signer, "Long", 3601, role["SessionToken"])) == \
        ("ValidationError", CHAINING_CAP, 400)
    assert assume(strict_aws, signer, "Long", 3600, role["SessionToken"])["AccessKeyId"]
    # An MFA-less GetSessionToken session is temporary too.
    session = client(strict_aws, "sts", *alice).get_session_token(DurationSeconds=7200)["Credentials"]
    assert error_of(lambda: assume(strict_aws, (session["AccessKeyId"], session["SecretAccessKey"]), "Long",
                                   7200, session["SessionToken"]))[1] == CHAINING_CAP
    # ... and GetSessionToken itself refuses temporary callers.
    code, message, _ = error_of(lambda: client(strict_aws, "sts", *signer, role["SessionToken"]).get_session_token())
    assert code == "AccessDenied" and "session credentials" in message


def test_max_session_duration_is_enforced_from_moto_iam(world, strict_aws):
    alice = (world.access_key_id, world.secret_access_key)
    assert error_of(lambda: assume(strict_aws, alice, "Short", 7200)) == ("ValidationError", MAX_SESSION, 400)
    assert (assume(strict_aws, alice, "Long", 7200)["Expiration"])
    assert StrictSts  # the class is the API other tests use


def test_a_role_that_does_not_exist_is_refused_as_aws_refuses_it(world, strict_aws):
    """moto lets anyone assume any role name (tests/standins/test_standin_conformance.py); AWS does not."""
    alice = (world.access_key_id, world.secret_access_key)
    code, message, status = error_of(lambda: assume(strict_aws, alice, "Lnog", 3600))
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: sts:AssumeRole "
                       f"on resource: arn:aws:iam::{ACCOUNT}:role/Lnog")
    issued = assume(strict_aws, alice, "Long", 3600)
    chained = (issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])
    code, message, _ = error_of(lambda: assume(strict_aws, chained[:2], "Nope", 900, chained[2]))
    assert code == "AccessDenied" and message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/Long/strict ")
