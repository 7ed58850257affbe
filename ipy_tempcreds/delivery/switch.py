"""The "endpoint" delivery: ``os.environ`` points processes at the kernel's credential endpoint.

In ``delivery = "environment"`` mode (delivery/environment.py) the key variables are in ``os.environ``; a
child process inherits the set of the moment it started, and fails once that set expires. Here the
kernel serves the credentials in force from delivery/endpoint.py, and ``os.environ`` holds only where to ask
and the token to ask with:

- set: ``AWS_CONTAINER_CREDENTIALS_FULL_URI``, ``AWS_CONTAINER_AUTHORIZATION_TOKEN`` and
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (a 0600 file in a 0700 directory; botocore re-reads
  it on every fetch and prefers it to the variable);
- set aside: every variable through which an SDK's default chain finds credentials *before* the
  container provider (the keys, ``AWS_SECURITY_TOKEN``, ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``,
  which wins over ``..._FULL_URI``, ``AWS_PROFILE``, the web-identity variables);
  (the profile's region is kept in ``AWS_DEFAULT_REGION`` when no region variable is set);
- what sits in files cannot be set aside: a ``[default]`` profile with credentials also comes first
  in the default chain, so it is named in a warning.

Renewals and switches only replace what the endpoint serves: the environment is written twice per
activation (first inject, restore), each time in one step through the writer environment mode uses
too (environ_writes.apply_atomically: one new C ``environ`` array, nothing freed), so a child process
inherits the variables before or after, never a mix, and a native thread's getenv() never walks
freed memory. On restore every touched variable gets back its value or its absence, and the
endpoint stops.

``DeliverySwitch`` is what the manager holds: the delivery ``TempCreds.delivery`` names, changed
while active by :func:`move` (one write of the environment).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import MutableMapping
from dataclasses import dataclass

from ..base import forks
from ..base.aws_config import profile_region
from ..base.errors import TempCredsError
from ..model.credentials import TemporaryCredentials
from .environment import KernelEnvironment
from .writes import apply_atomically, before_injection

# delivery/endpoint.py (http.server: ~20 ms), tempfile and shutil are imported when the endpoint delivery is
# first used: every manager imports this module, and most kernels never serve.

log = logging.getLogger("ipy_tempcreds")

FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
SERVED_VARIABLES = (FULL_URI, TOKEN, TOKEN_FILE)
# In botocore's default chain (and the CLI's, and the C++ SDK's), each of these is read before the
# container provider: left in place, a child would use it and never ask the endpoint.
SET_ASIDE_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
)
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class Served:
    """What the endpoint answers with: one credential set and its account, replaced as one object."""

    credentials: TemporaryCredentials
    account: str | None = None


class EndpointDelivery:
    """Owns the endpoint and the variables that point at it in one environ mapping.

    The same interface as environment.KernelEnvironment (``injected``, ``original()``,
    ``original_key()``, ``inject()``, ``restore()``), so the manager writes through either.
    """

    name = "endpoint"

    def __init__(self, environ: MutableMapping[str, str] | None = None, *, token: str | None = None):
        self.environ = os.environ if environ is None else environ
        from .endpoint import CredentialEndpoint, kernel_token

        self._token = token if token is not None else kernel_token()
        self._served: Served | None = None
        self._endpoint = CredentialEndpoint(lambda: self._served, self._token)
        self._saved: dict[str, str | None] | None = None
        self._directory: weakref.finalize | None = None  # removes the token's directory, at the latest at exit
        self._lock = threading.Lock()
        self.warnings: list[str] = []
        forks.renew_in_child(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # a fork copies it as it was: perhaps held mid-inject

    def __repr__(self) -> str:
        return f"EndpointDelivery({self.url or 'not serving'})"

    @property
    def injected(self) -> bool:
        return self._saved is not None

    @property
    def url(self) -> str:
        """Where the credentials are served ('' when nothing is)."""
        return self._endpoint.url

    def original(self) -> dict[str, str]:
        """The environment as it was before the first injection (now, if nothing is injected)."""
        with self._lock:
            return self._original()

    def original_key(self) -> tuple:
        """A hashable value that changes whenever the AWS_* part of :meth:`original` does."""
        return tuple(sorted((k, v) for k, v in self.original().items() if k.startswith("AWS_")))

    def inject(self, credentials: TemporaryCredentials, account: str | None,
               handover: dict[str, str | None] | None = None) -> None:
        """Serve ``credentials``; the first time, also point ``os.environ`` at the endpoint.

        ``handover``: the changes that would restore the environment left by the previous delivery
        (a switch of delivery while active, :func:`move`); they are applied in the same step.
        """
        with self._lock:
            # Served first: the endpoint must answer as soon as the URI is in the environment.
            self._served = Served(credentials, account)
            if self._saved is None:
                self._point_environment(handover or {})

    def restore(self) -> bool:
        """Put back every touched variable as it was, then stop serving; False if nothing was injected.

        The environment first: a process started meanwhile gets the kernel's own credentials, not
        the address of an endpoint that is about to go.
        """
        changes = self.detach()
        if changes is None:
            return False
        apply_atomically(self.environ, changes)
        self.stop_serving()
        return True

    def detach(self) -> dict[str, str | None] | None:
        """Forget the environment and return the changes that restore it, without applying them (a
        switch to another delivery applies them with its own, then calls :meth:`stop_serving`);
        None if not injected. The endpoint keeps serving until then."""
        with self._lock:
            saved, self._saved = self._saved, None
            return saved

    def reattach(self, saved: dict[str, str | None]) -> None:
        """Take back what :meth:`detach` returned: the switch it was for wrote nothing."""
        with self._lock:
            self._saved = saved

    def after_move(self) -> None:
        """The environment no longer points here (a switch of delivery): stop serving."""
        self.stop_serving()

    def stop_serving(self) -> None:
        with self._lock:
            self._served = None
            self._endpoint.stop()
            if self._directory is not None:
                self._directory()
                self._directory = None
            self.warnings = []

    # -- internals --------------------------------------------------------------------------------

    def _original(self) -> dict[str, str]:
        return before_injection(self.environ, self._saved)

    def _start_serving(self) -> str:
        """Listen, and write the token file (0600, in a 0700 directory); returns its path."""
        self._endpoint.start()
        import tempfile

        directory = tempfile.mkdtemp(prefix="ipy_tempcreds-")  # 0700
        self._directory = weakref.finalize(self, _remove_directory, directory, os.getpid())
        token_file = os.path.join(directory, "token")
        descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(self._token)  # no newline: botocore sends the file's content as the header
        return token_file

    def _point_environment(self, handover: dict[str, str | None]) -> None:
        before = before_injection(self.environ, handover)  # as the previous delivery found it
        try:
            token_file = self._start_serving()
        except OSError as exc:
            self._served = None
            self._endpoint.stop()
            if self._directory is not None:
                self._directory()
                self._directory = None
            raise TempCredsError(
                f"the credential endpoint could not start ({exc.strerror or exc}): nothing was changed. "
                "Check that 127.0.0.1 accepts connections and the temporary directory is writable, or "
                "use `%config TempCreds.delivery = 'environment'`."
            ) from None
        changes: dict[str, str | None] = {name: None for name in SET_ASIDE_VARIABLES}
        changes.update({FULL_URI: self._endpoint.url, TOKEN: self._token, TOKEN_FILE: token_file})
        region = None if any(before.get(name) for name in REGION_VARIABLES) else profile_region(before)
        if region is not None:
            changes["AWS_DEFAULT_REGION"] = region
        self._saved = {name: before.get(name) for name in changes}
        # Variables the previous delivery touched that this one leaves alone go back too.
        changes = {**{k: v for k, v in handover.items() if k not in changes}, **changes}
        apply_atomically(self.environ, changes)
        self.warnings = _shadowing_profiles(before)
        for warning in self.warnings:
            log.warning("%s", warning)


MODES = ("environment", "endpoint")


class DeliverySwitch:
    """The manager's writer: the delivery in force (``"environment"`` or ``"endpoint"``), which
    :meth:`use` changes at any time, moving live credentials from one to the other in one step.

    The same interface as the deliveries themselves, so the manager and the STS gateway hold this
    one object for the kernel's life, whatever ``TempCreds.delivery`` says.
    """

    def __init__(self, environ: MutableMapping[str, str] | None = None, mode: str = "environment"):
        from .environment import KernelEnvironment

        self.environ = os.environ if environ is None else environ
        self._environment = KernelEnvironment(self.environ)
        self._endpoint: EndpointDelivery | None = None
        self._active: KernelEnvironment | EndpointDelivery = self._environment
        self._last: tuple[TemporaryCredentials, str | None] | None = None  # what a move hands over
        self._lock = threading.RLock()
        forks.renew_in_child(self)
        self.use(mode)

    def _after_fork(self) -> None:
        self._lock = threading.RLock()  # the parent's renewal thread may have held it mid-inject

    @property
    def mode(self) -> str:
        return self._active.name

    @property
    def injected(self) -> bool:
        return self._active.injected

    @property
    def url(self) -> str:
        """Where the endpoint serves, while it does ('' otherwise)."""
        return self._active.url if isinstance(self._active, EndpointDelivery) else ""

    @property
    def warnings(self) -> list[str]:
        return list(self._active.warnings) if isinstance(self._active, EndpointDelivery) else []

    def describe(self) -> str:
        """One line for status: the mode, and where the endpoint serves (never the token)."""
        if self.mode == "environment":
            return "environment (key variables in the kernel's environment)"
        return f"endpoint ({self.url})" if self.url else "endpoint (serves while a role is active)"

    def original(self) -> dict[str, str]:
        return self._active.original()

    def original_key(self) -> tuple:
        return self._active.original_key()

    def inject(self, credentials: TemporaryCredentials, account: str | None) -> None:
        with self._lock:
            self._active.inject(credentials, account)
            self._last = (credentials, account)

    def restore(self) -> bool:
        with self._lock:
            self._last = None
            return self._active.restore()

    def use(self, mode: str) -> None:
        """Deliver through ``mode`` from now on; credentials in force move at once (delivery.move)."""
        if mode not in MODES:
            raise ValueError(f"delivery must be one of {MODES}, not {mode!r}")
        with self._lock:
            if mode == self.mode:
                return
            new: KernelEnvironment | EndpointDelivery
            if mode == "endpoint":
                self._endpoint = self._endpoint or EndpointDelivery(self.environ)
                new = self._endpoint
            else:
                new = self._environment
            if self._active.injected and self._last is not None:
                move(self._active, new, *self._last)
            self._active = new


def _remove_directory(path: str, owner: int) -> None:
    # Only by the process that made it: a forked child that clears or exits must not take the
    # token file from under its parent's children (botocore reads it on every fetch).
    if os.getpid() == owner:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def _shadowing_profiles(environ: dict[str, str]) -> list[str]:
    """Warnings for a [default] profile whose credentials the default chain reads before the
    endpoint (files cannot be set aside as variables can)."""
    from ..base.aws_config import default_profile_credentials

    return [f"delivery 'endpoint': the [default] profile in {path} has credentials ({setting}), and AWS "
            "SDKs read it before the credential endpoint: processes started from the kernel will use "
            "that profile, not the active role. Move those settings to a named profile, or use "
            "`%config TempCreds.delivery = 'environment'`."
            for path, setting in default_profile_credentials(environ)]


def move(old, new, credentials: TemporaryCredentials, account: str | None) -> None:
    """Deliver the credentials in force through ``new`` instead of ``old``, in one write of the
    environment: a reader of ``os.environ`` sees one delivery or the other, never neither, and
    ``new.restore()`` then gives back the environment as it was before ``old`` touched it.

    Either side is a delivery (KernelEnvironment, EndpointDelivery): ``old`` hands over the changes
    that would restore the environment, ``new`` applies them with its own, and ``old`` stops only
    once nothing points at it. The caller (the manager, under its lock) makes sure no renewal lands
    on either meanwhile.
    """
    handover = old.detach() or {}
    try:
        new.inject(credentials, account, handover=handover)
    except TempCredsError:
        old.reattach(handover)  # nothing was written: the old delivery stays in force
        raise
    old.after_move()
