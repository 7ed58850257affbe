"""DuckDB connections follow every change: the default one once duckdb is imported, any other
after ``ipy_tempcreds.follow(con)``.

DuckDB copies the environment's keys once, when httpfs loads, and resolves a ``credential_chain``
secret once, when it is created (``REFRESH auto`` only retries after a 403). So on each change
this module writes an S3 secret with explicit keys, ``CREATE OR REPLACE SECRET ipy_tempcreds``,
on a cursor of each followed connection: the grant's keys, or after a clear the kernel's own as
the default chain resolves them then (no secret if it resolves none). DuckDB ignores
``AWS_ENDPOINT_URL``: the secret carries ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` as
ENDPOINT (host:port), USE_SSL false for http and URL_STYLE path (MinIO, LocalStack, the local
stand-in). A write takes ~0.3 ms: a switch or a clear makes it at once, a background renewal
hands it to a short-lived thread (the renewal thread never waits on a busy connection).

A connection that has not loaded httpfs gets nothing (creating an S3 secret would make DuckDB
try to download httpfs): when it loads httpfs it copies the keys in force then, but not the
endpoint. So such a connection is kept as pending, and :meth:`DuckdbFollower.catch_up` (before
each cell) writes its secret once it has loaded httpfs: a local endpoint (MinIO, the demo) works
from the cell after the one that loaded httpfs. A connection is pending only while loading httpfs
would leave something out: the environment names an endpoint, or holds no keys (the endpoint
delivery, or the kernel's own credentials from a profile). Otherwise httpfs copies the keys in
force, and a connection that never loads it costs no query before each cell. DuckDB echoes SQL
in some errors, so every message from a write is scrubbed of the keys before it is logged.

What one kernel follows (the connections, the keys last written, the worker) is its
:class:`DuckdbFollower`, held by the kernel's state.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .imports import forget, when_imported
from .worker import LatestOnlyWorker

if TYPE_CHECKING:
    from ..model.changes import Change

log = logging.getLogger("ipy_tempcreds")

SECRET_NAME = "ipy_tempcreds"

_OWN = ("own",)  # the target after a clear: the kernel's own credentials


def is_connection(obj) -> bool:
    """True for a DuckDB connection (without importing duckdb: a user who made one imported it)."""
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(obj, duckdb.DuckDBPyConnection)


class Following:
    """What :func:`ipy_tempcreds.follow` returns for a DuckDB connection; :meth:`stop` ends it."""

    def __init__(self, connection, followed: weakref.WeakSet):
        self._connection = weakref.ref(connection)
        self._followed = followed

    @property
    def active(self) -> bool:
        connection = self._connection()
        return connection is not None and connection in self._followed

    def stop(self) -> None:
        """Stop following; the connection keeps the secret it has."""
        connection = self._connection()
        if connection is not None:
            self._followed.discard(connection)

    def __repr__(self) -> str:
        return f"<ipy_tempcreds following a DuckDB connection ({'active' if self.active else 'stopped'})>"


class DuckdbFollower:
    """DuckDB's follower of one kernel: the connections it follows and the keys they should hold."""

    def __init__(self):
        # ("grant", key id, secret, token), _OWN, or None (nothing ever changed). Holds a secret:
        # never rendered (see __repr__).
        self._target: tuple | None = None
        self._followed: weakref.WeakSet = weakref.WeakSet()
        # Followed connections whose last write waited for httpfs (see catch_up).
        self._pending: weakref.WeakSet = weakref.WeakSet()
        self._default = None  # duckdb's default connection, held: duckdb.sql() uses it for the kernel's life
        self._lock = threading.Lock()
        self._worker = LatestOnlyWorker("ipy_tempcreds-duckdb", self._apply)

    def on_change(self, change: Change) -> None:
        """The follower: rewrite the secret of every followed connection (on the worker thread)."""
        grant = change.grant
        target: tuple[str, ...]
        if grant is None:
            target = _OWN
        else:
            held = grant.credentials
            target = ("grant", held.access_key_id, held.secret_access_key, held.session_token)
        with self._lock:
            if target == self._target:
                return  # a problem report: the credentials did not change
            self._target = target
        if len(self._followed):
            self._worker.submit(target)

    def follow_connection(self, connection) -> Following:
        """Follow ``connection`` from now on; it gets the credentials in force (and the environment's
        endpoint) at once, if it has loaded httpfs."""
        self._followed.add(connection)
        self._write(connection, self._target or _OWN)
        return Following(connection, self._followed)

    def catch_up(self) -> None:
        """Write the secret of each pending connection that has loaded httpfs since (before a cell;
        ~0.1 ms a pending connection, nothing when none is)."""
        with self._lock:
            pending = list(self._pending)
        for connection in pending:
            self._write(connection, self._target or _OWN)

    def wait(self, timeout: float | None = None) -> bool:
        """True once every change so far reached the followed connections (or failed and was logged)."""
        return self._worker.wait(timeout)

    def install(self) -> None:
        when_imported("duckdb", self.attach)

    def uninstall(self) -> None:
        forget("duckdb", self.attach)
        self._worker.wait(2)
        self._followed.clear()
        self._pending.clear()
        self._default = None

    def attach(self, duckdb) -> None:
        """Called with duckdb once it is imported: follow its default connection."""
        factory = getattr(duckdb, "default_connection", None)
        connection = factory() if callable(factory) else factory
        if connection is None:
            log.warning("ipy_tempcreds: this duckdb has no default connection to follow; use "
                        "ipy_tempcreds.follow(con) on the connections you make.")
            return
        self._default = connection
        self._followed.add(connection)
        target = self._target
        if target is not None:
            self._write(connection, target)
        elif _endpoint():  # the kernel's own keys, which httpfs copies when it loads; the endpoint not
            self._mark(connection, pending=True)

    def _apply(self, target) -> None:
        for connection in list(self._followed):
            self._write(connection, target)

    def _write(self, connection, target) -> None:
        """Write (or drop) the secret on one connection; never raises, never logs a key."""
        secrets: tuple = ()
        try:
            cursor = connection.cursor()
        except Exception:  # closed: it cannot be used any more, so stop following it
            self._followed.discard(connection)
            return
        try:
            loaded = _httpfs_loaded(cursor)
            self._mark(connection, pending=not loaded and _httpfs_would_miss_something())
            if not loaded:
                return
            values = target[1:] if target is not _OWN else _own_credentials()
            if values is None:
                cursor.execute(f"DROP SECRET IF EXISTS {SECRET_NAME}")
                return
            secrets = tuple(v for v in values[1:] if v)
            cursor.execute(secret_sql(*values))
        except Exception as exc:
            log.warning("ipy_tempcreds: could not update DuckDB's S3 secret (%s: %s)",
                        type(exc).__name__, _scrubbed(exc, secrets))
        finally:
            cursor.close()

    def _mark(self, connection, *, pending: bool) -> None:
        with self._lock:
            (self._pending.add if pending else self._pending.discard)(connection)

    def __repr__(self) -> str:  # never the keys
        return f"<DuckdbFollower following {len(self._followed)} connection(s)>"


def _httpfs_loaded(cursor) -> bool:
    rows = cursor.execute("SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'").fetchall()
    return bool(rows and rows[0][0])


def secret_sql(key_id: str, secret: str, token: str | None) -> str:
    """The CREATE OR REPLACE SECRET statement for a key set and the environment's endpoint and
    region. Holds the secret key: never log it."""
    # SESSION_TOKEN always, empty for long-term keys: left out, DuckDB fills it from the
    # s3_session_token setting, which httpfs copied from the environment when it loaded (a role's).
    options = [("TYPE", "s3"), ("KEY_ID", _quote(key_id)), ("SECRET", _quote(secret)),
               ("SESSION_TOKEN", _quote(token or ""))]
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options.append(("REGION", _quote(region)))
    endpoint = _endpoint()
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.netloc:
            options += [("ENDPOINT", _quote(parts.netloc)), ("USE_SSL", "false" if parts.scheme == "http" else "true"),
                        ("URL_STYLE", "'path'")]
    body = ", ".join(f"{name} {value}" for name, value in options)
    return f"CREATE OR REPLACE SECRET {SECRET_NAME} ({body})"


def _httpfs_would_miss_something() -> bool:
    """Loading httpfs copies the key variables, not the endpoint: is that short of what is in force?"""
    return bool(_endpoint()) or "AWS_ACCESS_KEY_ID" not in os.environ


def _endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _own_credentials() -> tuple | None:
    """The kernel's own keys, as botocore's default chain resolves them now (after the clear)."""
    import botocore.session

    credentials = botocore.session.Session().get_credentials()
    if credentials is None:
        return None
    try:
        frozen = credentials.get_frozen_credentials()
    except Exception:  # no credentials at all
        return None
    return frozen.access_key, frozen.secret_key, frozen.token


def _scrubbed(exc: BaseException, secrets: tuple) -> str:
    from ..base.errors import scrub

    text = str(exc)
    for value in secrets:
        text = text.replace(value, "[hidden]")
    return scrub(text)[:300]

