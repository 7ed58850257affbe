"""Share the kernel's temporary credentials with a Dask cluster, and keep them current there.

Workers are separate processes (often on other machines): they do not see the kernel's
environment. :func:`share_with` registers a ``WorkerPlugin`` under one fixed name; Dask runs its
``setup`` on every current worker and on every worker that joins later, and registering again under
the same name replaces it everywhere. So each renewal or switch registers a new plugin with the new
set, and a clear registers one that gives the workers back the variables they had before.

On a worker the plugin does what the kernel does: it writes the credential variables through a
:class:`~ipy_tempcreds.delivery.environment.KernelEnvironment` (which remembers the worker's own values for
the restore) and resets the boto3 default session and s3fs' caches in that process.

The credentials travel pickled through the scheduler, which keeps the latest plugin for workers
that join later: see docs/dask.md, "What sharing exposes" (use TLS, or short durations).

Importing this module imports ``distributed``: it is imported only when sharing is asked for, and
on workers (where the plugin is unpickled).
"""

from __future__ import annotations

import logging
import os
import threading

from distributed.diagnostics.plugin import WorkerPlugin

from ..base.errors import TempCredsError
from ..model.credentials import TemporaryCredentials, mask_key_id

log = logging.getLogger("ipy_tempcreds")

PLUGIN_NAME = "ipy_tempcreds-credentials"

# Seconds the kernel's main thread waits for a switch or a clear to reach the workers before the
# next cell runs; a renewal in the background never waits.
MAIN_THREAD_WAIT = 5.0


class DaskNotAvailable(TempCredsError):
    """No Dask client to share with, or Dask is not installed."""


# -- the worker side -------------------------------------------------------------------------------

class _WorkerSide:
    """What a worker process keeps: its environment as the kernel's sharing wrote it, and its SDK
    caches. A worker is a process of its own, not a kernel: one per process, made on first use."""

    def __init__(self):
        from ..delivery.environment import KernelEnvironment
        from .sdk_caches import SdkCachesFollower

        self.environment = KernelEnvironment()
        self.caches = SdkCachesFollower()


_worker_side: _WorkerSide | None = None
_worker_lock = threading.Lock()


def _worker() -> _WorkerSide:
    global _worker_side
    with _worker_lock:
        if _worker_side is None:
            _worker_side = _WorkerSide()
        return _worker_side


class CredentialsPlugin(WorkerPlugin):
    """Puts one credential set into a worker's environment, or (``credentials=None``) restores
    the worker's own variables.

    Carries the secrets, so its repr shows only the masked key id.
    """

    idempotent = False  # registering again must replace the set on every worker
    name = PLUGIN_NAME

    def __init__(self, credentials: TemporaryCredentials | None, account: str | None = None):
        self.credentials = credentials
        self.account = account
        # Workers in the kernel's own process (LocalCluster(processes=False)) already share its
        # environment, which the kernel's manager owns: leave it to the manager.
        self.origin_pid = os.getpid()

    def setup(self, worker=None) -> None:
        if os.getpid() == self.origin_pid:
            return
        worker_side = _worker()
        if self.credentials is None:
            if not worker_side.environment.restore():
                return
        else:
            worker_side.environment.inject(self.credentials, self.account)
        worker_side.caches.reset()  # no manager here to run the SDK followers

    def teardown(self, worker=None) -> None:
        # Called when a newer plugin replaces this one (its setup follows at once) and when the
        # worker closes: nothing to undo in between.
        pass

    def __repr__(self) -> str:
        if self.credentials is None:
            return "CredentialsPlugin(restore the worker's own credentials)"
        return f"CredentialsPlugin(access_key_id={mask_key_id(self.credentials.access_key_id)!r})"

    __str__ = __repr__


# -- the kernel side -------------------------------------------------------------------------------

def current_client():
    """The default Dask client of this kernel (the last one created), or a clear error."""
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - the module itself imports distributed
        raise DaskNotAvailable("Dask is not installed: pip install 'dask[distributed]'.") from None
    try:
        return default_client()
    except ValueError:
        raise DaskNotAvailable(
            "--dask found no Dask client in this kernel. Connect one first, e.g. "
            "`from dask.distributed import Client; client = Client(cluster)`, then run the line "
            "again (or call ipy_tempcreds.share_with(client))."
        ) from None


class DaskSharing:
    """Keeps one Dask cluster on the kernel's credentials until :meth:`stop`: a clear gives the
    workers their own variables back, and the next assume reaches them again.

    Renewals arrive from the manager's renewal thread, which must not block: registrations run on
    a thread of their own, newest set first. A change made from the kernel's main thread (a switch,
    a clear) waits up to ``MAIN_THREAD_WAIT`` seconds for the workers, so the next cell finds
    them on the new identity.
    """

    def __init__(self, manager, client, registry: DaskSharings | None = None):
        self.manager = manager
        self.client = client
        self._registry = registry
        self._condition = threading.Condition()
        self._wanted = 0  # changes asked for
        self._done = 0  # changes that reached the workers (or failed)
        self._pending: tuple | None = None  # (credentials, account) or None: the newest change not yet sent
        self._shared_key: str | None = None  # access key id of the set the workers should have
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    @property
    def address(self) -> str:
        return getattr(getattr(self.client, "scheduler", None), "address", None) or "?"

    @property
    def active(self) -> bool:
        return not self._stopped

    def start(self, grant) -> None:
        """Send ``grant`` now, in this thread (errors reach the caller), then follow the manager."""
        self._push(grant.credentials, grant.account)
        self._shared_key = grant.access_key_id
        self.manager.subscribe(self._on_change)
        # A renewal may have landed between the push and the subscription.
        self._follow(self.manager.current())

    def stop(self) -> None:
        """Stop following the manager; the workers keep what they have."""
        self.manager.unsubscribe(self._on_change)
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        if self._registry is not None:
            self._registry.forget(self)

    def wait(self, timeout: float | None = None) -> bool:
        """True once every change so far has been sent to the cluster."""
        with self._condition:
            return self._condition.wait_for(lambda: self._done >= self._wanted, timeout)

    def _on_change(self, change) -> None:
        """Follower of the manager: a new set (or a clear) goes to the workers."""
        self._follow(change.grant)

    def _follow(self, grant) -> None:
        key = grant.access_key_id if grant is not None else None
        with self._condition:
            if self._stopped or key == self._shared_key:
                return  # a problem changed, not the credentials
            self._shared_key = key
            self._pending = (grant.credentials, grant.account) if grant is not None else None
            self._wanted += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ipy_tempcreds-dask", daemon=True)
                self._thread.start()
            self._condition.notify_all()
        if threading.current_thread() is threading.main_thread() and not self.wait(MAIN_THREAD_WAIT):
            log.warning("ipy_tempcreds: the Dask cluster at %s has not confirmed the new credentials "
                        "yet; it will get them when it answers.", self.address)

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._done < self._wanted or self._stopped)
                if self._done >= self._wanted:
                    return  # stopped
                target, pending = self._wanted, self._pending
            credentials, account = pending if pending is not None else (None, None)
            try:
                self._push(credentials, account)
                self.last_error = None
            except Exception as exc:  # a cluster that went away must not break the kernel
                self.last_error = f"{type(exc).__name__}: {_safe(exc, credentials)}"
                log.warning("ipy_tempcreds: could not update the credentials of the Dask cluster at %s (%s)",
                            self.address, self.last_error)
            with self._condition:
                self._done = target
                self._condition.notify_all()

    def _push(self, credentials: TemporaryCredentials | None, account: str | None) -> None:
        self.client.register_plugin(CredentialsPlugin(credentials, account), name=PLUGIN_NAME)

    def __repr__(self) -> str:
        state = "active" if self.active else "stopped"
        return f"DaskSharing(scheduler={self.address!r}, {state})"


def _safe(exc: BaseException, credentials: TemporaryCredentials | None) -> str:
    from ..base.errors import scrub

    text = str(exc)
    if credentials is not None:
        for secret in (credentials.secret_access_key, credentials.session_token):
            text = text.replace(secret, "[hidden]")
    return scrub(text)[:300]


class DaskSharings:
    """One kernel's sharings, one per client: sharing again replaces it. The kernel's state holds
    the instance (a reset stops every sharing); ``api.share_with`` and ``%assume_role --dask`` use it."""

    def __init__(self):
        self._sharings: dict[int, DaskSharing] = {}  # id(client) -> its sharing
        self._lock = threading.Lock()

    def all(self) -> list[DaskSharing]:
        with self._lock:
            return list(self._sharings.values())

    def forget(self, sharing: DaskSharing) -> None:
        with self._lock:
            for key, value in list(self._sharings.items()):
                if value is sharing:
                    del self._sharings[key]

    def share_with(self, manager, client=None) -> DaskSharing:
        """Put the active credentials on every worker of ``client``'s cluster and keep them current.

        ``client`` defaults to the kernel's default Dask client. Workers that join later get them
        too; every renewal and switch follows within a fraction of a second, a clear gives the
        workers their own variables back, and later assumes reach them again, until the sharing is
        stopped (``stop()``, or :meth:`stop_sharing`).
        """
        from ..base.errors import NotActive

        grant = manager.current()
        if grant is None:
            raise NotActive("no temporary credentials are active: assume a role before sharing it with Dask.")
        if client is None:
            client = current_client()
        if getattr(client, "asynchronous", False):
            raise DaskNotAvailable("share_with() needs a synchronous dask Client (one made without "
                                   "asynchronous=True): renewals are sent from a thread of their own.")
        with self._lock:
            previous = self._sharings.pop(id(client), None)
        if previous is not None:
            previous.stop()
        sharing = DaskSharing(manager, client, self)
        try:
            sharing.start(grant)
        except TempCredsError:
            raise
        except Exception as exc:
            raise DaskNotAvailable(
                f"could not share the credentials with the Dask cluster at {sharing.address}: "
                f"{type(exc).__name__}: {_safe(exc, grant.credentials)}"
            ) from None
        with self._lock:
            self._sharings[id(client)] = sharing
        return sharing

    def stop_sharing(self, client=None) -> bool:
        """Stop sharing with ``client``'s cluster (default: the kernel's default client); the
        workers keep what they have. False if it was not shared."""
        if client is None:
            client = current_client()
        with self._lock:
            sharing = self._sharings.pop(id(client), None)
        if sharing is None:
            return False
        sharing.stop()
        return True

    def stop_all(self) -> None:
        """A reset of the kernel: stop following (the workers keep what they have)."""
        for sharing in self.all():
            sharing.stop()
