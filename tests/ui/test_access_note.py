"""The note after a cell AWS refused (issue 28): the identity it was signed as, the roles known, the
command that checks them; for expired credentials when, why and the one command that renews;
nothing for errors that are not refusals; off with a setting. In-process (the real kernel, every
reader: tests/ui/test_identity_kernel.py)."""

from __future__ import annotations

import os

import pytest
from test_signin_standin import BUCKET, KEY, PROFILE, home, login_environ, near_expiry, signed_in, signin  # noqa: F401
from test_sso import login as sso_login

import ipy_tempcreds
from identity_support import B, C, world  # noqa: F401 (world: the fixture)
from ipy_tempcreds import api
from sso_support import sso as sso_world  # noqa: F401 (the fixture)
from strict_sts import strict_aws  # noqa: F401 (the fixture)

NOTE = "ipy_tempcreds:"


@pytest.fixture
def cell(shell, secrets, capsys):
    """cell(source) -> (the error it ended with, what it printed to stderr after the traceback)."""

    def run(source: str):
        capsys.readouterr()
        result = shell.run_cell(source, store_history=False)
        out = capsys.readouterr()
        secrets.assert_absent(out.out + out.err, where=source)
        note = out.err[out.err.rfind(NOTE):] if NOTE in out.err else ""  # the last: after the traceback
        return result.error_in_exec, note

    return run


def test_boto3_access_denied_names_the_user_the_url_and_the_roles(world, cell, shell):
    shell.run_line_magic("config", f"TempCreds.roles = {{'b': {B!r}, 'c': {C!r}}}")
    error, note = cell("import boto3\nboto3.client('s3').get_object(Bucket='bucket-b', Key='data.csv')")
    assert type(error).__name__ == "AccessDenied"
    assert note.startswith("ipy_tempcreds: AWS refused this (AccessDenied) for s3://bucket-b/data.csv. "
                           "The kernel was signed as IAM user alice (account 123456789012).")
    assert note.rstrip().endswith("Roles this kernel knows: b (alias), c (alias). Check which can read it: "
                                  "%aws_can s3://bucket-b/data.csv")
    assert len(note.strip().splitlines()) == 2


def test_inside_as_role_the_note_names_the_role_not_the_identity_put_back(world, cell):
    error, note = cell(f"import boto3, ipy_tempcreds\nwith ipy_tempcreds.as_role({B!r}, session_name='in-block'):\n"
                       "    boto3.client('s3').get_object(Bucket='bucket-c', Key='data.csv')")
    assert error is not None and api.current() is None
    assert "signed as role B (session in-block, account 123456789012), credentials valid for" in note
    assert "%aws_can s3://bucket-c/data.csv" in note


def test_errors_that_are_not_refusals_get_no_note(aws, cell):
    import boto3

    for source in ("import boto3\nboto3.client('s3').list_objects_v2(Bucket='no-such-bucket')",
                   "import boto3, botocore.config\nboto3.client('s3', endpoint_url='http://127.0.0.1:9', config="
                   "botocore.config.Config(retries={'total_max_attempts': 1})).list_buckets()",
                   "raise PermissionError(13, 'Permission denied', '/root/secret.txt')",
                   "raise ValueError('access denied by my own code')",
                   "open('/no/such/file')"):
        error, note = cell(source)
        assert error is not None and note == "", (source, note)
    assert boto3  # imported for the cells


def test_the_setting_turns_it_off(world, cell, shell):
    shell.run_line_magic("config", "TempCreds.explain_access_denied = False")
    error, note = cell("import boto3\nboto3.client('s3').get_object(Bucket='bucket-b', Key='data.csv')")
    assert error is not None and note == ""


def test_expired_credentials_say_when_why_and_the_command(world, strict_aws, cell, timed, clock):
    assert timed
    grant = api.assume_role(B, session_name="short", duration="1h", auto_refresh=False)
    clock.advance(2 * 3600)
    strict_aws.expire(grant.access_key_id)
    error, note = cell("import boto3\nboto3.client('s3').get_object(Bucket='bucket-b', Key='data.csv')")
    assert getattr(error, "response", {}).get("Error", {}).get("Code") == "ExpiredToken"
    assert note.startswith("ipy_tempcreds: the credentials of role B (session short, account 123456789012) "
                           "expired at ")
    assert "they were not renewed: auto-refresh is off for them. Renew: %assume_role --refresh" in note


def test_botocores_still_expired_message_is_read_as_expiry(world, cell):
    api.assume_role(B, session_name="fresh")
    _, note = cell("raise RuntimeError('Credentials were refreshed, but the refreshed credentials are still expired.')")
    assert "the reader used an older set" in note and "role B (session fresh" in note


def test_with_no_role_the_note_says_to_renew_at_the_source(world, cell):
    _, note = cell("raise RuntimeError('Credentials were refreshed, but the refreshed credentials are still expired.')")
    assert "IAM user alice" in note and "which ipy_tempcreds does not renew" in note
    assert os.environ.get("AWS_SESSION_TOKEN") is None
    assert ipy_tempcreds.current() is None


# -- the sign-in behind the kernel's own credentials ended ------------------------------------------

def ended_sign_in(world) -> None:
    """The cached IAM Identity Center token as it is a day later: expired, and no refresh token."""
    import json

    (path,) = world.cache_files()
    token = json.loads(path.read_text())
    token["expiresAt"] = "2020-01-01T00:00:00Z"
    token.pop("refreshToken", None)
    path.write_text(json.dumps(token))


@pytest.mark.parametrize("profile", ["analyst", "legacy"])  # an sso-session profile; the older form
def test_an_ended_sso_sign_in_names_the_magic_that_signs_in_again(sso_world, clock, cell, run, profile):
    """botocore says "run aws sso login" (UnauthorizedSSOTokenError, or TokenRetrievalError from its
    token provider): in a notebook the answer is %sso_login, for the kernel's profile."""
    sso_login(sso_world, clock, {1: sso_world.approve_latest}, name=profile)
    os.environ["AWS_PROFILE"] = profile
    ended_sign_in(sso_world)
    error, note = cell("import boto3\nboto3.client('s3').list_objects_v2(Bucket='bucket-r')")
    assert type(error).__name__ in ("UnauthorizedSSOTokenError", "TokenRetrievalError")
    assert note.strip() == (f"ipy_tempcreds: the IAM Identity Center sign-in these credentials come from has "
                            f"ended (the kernel's profile: {profile}), so AWS cannot be called with them. Sign "
                            f"in again from the notebook: %sso_login {profile}")


def test_an_ended_console_sign_in_names_percent_aws_login(signin, home, login_environ, cell):
    """A kernel started after `aws login` in a terminal (AWS_PROFILE names its login_session): the
    session ended at AWS Sign-In's stand-in, so botocore's own LoginProvider raises
    LoginRefreshRequired ("reauthenticate using 'aws login'") at its refresh; the note names %aws_login."""
    near_expiry(home, signed_in(signin, home), 60)
    signin.revoke_sessions()
    error, note = cell(f"import boto3\nboto3.client('s3').get_object(Bucket={BUCKET!r}, Key={KEY!r})")
    assert type(error).__name__ == "LoginRefreshRequired"
    assert note.strip() == (f"ipy_tempcreds: the console sign-in (aws login) these credentials come from has ended "
                            f"(the kernel's profile: {PROFILE}), so AWS cannot be called with them. Sign in "
                            f"again from the notebook: %aws_login --profile {PROFILE}")
