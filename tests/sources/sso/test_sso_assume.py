"""%assume_role on an SSO profile: the portal's role credentials injected, counted down and renewed
(GetRoleCredentials again) while the sign-in lasts; a sign-in that ended is said with the fix."""

from __future__ import annotations

import os

import boto3
import pytest

from aws_standin import ACCOUNT
from ipy_tempcreds import api
from ipy_tempcreds.sources.sso import device as sso
from sso_support import sso as sso_world  # noqa: F401
from support import aws_environment


@pytest.fixture
def signed_in(sso_world, clock):
    sso.sign_in(sso.resolve_target("analyst"), show=lambda code: sso_world.standin.approve(code.user_code),
                clock=clock, sleep=clock.advance)
    return sso_world


def bucket_keys(bucket: str) -> list[str]:
    boto3.DEFAULT_SESSION = None
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_assume_an_sso_profile_injects_the_portals_role(signed_in, timed, run):
    out = run("%assume_role analyst")
    assert out.startswith(f"Assumed arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Reader_")
    # Named as the picker names it (ui/sso_names.py), its account by id until the accounts are listed.
    assert f"/alice ({ACCOUNT} / Reader) · expires" in out and "auto-refresh on" in out
    assert bucket_keys("bucket-r") == ["r.csv"]
    status = run("%assume_role --status")
    assert "IAM Identity Center, corp" in status and "set by the permission set" in status
    assert f"Reader in account {ACCOUNT} (as analyst)" in status
    for value in signed_in.standin.secrets():
        assert value not in out + status


def test_renewal_asks_the_portal_again(signed_in, timed, run, clock):
    manager, _ = timed
    run("%assume_role analyst")
    key = os.environ["AWS_ACCESS_KEY_ID"]
    clock.now = manager.renewal_due()
    assert manager.renew_if_due() is True
    assert os.environ["AWS_ACCESS_KEY_ID"] != key
    assert signed_in.standin.operations().count("GetRoleCredentials") == 2
    assert manager.current().source == "IAM Identity Center, corp"
    assert bucket_keys("bucket-r") == ["r.csv"]
    run("%assume_role --refresh")
    assert signed_in.standin.operations().count("GetRoleCredentials") == 3


def test_a_sign_in_that_ended_stops_renewal_with_the_fix(signed_in, timed, run, clock, shell, capsys):
    manager, _ = timed
    run("%assume_role analyst")
    key = os.environ["AWS_ACCESS_KEY_ID"]
    signed_in.standin.expire_access_tokens()  # ended at the portal (an admin, another device's logout)
    signed_in.standin.revoke_refresh_tokens()
    clock.now = manager.renewal_due()
    assert manager.renew_if_due() is False
    assert os.environ["AWS_ACCESS_KEY_ID"] == key  # the current credentials stay until they expire
    capsys.readouterr()
    shell.run_cell("1")
    err = capsys.readouterr().err
    assert "IAM Identity Center" in err and "`%sso_login analyst`" in err


def test_sts_options_and_mfa_codes_are_refused_for_an_sso_profile(signed_in, timed, run):
    before = aws_environment()
    error = run("%assume_role analyst --duration 2h", expect_error=True)
    assert "IAM Identity Center profile" in error and "--duration does not apply" in error
    assert "--policy-arn does not apply" in run("%assume_role analyst --policy-arn arn:aws:iam::aws:policy/X",
                                                expect_error=True)
    assert "pass no MFA code" in run("%assume_role analyst --mfa-code 123456", expect_error=True)
    assert aws_environment() == before
    assert "GetRoleCredentials" not in signed_in.standin.operations()


def test_not_signed_in_says_how_and_changes_nothing(sso_world, timed, run):
    before = aws_environment()
    error = run("%assume_role analyst", expect_error=True)
    assert "not signed in to IAM Identity Center (corp)" in error and "`%sso_login analyst`" in error
    assert aws_environment() == before


def test_a_named_session_for_an_sso_profile(signed_in, timed):
    session = api.session("analyst")
    assert "AWSReservedSSO_Reader_" in session.client("sts").get_caller_identity()["Arn"]
