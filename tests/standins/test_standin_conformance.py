"""The stand-ins, as installed, still follow the AWS rules the suite relies on.

Every other test trusts moto (and tests/strict_sts.py in front of it) to authorize, refuse and
expire as AWS does. When a new moto release changes that, those tests start to fail or, worse,
to pass for the wrong reason, and the failure reads as a product bug. This file asks the stand-ins
the questions directly, with IAM authorization on, and each failure names the AWS rule, the IAM
action and the installed moto version: "moto X no longer authorizes S3 as AWS does".

Found this way first: moto 5.2.6 authorizes S3 calls by operation name (a policy must allow
``s3:ListObjectsV2`` and ``s3:HeadObject``, which are not IAM actions) where AWS checks
``s3:ListBucket`` and ``s3:GetObject``; 5.1.22 and 5.2.5 behave as AWS does. pyproject.toml keeps
the lock away from 5.2.6; `make test-latest` runs this file against the newest moto.
"""

from __future__ import annotations

from importlib import metadata

import pytest
from botocore.exceptions import ClientError

from aws_standin import ACCOUNT, allow
from strict_sts import CHAINING_CAP, MAX_SESSION, strict_aws  # noqa: F401 (the fixture)

MOTO = f"moto {metadata.version('moto')}"
BUCKET = "conformance"


def drift(rule: str, action: str, saw: str) -> str:
    return f"{MOTO} no longer behaves as AWS does: {rule} (IAM action {action}); it answered {saw}"


def seeded(what: str, call):
    """Seed the stand-in; a refusal here is the stand-in's drift too, said as such."""
    try:
        return call()
    except ClientError as error:
        pytest.fail(f"{MOTO} no longer serves what the suite seeds: {what} answered "
                    f"{error.response['Error'].get('Code') or error.response['ResponseMetadata']['HTTPStatusCode']} "
                    "(the stand-in changed, not the product)", pytrace=False)


def outcome(call) -> str:
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"] or str(error.response["ResponseMetadata"]["HTTPStatusCode"])
    return "allowed"


def denied(code: str) -> bool:
    # S3 says AccessDenied with 403; HeadObject has no body, so botocore reports the status alone.
    return code in ("AccessDenied", "403")


@pytest.fixture
def role_session(aws):
    """role_session(actions) -> an S3 client signed as a role allowed exactly those actions on BUCKET."""
    alice = aws.base_user
    seeded("CreateBucket and PutObject", lambda: aws.create_bucket(BUCKET, {"folder/data.csv": b"a,b\n1,2\n"}))
    made = []

    def session_for(actions: list[str], *, endpoint: str | None = None):
        name = f"Conformance{len(made)}"
        made.append(name)
        aws.set_auth(False)
        aws.create_role(name, [alice.arn], allow(actions, [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]))
        aws.set_auth(True)
        sts = aws.client("sts", aws_access_key_id=alice.access_key_id, aws_secret_access_key=alice.secret_access_key)
        issued = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}", RoleSessionName="conformance")
        keys = issued["Credentials"]
        return aws.client("s3", aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
                          aws_session_token=keys["SessionToken"])

    return session_for


def test_s3_is_authorized_by_iam_action_list_bucket_and_get_object(role_session):
    s3 = role_session(["s3:ListBucket", "s3:GetObject"])
    listed = outcome(lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix="folder/", MaxKeys=1))
    assert listed == "allowed", drift("ListObjectsV2 is authorized by s3:ListBucket", "s3:ListBucket", listed)
    headed = outcome(lambda: s3.head_object(Bucket=BUCKET, Key="folder/data.csv"))
    assert headed == "allowed", drift("HeadObject is authorized by s3:GetObject", "s3:GetObject", headed)
    got = outcome(lambda: s3.get_object(Bucket=BUCKET, Key="folder/data.csv"))
    assert got == "allowed", drift("GetObject is authorized by s3:GetObject", "s3:GetObject", got)


def test_operation_names_are_not_iam_actions_and_grant_nothing(role_session):
    s3 = role_session(["s3:ListObjectsV2", "s3:HeadObject"])
    listed = outcome(lambda: s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1))
    assert denied(listed), drift("s3:ListObjectsV2 is an operation, not an IAM action: a policy naming it allows "
                                 "no listing", "s3:ListBucket", listed)
    headed = outcome(lambda: s3.head_object(Bucket=BUCKET, Key="folder/data.csv"))
    assert denied(headed), drift("s3:HeadObject is not an IAM action: a policy naming it allows no read",
                                 "s3:GetObject", headed)


def test_a_read_only_role_cannot_write_or_read_another_bucket(aws, role_session):
    seeded("CreateBucket", lambda: aws.create_bucket("elsewhere", {"x": b"1"}))
    s3 = role_session(["s3:ListBucket", "s3:GetObject"])
    put = outcome(lambda: s3.put_object(Bucket=BUCKET, Key="new", Body=b"x"))
    assert denied(put), drift("PutObject needs s3:PutObject", "s3:PutObject", put)
    other = outcome(lambda: s3.get_object(Bucket="elsewhere", Key="x"))
    assert denied(other), drift("a policy's Resource limits the buckets", "s3:GetObject", other)


def test_sts_refuses_unknown_keys_and_callers_the_trust_policy_leaves_out(aws):
    aws.create_role("TrustsNobody", [f"arn:aws:iam::{ACCOUNT}:user/somebody-else"])
    aws.set_auth(True)
    alice = aws.base_user
    stranger = aws.client("sts", aws_access_key_id="AKIDNOTISSUEDBYMOTO0", aws_secret_access_key="x" * 40)
    code = outcome(stranger.get_caller_identity)
    assert code == "InvalidClientTokenId", drift("a key nobody issued is refused", "sts:GetCallerIdentity", code)
    sts = aws.client("sts", aws_access_key_id=alice.access_key_id, aws_secret_access_key=alice.secret_access_key)
    code = outcome(lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/TrustsNobody", RoleSessionName="xx"))
    assert code == "AccessDenied", drift("AssumeRole needs the role's trust policy to name the caller",
                                         "sts:AssumeRole", code)
    # moto itself lets any caller assume a role that does not exist (measured, 5.1 and 5.2); the
    # strict stand-in refuses it as AWS does (tested in tests/standins/test_faults_strict.py).


def test_an_assumed_role_is_seen_as_its_session(aws):
    alice = aws.base_user
    aws.create_role("Seen", [alice.arn])
    aws.set_auth(True)
    sts = aws.client("sts", aws_access_key_id=alice.access_key_id, aws_secret_access_key=alice.secret_access_key)
    keys = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Seen", RoleSessionName="who")["Credentials"]
    as_role = aws.client("sts", aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
                         aws_session_token=keys["SessionToken"])
    arn = as_role.get_caller_identity()["Arn"]
    assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/Seen/who", drift(
        "GetCallerIdentity of role credentials names the assumed-role session", "sts:GetCallerIdentity", arn)


def test_the_strict_stand_in_enforces_the_chaining_cap_and_max_session_duration(aws, strict_aws):
    alice = aws.base_user
    aws.create_role("Capped", [alice.arn, f"arn:aws:sts::{ACCOUNT}:assumed-role/Capped/first"], max_session=3600)
    aws.set_auth(True)

    def sts(key_id, secret, token=None):
        return aws.client("sts", aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token)

    import boto3

    def via_strict(key_id, secret, token=None):
        return boto3.session.Session().client("sts", endpoint_url=strict_aws.url, region_name="us-east-1",
                                              aws_access_key_id=key_id, aws_secret_access_key=secret,
                                              aws_session_token=token)

    role = f"arn:aws:iam::{ACCOUNT}:role/Capped"
    with pytest.raises(ClientError) as refused:
        via_strict(alice.access_key_id, alice.secret_access_key).assume_role(
            RoleArn=role, RoleSessionName="first", DurationSeconds=7200)
    assert refused.value.response["Error"]["Message"] == MAX_SESSION, "MaxSessionDuration is no longer enforced"
    keys = via_strict(alice.access_key_id, alice.secret_access_key).assume_role(
        RoleArn=role, RoleSessionName="first", DurationSeconds=3600)["Credentials"]
    chained = via_strict(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])
    with pytest.raises(ClientError) as capped:
        chained.assume_role(RoleArn=role, RoleSessionName="second", DurationSeconds=3601)
    assert capped.value.response["Error"]["Message"] == CHAINING_CAP, "the 1-hour chaining cap is no longer enforced"
    # moto alone enforces neither: the strict stand-in is still needed (if moto starts to, good news).
    plain = sts(alice.access_key_id, alice.secret_access_key)
    assert outcome(lambda: plain.assume_role(RoleArn=role, RoleSessionName="mm", DurationSeconds=7200)) in (
        "allowed", "ValidationError")
