"""pandas / s3fs follow the identity in force, at once, against the local S3 with IAM auth on.

Role A may use only bucket-a, role B only bucket-b; the base user alice may use both. So a read
that works or is denied tells which identity signed it.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from aws_standin import ACCOUNT
from ipy_tempcreds import api
from support import lines_after_load, role_arn

pytest.importorskip("s3fs")

A, B = role_arn("A"), role_arn("B")


def read(bucket: str) -> str:
    """The owner column of the bucket's CSV through pandas, or 'denied'."""
    try:
        return pd.read_csv(f"s3://{bucket}/data.csv")["owner"][0]
    except PermissionError:
        return "denied"


def readable() -> set[str]:
    return {b for b in ("bucket-a", "bucket-b") if read(b) != "denied"}


def revoke(access_key_id: str) -> None:
    """Make moto forget a temporary key, as AWS does once it expires.

    moto never enforces expiry, so this stands in for it: the only non-real step in these tests
    (the server runs in this process, so its STS backend is reachable).
    """
    from moto.sts.models import sts_backends

    backend = sts_backends[ACCOUNT]["aws"]
    backend.assumed_roles = [r for r in backend.assumed_roles if r.access_key_id != access_key_id]


def test_pandas_reads_follow_assume_switch_and_clear(buckets):
    assert readable() == {"bucket-a", "bucket-b"}  # alice; s3fs now has a cached filesystem
    api.assume_role(A, session_name="on-a")
    assert readable() == {"bucket-a"}
    api.assume_role(B, session_name="on-b")
    assert read("bucket-b") == "b" and read("bucket-a") == "denied"
    api.clear()
    assert readable() == {"bucket-a", "bucket-b"}


def test_writes_follow_the_switch(buckets):
    frame = pd.DataFrame({"owner": ["x"], "n": [1]})
    api.assume_role(A, session_name="on-a")
    frame.to_parquet("s3://bucket-a/out.parquet")  # pyarrow's own S3 client
    frame.to_csv("s3://bucket-a/out.csv", index=False)  # s3fs
    api.assume_role(B, session_name="on-b")
    with pytest.raises(OSError):
        frame.to_parquet("s3://bucket-a/out2.parquet")
    with pytest.raises(PermissionError):
        frame.to_csv("s3://bucket-a/out2.csv", index=False)
    frame.to_parquet("s3://bucket-b/out.parquet")
    frame.to_csv("s3://bucket-b/out.csv", index=False, storage_options={})
    assert pd.read_parquet("s3://bucket-b/out.parquet")["owner"][0] == "x"
    assert pd.read_parquet("s3://bucket-b/out.parquet", storage_options={})["n"][0] == 1


def test_a_read_right_after_a_renewal_uses_the_new_key(buckets):
    grant = api.assume_role(A, session_name="on-a")
    assert read("bucket-a") == "a"  # caches a filesystem signing with the first key
    renewed = api.refresh()
    revoke(grant.access_key_id)
    assert renewed.access_key_id != grant.access_key_id
    assert read("bucket-a") == "a"


def test_a_filesystem_the_user_holds_follows_switch_renewal_and_clear(buckets):
    import s3fs

    base_fs = s3fs.S3FileSystem()  # made with alice's static keys, before any assume
    assert base_fs.cat("bucket-a/data.csv").startswith(b"owner")
    api.assume_role(A, session_name="on-a")
    fs = s3fs.S3FileSystem()
    assert fs.cat("bucket-a/data.csv").startswith(b"owner")
    with pytest.raises(PermissionError):
        base_fs.cat("bucket-b/data.csv")  # the held base filesystem now signs as A

    grant = api.current()
    api.refresh()
    revoke(grant.access_key_id)
    assert fs.cat("bucket-a/data.csv").startswith(b"owner")

    api.assume_role(B, session_name="on-b")
    with pytest.raises(PermissionError):
        fs.cat("bucket-a/data.csv")
    with fs.open("bucket-b/data.csv") as handle:
        assert pd.read_csv(io.BytesIO(handle.read()))["owner"][0] == "b"

    api.clear()
    assert {fs.cat(f"{b}/data.csv")[-4:] for b in ("bucket-a", "bucket-b")} == {b"a,1\n", b"b,2\n"}


def test_explicit_keys_are_left_alone(buckets):
    import s3fs

    alice = buckets.base_user
    pinned = s3fs.S3FileSystem(key=alice.access_key_id, secret=alice.secret_access_key)
    api.assume_role(A, session_name="on-a")
    # The user chose alice's keys for this filesystem: a role switch in the kernel does not change it.
    assert pinned.cat("bucket-b/data.csv").endswith(b"b,2\n")


def test_loading_and_resetting_import_no_optional_library(aws):
    code = (
        "import ipy_tempcreds\n"
        "ipy_tempcreds.SigV4Auth, ipy_tempcreds.share_with, ipy_tempcreds.session\n"
        "from ipy_tempcreds.followers.sdk_caches import SdkCachesFollower\n"
        "SdkCachesFollower().reset()\n"
        "print(sorted(m for m in ('s3fs', 'fsspec', 'aiobotocore', 'dask', 'distributed', 'requests') "
        "if m in sys.modules))\n"
    )
    assert lines_after_load(code)[-1] == "[]"
