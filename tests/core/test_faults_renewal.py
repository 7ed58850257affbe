"""The renewal thread against a slow or lying STS, through what a user does (issue 12, items 2 and 4).

Real renewal thread (15-minute credentials with ``refresh_margin = 899`` are due 1 s after the
assume), real IPython shell, real moto. A slow STS is tests/faultproxy.py's "delay"; an answer that
is already expired is the strict stand-in's (tests/strict_sts.py) with a negative lifetime, which
is also how STS's answers look to a machine whose clock is far ahead of AWS's.
"""

from __future__ import annotations

import os
import time

import pytest

from faultproxy import FaultProxy
from ipy_tempcreds import api
from strict_sts import strict_aws  # noqa: F401 (the fixture)
from support import aws_environment, role_arn

READER = role_arn("Reader")
QUICK = 1.0  # seconds: "at once" on a loaded 2-core machine; the stuck renewal waits 20 s


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def timed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_cells_status_and_clear_do_not_wait_for_a_renewal_stuck_on_sts(aws, shell, capsys):
    proxy = FaultProxy(aws.url).start()
    try:
        os.environ["AWS_ENDPOINT_URL_STS"] = proxy.url
        api.get_manager()  # built now: its STS client goes through the proxy
        shell.run_line_magic("config", "TempCreds.sts_timeout = 20")
        shell.run_line_magic("config", "TempCreds.refresh_margin = 899")
        proxy.fault("delay", seconds=25, after=1, times=1)  # the renewal's AssumeRole hangs
        shell.run_line_magic("assume_role", f"{READER} --duration 15m --session-name stuck --quiet")
        grant = api.current()
        assert wait_for(lambda: proxy.actions("delay")), "the renewal never reached STS"
        assert timed(lambda: shell.run_cell("1 + 1")) < QUICK  # the pre-cell check
        assert timed(lambda: shell.run_line_magic("assume_role", "--status")) < QUICK
        assert "assumed-role/Reader/stuck" in capsys.readouterr().out and api.current() is grant
        assert timed(lambda: shell.run_line_magic("assume_role", "--clear")) < QUICK
        assert api.current() is None and "AWS_SESSION_TOKEN" not in os.environ
    finally:
        proxy.stop()  # ends the delay: the late answer must install nothing
    time.sleep(0.3)
    assert api.current() is None and "AWS_SESSION_TOKEN" not in os.environ


def test_an_already_expired_answer_is_refused_and_renewal_backs_off(aws, strict_aws, shell, run):
    aws.create_role("Reader", [aws.base_user.arn])
    os.environ["AWS_ENDPOINT_URL_STS"] = strict_aws.url
    shell.run_line_magic("config", "TempCreds.refresh_margin = 899")
    before = aws_environment()
    strict_aws.lifetime = -120  # every answer expired two minutes ago
    message = run(f"%assume_role {READER} --session-name expired", expect_error=True)
    assert "expired at" in message and "clock" in message and aws_environment() == before

    def assumes():
        return [r for r in strict_aws.requests if r["Action"] == "AssumeRole"]

    assert len(assumes()) == 1

    strict_aws.lifetime = None  # moto's own 15 minutes: the renewal is due 1 s from now
    run(f"%assume_role {READER} --duration 15m --session-name renewing --quiet")
    grant, installed = api.current(), aws_environment()
    strict_aws.lifetime = -120
    manager = api.get_manager()
    assert wait_for(lambda: manager.problem is not None)
    assert "expired at" in manager.problem and api.current() is grant and aws_environment() == installed
    time.sleep(1.5)  # a loop would have made hundreds of calls by now (1,253 in 5 s, measured)
    assert len(assumes()) == 3  # the refused assume, the good one, one renewal attempt
    assert 10 <= manager.seconds_until_due() <= 16  # the next attempt backs off (15 s)


@pytest.fixture(autouse=True)
def _no_leftover_endpoint():
    yield
    os.environ.pop("AWS_ENDPOINT_URL_STS", None)
