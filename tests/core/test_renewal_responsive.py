"""Cells never wait for a renewal in flight, and an answer that is already expired never makes
renewal loop (issue 12, items 2 and 4).

A background renewal whose AssumeRole is answered late (tests/faultproxy.py's "delay" fault, inside
``sts_timeout``) runs in a thread of the test; meanwhile the pre-cell check, status, a switch and a
clear must answer at once. The "already expired" answer is moto's real answer with its Expiration
moved before the fake clock's now (as STS would look to a machine whose clock is far ahead):
moto cannot issue such an answer itself, so that rewrite is the one thing not real.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from test_faults import BOUND, OTHER, faulty, renewing, world  # noqa: F401 (fixtures used by name)

from ipy_tempcreds.base.errors import StsError
from ipy_tempcreds.core.renewal import FIRST_RETRY
from ipy_tempcreds.ui import display

QUICK = 0.5  # seconds: what "at once" may cost on a loaded 2-core machine


def start_slow_renewal(renewing, seconds=0.8):
    """Make the renewal due, delay its AssumeRole, and run it in a thread until it is in flight."""
    manager, proxy = renewing.manager, renewing.proxy
    renewing.clock.advance(40 * 60)
    proxy.fault("delay", seconds=seconds, times=1)
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(manager.renew_if_due()))
    started = time.monotonic()
    thread.start()
    while not proxy.actions("delay") and time.monotonic() - started < BOUND:
        time.sleep(0.01)
    assert proxy.actions("delay"), "the renewal's request never reached the proxy"
    return thread, results


def test_the_pre_cell_check_does_not_wait_for_a_renewal_in_flight(renewing):
    manager = renewing.manager
    thread, results = start_slow_renewal(renewing)
    quick = time.monotonic()
    assert manager.before_cell() is None  # the renewal in flight is not this cell's business
    status = display.status_text(manager.current(), manager.clock(), manager.problem, manager.renewal_due())
    assert time.monotonic() - quick < QUICK
    assert "assumed-role/Reader/renewing" in status
    thread.join(BOUND)
    assert results == [True] and manager.current() is not renewing.grant  # the renewal itself landed
    assert os.environ["AWS_ACCESS_KEY_ID"] == manager.current().access_key_id


def test_a_switch_during_a_slow_renewal_is_not_delayed_and_wins(renewing):
    manager = renewing.manager
    thread, results = start_slow_renewal(renewing)
    quick = time.monotonic()
    switched = manager.activate(manager.role_request(OTHER, session_name="switched"))
    assert time.monotonic() - quick < 0.8  # no wait for the delayed answer (the switch's own call is fast)
    thread.join(BOUND)
    assert results == [False]  # the late answer belonged to the old role: discarded by the generation
    assert manager.current() is switched and os.environ["AWS_ACCESS_KEY_ID"] == switched.access_key_id


def test_clear_with_the_renewal_thread_stuck_on_sts_returns_at_once(renewing):
    """The real renewal thread, stuck in a delayed AssumeRole: clear does not join it."""
    from ipy_tempcreds.core.renewal import RenewalThread

    manager = renewing.manager
    renewing.clock.advance(40 * 60)
    renewing.proxy.fault("delay", seconds=0.9, times=1)
    manager._thread = thread = RenewalThread(manager)  # the thread background=True would start
    started = time.monotonic()
    while not renewing.proxy.actions("delay") and time.monotonic() - started < BOUND:
        time.sleep(0.01)
    quick = time.monotonic()
    assert manager.clear() is True
    assert time.monotonic() - quick < QUICK
    deadline = time.monotonic() + BOUND
    while thread.alive and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not thread.alive and manager.current() is None and "AWS_SESSION_TOKEN" not in os.environ


class AheadClock:
    """Wraps the STS gateway: each answer expires ``behind`` seconds before the fake clock's now,
    as moto's real answer looks to a machine whose clock is far ahead of AWS's."""

    def __init__(self, gateway, clock, behind=60):
        self.gateway, self.clock, self.behind, self.calls = gateway, clock, behind, 0

    def obtain(self, request, **kwargs):
        self.calls += 1
        result = self.gateway.obtain(request, **kwargs)
        expired = self.clock() - timedelta(seconds=self.behind)
        return replace(result, credentials=replace(result.credentials, expiration=expired))

    def __getattr__(self, name):
        return getattr(self.gateway, name)


def test_an_already_expired_answer_makes_renewal_back_off_not_loop(renewing, caplog):
    manager, clock = renewing.manager, renewing.clock
    before = dict(os.environ._data)
    ahead = manager.sts = AheadClock(manager.sts, clock)
    clock.advance(40 * 60)
    for _ in range(50):  # what a tight loop would do: every call while "due"
        manager.renew_if_due()
    assert ahead.calls == 1  # one attempt, then the backoff
    assert manager.current() is renewing.grant and dict(os.environ._data) == before
    assert manager.seconds_until_due() == pytest.approx(FIRST_RETRY)
    message = manager.before_cell()
    assert "already past by this machine's clock" in message and "retrying in 15s" in message
    renewing.secrets.assert_absent(message, where="before_cell")
    clock.advance(FIRST_RETRY)
    manager.renew_if_due()
    assert ahead.calls == 2 and manager.seconds_until_due() == pytest.approx(2 * FIRST_RETRY)


def test_an_already_expired_answer_to_an_assume_changes_nothing(renewing):
    manager = renewing.manager
    before = dict(os.environ._data)
    manager.sts = AheadClock(manager.sts, renewing.clock, behind=5)
    with pytest.raises(StsError, match="already past by this machine's clock"):
        manager.activate(manager.role_request(OTHER, session_name="late"))
    assert manager.current() is renewing.grant and dict(os.environ._data) == before
