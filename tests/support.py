"""Helpers for the tests: a fake clock, ARNs, a watch for leaked secrets."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from ipy_tempcreds._standin import ACCOUNT


class FakeClock:
    """A clock tests move by hand; the manager and botocore credentials read it."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)



def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def aws_environment() -> dict[str, str]:
    """The AWS_* part of the environment, to compare before and after."""
    return {k: v for k, v in os.environ.items() if k.startswith("AWS_")}


class SecretWatch:
    """Collects every secret access key and session token the manager installs, plus the base
    user's secret, and checks text for any of them."""

    def __init__(self, manager):
        self.manager = manager
        self.values: set[str] = set()
        base = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if base:
            self.values.add(base)
        manager.subscribe(self._collect)

    def _collect(self, grant) -> None:
        if grant is not None:
            self.values.add(grant.credentials.secret_access_key)
            self.values.add(grant.credentials.session_token)

    def assert_absent(self, text: str, where: str = "") -> None:
        for value in self.values:
            assert value not in text, f"a secret appeared in the output of {where!r}"

    def close(self) -> None:
        self.manager.unsubscribe(self._collect)
