"""Every record of the ``ipy_tempcreds`` logger is scrubbed (ipy_tempcreds/logs.py; issue 12, item 1
during renewal). An unexpected error during a background renewal is logged with its traceback, and
its message may quote a raw answer holding a new secret access key and session token."""

from __future__ import annotations

import io
import logging

import pytest

from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds.core.manager import CredentialManager
from support import RestampingGateway, role_arn

# Shaped like what moto issues (a 40-character secret, a long base64 token): never real.
SECRET = "kt8j8McOGuN4u20LrZqv0Xo3pW1yTbD9eHsFaJ2c"
TOKEN = "FQoGZXIvYXdzEBYaDH" + "Q2xhdWRlIHdhcyBoZXJlIGFuZCB0aGlzIGlzIG5vdCBhIHJlYWwgdG9rZW4" * 4


class Garbled(Exception):
    """What a library with a raw body in its message raises (not a botocore error: it reaches
    the renewal's catch-all, which logs the traceback)."""


class LeakingGateway(RestampingGateway):
    """The real gateway, except that, once armed, AssumeRole fails as a library that quotes the
    raw answer would: the only thing here not real, because the point is an error we do not know."""

    armed = False

    def obtain(self, request, **kwargs):
        if self.armed:
            raise Garbled(f"cannot parse b'<Credentials><SecretAccessKey>{SECRET}</SecretAccessKey>"
                          f"<SessionToken>{TOKEN}</SessionToken>'")
        return super().obtain(request, **kwargs)


@pytest.fixture
def stream_handler():
    """A handler as a user or a kernel would attach one, formatting tracebacks itself."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("ipy_tempcreds")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_an_unexpected_renewal_error_is_logged_with_its_traceback_but_no_secret(aws, clock, caplog, capsys,
                                                                                stream_handler):
    caplog.set_level(logging.DEBUG, logger="ipy_tempcreds")
    manager = CredentialManager(clock=clock, background=False)
    manager.sts = gateway = LeakingGateway(manager.sts, clock)
    kernel_state.install(manager)
    grant = manager.activate(manager.role_request(role_arn("Reader"), session_name="logs"))
    gateway.armed = True
    clock.advance(45 * 60)
    assert manager.renew_if_due() is False and manager.current() is grant
    logged = stream_handler.getvalue() + caplog.text + capsys.readouterr().err
    assert "Traceback" in logged and "Garbled" in logged  # the traceback is still there to debug
    assert SECRET not in logged and TOKEN not in logged and "[hidden]" in logged
    for record in caplog.records:
        assert SECRET not in record.getMessage() and SECRET not in (record.exc_text or "")


def test_arguments_and_stack_are_scrubbed_too(caplog):
    caplog.set_level(logging.DEBUG, logger="ipy_tempcreds")
    logger = logging.getLogger("ipy_tempcreds")
    logger.warning("answer was %s (%d bytes)", f"<SecretAccessKey>{SECRET}</SecretAccessKey>", 812, stack_info=True)
    assert "812 bytes" in caplog.text and SECRET not in caplog.text
    assert caplog.records[-1].args is None


def test_the_filter_is_installed_once_by_importing_the_package():
    import ipy_tempcreds
    from ipy_tempcreds.base import logs

    logs.install()
    filters = [f for f in logging.getLogger("ipy_tempcreds").filters if isinstance(f, logs.ScrubSecrets)]
    assert len(filters) == 1 and ipy_tempcreds.base.logs is logs
