"""The kernel's environment variables: inject a credential set, give everything back on restore.

The kernel's ``os.environ`` is what boto3, pandas/s3fs, ``!aws`` and every subprocess read, so it is
where credentials go. Rules (see docs/ARCHITECTURE.md):

- the four variables of a set are written as one step: a thread that reads one variable, or copies
  the mapping behind os.environ (``os.environ._data.copy()``), sees the old set or the new one,
  never a mix. botocore's EnvProvider takes the four one ``get()`` at a time; consistent_reads.py
  makes it read them from one snapshot of that mapping, installed before the first swap. Readers
  that copy key by key (``dict(os.environ)``, ``os.environ.copy()``) can still straddle a swap
  (measured in tests/test_races.py);
- the C-level environment (what getenv() in native threads and child processes read) changes in
  one step too, and frees nothing: compat.publish_c_environment stores a new ``environ`` array
  once, so a child started meanwhile inherits the old set or the new one, whole, and a native
  reader never walks freed memory (setenv adding a name moves the array; tests/test_native_threads.py);
- ``AWS_SECURITY_TOKEN`` (read by botocore *before* ``AWS_SESSION_TOKEN``) and ``AWS_ACCOUNT_ID``
  are kept consistent with the new identity if they were set, and left absent if they were not;
- the first injection records the prior value (or absence) of every variable it touches, and
  :meth:`restore` puts exactly those back.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import MutableMapping

from . import consistent_reads
from .compat import (
    environ_data,
    forget_default_session_credentials,
    is_os_environ,
    publish_c_environment,
    swap_environ_data,
)
from .credentials import TemporaryCredentials

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

    def __init__(self, environ: MutableMapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ
        consistent_reads.install()  # if botocore is imported already; else before the first swap
        self._saved: dict[str, str | None] | None = None
        self._lock = threading.Lock()

    @property
    def injected(self) -> bool:
        return self._saved is not None

    def original(self) -> dict[str, str]:
        """The environment as it was before the first injection (now, if nothing is injected).

        STS clients are built with credentials resolved from this, so a refresh or a switch never
        picks up the injected role by accident.
        """
        with self._lock:
            return _before(self.environ, self._saved)

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

    def inject(self, credentials: TemporaryCredentials, account: str | None) -> None:
        with self._lock:
            if self._saved is None:
                self._saved = {name: self.environ.get(name) for name in TOUCHED_VARIABLES}
            changes: dict[str, str | None] = dict(credentials.environment())
            had = self._saved
            # A follower the user had follows the new identity; one they did not have stays absent
            # (it was never set, so there is nothing to remove).
            if had["AWS_SECURITY_TOKEN"] is not None:
                changes["AWS_SECURITY_TOKEN"] = credentials.session_token
            if had["AWS_ACCOUNT_ID"] is not None:
                changes["AWS_ACCOUNT_ID"] = account
            _apply_atomically(self.environ, changes)

    def restore(self) -> bool:
        """Put back every touched variable as it was; False if nothing was injected."""
        with self._lock:
            if self._saved is None:
                return False
            _apply_atomically(self.environ, self._saved)
            self._saved = None
        return True


def _copy(environ: MutableMapping[str, str]) -> dict[str, str]:
    """A plain dict copy. os.environ is decoded straight from a copy of its data: ``dict(os.environ)``
    goes through the mapping protocol key by key (encode, look up, decode), and can straddle a swap."""
    if is_os_environ(environ):
        decode_key, decode_value = environ.decodekey, environ.decodevalue
        return {decode_key(k): decode_value(v) for k, v in environ_data(environ).copy().items()}
    return dict(environ)


def _before(environ: MutableMapping[str, str], saved: dict[str, str | None] | None) -> dict[str, str]:
    """A copy of ``environ`` with the ``saved`` values put back (None: the variable was absent):
    the environment as it was before an injection (both deliveries keep ``saved`` this way)."""
    current = _copy(environ)
    for name, value in (saved or {}).items():
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value
    return current


def _apply_atomically(environ: MutableMapping[str, str], changes: dict[str, str | None]) -> None:
    """Set (value) or remove (None) several variables so that readers see all changes or none."""
    if is_os_environ(environ):
        consistent_reads.install()  # before the swap: botocore's readers must not straddle it
        # Child processes inherit the C-level environment: update it first. Then swap the mapping
        # behind os.environ in one assignment. os.environ itself stays the same object (botocore
        # and subprocess hold it), and each single read sees the old dict or the new one (a copy
        # through the mapping protocol reads key by key: see the module docstring).
        _write_c_environment(changes)
        data = dict(environ_data(environ))
        for name, value in changes.items():
            key = environ.encodekey(name)
            if value is None:
                data.pop(key, None)
            else:
                data[key] = environ.encodevalue(value)
        swap_environ_data(environ, data)
        return
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value


def _write_c_environment(changes: dict[str, str | None]) -> None:
    """The C-level environment: one new array, nothing freed (compat.publish_c_environment).
    Where that is unavailable (Windows, whose C runtime locks its environment), os.putenv one
    variable at a time: there a child started meanwhile can inherit a mix."""
    if publish_c_environment(changes):
        return
    for name, value in changes.items():
        if value is None:
            os.unsetenv(name)
        else:
            os.putenv(name, value)


def follow_boto3_default_session(change) -> None:
    """Follower: boto3's default session resolves the credentials again after a change."""
    if change.credentials_changed:
        _reset_boto3_default_session()


def follow_s3fs(change) -> None:
    """Follower: s3fs/fsspec's caches and live filesystems take the new credentials."""
    if change.credentials_changed and "s3fs" in sys.modules:
        from .s3fs_support import follow_environment

        follow_environment()


def reset_sdk_caches() -> None:
    """Make SDK objects that cached credentials resolve them again from the environment (what the
    two followers above do, for a process without a manager: a Dask worker).

    Only libraries already imported are touched: nothing is imported here.
    """
    _reset_boto3_default_session()
    if "s3fs" in sys.modules:
        from .s3fs_support import follow_environment

        follow_environment()


def _reset_boto3_default_session() -> None:
    boto3 = sys.modules.get("boto3")
    default_session = getattr(boto3, "DEFAULT_SESSION", None)
    if default_session is not None:
        # Keep the user's default session (its region and profile choices); only drop the
        # credentials it resolved, so the next client resolves them again through the env provider.
        forget_default_session_credentials(default_session)
