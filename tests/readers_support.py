"""Helpers for the readers' tests: three identities told apart by the one bucket each may read.

Role A may read only bucket-a, role B only bucket-b, the kernel's own user (alice) only bucket-c
(plus STS, to assume the roles). IAM authorization is on, so the bucket a reader can read tells
which identity signed its request.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from aws_standin import allow
from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api
from support import role_arn

BUCKETS = ("bucket-a", "bucket-b", "bucket-c")
OWNER = {"bucket-a": "A", "bucket-b": "B", "bucket-c": "own"}


def bucket_only(name: str) -> list[str]:
    return [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]


def seed_identities(aws) -> None:
    """Roles A and B, three buckets with one CSV each, alice limited to bucket-c; auth on."""
    alice = aws.base_user
    aws.create_role("A", [alice.arn], allow(["s3:*"], bucket_only("bucket-a")))
    aws.create_role("B", [alice.arn], allow(["s3:*"], bucket_only("bucket-b")))
    for bucket in BUCKETS:
        letter = bucket[-1]
        aws.create_bucket(bucket, {"data.csv": f"owner,n\n{letter},1\n".encode()})
    own = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sts:*", "iam:Get*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": bucket_only("bucket-c")},
    ]})
    aws.client("iam").put_user_policy(UserName="alice", PolicyName="access", PolicyDocument=own)
    aws.set_auth(True)


def identity(can_read) -> str:
    """'A', 'B', 'own', 'none' or a '+'-joined list: who signed, from which buckets ``can_read``."""
    names = sorted(OWNER[b] for b in BUCKETS if can_read(b))
    return "+".join(names) if names else "none"


def revoke(access_key_id: str) -> None:
    """Make moto forget a temporary key, as AWS does once it expires: a reader still holding it
    fails with InvalidAccessKeyId. moto never enforces expiry, so this stands in for it (the server
    runs in the test process); in a kernel test the strict STS stand-in would do it over HTTP."""
    from moto.sts.models import sts_backends

    from aws_standin import ACCOUNT

    backend = sts_backends[ACCOUNT]["aws"]
    backend.assumed_roles = [r for r in backend.assumed_roles if r.access_key_id != access_key_id]


@contextmanager
def followed_by(name: str):
    """The kernel's manager with its follower ``name`` (``"boto3"``, ``"polars"``, ``"duckdb"``)
    attached to its library, as ``%load_ext`` does; afterwards the kernel is reset (a clear the
    follower hears, then every follower uninstalled)."""
    getattr(kernel_state.followers(), name).install()
    manager = api.get_manager()  # the readers' followers are subscribed when it is created
    yield manager
    kernel_state.reset()


def check_every_change(reads) -> None:
    """Assume A, switch to B, renew (the old keys then revoked), clear: ``reads()`` (who a reader
    signs as) must follow each step, from the kernel's own identity back to it."""
    assert reads() == "own"
    first = api.assume_role(role_arn("A"), session_name="on-a")
    assert reads() == "A"
    api.assume_role(role_arn("B"), session_name="on-b")
    assert reads() == "B"
    old = api.current()
    api.refresh()
    revoke(old.access_key_id)
    revoke(first.access_key_id)
    assert reads() == "B"
    api.clear()
    assert reads() == "own"
