"""The "environment" delivery: inject a credential set into the kernel's environment variables, give
everything back on restore.

The kernel's ``os.environ`` is what boto3, pandas/s3fs, ``!aws`` and every subprocess read, so it is
where credentials go. Rules (see docs/ARCHITECTURE.md):

- the four variables of a set are written as one step, for Python and C readers (delivery/writes.py);
- ``AWS_SECURITY_TOKEN`` (read by botocore *before* ``AWS_SESSION_TOKEN``) and ``AWS_ACCOUNT_ID``
  are kept consistent with the new identity if they were set, and left absent if they were not;
- the first injection records the prior value (or absence) of every variable it touches, and
  :meth:`restore` puts exactly those back.
"""

from __future__ import annotations

import os
import threading
from collections.abc import MutableMapping

from ..base import consistent_reads, forks
from ..model.credentials import TemporaryCredentials
from .writes import apply_atomically, before_injection

CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
)
# Set only if the user had them: then they must follow the new identity, or botocore would sign
# with a stale token (AWS_SECURITY_TOKEN wins over AWS_SESSION_TOKEN) or route by a stale account.
FOLLOWER_VARIABLES = ("AWS_SECURITY_TOKEN", "AWS_ACCOUNT_ID")
TOUCHED_VARIABLES = CREDENTIAL_VARIABLES + FOLLOWER_VARIABLES
_TOUCHED = frozenset(TOUCHED_VARIABLES)


class KernelEnvironment:
    """Owns the credential variables of one environ mapping (``os.environ`` unless injected)."""

    name = "environment"

    def __init__(self, environ: MutableMapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ
        consistent_reads.install()  # if botocore is imported already; else before the first swap
        self._saved: dict[str, str | None] | None = None
        self._lock = threading.Lock()
        forks.renew_in_child(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # a fork copies it as it was: held by a writer, forever

    @property
    def injected(self) -> bool:
        return self._saved is not None

    def original(self) -> dict[str, str]:
        """The environment as it was before the first injection (now, if nothing is injected).

        STS clients are built with credentials resolved from this, so a refresh or a switch never
        picks up the injected role by accident.
        """
        with self._lock:
            return before_injection(self.environ, self._saved)

    def original_key(self) -> tuple:
        """A hashable value that changes whenever the AWS_* part of :meth:`original` would: the STS
        clients are cached by it (under the lock, which our own writes also take)."""
        with self._lock:
            saved = self._saved
            environ = self.environ
            touched = tuple(environ.get(name) for name in TOUCHED_VARIABLES) if saved is None else \
                tuple(saved[name] for name in TOUCHED_VARIABLES)
            # The names first, and a value only for the few AWS_ ones: ``items()`` of os.environ
            # decodes every value and looks each name up again, ~35 of the ~60 us this took on
            # every STS call (benchmarks/bench_switch.py, "client").
            others = tuple(sorted((name, environ.get(name)) for name in environ
                                  if name.startswith("AWS_") and name not in _TOUCHED))
            return touched, others

    def inject(self, credentials: TemporaryCredentials, account: str | None,
               handover: dict[str, str | None] | None = None) -> None:
        """Put ``credentials`` into the environment; the first time, remember what was there.

        ``handover``: the changes that would restore the environment the previous delivery left (a
        switch of delivery while active, switch.move); they are applied in the same write, and
        what they restore is what :meth:`restore` will give back.
        """
        with self._lock:
            if self._saved is None:
                before = before_injection(self.environ, handover) if handover else self.environ
                self._saved = {name: before.get(name) for name in TOUCHED_VARIABLES}
            changes: dict[str, str | None] = dict(credentials.environment())
            had = self._saved
            # A follower the user had follows the new identity; one they did not have stays absent
            # (it was never set, so there is nothing to remove).
            if had["AWS_SECURITY_TOKEN"] is not None:
                changes["AWS_SECURITY_TOKEN"] = credentials.session_token
            if had["AWS_ACCOUNT_ID"] is not None:
                changes["AWS_ACCOUNT_ID"] = account
            apply_atomically(self.environ, {**(handover or {}), **changes})

    def restore(self) -> bool:
        """Put back every touched variable as it was; False if nothing was injected."""
        changes = self.detach()
        if changes is None:
            return False
        apply_atomically(self.environ, changes)
        return True

    def detach(self) -> dict[str, str | None] | None:
        """Forget the environment and return the changes that restore it, without applying them
        (a switch to another delivery applies them with its own); None if not injected."""
        with self._lock:
            saved, self._saved = self._saved, None
            return saved

    def reattach(self, saved: dict[str, str | None]) -> None:
        """Take back what :meth:`detach` returned: the switch it was for wrote nothing."""
        with self._lock:
            self._saved = saved

    def after_move(self) -> None:
        """The credentials now go another way, and the environment no longer holds them: nothing to do."""
