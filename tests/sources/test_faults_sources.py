"""Source credentials as real AWS treats them (issue 12: items 3, 5 and 9).

moto behind the strict stand-in (tests/strict_sts.py: the 1-hour cap for any temporary caller,
MaxSessionDuration), IAM auth on, so every refusal here is one AWS would give.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api
from strict_sts import strict_aws  # noqa: F401 (the fixture)
from support import aws_environment, role_arn

READER = role_arn("Reader")
SERIAL = "arn:aws:iam::123456789012:mfa/alice"


@pytest.fixture
def strict(aws, strict_aws, shell):
    alice = aws.base_user
    aws.create_role("Reader", [alice.arn], max_session=43200)
    aws.create_role("Short", [alice.arn], max_session=3600)
    aws.set_auth(True)
    return strict_aws


def assumes(strict) -> list[dict]:
    return [r for r in strict.requests if r["Action"] == "AssumeRole"]


# -- item 5: AWS's 1-hour cap for roles assumed from temporary credentials --------------------------

def mfa_without_auth(aws) -> None:
    """moto's GetSessionToken issues a fixed key its own IAM auth then refuses (measured), so MFA
    sessions are tested with auth off; the strict stand-in still enforces the 1-hour cap."""
    aws.set_auth(False)


def test_an_mfa_role_for_more_than_an_hour_is_assumed_directly_with_the_code(strict, run, aws):
    mfa_without_auth(aws)
    out = run(f"%assume_role {READER} --mfa-serial {SERIAL} --mfa-code 123456 --duration 2h --session-name mfa-2h")
    assert out.startswith("Assumed arn:aws:sts::123456789012:assumed-role/Reader/mfa-2h")
    assert "new MFA code" in out  # said at once: its renewal will need one
    assert strict.refused == []
    last = assumes(strict)[-1]
    assert last["DurationSeconds"] == "7200" and last["SerialNumber"] == SERIAL and last["TokenCode"] == "123456"
    assert last["temporary"] is False  # signed by alice's own keys, not an MFA session


def test_an_mfa_role_for_an_hour_still_goes_through_the_reusable_mfa_session(strict, run, aws):
    mfa_without_auth(aws)
    out = run(f"%assume_role {READER} --mfa-serial {SERIAL} --mfa-code 123456 --duration 1h --session-name mfa-1h")
    assert "new MFA code" not in out
    actions = [r["Action"] for r in strict.requests]
    assert "GetSessionToken" in actions and actions[-1] == "AssumeRole"
    assert assumes(strict)[-1]["temporary"] is True and strict.refused == []
    run("%assume_role --refresh")  # from the MFA session: no code asked
    assert strict.refused == []


def test_a_temporary_source_is_told_of_the_one_hour_cap_before_any_call(strict, run, aws):
    import boto3

    # The kernel started with a role session as its own credentials (assumed outside it).
    sts = boto3.client("sts", endpoint_url=strict.url, region_name="us-east-1")
    session = sts.assume_role(RoleArn=READER, RoleSessionName="from-terminal")["Credentials"]
    os.environ.update(AWS_ACCESS_KEY_ID=session["AccessKeyId"], AWS_SECRET_ACCESS_KEY=session["SecretAccessKey"],
                      AWS_SESSION_TOKEN=session["SessionToken"])
    kernel_state.reset()
    before, sent = aws_environment(), len(strict.requests)
    message = run(f"%assume_role {role_arn('Short')} --duration 2h", expect_error=True)
    assert "at most 1 hour" in message and "temporary" in message
    assert len(strict.requests) == sent, "STS was called although the answer was known"
    assert aws_environment() == before


# -- item 3: rotated source credentials ------------------------------------------------------------

def test_a_rotated_key_in_the_credentials_file_is_picked_up(strict, run, aws):
    alice = aws.base_user
    credentials_file = os.environ["AWS_SHARED_CREDENTIALS_FILE"]

    def write_keys(key_id, secret):
        with open(credentials_file, "w") as handle:
            handle.write(f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")

    write_keys(alice.access_key_id, alice.secret_access_key)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        del os.environ[name]
    kernel_state.reset()
    run(f"%assume_role {READER} --session-name before-rotation")
    # `aws configure` after a rotation: a new key written, the old one deleted at AWS.
    aws.set_auth(False)
    iam = aws.client("iam")
    new = iam.create_access_key(UserName="alice")["AccessKey"]
    iam.delete_access_key(UserName="alice", AccessKeyId=alice.access_key_id)
    aws.set_auth(True)
    write_keys(new["AccessKeyId"], new["SecretAccessKey"])
    try:
        run("%assume_role --refresh")
        run("%assume_role --clear")
        run(f"%assume_role {READER} --session-name after-rotation")
        assert api.current().arn.endswith("assumed-role/Reader/after-rotation")
    finally:
        write_keys("", "")


# -- item 9: a credential_process source runs with the kernel's original environment ----------------

PROCESS = textwrap.dedent("""
    import datetime, json, os, sys
    log, keys = sys.argv[1], json.load(open(sys.argv[2]))
    with open(log, "a") as handle:
        handle.write(json.dumps({"token": "AWS_SESSION_TOKEN" in os.environ,
                                 "key": os.environ.get("AWS_ACCESS_KEY_ID", "")[:4]}) + "\\n")
    # Like a tool that prefers credentials it finds in its environment.
    if "AWS_SESSION_TOKEN" in os.environ:
        out = {"AccessKeyId": os.environ["AWS_ACCESS_KEY_ID"], "SecretAccessKey": os.environ["AWS_SECRET_ACCESS_KEY"],
               "SessionToken": os.environ["AWS_SESSION_TOKEN"]}
    else:
        out = {"AccessKeyId": keys[0], "SecretAccessKey": keys[1]}
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    print(json.dumps({"Version": 1, "Expiration": soon.strftime("%Y-%m-%dT%H:%M:%SZ"), **out}))
""")


def test_a_credential_process_source_never_sees_the_injected_role(strict, run, aws, tmp_path):
    alice = aws.base_user
    script, log, keys = tmp_path / "process.py", tmp_path / "runs.jsonl", tmp_path / "keys.json"
    script.write_text(PROCESS)
    keys.write_text(json.dumps([alice.access_key_id, alice.secret_access_key]))
    keys.chmod(0o600)
    with open(os.environ["AWS_CONFIG_FILE"], "w") as handle:
        handle.write(f"[profile tool]\ncredential_process = {sys.executable} {script} {log} {keys}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        del os.environ[name]
    run(f"%assume_role {READER} --profile tool --session-name via-process")
    # The process's credentials expire in 5 minutes: botocore runs it again for the next call.
    run("%assume_role --refresh")
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(runs) >= 2 and not any(r["token"] or r["key"] for r in runs), runs
    assert api.current().arn.endswith("assumed-role/Reader/via-process")
