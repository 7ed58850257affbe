"""polars reading s3:// with no options follows every change (real polars, moto with IAM auth on).

Role A reads only bucket-a, role B only bucket-b, the kernel's own user only bucket-c. polars
caches one object store per bucket, so each test reads every bucket after every change: a bucket
that kept an old identity would still read.
"""

from __future__ import annotations

import time
import warnings

import pytest

from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api
from readers_support import check_every_change, followed_by, identity, seed_identities
from support import role_arn

pl = pytest.importorskip("polars")

A, B = role_arn("A"), role_arn("B")


@pytest.fixture
def kernel(aws):
    seed_identities(aws)
    with followed_by("polars") as manager:
        yield manager


def can_read(bucket: str) -> bool:
    try:
        return pl.read_csv(f"s3://{bucket}/data.csv")["owner"][0] == bucket[-1]
    except Exception:  # polars raises ComputeError/OSError kinds for a 403
        return False


def test_reads_follow_assume_switch_renewal_and_clear(kernel):
    # polars' own provider caches a store per bucket: reading every bucket at each step checks them all
    check_every_change(lambda: identity(can_read))
    api.assume_role(A, session_name="again")
    assert identity(can_read) == "A"


def test_a_provider_the_user_chose_is_left_alone(kernel):
    from polars.io.cloud.credential_provider import _builder

    def mine():
        return {}, None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # polars marks the hook unstable
        pl.Config.set_default_credential_provider(mine)
    try:
        api.assume_role(A, session_name="on-a")
        assert _builder.DEFAULT_CREDENTIAL_PROVIDER is mine
        api.clear()
        assert _builder.DEFAULT_CREDENTIAL_PROVIDER is mine
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pl.Config.set_default_credential_provider("auto")


def test_the_provider_is_installed_only_while_a_role_is_active(kernel):
    from polars.io.cloud.credential_provider import _builder

    assert _builder.DEFAULT_CREDENTIAL_PROVIDER == "auto"
    api.assume_role(A, session_name="on-a")
    follower = kernel_state.followers().polars
    assert _builder.DEFAULT_CREDENTIAL_PROVIDER is follower.provider
    keys, expiry = follower.provider()
    assert keys["aws_access_key_id"] == api.current().access_key_id and expiry <= time.time()
    api.clear()
    assert _builder.DEFAULT_CREDENTIAL_PROVIDER == "auto"

