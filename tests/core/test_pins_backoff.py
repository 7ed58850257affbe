"""A pin whose renewal fails, or whose renewed credentials the credential server cannot take (it
died), is tried again with the renewal thread's backoff, not at the pins thread's next turn
(50 ms): each attempt is an STS call, and STS throttles the kernel's own calls too."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from ipy_tempcreds.base.errors import TempCredsError
from ipy_tempcreds.core.pins import Pin, Pins
from ipy_tempcreds.core.renewal import retry_delay
from ipy_tempcreds.model.settings import TempCreds
from support import FakeClock


def grant(clock, name="a"):
    return SimpleNamespace(arn=f"arn:aws:sts::123456789012:assumed-role/R/{name}", auto_refresh=True,
                           expiration=clock() + timedelta(hours=1), lifetime=lambda: timedelta(hours=1),
                           credentials=object(), account="123456789012", request=object())


class Issuer:
    def __init__(self, clock, error=None):
        self.clock, self.error, self.calls = clock, error, 0

    def renew(self, old, prompter):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return grant(self.clock, f"renewed-{self.calls}")


class DeadServer:
    mode = "endpoint"

    def repin(self, route, credentials, account):
        raise TempCredsError("the credential server is gone")


@pytest.mark.parametrize("issuer_error", [None, TempCredsError("STS answered with a server error")],
                         ids=["server-gone", "sts-failed"])
def test_a_failed_pin_renewal_waits_its_backoff(issuer_error):
    clock = FakeClock()
    pins = Pins(Issuer(clock, issuer_error), DeadServer(), clock, TempCreds())
    pinned = Pin(grant(clock), route=SimpleNamespace(url="http://127.0.0.1:1/p"), due=clock())
    pins._pins.append(pinned)

    pins._renew(pinned)
    assert pinned.failures == 1 and pinned.due == clock() + timedelta(seconds=retry_delay(1))
    assert pinned.due > clock() + timedelta(seconds=1)  # not the thread's next 50 ms turn
    pins._renew(pinned)
    assert pinned.failures == 2 and pinned.due == clock() + timedelta(seconds=retry_delay(2))
    assert pinned.last_error in ("the credential server is gone", "STS answered with a server error")
