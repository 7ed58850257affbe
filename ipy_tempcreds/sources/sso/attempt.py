"""A device sign-in on its own thread, for views that must not block the kernel (the panel).

``%sso_login`` waits in its cell; a panel button cannot: it starts a :class:`SignInAttempt`, shows
the link and code when ``on_change`` reports them, and can cancel. ``on_change`` runs on the
attempt's thread and must not block. Nothing here holds a secret: the state is the user code, the
link, a message and the expiry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from ...base.errors import TempCredsError
from . import device

log = logging.getLogger("ipy_tempcreds")


class _Cancelled(Exception):
    pass


class SignInAttempt:
    """One device sign-in to ``target``: ``state`` goes starting → waiting → signed-in, failed or cancelled."""

    def __init__(self, target: device.SsoTarget, *, on_change: Callable[[SignInAttempt], None] | None = None,
                 clock: Callable[[], datetime] = device.now_utc, options: device.CallOptions = device.DEFAULT_OPTIONS):
        self.target = target
        self.state = "starting"
        self.code: device.DeviceCode | None = None
        self.signed: device.SignIn | None = None
        self.message = ""
        self._on_change = on_change
        self._clock = clock
        self._options = options
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="ipy_tempcreds-sso-sign-in")

    def start(self) -> SignInAttempt:
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop polling at the next wait; nothing is written."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the end; True if it ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def done(self) -> bool:
        return self.state in ("signed-in", "failed", "cancelled")

    def __repr__(self) -> str:
        return f"SignInAttempt({self.target.label!r}, state={self.state!r})"

    def _sleep(self, seconds: float) -> None:
        if self._cancel.wait(seconds):
            raise _Cancelled

    def _show(self, code: device.DeviceCode) -> None:
        self.code = code
        self._set("waiting", f"Open {code.verification_uri_complete} and check the code {code.user_code}.")

    def _run(self) -> None:
        try:
            self.signed = device.sign_in(self.target, show=self._show, clock=self._clock, sleep=self._sleep,
                                      options=self._options)
        except _Cancelled:
            self._set("cancelled", "Sign-in cancelled; nothing was written.")
        except TempCredsError as exc:  # SsoError, or a bad start URL or region
            self._set("failed", str(exc))
        except Exception:  # a bug must not die silently on a thread nobody watches
            log.exception("ipy_tempcreds: the IAM Identity Center sign-in failed unexpectedly")
            self._set("failed", "The sign-in failed unexpectedly (see the log); nothing was written.")
        else:
            self._set("signed-in", f"Signed in to {self.target.start_url} until {device.hhmm(self.signed.expires_at, self._clock(), self._options.zone)}.")

    def _set(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        if self._on_change is not None:
            try:
                self._on_change(self)
            except Exception:
                log.exception("ipy_tempcreds: a sign-in view failed")
