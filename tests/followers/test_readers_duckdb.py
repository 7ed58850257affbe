"""DuckDB follows every change: the default connection with no call, others after follow(con).

Real DuckDB 1.5.5 with httpfs from PyPI (loaded by path: it cannot be downloaded here) against
moto with IAM auth on. Role A reads only bucket-a, role B only bucket-b, the kernel's own user
only bucket-c. Each 403 costs DuckDB ~0.5 s of retries, so the checks are few and dense.
"""

from __future__ import annotations

import logging
import os

import pytest

from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api, follow
from ipy_tempcreds.followers import duckdb as duckdb_follower
from readers_support import (
    check_every_change,
    followed_by,
    identity,
    revoke,
    seed_identities,
)
from support import role_arn

duckdb = pytest.importorskip("duckdb")
httpfs_package = pytest.importorskip("duckdb_extension_httpfs")

A, B = role_arn("A"), role_arn("B")
HTTPFS = os.path.join(os.path.dirname(httpfs_package.__file__), "extensions", f"v{duckdb.__version__}",
                      "httpfs.duckdb_extension")


@pytest.fixture
def kernel(aws):
    seed_identities(aws)
    with followed_by("duckdb") as manager:
        yield manager


def connect():
    """A connection with httpfs loaded and pointed at the local S3, as a MinIO user would set it."""
    con = duckdb.connect()
    con.execute(f"LOAD '{HTTPFS}'")
    endpoint = os.environ["AWS_ENDPOINT_URL"].split("//")[1]
    con.execute(f"SET s3_endpoint = '{endpoint}'; SET s3_use_ssl = false; SET s3_url_style = 'path'")
    return con


def reader(con):
    def can_read(bucket):
        try:
            return con.execute(f"SELECT owner FROM read_csv('s3://{bucket}/data.csv')").fetchall() == [(bucket[-1],)]
        except duckdb.Error:
            return False

    return lambda: identity(can_read)


def test_a_followed_connection_follows_assume_switch_renewal_and_clear(kernel, caplog):
    con = connect()  # httpfs copies alice's keys from the environment now
    reads = reader(con)
    handle = follow(con)
    check_every_change(reads)
    handle.stop()
    api.assume_role(A, session_name="stopped")
    assert reads() == "own"  # not followed any more: it keeps what it had


def test_the_default_connection_follows_once_duckdb_is_imported(kernel):
    duckdb.sql(f"LOAD '{HTTPFS}'")
    endpoint = os.environ["AWS_ENDPOINT_URL"].split("//")[1]
    duckdb.sql(f"SET s3_endpoint = '{endpoint}'; SET s3_use_ssl = false; SET s3_url_style = 'path'")
    reads = reader(duckdb.default_connection())
    api.assume_role(A, session_name="on-a")
    assert reads() == "A"
    api.clear()
    assert reads() == "own"


def test_a_connection_made_under_a_role_goes_back_to_the_own_user_at_clear(kernel):
    api.assume_role(A, session_name="on-a")
    con = connect()  # httpfs copies A's keys
    follow(con)
    reads = reader(con)
    assert reads() == "A"
    api.clear()
    assert reads() == "own"


def test_a_renewal_on_another_thread_reaches_the_connection(kernel):
    import threading

    first = api.assume_role(A, session_name="on-a")
    con = connect()
    follow(con)
    renewal = threading.Thread(target=kernel.refresh)
    renewal.start()
    renewal.join()
    assert kernel_state.followers().duckdb.wait(5)
    revoke(first.access_key_id)
    assert reader(con)() == "A"


def test_the_secret_carries_the_endpoint_and_no_error_shows_a_key(kernel, caplog, monkeypatch):
    sql = duckdb_follower.secret_sql("AKID", "s'cret", "tok")
    assert "ENDPOINT '127.0.0.1:" in sql and "USE_SSL false" in sql and "URL_STYLE 'path'" in sql
    assert "SECRET 's''cret'" in sql
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://minio.example:9000")
    assert "ENDPOINT 'minio.example:9000', USE_SSL true" in duckdb_follower.secret_sql("k", "s", None)

    con = connect()
    follow(con)
    grant = api.assume_role(A, session_name="on-a")
    # A statement DuckDB refuses, holding the secret: its error echoes the SQL.
    monkeypatch.setattr(duckdb_follower, "secret_sql", lambda *values: f"CREATE SECRET broken ({values[1]} !!)")
    with caplog.at_level(logging.WARNING, logger="ipy_tempcreds"):
        api.assume_role(B, session_name="on-b")
    secret = api.current().credentials.secret_access_key
    assert "could not update DuckDB's S3 secret" in caplog.text
    assert secret not in caplog.text and grant.credentials.secret_access_key not in caplog.text


def test_follow_refuses_what_it_cannot_follow_and_says_what_follows_by_itself():
    from ipy_tempcreds.base.errors import TempCredsError

    with pytest.raises(TempCredsError, match=r"DuckDB connection or a Dask client, not a builtins\.dict"):
        follow({})


def test_httpfs_loaded_after_a_change_reads_the_local_s3_from_the_next_cell(aws, shell):
    """The issue's case: a role assumed, then httpfs loaded with no s3_endpoint set: DuckDB would
    ask AWS itself (it ignores AWS_ENDPOINT_URL). Before the next cell the connection's secret
    carries the local endpoint and the role's keys. (The default connection takes the same path:
    tests/notebooks/test_demo.py shows it in a fresh kernel; here it loaded httpfs long ago.)"""
    seed_identities(aws)
    shell.run_cell("import duckdb")
    api.assume_role(A, session_name="on-a")
    con = duckdb.connect()
    follow(con)  # before httpfs: nothing to write into yet
    con.execute(f"LOAD '{HTTPFS}'")  # the keys copied from the environment; no endpoint
    assert con.execute("SELECT count(*) FROM duckdb_secrets() WHERE name = 'ipy_tempcreds'").fetchone() == (0,)
    shell.run_cell("pass")  # the next cell
    assert reader(con)() == "A"
    api.clear()
    assert reader(con)() == "own"


def test_catching_up_costs_nothing_without_pending_connections(kernel):
    import time

    follower = kernel_state.followers().duckdb
    con = duckdb.connect()
    follow(con)
    api.assume_role(A, session_name="on-a")  # httpfs not loaded: pending
    started = time.perf_counter()
    for _ in range(100):
        follower.catch_up()
    per_cell = (time.perf_counter() - started) / 100
    con.execute(f"LOAD '{HTTPFS}'")
    follower.catch_up()
    assert reader(con)() == "A"
    assert per_cell < 0.005  # one query of duckdb_extensions() per pending connection
    assert con not in follower._pending


def test_a_connection_that_never_loads_httpfs_costs_no_query_per_cell(kernel, monkeypatch):
    """With the keys in the environment and no endpoint, loading httpfs later copies what is in
    force: nothing to catch up, so such a connection is not queried before every cell."""
    follower = kernel_state.followers().duckdb
    con = duckdb.connect()
    follow(con)
    api.assume_role(A, session_name="on-a")
    assert con in follower._pending  # the local S3 endpoint: httpfs would not copy it
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", os.environ["AWS_ENDPOINT_URL"])  # STS stays local; S3 names none
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    api.assume_role(B, session_name="on-b")
    assert con not in follower._pending
