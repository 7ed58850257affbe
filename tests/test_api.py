"""The plain Python API, the environment rules at the unit level, and what objects show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import boto3
import pytest

import ipy_tempcreds as tc
from ipy_tempcreds.base.errors import InvalidInput, NotActive, scrub
from ipy_tempcreds.delivery.environment import KernelEnvironment
from ipy_tempcreds.model.credentials import TemporaryCredentials, mask_key_id
from support import aws_environment, follow_clock, role_arn, signing_keys

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz"
TOKEN = "IQoJb3JpZ2luX2VjEJr" + "x" * 300


def credentials(key="ASIAEXAMPLE_KEY_3456", hours=1):
    return TemporaryCredentials(key, SECRET, TOKEN, datetime.now(timezone.utc) + timedelta(hours=hours))


def test_assume_role_accepts_python_values(aws):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    grant = tc.assume_role(role_arn("Reader"), duration=timedelta(hours=2), session_name="api",
                           tags={"project": "churn"}, policy=policy)
    assert grant.arn.endswith("assumed-role/Reader/api") and tc.current() is grant
    assert 7190 < grant.remaining(datetime.now(timezone.utc)) <= 7200
    assert grant.request.tags == (("project", "churn"),)
    assert boto3.client("sts").get_caller_identity()["Arn"] == grant.arn
    assert tc.whoami()["Arn"] == grant.arn
    assert tc.refresh().access_key_id != grant.access_key_id
    assert tc.clear() is True and tc.clear() is False and tc.current() is None


def test_errors_are_tempcreds_errors_and_change_nothing(aws):
    before = aws_environment()
    with pytest.raises(InvalidInput, match="outside what AssumeRole allows"):
        tc.assume_role(role_arn("Reader"), duration=60)
    with pytest.raises(tc.TempCredsError, match="nothing to refresh"):
        tc.refresh()
    with pytest.raises(NotActive):
        tc.session()
    assert aws_environment() == before


def test_session_follows_renewals_without_an_sts_call_per_api_call(timed, clock, aws):
    manager, gateway = timed
    aws.create_bucket("data")
    tc.assume_role(role_arn("Reader"), duration="15m")
    s3 = tc.session(region_name="us-east-1").client("s3")
    keys = signing_keys(s3)
    follow_clock(s3, clock)
    for _ in range(10):  # 15-minute credentials sit inside botocore's refresh windows all along
        s3.list_objects_v2(Bucket="data")
    assert gateway.calls == ["AssumeRole"]
    clock.advance(8 * 60)  # past half-life: due
    s3.list_objects_v2(Bucket="data")
    assert gateway.calls == ["AssumeRole", "AssumeRole"]
    assert keys[-1] == manager.current().access_key_id != keys[0]
    tc.clear()
    clock.advance(8 * 60)
    with pytest.raises(NotActive, match="cleared"):
        s3.list_objects_v2(Bucket="data")


def test_reprs_mask_secrets():
    creds = credentials()
    shown = repr(creds) + str(creds)
    assert SECRET not in shown and TOKEN not in shown and "ASIAEXAMPLE_KEY_3456" not in shown
    assert "ASIA…3456" in shown
    assert mask_key_id("short") == "…"


def test_grant_repr_and_html_mask_secrets(aws):
    grant = tc.assume_role(role_arn("Reader"))
    c = grant.credentials
    for text in (repr(grant), str(grant), grant._repr_html_()):
        assert c.secret_access_key not in text and c.session_token not in text
        assert c.access_key_id not in text and mask_key_id(c.access_key_id) in text


def test_scrub_removes_secret_shaped_text():
    assert scrub(f"bad key {SECRET} and token {TOKEN}!") == "bad key [hidden] and token [hidden]!"
    assert scrub("arn:aws:iam::123456789012:role/Reader") == "arn:aws:iam::123456789012:role/Reader"


@pytest.mark.parametrize("value, seconds", [(3600, 3600), ("3600", 3600), ("15m", 900), ("1h30m", 5400),
                                            ("12h", 43200), ("1h 30m", 5400), (timedelta(minutes=20), 1200)])
def test_durations(value, seconds):
    from ipy_tempcreds.base.validation import parse_duration

    assert parse_duration(value) == seconds


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::123456789012:role/Reader",
    "arn:aws-cn:iam::123456789012:role/Reader",
    "arn:aws-us-gov:iam::123456789012:role/Reader",
    "arn:aws:iam::123456789012:role/team/data/Reader",
    "arn:aws:iam::123456789012:role/a+b=c,d.e@f_g-h",
])
def test_role_arns_of_every_partition_and_path(arn):
    from ipy_tempcreds.base.validation import parse_role_arn

    assert parse_role_arn(arn).arn == arn


def test_the_default_region_follows_the_partition(aws, monkeypatch):
    calls = []
    manager = tc.api.get_manager()
    real = manager.sts._region
    monkeypatch.setattr(manager.sts, "_region", lambda *a: calls.append(a) or real(*a))
    monkeypatch.delenv("AWS_DEFAULT_REGION"), monkeypatch.delenv("AWS_REGION")
    tc.assume_role("arn:aws-cn:iam::123456789012:role/Reader")
    assert real(None, None, "aws-cn") == "cn-north-1" and real(None, None, "aws-us-gov") == "us-gov-west-1"
    assert calls[-1][2] == "aws-cn"


# -- the environment, unit level ------------------------------------------------------------------

def test_inject_and_restore_on_a_plain_mapping():
    environ = {"AWS_ACCESS_KEY_ID": "AKIAORIGINAL", "AWS_SECURITY_TOKEN": "old", "PATH": "/bin"}
    before = dict(environ)
    env = KernelEnvironment(environ)
    env.inject(credentials(), "123456789012")
    assert environ["AWS_SECURITY_TOKEN"] == TOKEN == environ["AWS_SESSION_TOKEN"]
    assert "AWS_ACCOUNT_ID" not in environ
    assert env.original() == before
    env.inject(credentials("ASIASECOND_KEY_4567"), "123456789012")
    assert env.restore() is True and environ == before and env.restore() is False


def test_os_environ_stays_the_same_object_and_children_see_the_change():
    environ = os.environ
    env = KernelEnvironment()
    env.inject(credentials(), None)
    try:
        assert os.environ is environ
        child = subprocess.run([sys.executable, "-c", "import os, json; print(json.dumps([os.environ.get(k) for k in "
                                "('AWS_ACCESS_KEY_ID', 'AWS_CREDENTIAL_EXPIRATION')]))"],
                               capture_output=True, text=True, check=True, env=None)
        key, expiration = json.loads(child.stdout)
        assert key == "ASIAEXAMPLE_KEY_3456" and expiration.endswith("Z")
    finally:
        env.restore()
    assert "AWS_SESSION_TOKEN" not in os.environ


def test_the_core_runs_without_ipython(aws):
    code = (
        "import sys, ipy_tempcreds as tc; "
        f"g = tc.assume_role({role_arn('Reader')!r}); tc.clear(); "
        "print(sorted(m for m in ('IPython', 'ipywidgets', 'anywidget') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
