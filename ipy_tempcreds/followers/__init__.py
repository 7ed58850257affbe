"""Readers that follow every change of the kernel's credentials, each in its own module.

A follower is a callable ``follower(change)`` subscribed to the manager's change event: it is
called after the environment was written, for every assume, switch, refresh, background renewal
and clear, possibly from the renewal thread, so it never blocks (slow work goes to a thread of
its own). It reads ``change.grant`` (the grant in force after the change, None for the kernel's
own credentials) and ``change.kind``.

- ``boto3_clients``: clients and resources made after ``%load_ext``, however long they are kept;
  ``ipy_tempcreds.session()`` clients after a refresh.
- ``polars``: ``pl.read_*("s3://...")`` with no options, through polars' credential provider hook.
- ``duckdb``: the default connection once duckdb is imported; others after ``follow(con)``.

pyarrow's S3 filesystem reads the C-level environment per request and follows by itself; s3fs is
kept current by ``s3fs_support`` and Dask clusters by ``dask_sharing``. Nothing here imports
polars, DuckDB, s3fs or Dask: each module attaches when the user imports the library.
"""

from __future__ import annotations


def follow(obj):
    """Make a reader the user created follow every change: a DuckDB connection, or a Dask client
    (as ``share_with(client)``). Returns what keeps it following (``.stop()`` ends it)."""
    import sys

    from ..errors import InvalidInput

    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(obj, duckdb.DuckDBPyConnection):
        from . import duckdb as duckdb_follower

        return duckdb_follower.follow_connection(obj)
    distributed = sys.modules.get("distributed")
    if distributed is not None and isinstance(obj, distributed.Client):
        from .. import api

        return api.share_with(obj)
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    raise InvalidInput(
        f"follow() takes a DuckDB connection or a Dask client, not a {kind}. boto3 clients, "
        "polars, pandas/s3fs, pyarrow and DuckDB's default connection follow without a call; "
        "for anything else, create it again after each change."
    )


# The library each follower attaches to, imported by the user (never by us).
_LIBRARIES = {"boto3_clients": "botocore.session", "polars": "polars", "duckdb": "duckdb"}


class _AttachLater:
    """A post-import hook that imports its follower module only when its library is imported:
    loading the extension registers three of these and imports none of the followers."""

    def __init__(self, follower: str):
        self.follower = follower

    def __call__(self, library) -> None:
        from importlib import import_module

        import_module(f"{__name__}.{self.follower}").attach(library)

    def __eq__(self, other) -> bool:
        return isinstance(other, _AttachLater) and other.follower == self.follower

    def __hash__(self) -> int:
        return hash(self.follower)


def install() -> None:
    """Attach to each reader's library: now if the user imported it, else right when they do."""
    from .imports import when_imported

    for follower, library in _LIBRARIES.items():
        when_imported(library, _AttachLater(follower))


def uninstall() -> None:
    """Detach (unload): libraries get their own behaviour back for what is created from now on."""
    import sys

    from .imports import forget

    for follower, library in _LIBRARIES.items():
        forget(library, _AttachLater(follower))
        module = sys.modules.get(f"{__name__}.{follower}")
        if module is not None:
            module.uninstall()


def all_followers() -> tuple:
    """Every reader's follower, in the order they must hear a change (boto3 first: the others
    may resolve the kernel's own keys through a botocore session after a clear)."""
    from . import boto3_clients, duckdb, polars

    return boto3_clients.on_change, polars.on_change, duckdb.on_change
