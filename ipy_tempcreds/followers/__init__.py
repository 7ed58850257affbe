"""Readers that follow every change of the kernel's credentials, each in its own module.

A follower is an object whose ``on_change(change)`` is subscribed to the manager's change event:
it is called after the environment was written, for every assume, switch, refresh, background
renewal and clear, possibly from the renewal thread, so it never blocks (slow work goes to a
thread of its own). It reads ``change.grant`` (the grant in force after the change, None for the
kernel's own credentials) and ``change.kind``.

- ``sdk_caches``: boto3's default session and s3fs's filesystems resolve their credentials again;
- ``boto3_clients``: clients and resources made after ``%load_ext``, however long they are kept;
  ``ipy_tempcreds.session()`` clients after a refresh.
- ``polars``: ``pl.read_*("s3://...")`` with no options, through polars' credential provider hook.
- ``duckdb``: the default connection once duckdb is imported; others after ``follow(con)``.

Each follower is an instance (:class:`Followers` holds one of each), held by the kernel's state
(``_kernel.STATE.followers``, created by ``_kernel.followers()``), never module globals: what a process-wide
hook (botocore's resolver factory, polars' default provider, the import hook) reads comes from the
instance it was installed with. Nothing here imports the layers above (``api``, ``_kernel``).

pyarrow's S3 filesystem reads the C-level environment per request and follows by itself; Dask
clusters are kept current by ``followers/dask.py``. Nothing here imports
polars, DuckDB, s3fs or Dask: each module attaches when the user imports the library.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .boto3_clients import Boto3Follower
    from .duckdb import DuckdbFollower
    from .polars import PolarsFollower

# Each follower: its module, its class and the library it attaches to, imported by the user (never
# by us). In the order they must hear a change (boto3 first: the others may resolve the kernel's
# own keys through a botocore session after a clear).
_FOLLOWERS = {"sdk_caches": ("SdkCachesFollower", None),  # no library to attach to: it only listens
              "boto3_clients": ("Boto3Follower", "botocore.session"),
              "polars": ("PolarsFollower", "polars"),
              "duckdb": ("DuckdbFollower", "duckdb")}


class _AttachLater:
    """A post-import hook that imports its follower's module only when its library is imported,
    then hands the library to that kernel's follower: loading the extension registers three of
    these and imports none of the followers."""

    def __init__(self, followers: Followers, name: str):
        self.followers = followers
        self.name = name

    def __call__(self, library) -> None:
        self.followers.get(self.name).attach(library)

    def __eq__(self, other) -> bool:
        return isinstance(other, _AttachLater) and other.followers is self.followers and other.name == self.name

    def __hash__(self) -> int:
        return hash((id(self.followers), self.name))


class Followers:
    """The readers' followers of one kernel, each made (its module imported) on first use."""

    def __init__(self):
        self._made: dict[str, Any] = {}
        self._installed = False
        # Reentrant: making a follower imports its module, inside another library's import
        # statement when a post-import hook asks.
        self._lock = threading.RLock()

    def get(self, name: str):
        """The follower named as its module (``"boto3_clients"``, ``"polars"``, ``"duckdb"``)."""
        with self._lock:
            follower = self._made.get(name)
            if follower is None:
                from importlib import import_module

                class_name = _FOLLOWERS[name][0]
                follower = self._made[name] = getattr(import_module(f"{__name__}.{name}"), class_name)()
            return follower

    @property
    def boto3(self) -> Boto3Follower:
        return self.get("boto3_clients")

    @property
    def polars(self) -> PolarsFollower:
        return self.get("polars")

    @property
    def duckdb(self) -> DuckdbFollower:
        return self.get("duckdb")

    def all(self) -> tuple:
        """Every follower, in the order they must hear a change (their ``on_change`` is subscribed)."""
        return tuple(self.get(name) for name in _FOLLOWERS)

    def before_cell(self) -> None:
        """What a follower does before each cell: DuckDB connections that loaded httpfs since the
        last change get their secret (nothing is imported or made here)."""
        duckdb = self._made.get("duckdb")
        if duckdb is not None:
            duckdb.catch_up()

    def install(self) -> None:
        """Attach to each reader's library: now if the user imported it, else right when they do."""
        from .imports import when_imported

        with self._lock:
            if self._installed:
                return  # when_imported would call each hook again for a library imported already
            self._installed = True
        for name, (_, library) in _FOLLOWERS.items():
            if library is not None:
                when_imported(library, _AttachLater(self, name))

    def uninstall(self) -> None:
        """Detach (unload, a reset): libraries get their own behaviour back for what is created from
        now on."""
        from .imports import forget

        for name, (_, library) in _FOLLOWERS.items():
            if library is not None:
                forget(library, _AttachLater(self, name))
        with self._lock:
            self._installed = False
            made = list(self._made.values())
        for follower in made:
            follower.uninstall()

    def __repr__(self) -> str:
        return f"<Followers made={sorted(self._made)}>"
