"""Helpers for %aws_login's tests: a world with AWS Sign-In's stand-in in front of moto, a console
identity (role Admin, person alice), a bucket only that identity may read, and the environment a
kernel of this test would have (the config file, the login cache directory, the endpoints)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from aws_standin import ACCOUNT, LocalAws
from conftest import set_environment
from signin_standin import SigninStandin

BUCKET, KEY, CONTENT = "console-data", "report.csv", "region,n\neu,3\n"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice"
TRUSTED = SESSION
# Whom a role the console identity may assume trusts: the console session itself (AWS accepts an
# assumed-role session ARN as a principal; moto matches only that form, not the role's ARN or the account's).
# The console identity may read the report, say who it is and assume roles; writes to S3 are refused.
CONSOLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{BUCKET}/*"},
    {"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "sts:AssumeRole"], "Resource": "*"}]})
CONFIG = """# my AWS settings: keep this comment
[default]
region = eu-west-1

# the team's role
[profile reader]
role_arn = arn:aws:iam::123456789012:role/Reader
source_profile = default
"""


@dataclass
class LoginWorld:
    aws: LocalAws
    standin: SigninStandin
    home: Path

    @property
    def cache_dir(self) -> Path:
        return self.home / "login" / "cache"

    def cache_files(self) -> list[Path]:
        return sorted(self.cache_dir.glob("*.json")) if self.cache_dir.exists() else []

    def cache_entry(self, session: str = SESSION) -> dict:
        from botocore.utils import generate_login_cache_key

        return json.loads((self.cache_dir / f"{generate_login_cache_key(session)}.json").read_text())

    def config(self) -> str:
        return (self.home / "config").read_text()

    def modes(self) -> tuple[str, str]:
        (path,) = self.cache_files()
        return oct(stat.S_IMODE(path.stat().st_mode)), oct(stat.S_IMODE(path.parent.stat().st_mode))

    def environ(self) -> dict[str, str]:
        """What sends the kernel's botocore here and keeps it in this test's home."""
        return {"AWS_CONFIG_FILE": str(self.home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "credentials"),
                "AWS_LOGIN_CACHE_DIRECTORY": str(self.cache_dir), **self.standin.environ()}

    def secrets(self) -> set[str]:
        return self.standin.secrets()


def make_world(aws, clock, home: Path) -> LoginWorld:
    standin = SigninStandin(aws, clock=clock).start()
    standin.console_role("Admin", CONSOLE_POLICY)
    aws.create_bucket(BUCKET, {KEY: CONTENT.encode()})
    (home / "config").write_text(CONFIG)
    (home / "credentials").write_text("")
    world = LoginWorld(aws, standin, home)
    set_environment(world.environ())
    return world


@pytest.fixture
def login_world(aws, clock, tmp_path):
    world = make_world(aws, clock, tmp_path)
    yield world
    world.standin.stop()


def assert_no_secret(text: str, world: LoginWorld) -> None:
    for value in world.secrets():
        assert value not in text, "a code, token or secret key was shown"
    assert "BEGIN EC PRIVATE KEY" not in text


def environ_keys() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
