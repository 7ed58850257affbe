"""Dask workers follow the kernel's role: share, scale-up, renewal, switch and clear.

A real LocalCluster of worker processes on 127.0.0.1 reads from the local S3 with IAM auth on.
Role A may use only bucket-a, role B only bucket-b, the base user alice both; the workers start
with alice's keys (inherited from the test's environment), as workers started before an assume do.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from contextlib import contextmanager

import pytest

pytest.importorskip("distributed")
pytest.importorskip("s3fs")

import cloudpickle
import dask.dataframe as dd
from distributed import Client, LocalCluster

from aws_standin import ACCOUNT
from ipy_tempcreds import api
from ipy_tempcreds.base.errors import NotActive
from ipy_tempcreds.delivery.environment import CREDENTIAL_VARIABLES
from support import aws_environment, role_arn

# Functions sent to the workers come from this module, which the workers cannot import.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

A, B = role_arn("A"), role_arn("B")
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def revoke(access_key_id: str) -> None:
    """Make moto forget a temporary key, as AWS does once it expires (moto never enforces expiry;
    this stands in for it). The server runs in this process."""
    from moto.sts.models import sts_backends

    backend = sts_backends[ACCOUNT]["aws"]
    backend.assumed_roles = [r for r in backend.assumed_roles if r.access_key_id != access_key_id]


@pytest.fixture
def cluster(buckets):
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        with Client(cluster) as client:
            yield cluster, client


# -- run on the workers ----------------------------------------------------------------------------

def caller() -> str:
    """Who AWS sees for a new boto3 client on this worker (uses the default session)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return boto3.client("sts").get_caller_identity()["Arn"]
    except (BotoCoreError, ClientError) as exc:
        return f"error: {type(exc).__name__}"


def access_key() -> str | None:
    return os.environ.get("AWS_ACCESS_KEY_ID")


def identities(client) -> set[str]:
    return set(client.run(caller).values())


def owners(bucket: str) -> list[str]:
    return list(dd.read_csv(f"s3://{bucket}/*.csv")["owner"].compute())


@contextmanager
def no_credentials_in_kernel():
    """Workers started inside inherit no credentials from the kernel: whatever they use came
    from the sharing."""
    saved = {name: os.environ.pop(name) for name in CREDENTIAL_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def test_workers_follow_share_scale_up_renewal_switch_and_clear(cluster):
    cluster, client = cluster
    assert identities(client) == {ALICE}
    first_worker = next(iter(client.scheduler_info()["workers"]))

    api.assume_role(A, session_name="on-a")
    reads_a = dd.read_csv("s3://bucket-a/*.csv")  # the graph is built here; workers read
    sharing = api.share_with(client)
    assert identities(client) == {f"arn:aws:sts::{ACCOUNT}:assumed-role/A/on-a"}
    assert list(reads_a["owner"].compute()) == ["a"]  # caches an s3fs filesystem on the worker

    with no_credentials_in_kernel():
        cluster.scale(2)
        client.wait_for_workers(2, timeout=30)
    assert len(client.run(access_key)) == 2
    assert set(client.run(access_key).values()) == {api.current().access_key_id}
    assert identities(client) == {f"arn:aws:sts::{ACCOUNT}:assumed-role/A/on-a"}

    # A renewal by the background thread (it must not wait for the cluster) reaches both workers.
    old = api.current()
    renewal = threading.Thread(target=api.get_manager().refresh)
    renewal.start()
    renewal.join()
    new_key = api.current().access_key_id
    assert new_key != old.access_key_id
    deadline = time.monotonic() + 5
    while set(client.run(access_key).values()) != {new_key}:
        assert time.monotonic() < deadline, "the renewal did not reach the workers within 5 s"
        time.sleep(0.02)
    revoke(old.access_key_id)  # the old set is now dead, as at its expiry
    assert list(reads_a["owner"].compute()) == ["a"]  # the workers' cached filesystems renewed

    api.assume_role(B, session_name="on-b")  # from the main thread: waits for the workers
    assert identities(client) == {f"arn:aws:sts::{ACCOUNT}:assumed-role/B/on-b"}
    with pytest.raises(PermissionError):
        reads_a["owner"].compute()
    assert owners("bucket-b") == ["b"]

    api.clear()
    assert sharing.active  # shared once, followed until stopped
    keys = client.run(access_key)
    assert keys[first_worker] == os.environ["AWS_ACCESS_KEY_ID"]  # alice's own, as before
    assert [v for w, v in keys.items() if w != first_worker] == [None]  # joined without any
    assert client.run(caller)[first_worker] == ALICE

    # The sharing outlives the clear: a later assume reaches the workers again.
    api.assume_role(A, session_name="again")
    assert identities(client) == {f"arn:aws:sts::{ACCOUNT}:assumed-role/A/again"}

    # Until the user stops it: then an assume stays in the kernel, and a clear too.
    assert api.share_with(client, False) is True and not sharing.active
    api.assume_role(B, session_name="kernel-only")
    assert identities(client) == {f"arn:aws:sts::{ACCOUNT}:assumed-role/A/again"}
    assert api.share_with(client, False) is False


def test_magic_shares_with_the_default_client(cluster, run):
    _, client = cluster
    out = run(f"%assume_role {A} --session-name magic --dask")
    assert "Shared with the Dask cluster at tcp://127.0.0.1:" in out
    assert identities(client) == {f"arn:aws:sts::{ACCOUNT}:assumed-role/A/magic"}
    assert owners("bucket-a") == ["a"]
    dask_rows = [line for line in run("%assume_role").splitlines() if line.startswith("Dask:")]
    assert dask_rows and dask_rows[0].endswith(f"shared with {client.scheduler.address}"), dask_rows
    run("%assume_role --clear")
    assert identities(client) == {ALICE}
    assert sorted(owners("bucket-a") + owners("bucket-b")) == ["a", "b"]
    api.share_with(client, False)
    assert "Dask" not in run("%assume_role")


def test_magic_without_a_dask_client_changes_nothing(buckets, run):
    before = aws_environment()
    error = run(f"%assume_role {A} --dask", expect_error=True)
    assert "no Dask client" in error and "share_with(client)" in error
    assert aws_environment() == before and api.current() is None
    error = run("%assume_role --status --dask", expect_error=True)
    assert "--dask only apply when assuming" in error


def test_sharing_with_nothing_active_is_refused(buckets):
    with pytest.raises(NotActive):
        api.share_with(object())  # refused before the client is used


def test_the_plugin_hides_the_secrets(buckets):
    from ipy_tempcreds.followers.dask import CredentialsPlugin

    grant = api.assume_role(A)
    text = repr(CredentialsPlugin(grant.credentials, grant.account))
    assert grant.credentials.secret_access_key not in text and grant.credentials.session_token not in text
    assert grant.access_key_id not in text and grant.access_key_id[-4:] in text


def test_a_cell_as_another_role_reaches_the_workers_and_the_kernels_role_comes_back(cluster):
    """``%%as_role`` / ``as_role()`` with a shared cluster: the workers read as the cell's role
    inside, and as the kernel's role again after it, as every reader in the kernel does."""
    import ipy_tempcreds

    _, client = cluster
    api.assume_role(A, session_name="kernel")
    api.share_with(client)
    assert owners("bucket-a") == ["a"]
    with ipy_tempcreds.as_role(B, session_name="in-cell"):
        assert identities(client) == {f"arn:aws:sts::{ACCOUNT}:assumed-role/B/in-cell"}
        assert owners("bucket-b") == ["b"]
    assert identities(client) == {f"arn:aws:sts::{ACCOUNT}:assumed-role/A/kernel"}
    assert owners("bucket-a") == ["a"]
