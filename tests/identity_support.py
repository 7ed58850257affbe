"""Helpers for the identity tests (issue 28): a user who can read only bucket-a, role B only
bucket-b, role C only bucket-c, role D (an MFA role) only bucket-d, and a role Nobody whose trust
policy refuses the user. IAM authorization on."""

from __future__ import annotations

import json

import pytest

from aws_standin import allow
from support import role_arn

BUCKETS = ("bucket-a", "bucket-b", "bucket-c")
B, C, NOBODY = role_arn("B"), role_arn("C"), role_arn("Nobody")


def only(bucket: str) -> list[str]:
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


# What reading needs, as AWS names the actions; the moto of the lock checks these too
# (tests/standins/test_standin_conformance.py).
READ = ["s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation"]


def seed(aws) -> None:
    alice = aws.base_user
    aws.create_role("B", [alice.arn], allow(READ, only("bucket-b")))
    aws.create_role("C", [alice.arn], allow(READ, only("bucket-c")))
    aws.create_role("Nobody", ["arn:aws:iam::123456789012:user/someone-else"], allow(READ))
    for bucket in BUCKETS:
        aws.create_bucket(bucket, {"data.csv": f"owner,n\n{bucket[-1]},1\n".encode(),
                                   "part/x.csv": b"owner,n\nx,1\n"})
    own = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sts:*", "iam:Get*"], "Resource": "*"},
        {"Effect": "Allow", "Action": READ, "Resource": only("bucket-a")},
    ]})
    aws.client("iam").put_user_policy(UserName="alice", PolicyName="access", PolicyDocument=own)
    aws.set_auth(True)


@pytest.fixture
def world(aws):
    """The identity world seeded in the ``aws`` fixture's moto (import it into a test module)."""
    seed(aws)
    return aws
