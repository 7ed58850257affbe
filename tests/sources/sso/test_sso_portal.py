"""What a sign-in opens: role credentials from the portal (accepted by S3 with IAM auth on), the
person's accounts and roles, and the same cache read by boto3 profiles, role profiles whose
source_profile is an SSO profile, and the aws CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aws_standin import ACCOUNT
from ipy_tempcreds.base.errors import InvalidInput
from ipy_tempcreds.model.requests import SsoRole
from ipy_tempcreds.sources.sso import device as sso
from ipy_tempcreds.sources.sso import portal as sso_portal
from sso_support import sso as sso_world  # noqa: F401


@pytest.fixture
def signed_in(sso_world, clock):
    target = sso.resolve_target("analyst")
    sso.sign_in(target, show=lambda code: sso_world.standin.approve(code.user_code), clock=clock,
                sleep=clock.advance)
    return sso_world


def s3_keys(credentials, bucket):
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id=credentials.access_key_id,
                      aws_secret_access_key=credentials.secret_access_key,
                      aws_session_token=credentials.session_token)
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_role_credentials_of_an_sso_profile_work_on_s3(signed_in, clock):
    role = sso_portal.sso_role("analyst")
    assert (role.account_id, role.role_name, role.target.session_name) == (ACCOUNT, "Reader", "corp")
    session = sso_portal.role_credentials(role, clock=clock)
    assert session.arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Reader_")
    assert session.arn.endswith("/alice") and session.account == ACCOUNT
    assert abs((session.credentials.expiration - clock()).total_seconds() - 3600) < 5
    assert s3_keys(session.credentials, "bucket-r") == ["r.csv"]
    assert "secret" not in repr(session).lower().replace("secret_access_key=<hidden>", "")


def test_not_signed_in_or_not_assigned_say_what_to_do(sso_world, clock):
    with pytest.raises(sso.SignInNeeded, match="%sso_login analyst"):
        sso_portal.role_credentials(sso_portal.sso_role("analyst"), clock=clock)
    sso.sign_in(sso.resolve_target("analyst"), show=lambda c: sso_world.standin.approve(c.user_code),
                clock=clock, sleep=clock.advance)
    role = SsoRole(sso.resolve_target("analyst"), ACCOUNT, "Admin")
    with pytest.raises(sso.SsoError, match="does not give access to Admin"):
        sso_portal.role_credentials(role, clock=clock)
    assert sso_portal.sso_role("data") is None
    with pytest.raises(InvalidInput):
        sso_portal.sso_role("nobody") or sso.resolve_target("nobody")


def test_the_picker_lists_accounts_by_name_and_roles(signed_in, clock):
    signed_in.standin.aws.set_auth(False)  # seeding
    signed_in.standin.assign("Writer")
    signed_in.standin.aws.set_auth(True)
    assert sso_portal.assignments(sso.resolve_target("analyst"), clock=clock) == [
        (ACCOUNT, "analytics", "Reader"), (ACCOUNT, "analytics", "Writer")]


def test_boto3_profiles_use_the_same_sign_in(signed_in):
    import boto3

    identity = boto3.Session(profile_name="analyst").client("sts").get_caller_identity()
    assert "AWSReservedSSO_Reader_" in identity["Arn"]
    legacy_free = boto3.Session(profile_name="analyst").client("s3")
    assert [o["Key"] for o in legacy_free.list_objects_v2(Bucket="bucket-r")["Contents"]] == ["r.csv"]


def test_a_role_profile_with_an_sso_source_profile_is_assumed_like_any_source(signed_in, run):
    out = run("%assume_role data")
    assert f"arn:aws:sts::{ACCOUNT}:assumed-role/Data/" in out
    import boto3

    assert [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="bucket-d")["Contents"]] == ["d.csv"]
    # botocore's chain signed AssumeRole with the portal's role credentials of profile analyst.
    assert "GetRoleCredentials" in signed_in.standin.operations()


def test_the_aws_cli_reads_the_cache(signed_in):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ACCESS") and k != "AWS_SECRET_ACCESS_KEY"}
    env["HOME"] = str(signed_in.home)  # the CLI computes the cache directory from its own HOME
    aws = Path(sys.executable).parent / "aws"
    result = subprocess.run([str(aws), "s3", "ls", "s3://bucket-r", "--profile", "analyst"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-500:]
    assert "r.csv" in result.stdout
    for value in signed_in.standin.secrets():
        assert value not in result.stdout + result.stderr


def test_an_sso_profile_becomes_a_request_renewed_by_calling_the_portal_again(signed_in, clock):
    from ipy_tempcreds.sources.sso import portal

    request = portal.role_request("analyst")
    assert (request.operation, request.target, request.label) == ("GetRoleCredentials", f"Reader in account {ACCOUNT}", "analyst")
    assert request.source_text == "IAM Identity Center, corp" and request.region == "us-east-1"
    assert portal.role_request("data") is None and portal.role_request("keys") is None
    first = portal.role_credentials(request.role, clock=clock)
    second = portal.role_credentials(request.role, clock=clock)
    assert first.credentials.access_key_id != second.credentials.access_key_id
    assert signed_in.standin.operations().count("GetRoleCredentials") == 2
