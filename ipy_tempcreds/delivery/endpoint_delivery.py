"""The "endpoint" delivery: ``os.environ`` points processes at the kernel's credential server.

In ``delivery = "environment"`` mode (delivery/environment.py) the key variables are in ``os.environ``; a
child process inherits the set of the moment it started, and fails once that set expires. Here the
credential server (delivery/server.py, a process of its own) serves the credentials in force, and
``os.environ`` holds only where to ask and the file holding the token to ask with:

- set: ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (a
  0600 file in a 0700 directory; botocore, the AWS CLI, the AWS C++ SDK and Rust's object_store
  read it at every fetch, tests/delivery/test_endpoint_children.py). The token itself is in no
  variable: once the file is gone (a clear, the kernel's end) no child can send the token anywhere,
  so a child whose kernel is gone gets "cannot read the token file", never another process's answer;
- set aside: every variable through which an SDK's default chain finds credentials *before* the
  container provider (the keys, ``AWS_SECURITY_TOKEN``, ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``,
  which wins over ``..._FULL_URI``, ``AWS_PROFILE``, the web-identity variables), and a token
  variable of the kernel's own container agent, which must never reach this endpoint;
  (the profile's region is kept in ``AWS_DEFAULT_REGION`` when no region variable is set);
- what sits in files cannot be set aside: a ``[default]`` profile with credentials also comes first
  in the default chain, so it is named in a warning.

An *activation* lasts from the first injection to the restore (a clear, a move to the environment
delivery, unload). Each one has a token and a token file of its own; at its end the path answers
404 to everyone and the token is worthless, while the server keeps its port (the next activation
serves there with a new token). Renewals and switches within an activation only replace what is
served: children that follow the kernel move with it. A *pinned* grant (``--pin``) is served at a
path of its own with a token of its own (:meth:`EndpointDelivery.pin`); while it is the kernel's
grant, ``os.environ`` points children there, so a job started then keeps that grant.

The environment is written through delivery/writes.py (one new C ``environ`` array, one swap of
``os.environ``'s mapping), so a child inherits the variables before or after, never a mix.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import weakref
from collections.abc import MutableMapping
from dataclasses import dataclass

from ..base import forks, redaction
from ..base.aws_config import profile_region
from ..base.errors import TempCredsError
from ..model.credentials import TemporaryCredentials
from .writes import apply_atomically, before_injection

# delivery/endpoint.py (subprocess, select), tempfile and shutil are imported when the endpoint
# delivery is first used: every manager imports this module, and most kernels never serve.

log = logging.getLogger("ipy_tempcreds")

FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
SERVED_VARIABLES = (FULL_URI, TOKEN_FILE)
# In botocore's default chain (and the CLI's, and the C++ SDK's), each of these is read before the
# container provider: left in place, a child would use it and never ask the endpoint.
SET_ASIDE_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", TOKEN,
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
)
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
CLEARED = "No temporary credentials are active in the kernel (cleared); this token is no longer valid."
RELEASED = "The pinned credentials were released in the kernel; this token is no longer valid."


@dataclass(frozen=True)
class Served:
    """What the endpoint answers with: one credential set and its account, replaced as one object."""

    credentials: TemporaryCredentials
    account: str | None = None


class Route:
    """One path of the server with its token and token file (0600 in a 0700 directory).

    ``url`` and ``token_file`` are what a child is given; the token is in the file only.
    """

    def __init__(self, base: str, path: str):
        import tempfile

        self.path = path
        self.url = base + path
        self._token = secrets.token_urlsafe(32)  # 256 bits, new for every activation and every pin
        redaction.remember(self._token)
        directory = tempfile.mkdtemp(prefix="ipy_tempcreds-")  # 0700
        self.directory = directory
        self._remove = weakref.finalize(self, _remove_directory, directory, os.getpid())
        self.token_file = os.path.join(directory, "token")
        descriptor = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(self._token)  # no newline: SDKs send the file's content as the header

    def __repr__(self) -> str:  # never the token
        return f"Route({self.url})"

    def environment(self) -> dict[str, str | None]:
        """The variables that send a child here."""
        return {FULL_URI: self.url, TOKEN_FILE: self.token_file}

    def remove_file(self) -> None:
        self._remove()


class EndpointDelivery:
    """Owns the credential server, its routes, and the variables that point at it in one environ mapping.

    The same interface as environment.KernelEnvironment (``injected``, ``original()``,
    ``original_key()``, ``inject()``, ``restore()``), so the manager writes through either.
    """

    name = "endpoint"

    def __init__(self, environ: MutableMapping[str, str] | None = None):
        from .endpoint import CredentialEndpoint

        self.environ = os.environ if environ is None else environ
        self._endpoint = CredentialEndpoint()
        self._route: Route | None = None  # this activation's (children that follow the kernel)
        self._children: Route | None = None  # where os.environ points children: _route, or a pin's
        self._saved: dict[str, str | None] | None = None
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
        """Where children started now ask for credentials ('' when nothing is served)."""
        children = self._children
        return children.url if children is not None and self._saved is not None else ""

    @property
    def server(self):
        """The credential server (delivery/endpoint.py's CredentialEndpoint)."""
        return self._endpoint

    def original(self) -> dict[str, str]:
        """The environment as it was before the first injection (now, if nothing is injected)."""
        with self._lock:
            return before_injection(self.environ, self._saved)

    def original_key(self) -> tuple:
        """A hashable value that changes whenever the AWS_* part of :meth:`original` does."""
        return tuple(sorted((k, v) for k, v in self.original().items() if k.startswith("AWS_")))

    def inject(self, credentials: TemporaryCredentials, account: str | None,
               handover: dict[str, str | None] | None = None, children: Route | None = None) -> None:
        """Serve ``credentials`` to children that follow the kernel; the first time, also point
        ``os.environ`` at them. ``children``: a pin's route to point ``os.environ`` at instead.

        ``handover``: the changes that would restore the environment left by the previous delivery
        (a switch of delivery while active, :func:`move`); they are applied in the same step.
        """
        with self._lock:
            if self._saved is None:
                self._activate(Served(credentials, account), handover or {}, children)
                return
            assert self._route is not None
            served = Served(credentials, account)
            try:
                self._endpoint.serve(self._route.path, self._route._token, served)
            except TempCredsError:
                self._restart(served)  # the server died (killed, out of memory): a new one, new address
            target = children or self._route
            if target is not self._children:
                apply_atomically(self.environ, target.environment())
                self._children = target

    def restore(self) -> bool:
        """Put back every touched variable as it was, then end the activation; False if nothing was
        injected. The environment first: a process started meanwhile gets the kernel's own
        credentials, not the address of a token that is about to be refused."""
        changes = self.detach()
        if changes is None:
            return False
        apply_atomically(self.environ, changes)
        self.stop_serving()
        return True

    def detach(self) -> dict[str, str | None] | None:
        """Forget the environment and return the changes that restore it, without applying them (a
        switch to another delivery applies them with its own, then calls :meth:`after_move`);
        None if not injected. The endpoint keeps serving until then."""
        with self._lock:
            saved, self._saved = self._saved, None
            return saved

    def reattach(self, saved: dict[str, str | None]) -> None:
        """Take back what :meth:`detach` returned: the switch it was for wrote nothing."""
        with self._lock:
            self._saved = saved

    def after_move(self) -> None:
        """The environment no longer points here (a switch of delivery): end the activation."""
        self.stop_serving()

    def stop_serving(self) -> None:
        """End the activation: its path answers 404 to everyone, its token file goes. The server
        keeps its port (and the pins it serves)."""
        with self._lock:
            route, self._route, self._children = self._route, None, None
            self.warnings = []
            if route is not None:
                self._withdraw(route, CLEARED)

    def close(self) -> None:
        """Unload or kernel exit: stop the server (every path and pin with it)."""
        self.stop_serving()
        self._endpoint.stop()

    # -- pins -------------------------------------------------------------------------------------

    def pin(self, credentials: TemporaryCredentials, account: str | None) -> Route:
        """A path of its own serving ``credentials`` to the holder of its own token, until :meth:`unpin`."""
        from .server import PINNED

        with self._lock:
            route = self._new_route(f"{PINNED}{secrets.token_urlsafe(12)}")
            try:
                self._endpoint.serve(route.path, route._token, Served(credentials, account))
            except TempCredsError:
                self._withdraw(route, RELEASED)
                raise
            return route

    def repin(self, route: Route, credentials: TemporaryCredentials, account: str | None) -> None:
        """The pinned grant was renewed: serve the new set there."""
        self._endpoint.serve(route.path, route._token, Served(credentials, account))

    def unpin(self, route: Route, message: str = RELEASED) -> None:
        """Stop serving the pin: 404 with ``message`` to everyone, its token file removed. os.environ
        stops pointing there if it did (children started from now on follow the kernel)."""
        with self._lock:
            if self._children is route and self._route is not None and self._saved is not None:
                apply_atomically(self.environ, self._route.environment())
                self._children = self._route
            self._withdraw(route, message)

    # -- internals --------------------------------------------------------------------------------

    def _new_route(self, path: str) -> Route:
        from .endpoint import EndpointFailed

        try:
            base = self._endpoint.start().base
            route = Route(base, path)
        except OSError as exc:
            raise EndpointFailed(f"the credential endpoint could not start ({exc.strerror or exc})") from None
        self._endpoint.own(route.directory)
        return route

    def _withdraw(self, route: Route, message: str) -> None:
        route.remove_file()
        try:
            self._endpoint.refuse(route.path, message)
            self._endpoint.disown(route.directory)
        except TempCredsError:
            pass  # the server is gone: nothing is served there anyway

    def _restart(self, served: Served) -> None:
        """The credential server stopped answering: serve this activation from a new one. Processes
        started before now ask the old address and get an error; new ones get the new address."""
        from .server import PATH

        assert self._route is not None
        self._withdraw(self._route, CLEARED)
        route = self._new_route(PATH)
        self._endpoint.serve(route.path, route._token, served)
        apply_atomically(self.environ, route.environment())
        self._route = self._children = route
        log.warning("ipy_tempcreds: the credential endpoint had stopped; a new one serves at %s. Processes "
                    "started before now cannot reach it: start them again.", route.url)

    def _activate(self, served: Served, handover: dict[str, str | None], children: Route | None) -> None:
        from .server import PATH

        before = before_injection(self.environ, handover)  # as the previous delivery found it
        try:
            route = self._new_route(PATH)
            try:
                # Served first: the endpoint must answer as soon as the URI is in the environment.
                self._endpoint.serve(route.path, route._token, served)
            except TempCredsError:
                self._withdraw(route, CLEARED)
                raise
        except TempCredsError as exc:
            raise TempCredsError(
                f"{exc}: nothing was changed. Check that 127.0.0.1 accepts connections and the temporary "
                "directory is writable, or use `%config TempCreds.delivery = 'environment'`."
            ) from None
        self._route = route
        self._children = target = children or route
        changes: dict[str, str | None] = {name: None for name in SET_ASIDE_VARIABLES}
        changes.update(target.environment())
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


def _remove_directory(path: str, owner: int) -> None:
    # Only by the process that made it: a forked child that clears or exits must not take the
    # token file from under its parent's children (SDKs read it on every fetch).
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
