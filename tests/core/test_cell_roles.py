"""A cell as another role (core/cell_roles.py): the role inside, exactly the previous state after,
whatever happens inside; its credentials cached like named sessions; races with renewals."""

from __future__ import annotations

import os

import pytest

import ipy_tempcreds
from ipy_tempcreds import api
from ipy_tempcreds.base.errors import InvalidInput, StsError
from support import role_arn

A, B = role_arn("A"), role_arn("B")


def readable(bucket: str) -> bool:
    import boto3

    try:
        boto3.client("s3").head_object(Bucket=bucket, Key="data.csv")
        return True
    except Exception:
        return False


def test_a_block_runs_as_the_role_and_the_kernel_is_back_after(buckets):
    grant = api.assume_role(A, session_name="base")
    renewal = api.get_manager().renewal
    keys = os.environ["AWS_ACCESS_KEY_ID"]
    with ipy_tempcreds.as_role(B) as inside:
        assert inside.arn.endswith(":assumed-role/B/" + inside.request.session_name)
        assert readable("bucket-b") and not readable("bucket-a")
    assert api.current() is grant and api.get_manager().renewal is renewal
    assert os.environ["AWS_ACCESS_KEY_ID"] == keys
    assert readable("bucket-a") and not readable("bucket-b")


@pytest.fixture
def world(aws):
    from identity_support import seed

    seed(aws)
    return aws


def test_can_read_lists_who_can(world):
    from identity_support import B, C
    api.get_settings().roles = {"b": B, "c": C}
    checks = ipy_tempcreds.can_read("s3://bucket-b/data.csv")
    print(checks)
    assert checks.allowed() == ["b"]
