"""boto3 clients and resources follow every change at once, however long they are kept.

botocore hands each client its session's credentials object, and the client's request signer
asks that object for ``get_frozen_credentials()`` before every request. So a client follows if
the object it holds follows. Once botocore is imported (:meth:`Boto3Follower.attach`, through a
post-import hook: never by us), every botocore session that reads the kernel's environment (no
profile chosen for it, no keys given to it) gets a ``KernelCredentials`` from its credential chain:

- while a grant is active it answers the grant's keys, and the first request after any change
  (assume, switch, ``--refresh``, a background renewal, ``--clear``) answers the new ones;
- with none active it answers what the default chain resolves for the kernel's own identity:
  resolved when the session asks, or, for a session created under a role, at its first use after
  the clear (the role's keys are what the environment held when it was created).

Checking for a change costs one integer comparison per request. Sessions given a profile or keys,
and clients created before ``%load_ext``, keep botocore's own behaviour.

What a kernel publishes lives in its :class:`Boto3Follower` (held by the kernel's state). botocore's
resolver factory is wrapped once per process, with the follower's bound method; the credentials
classes are built per follower and read its generation through their closure, so a client always
follows the follower that was installed when its session was made.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

from ..base import compat
from .imports import forget, when_imported

if TYPE_CHECKING:
    from ..model.changes import Change

log = logging.getLogger("ipy_tempcreds")

_UNRESOLVED = object()


class Boto3Follower:
    """The boto3 clients' follower of one kernel: the credentials in force, numbered."""

    def __init__(self):
        # (generation, (access key id, secret, token, account, expiration) or None). One tuple,
        # replaced whole, so a reader in another thread never pairs one change's number with
        # another's keys. Holds secrets: never rendered (see __repr__).
        self._published: tuple[int, tuple | None] = (0, None)
        self._publish_lock = threading.Lock()
        self._classes: tuple[type, type] | None = None  # (KernelCredentials, FollowingRefreshable)
        self._attached = False  # botocore's factory wrapped by this follower: only it unwraps

    def on_change(self, change: Change) -> None:
        """The follower: publish the credentials in force after ``change`` (a no-op if the key did not
        change, as for a problem report). Never blocks: clients pick the change up on their next request."""
        grant = change.grant
        values = None
        if grant is not None:
            held = grant.credentials
            values = (held.access_key_id, held.secret_access_key, held.session_token, grant.account, held.expiration)
        with self._publish_lock:
            generation, previous = self._published
            if (previous and previous[0]) == (values and values[0]):
                return
            self._published = (generation + 1, values)

    def generation(self) -> int:
        """How many times the credentials in force changed (followers compare it with what they saw)."""
        return self._published[0]

    def install(self) -> None:
        """Give sessions created from now on credentials that follow (now if botocore is imported,
        else right after it is)."""
        when_imported("botocore.session", self.attach)

    def uninstall(self) -> None:
        forget("botocore.session", self.attach)
        module = sys.modules.get("botocore.session")
        if module is not None and self._attached:
            compat.unwrap_credential_resolvers(module.Session)
        self._attached = False

    def attach(self, module) -> None:
        """Called with ``botocore.session`` once it is imported."""
        self._attached = compat.wrap_credential_resolvers(module.Session, self._follow_if_environment)
        if not self._attached:
            log.warning("ipy_tempcreds: this botocore version has no credential resolver factory to "
                        "attach to; boto3 clients kept across a role change will not follow it "
                        "(create them again after each change).")

    def _follow_if_environment(self, session, resolver) -> None:
        load_chain = resolver.load_credentials

        def load_credentials():
            # Decided when the session asks, not when the resolver is made: the STS source clients
            # pin their environment provider to a copy of the environment after creating it.
            env_provider = sys.modules["botocore.credentials"].EnvProvider
            if not compat.reads_kernel_environment(session, resolver, env_provider):
                return load_chain()
            return self.credentials_class()(load_chain)

        resolver.load_credentials = load_credentials

    def credentials_class(self) -> type:
        """``KernelCredentials`` of this follower, built on first use (it subclasses botocore's class)."""
        return self._built()[0]

    def following_refreshable(self, held, refresh_using, clock):
        """``RefreshableCredentials`` for :func:`ipy_tempcreds.session`: refreshed by ``refresh_using``
        inside botocore's windows, as before, and also at the first request after any change, which
        then must succeed (a clear makes every client of the session fail, saying so)."""
        return self._built()[1](held.access_key_id, held.secret_access_key, held.session_token, held.expiration,
                                refresh_using=refresh_using, method="ipy_tempcreds", time_fetcher=clock)

    def _built(self) -> tuple[type, type]:
        classes = self._classes
        if classes is None:  # two threads may both build: equal classes, the last one kept
            classes = self._classes = _make_classes(self)
        return classes

    def __repr__(self) -> str:
        return f"<Boto3Follower generation={self._published[0]}>"


def _make_classes(follower: Boto3Follower) -> tuple[type, type]:
    """The credentials classes of ``follower``: they read its generation through this closure (one
    integer comparison per request) and never a module global."""
    from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials
    from botocore.exceptions import NoCredentialsError

    base: Any = compat.refreshable_base(RefreshableCredentials, ReadOnlyCredentials)

    class KernelCredentials(base):
        """Credentials that answer what the kernel uses now: the active grant's, or the kernel's own.

        A ``RefreshableCredentials`` for whoever checks the type (botocore's S3 Express resolver,
        polars reading the expiry); every way of reading it goes through :meth:`get_frozen_credentials`.
        """

        def __init__(self, load_chain):
            # Not RefreshableCredentials.__init__: there is no refresh function and no fixed set.
            self.start_unset("ipy_tempcreds")
            self._load_chain = load_chain
            # The kernel's own credentials from the chain (botocore's Credentials or Refreshable-
            # Credentials, or None), or _UNRESOLVED until the chain is asked.
            self._own: Any = _UNRESOLVED
            self._seen = -1
            if follower._published[1] is None:
                # As botocore does: the chain is resolved when the session asks, so a missing
                # profile or partial keys fail here, where they always did.
                self._own = load_chain()
            self._sync()

        def refresh_needed(self, refresh_in=None):
            if self._seen != follower._published[0]:
                return True
            own = self._own
            return self.fixed() is None and own is not None and own is not _UNRESOLVED \
                and own.refresh_needed(refresh_in)

        def before_use(self):
            if self._seen != follower._published[0]:
                self._sync()

        def get_frozen_credentials(self):
            if self._seen != follower._published[0]:
                self._sync()
            frozen = self.fixed()
            if frozen is not None:
                return frozen
            own = self._own
            if own is None or own is _UNRESOLVED:
                raise NoCredentialsError()
            return own.get_frozen_credentials()  # refreshes itself (SSO, an instance role, ...)

        def _sync(self) -> None:
            with self.refresh_lock():
                generation, values = follower._published
                if self._seen == generation:
                    return
                if values is not None:
                    self.set_fixed(values[:4], values[4])
                else:
                    if self._own is _UNRESOLVED:
                        # Created under a role: the kernel's own identity is what the chain
                        # resolves now that the environment is the kernel's again.
                        self._own = self._load_chain()
                    self.follow_own(self._own)
                self._seen = generation

        access_key = property(lambda self: self.get_frozen_credentials().access_key)
        secret_key = property(lambda self: self.get_frozen_credentials().secret_key)
        token = property(lambda self: self.get_frozen_credentials().token)
        account_id = property(lambda self: self.get_frozen_credentials().account_id)

        def __repr__(self) -> str:
            return f"<KernelCredentials generation={self._seen}>"

    class FollowingRefreshableCredentials(base):
        """Refreshable credentials that also refresh, blocking, after every change in the kernel."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._seen = follower._published[0]

        def before_use(self):
            if self._seen == follower._published[0]:
                return self.refresh_in_windows()
            with self.refresh_lock():
                current = follower._published[0]
                if self._seen == current:
                    return
                seen, self._seen = self._seen, current
                try:
                    self.refresh_mandatory()
                except BaseException:
                    self._seen = seen  # the next request tries again
                    raise

    return KernelCredentials, FollowingRefreshableCredentials
