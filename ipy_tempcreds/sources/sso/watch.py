"""The pre-cell watch of IAM Identity Center sign-ins: renews a token near its end without making
the cell wait, and says once when a sign-in has lapsed, with the magic that fixes it.

Reads the cache file (no network) before each cell. Inside the last 15 minutes it lets botocore
renew the token with the refresh token, at most once a minute, on a thread of its own: the cell
waits for that at most ``PRE_CELL_WAIT`` seconds (a slow or hanging IAM Identity Center must not
hold every cell for the timeout of three attempts). Imports nothing from IPython.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from .device import REFRESH_WINDOW, CallOptions, SsoError, SsoTarget, access_token, hhmm, now_utc, token_status

PRE_CELL_WAIT = 2.0  # seconds a cell waits for a renewal of the token; it goes on by itself after that

log = logging.getLogger("ipy_tempcreds")


class SignInWatch:
    """The sign-ins this kernel made or uses; says once, before a cell, when one has lapsed."""

    def __init__(self, settings, clock: Callable[[], datetime] = now_utc):
        self.settings = settings  # TempCreds: the timeout and the zone, read at each use
        self.clock = clock
        self._targets: dict[SsoTarget, bool] = {}  # target -> lapse already said
        self._next_try: dict[SsoTarget, datetime] = {}
        self._renewing: dict[SsoTarget, threading.Thread] = {}

    def add(self, target: SsoTarget) -> None:
        self._targets[target] = False

    def remove(self, target: SsoTarget) -> None:
        """Stop watching the sign-in of ``target`` (a logout): every target of the same sign-in,
        however it was named (``%sso_login analyst``, then ``%sso_login --logout``)."""
        for watched in [t for t in self._targets if t.cache_key == target.cache_key]:
            self._targets.pop(watched, None)
            self._next_try.pop(watched, None)

    def __bool__(self) -> bool:
        return bool(self._targets)

    def settle(self, timeout: float | None = None) -> None:
        """Wait for renewals in flight (tests; nothing in a cell waits this way)."""
        for thread in list(self._renewing.values()):
            thread.join(timeout)

    def _renew(self, target: SsoTarget) -> None:
        try:
            access_token(target, clock=self.clock, options=CallOptions.of(self.settings))
        except SsoError:
            pass  # said by check() if the sign-in has lapsed
        except Exception:  # a bug must not die silently on a thread nobody watches (logs are scrubbed)
            log.exception("ipy_tempcreds: renewing the IAM Identity Center sign-in of %s failed", target.label)

    def _start_renewal(self, target: SsoTarget) -> None:
        thread = self._renewing.get(target)
        if thread is None or not thread.is_alive():
            thread = self._renewing[target] = threading.Thread(
                target=self._renew, args=(target,), daemon=True, name="ipy_tempcreds-sso-renewal")
            thread.start()
        thread.join(PRE_CELL_WAIT)

    def check(self) -> list[str]:
        """Messages for sign-ins that lapsed since last said (the fix included)."""
        messages = []
        for target, said in list(self._targets.items()):
            now = self.clock()
            status = token_status(target, now)
            if status is not None and status.refreshable and (status.expires_at - now).total_seconds() < REFRESH_WINDOW \
                    and now >= self._next_try.get(target, now):
                self._next_try[target] = now + timedelta(seconds=60)
                self._start_renewal(target)
                status = token_status(target, now)
            renewing = target in self._renewing and self._renewing[target].is_alive()
            if status is not None and not status.expired(now):
                self._targets[target] = False
            elif not said and not renewing:  # a renewal still in flight may yet succeed: said next cell
                self._targets[target] = True
                again = f"run `{target.login_line}` to sign in again."
                if status is None:  # its cached token is gone: a logout elsewhere, not a lapse
                    messages.append(f"the IAM Identity Center sign-in to {target.label} was ended outside this "
                                    f"notebook (its cached token is gone: another kernel or `aws sso logout`): {again}")
                    continue
                zone = CallOptions.of(self.settings).zone
                messages.append(f"the IAM Identity Center sign-in to {target.label} lapsed at "
                                f"{hhmm(status.expires_at, now, zone)}: {again}")
        return messages
