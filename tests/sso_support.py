"""Fixtures for the IAM Identity Center tests: the SSO stand-in beside moto, an AWS config with SSO
profiles, and botocore's token cache in a temporary HOME.

Import the fixtures into a test module (``from sso_support import sso``); pytest finds them there.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from aws_standin import ACCOUNT
from sso_standin import PERSON, SsoStandin

START_URL = "https://corp.awsapps.com/start"
LEGACY_URL = "https://legacy.awsapps.com/start"

CONFIG = f"""
[sso-session corp]
sso_start_url = {START_URL}
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile analyst]
sso_session = corp
sso_account_id = {ACCOUNT}
sso_role_name = Reader
region = us-east-1

[profile legacy]
sso_start_url = {LEGACY_URL}
sso_region = us-east-1
sso_account_id = {ACCOUNT}
sso_role_name = Reader
region = us-east-1

[profile data]
role_arn = arn:aws:iam::{ACCOUNT}:role/Data
source_profile = analyst
region = us-east-1

[profile keys]
region = us-east-1
"""


def bucket_policy(name: str) -> str:
    """S3 on bucket ``name`` only, and sts:AssumeRole (role profiles may use it as their source)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]},
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*"}]})


class SsoWorld:
    """What a test needs: the stand-in, the cache directory, the HOME that botocore's rule gives it."""

    def __init__(self, standin: SsoStandin, home: Path, reader_arn: str):
        self.standin = standin
        self.home = home
        self.cache = home / ".aws" / "sso" / "cache"
        self.reader_arn = reader_arn

    def cache_files(self) -> list[Path]:
        return sorted(self.cache.glob("*")) if self.cache.exists() else []

    def approve_latest(self) -> None:
        self.standin.approve(self.standin.user_codes()[-1])

    @staticmethod
    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def sso(aws, clock, isolated_environment, monkeypatch):
    """The SSO stand-in (on the test's fake clock), role Reader (bucket-r only) assigned to the
    person, role Data (bucket-d) trusting the person's Reader session, IAM auth on, and no keys in the environment:
    the kernel's only way in is the sign-in."""
    from botocore.credentials import SSOProvider
    from botocore.tokens import SSOTokenProvider

    standin = SsoStandin(aws, clock=clock).start()
    reader = standin.assign("Reader", bucket_policy("bucket-r"))
    # moto matches trust principals exactly: Data trusts the person's session of the SSO role.
    aws.create_role("Data", [f"arn:aws:sts::{ACCOUNT}:assumed-role/{reader.split('/')[-1]}/{PERSON}"],
                    bucket_policy("bucket-d"))
    aws.create_bucket("bucket-r", {"r.csv": b"owner,n\nr,1\n"})
    aws.create_bucket("bucket-d", {"d.csv": b"owner,n\nd,2\n"})
    aws.set_auth(True)
    home = isolated_environment / "home"
    home.mkdir()
    # botocore fixed its cache directory from HOME when it was imported; a kernel started with
    # HOME=home computes this same directory by itself.
    cache = str(home / ".aws" / "sso" / "cache")
    monkeypatch.setattr(SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", cache)
    monkeypatch.setattr(SSOProvider, "_SSO_TOKEN_CACHE_DIR", cache)
    (isolated_environment / "config").write_text(CONFIG)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(standin.environ())
    yield SsoWorld(standin, home, reader)
    standin.stop()
