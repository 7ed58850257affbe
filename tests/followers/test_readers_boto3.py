"""boto3 clients and resources kept across changes follow each one at once (in this process).

Real moto over HTTP with IAM authorization on: role A reads only bucket-a, role B only bucket-b,
the kernel's own user only bucket-c, so what a kept client can read says who signs its requests.
The same transitions in a real kernel: tests/followers/test_readers_kernel.py.
"""

from __future__ import annotations

import threading

import boto3
import botocore.exceptions
import botocore.session
import pytest
from botocore.exceptions import ClientError

from ipy_tempcreds import api
from readers_support import followed_by, identity, revoke, seed_identities
from support import role_arn, signing_keys

A, B = role_arn("A"), role_arn("B")


@pytest.fixture
def kernel(aws):
    """The kernel's manager, with the post-import hook the extension installs at load."""
    seed_identities(aws)
    # The fixtures seeded moto through boto3's default session, before "loading": a kernel's
    # default session is made after %load_ext (made before it, it is the documented exception).
    boto3.DEFAULT_SESSION = None
    with followed_by("boto3") as manager:
        yield manager


def reads(client) -> str:
    def can_read(bucket):
        try:
            client.get_object(Bucket=bucket, Key="data.csv")["Body"].read()
            return True
        except ClientError:
            return False

    return identity(can_read)


def resource_reads(resource) -> str:
    def can_read(bucket):
        try:
            resource.Object(bucket, "data.csv").get()["Body"].read()
            return True
        except ClientError:
            return False

    return identity(can_read)


def test_clients_made_before_the_first_assume_follow_every_change(kernel):
    client, resource = boto3.client("s3"), boto3.resource("s3")
    plain = botocore.session.Session().create_client("s3")
    assert reads(client) == resource_reads(resource) == reads(plain) == "own"

    first = api.assume_role(A, session_name="on-a")
    assert reads(client) == resource_reads(resource) == reads(plain) == "A"
    api.assume_role(B, session_name="on-b")  # B trusts only alice: STS is still signed by her
    assert reads(client) == resource_reads(resource) == reads(plain) == "B"

    before = api.current()
    renewed = api.refresh()
    revoke(before.access_key_id)
    revoke(first.access_key_id)
    held = before.credentials
    stale = boto3.client("s3", aws_access_key_id=held.access_key_id, aws_secret_access_key=held.secret_access_key,
                         aws_session_token=held.session_token)
    assert reads(stale) == "none"  # the control: a client still holding the revoked key fails
    keys = signing_keys(client)
    assert reads(client) == resource_reads(resource) == reads(plain) == "B"
    assert set(keys) == {renewed.access_key_id}

    api.clear()
    assert reads(client) == resource_reads(resource) == reads(plain) == "own"


def test_a_client_made_under_a_role_follows_the_switch_and_goes_back_to_the_own_user_at_clear(kernel):
    api.assume_role(A, session_name="on-a")
    client = boto3.client("s3")
    assert reads(client) == "A"
    api.assume_role(B, session_name="on-b")
    assert reads(client) == "B"
    api.clear()
    assert reads(client) == "own"
    api.assume_role(A, session_name="again")
    assert reads(client) == "A"


def test_a_renewal_from_the_background_thread_reaches_kept_clients(kernel):
    first = api.assume_role(A, session_name="on-a")
    client = boto3.client("s3")
    renewal = threading.Thread(target=kernel.refresh)
    renewal.start()
    renewal.join()
    revoke(first.access_key_id)  # a request signed with it now fails
    keys = signing_keys(client)
    assert reads(client) == "A"
    assert keys and set(keys) == {api.current().access_key_id}


def test_smart_open_with_a_client_passed_in_follows(kernel):
    smart_open = pytest.importorskip("smart_open")
    client = boto3.client("s3")

    def can_read(bucket):
        try:
            with smart_open.open(f"s3://{bucket}/data.csv", transport_params={"client": client}) as handle:
                return handle.read().startswith("owner")
        except (ClientError, OSError, ValueError):
            return False

    api.assume_role(A, session_name="on-a")
    assert identity(can_read) == "A"
    api.assume_role(B, session_name="on-b")
    assert identity(can_read) == "B"
    api.clear()
    assert identity(can_read) == "own"


def test_session_clients_use_the_new_key_right_after_refresh_and_fail_clearly_after_clear(kernel):
    api.assume_role(A, session_name="on-a")
    client = api.session().client("s3")
    assert reads(client) == "A"
    old = api.current()
    renewed = api.refresh()
    revoke(old.access_key_id)
    keys = signing_keys(client)
    assert reads(client) == "A" and set(keys) == {renewed.access_key_id}
    api.assume_role(B, session_name="on-b")
    assert reads(client) == "B"
    api.clear()
    with pytest.raises(Exception, match="cleared"):
        client.get_object(Bucket="bucket-c", Key="data.csv")


def test_sessions_with_their_own_profile_or_keys_are_left_alone(kernel, aws):
    alice = aws.base_user
    pinned = boto3.client("s3", aws_access_key_id=alice.access_key_id, aws_secret_access_key=alice.secret_access_key)
    keyed = boto3.Session(aws_access_key_id=alice.access_key_id, aws_secret_access_key=alice.secret_access_key)
    api.assume_role(A, session_name="on-a")
    assert reads(pinned) == reads(keyed.client("s3")) == "own"
    assert type(boto3.Session().get_credentials()).__name__ == "KernelCredentials"


def test_no_credentials_anywhere_gives_botocores_error_until_a_role_is_assumed(kernel, monkeypatch):
    from botocore.exceptions import NoCredentialsError

    alice = kernel.environment.environ
    keys = {name: alice.pop(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    client = boto3.client("s3")
    with pytest.raises(NoCredentialsError):
        client.get_object(Bucket="bucket-c", Key="data.csv")
    alice.update(keys)


def test_each_kernels_follower_answers_its_own_keys_and_shows_none():
    """Kept clients read the follower their session was made under (a closure), not a module global."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from ipy_tempcreds.followers.boto3_clients import Boto3Follower
    from ipy_tempcreds.model.changes import Change

    def grant(key):
        held = SimpleNamespace(access_key_id=key, secret_access_key=f"secret-of-{key}", session_token="tok",
                               expiration=datetime(2030, 1, 1, tzinfo=timezone.utc))
        return SimpleNamespace(credentials=held, account="123456789012")

    one, two = Boto3Follower(), Boto3Follower()
    one.on_change(Change("assume", grant("AKIAONE"), None))
    two.on_change(Change("assume", grant("AKIATWO"), None))
    two.on_change(Change("renewal", grant("AKIATWO2"), None))
    first, second = one.credentials_class()(lambda: None), two.credentials_class()(lambda: None)
    assert first.get_frozen_credentials().access_key == "AKIAONE" and first.access_key == "AKIAONE"
    assert second.get_frozen_credentials().access_key == "AKIATWO2" and (one.generation(), two.generation()) == (1, 2)
    one.on_change(Change("clear", None, None))
    with pytest.raises(botocore.exceptions.NoCredentialsError):  # the chain (here: none) after the clear
        first.get_frozen_credentials()
    assert second.get_frozen_credentials().access_key == "AKIATWO2"
    assert "secret" not in repr(one) + repr(two) + repr(first) + repr(second)
