"""A cell as another role (core/cell_roles.py): the role inside, exactly the previous state after,
whatever happens inside; its credentials cached like named sessions; no renewal lands across a
swap (a renewal of the role after the cell, or of the kernel's grant over the cell)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from test_races import InstantGateway

import ipy_tempcreds
from identity_support import NOBODY, B, C, world  # noqa: F401 (world: the fixture)
from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api
from ipy_tempcreds.base.errors import InvalidInput, NotActive, StsError
from ipy_tempcreds.core.cell_roles import CellRoles
from ipy_tempcreds.core.manager import CredentialManager
from support import FakeClock, aws_environment

CHILD = ("import boto3, sys\n"
         "for bucket in sys.argv[1:]:\n"
         "    try:\n"
         "        boto3.client('s3').head_object(Bucket=bucket, Key='data.csv'); print(bucket)\n"
         "    except Exception:\n"
         "        pass\n")


def readable() -> list[str]:
    import boto3

    found = []
    for bucket in ("bucket-a", "bucket-b", "bucket-c"):
        try:
            boto3.client("s3").head_object(Bucket=bucket, Key="data.csv")
            found.append(bucket)
        except Exception:
            pass
    return found


def in_a_child() -> list[str]:
    return subprocess.run([sys.executable, "-c", CHILD, "bucket-a", "bucket-b", "bucket-c"], capture_output=True,
                          text=True, check=True).stdout.split()


def test_a_block_runs_as_the_role_and_the_same_grant_is_back_after(world):
    grant = api.assume_role(C, session_name="base")
    renewal = api.get_manager().renewal
    environment = aws_environment()
    with ipy_tempcreds.as_role(B) as inside:
        assert inside.arn.endswith(":assumed-role/B/" + inside.request.session_name)
        assert readable() == ["bucket-b"] and in_a_child() == ["bucket-b"]
    assert api.current() is grant and api.get_manager().renewal is renewal
    assert aws_environment() == environment
    assert readable() == ["bucket-c"]


def test_without_a_role_before_the_kernel_own_credentials_are_back_exactly(world):
    environment = aws_environment()
    with ipy_tempcreds.as_role(B):
        assert readable() == ["bucket-b"]
    assert api.current() is None and aws_environment() == environment
    assert readable() == ["bucket-a"]
    assert api.get_manager()._thread is None  # no renewal thread left for the role


@pytest.mark.parametrize("raised", [ValueError("inside"), KeyboardInterrupt()])
def test_an_exception_or_an_interrupt_inside_puts_everything_back(world, raised):
    environment = aws_environment()
    with pytest.raises(type(raised)):
        with ipy_tempcreds.as_role(B):
            raise raised
    assert api.current() is None and aws_environment() == environment and readable() == ["bucket-a"]


@pytest.mark.parametrize("role, error", [
    ("no-such-alias", InvalidInput), ("arn:aws:iam::12:role/X", InvalidInput), (NOBODY, StsError), ("", InvalidInput)])
def test_a_role_that_cannot_be_had_runs_nothing_and_changes_nothing(world, role, error):
    grant = api.assume_role(C)
    environment, ran = aws_environment(), []
    with pytest.raises(error):
        with ipy_tempcreds.as_role(role):
            ran.append(True)
    assert not ran and api.current() is grant and aws_environment() == environment


def test_blocks_nest_and_each_puts_back_what_it_replaced(world):
    with ipy_tempcreds.as_role(B):
        with ipy_tempcreds.as_role(C):
            assert readable() == ["bucket-c"]
            assert api.get_manager().cell_roles.kernel_grant() is None
        assert readable() == ["bucket-b"]
    assert readable() == ["bucket-a"] and CellRoles.of(api.get_manager()).active() is None


def test_a_loop_of_blocks_calls_sts_once(timed, world):
    _, gateway = timed
    for _ in range(10):
        with ipy_tempcreds.as_role(B):
            pass
    assert gateway.calls == ["AssumeRole"]


def test_the_cached_role_is_renewed_once_it_reaches_its_margin(timed, world, clock):
    _, gateway = timed
    with ipy_tempcreds.as_role(B, duration="1h") as first:
        pass
    clock.advance(45 * 60)  # inside the 20-minute margin
    with ipy_tempcreds.as_role(B, duration="1h") as second:
        pass
    assert gateway.calls == ["AssumeRole", "AssumeRole"] and second.access_key_id != first.access_key_id


def test_a_switch_or_a_release_inside_the_block_is_refused_and_changes_nothing(world):
    """The block would undo either when it ends, without a word: refused, with where to do it."""
    grant = api.assume_role(C)
    with ipy_tempcreds.as_role(B):
        inside = api.current()
        with pytest.raises(NotActive, match=r"this cell runs as .*role/B .*a release here would be undone"):
            api.clear()
        with pytest.raises(NotActive, match=r"a switch to another role here would be undone\. Do it in a cell of its own"):
            api.assume_role(C)
        assert api.current() is inside and readable() == ["bucket-b"]
    assert api.current() is grant and readable() == ["bucket-c"]
    assert api.clear() and api.current() is None  # outside, both work again


def test_endpoint_delivery_serves_the_role_inside_and_the_kernel_after(world):
    api.get_settings().delivery = "endpoint"
    api.assume_role(C)
    assert in_a_child() == ["bucket-c"]
    with ipy_tempcreds.as_role(B):
        assert in_a_child() == ["bucket-b"]
    assert in_a_child() == ["bucket-c"]


def test_unloaded_inside_the_block_leaves_the_environment_restored(world, shell):
    environment = aws_environment()
    with ipy_tempcreds.as_role(B):
        shell.extension_manager.unload_extension("ipy_tempcreds")
    assert aws_environment() == environment
    shell.extension_manager.load_extension("ipy_tempcreds")


# -- races: renewals in flight across a swap -------------------------------------------------------


class HeldGateway:
    """InstantGateway whose calls from the renewal thread wait until released (a slow STS)."""

    def __init__(self, clock):
        self.inner = InstantGateway(clock)
        self.entered, self.release = threading.Event(), threading.Event()
        self.service, self.mfa_note, self.describe = self.inner.service, self.inner.mfa_note, self.inner.describe

    def obtain(self, request, **kwargs):
        if threading.current_thread().name == "renewer":
            self.entered.set()
            self.release.wait(10)
        return self.inner.obtain(request, **kwargs)

    def source_is_temporary(self, _request) -> bool:
        return False


@pytest.fixture
def held(aws):
    clock = FakeClock()
    manager = CredentialManager(clock=clock, background=False)
    gateway = manager.sts = HeldGateway(clock)
    kernel_state.install(manager)
    return manager, gateway, clock


def renew_in_background(manager) -> threading.Thread:
    thread = threading.Thread(target=manager.renew_if_due, name="renewer")
    thread.start()
    return thread


def test_a_renewal_of_the_kernel_grant_in_flight_does_not_land_over_the_cell(held):
    manager, gateway, clock = held
    base = api.assume_role(C, duration="1h")
    clock.advance(45 * 60)  # the kernel's grant is due
    thread = renew_in_background(manager)
    assert gateway.entered.wait(5)
    with ipy_tempcreds.as_role(B) as inside:
        gateway.release.set()
        thread.join(5)
        assert manager.current() is inside  # the late renewal was discarded
        assert os.environ["AWS_ACCESS_KEY_ID"] == inside.access_key_id
    assert manager.current() is base  # exactly the grant before, still due
    assert manager.renew_if_due() and manager.current().access_key_id != base.access_key_id


def test_a_renewal_of_the_role_in_flight_does_not_land_after_the_cell(held):
    manager, gateway, clock = held
    base = api.assume_role(C, duration="1h")
    with ipy_tempcreds.as_role(B, duration="1h"):
        clock.advance(45 * 60)  # the role is due while the cell runs
        thread = renew_in_background(manager)
        assert gateway.entered.wait(5)
    gateway.release.set()
    thread.join(5)
    assert manager.current() is base and os.environ["AWS_ACCESS_KEY_ID"] == base.access_key_id


def test_many_cells_against_a_renewing_thread_end_on_the_kernel_grant(aws):
    from test_races import LeapingClock

    clock = LeapingClock()  # every grant is due as soon as it is scheduled
    manager = CredentialManager(clock=clock)
    manager.sts = InstantGateway(clock)
    kernel_state.install(manager)
    base = api.assume_role(C, duration="1h")
    for _ in range(200):
        with ipy_tempcreds.as_role(B, duration="1h"):
            pass
        # A renewal may replace the kernel's grant between cells: the newest one is put back.
        base = manager.current()
        assert base.arn.split("/")[1] == "C"
        assert os.environ["AWS_ACCESS_KEY_ID"] == base.access_key_id
    manager.clear()


def test_an_interrupt_while_entering_runs_nothing_and_puts_everything_back(world):
    import signal

    manager = api.get_manager()
    base = api.assume_role(C)
    environment = aws_environment()

    def interrupt_once(change):
        if change.kind == "assume" and change.grant is not base:
            manager.unsubscribe(interrupt_once)
            os.kill(os.getpid(), signal.SIGINT)  # lands inside the swap: held, delivered after it

    manager.subscribe(interrupt_once)
    ran = []
    with pytest.raises(KeyboardInterrupt):
        with ipy_tempcreds.as_role(B):
            ran.append(True)
    assert not ran and manager.current() is base and aws_environment() == environment
    assert CellRoles.of(manager).active() is None
