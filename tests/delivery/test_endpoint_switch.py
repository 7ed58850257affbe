"""Moving the credentials in force between the two deliveries (delivery.move), while active.

What must hold: one write of the environment per move (a reader of ``os.environ`` sees one delivery
or the other, never neither, never both), the endpoint stops only after the environment stopped
pointing at it, and a clear after any number of moves gives back the environment exactly.
"""

from __future__ import annotations

import http.client
import os
import threading
from datetime import datetime, timedelta, timezone

import pytest

from ipy_tempcreds.delivery.environment import KernelEnvironment
from ipy_tempcreds.delivery.switch import EndpointDelivery, move
from ipy_tempcreds.model.credentials import TemporaryCredentials
from support import aws_environment, served_token


@pytest.fixture
def endpoint():
    """An endpoint delivery, its credential server stopped afterwards."""
    delivery = EndpointDelivery()
    yield delivery
    delivery.close()


def credentials(number: int = 1) -> TemporaryCredentials:
    return TemporaryCredentials(f"ASIASWITCH{number:010d}", f"secret-{number:033d}", f"token-{number:090d}",
                                datetime.now(timezone.utc) + timedelta(hours=1))


@pytest.fixture
def kernel_own(isolated_environment):
    """The kernel's own credentials and a few variables either delivery touches."""
    os.environ.update(AWS_ACCESS_KEY_ID="AKIAKERNELOWN000001", AWS_SECRET_ACCESS_KEY="kernel-own-secret",
                      AWS_SECURITY_TOKEN="kernel-security-token", AWS_PROFILE="dev")
    return aws_environment()


def fetch(url: str, token: str) -> tuple[int, str]:
    """(status, body) of one GET as a child's SDK sends it."""
    host = url.split("/")[2]
    connection = http.client.HTTPConnection(host, timeout=5)
    try:
        connection.request("GET", "/" + url.split("/", 3)[3], headers={"Authorization": token})
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def state() -> str:
    """Which delivery os.environ shows, from one copy of its mapping (as a reader sees it)."""
    data = os.environ._data.copy()
    keys = data.get(b"AWS_ACCESS_KEY_ID", b"").startswith(b"ASIASWITCH")
    endpoint = b"AWS_CONTAINER_CREDENTIALS_FULL_URI" in data
    return {(True, False): "environment", (False, True): "endpoint"}.get((keys, endpoint), "neither or both")


def test_environment_to_endpoint_and_back_then_clear_restores_exactly(kernel_own, endpoint):
    environment = KernelEnvironment()
    environment.inject(credentials(1), "123456789012")
    assert os.environ["AWS_SECURITY_TOKEN"] == credentials(1).session_token  # a follower the user had

    move(environment, endpoint, credentials(1), "123456789012")
    assert state() == "endpoint" and not environment.injected and endpoint.injected
    assert "AWS_SECURITY_TOKEN" not in os.environ and "AWS_PROFILE" not in os.environ
    # The original is still what the STS client signs with.
    assert {k: v for k, v in endpoint.original().items() if k.startswith("AWS_")} == kernel_own
    url, token = endpoint.url, served_token()

    move(endpoint, environment, credentials(2), "123456789012")
    assert state() == "environment" and environment.injected and not endpoint.injected
    assert os.environ["AWS_SESSION_TOKEN"] == credentials(2).session_token
    assert os.environ["AWS_SECURITY_TOKEN"] == credentials(2).session_token
    assert os.environ["AWS_PROFILE"] == "dev"
    assert endpoint.url == ""
    # The activation ended: its path answers 404 to its token, and holds no credential.
    status, body = fetch(url, token)
    assert status == 404 and "ASIASWITCH" not in body and "no longer valid" in body

    environment.restore()
    assert aws_environment() == kernel_own


def test_endpoint_then_clear_after_a_move_restores_exactly(kernel_own, endpoint):
    environment = KernelEnvironment()
    environment.inject(credentials(1), None)
    move(environment, endpoint, credentials(1), None)
    assert endpoint.restore()
    assert aws_environment() == kernel_own
    assert not environment.restore()  # nothing left for the old delivery to give back


def test_every_reader_sees_one_delivery_or_the_other_during_moves(kernel_own, endpoint):
    environment = KernelEnvironment()
    environment.inject(credentials(1), None)
    seen: set[str] = set()
    reads = [0]
    stop = threading.Event()

    def read():
        while not stop.is_set():
            seen.add(state())
            reads[0] += 1

    def let_it_read():  # a few reads in each state, and some during the moves
        target = reads[0] + 3
        while reads[0] < target:
            threading.Event().wait(0.0005)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(25):
            move(environment, endpoint, credentials(1), None)
            let_it_read()
            move(endpoint, environment, credentials(1), None)
            let_it_read()
    finally:
        stop.set()
        reader.join()
        environment.restore()
    assert seen == {"environment", "endpoint"}
    assert aws_environment() == kernel_own


# -- the switch the manager holds ------------------------------------------------------------------

def served_key(switch) -> str:
    """The key id the endpoint serves now, fetched as a child's SDK would."""
    import json
    import urllib.request

    request = urllib.request.Request(switch.url, headers={"Authorization": served_token()})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.load(answer)["AccessKeyId"]


@pytest.fixture
def switched(timed):
    """The kernel's manager (fake clock, real STS) and its writer, a DeliverySwitch."""
    manager, _ = timed
    return manager, manager.environment


def test_a_switch_while_active_moves_the_credentials_and_renewals_follow_the_new_delivery(switched, aws):
    from support import role_arn

    manager, switch = switched
    before = aws_environment()
    grant = manager.activate(manager.role_request(role_arn("A")))
    assert os.environ["AWS_ACCESS_KEY_ID"] == grant.access_key_id and switch.mode == "environment"

    manager.settings.delivery = "endpoint"
    assert "AWS_ACCESS_KEY_ID" not in os.environ and switch.injected
    assert served_key(switch) == grant.access_key_id
    assert switch.describe() == f"endpoint ({switch.url})" and served_token() not in switch.describe()
    renewed = manager.refresh()
    assert served_key(switch) == renewed.access_key_id != grant.access_key_id
    assert "AWS_ACCESS_KEY_ID" not in os.environ  # the renewal went to the endpoint only

    manager.settings.delivery = "environment"
    assert os.environ["AWS_ACCESS_KEY_ID"] == renewed.access_key_id and switch.url == ""
    manager.settings.delivery = "endpoint"
    manager.clear()
    assert aws_environment() == before and switch.url == ""


def test_the_mode_chosen_before_any_role_applies_at_the_first_assume(switched, aws):
    from support import role_arn

    manager, switch = switched
    before = aws_environment()
    manager.settings.delivery = "endpoint"
    assert aws_environment() == before and switch.url == ""  # nothing served while no role is active
    grant = manager.activate(manager.role_request(role_arn("A")))
    assert served_key(switch) == grant.access_key_id
    assert manager.whoami()["Arn"].startswith(grant.arn.rsplit("/", 1)[0])  # the kernel's own reads follow
    manager.clear()
    assert aws_environment() == before


def test_an_unknown_mode_is_refused_and_changes_nothing(switched):
    from traitlets import TraitError

    manager, switch = switched
    with pytest.raises(TraitError, match="endpoint"):
        manager.settings.delivery = "files"
    assert manager.settings.delivery == "environment" and switch.mode == "environment"
    with pytest.raises(ValueError, match="environment"):
        switch.use("files")


# -- clients in the kernel across a switch ---------------------------------------------------------

@pytest.mark.parametrize("created_in, switched_to", [("environment", "endpoint"), ("endpoint", "environment")])
def test_a_kernel_client_created_in_one_delivery_renews_from_the_other(switched, aws, clock, created_in, switched_to):
    """A boto3 client holds the provider it was created with (env keys or the endpoint's URL) for
    its life; after a switch its next refresh finds its set gone and takes the one in force."""
    import boto3

    from support import follow_clock, role_arn, signing_keys

    manager, _ = switched
    manager.activate(manager.role_request(role_arn("A"), duration=3600))
    manager.settings.delivery = created_in
    s3 = boto3.client("s3")
    follow_clock(s3, clock)
    keys = signing_keys(s3)
    s3.list_buckets()
    manager.settings.delivery = switched_to
    clock.advance(3600 - 19 * 60)  # the manager renews 20 minutes before expiry
    assert manager.renew_if_due()
    clock.advance(10 * 60)  # inside botocore's refresh window: the client renews
    s3.list_buckets()
    assert keys[-1] == manager.current().access_key_id != keys[0]
    manager.clear()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork")
def test_a_forked_child_that_clears_leaves_the_parent_serving(switched, aws):
    """A worker forked from the kernel (multiprocessing's default on Linux) inherits the delivery;
    if it clears, it must neither wait for serving threads it does not have nor delete the token
    file the parent's other children read."""
    import time

    from support import role_arn

    manager, switch = switched
    manager.settings.delivery = "endpoint"
    grant = manager.activate(manager.role_request(role_arn("A")))
    token_file = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    pid = os.fork()
    if pid == 0:  # the child: clear, report through the exit status only
        try:
            manager.clear()
            os._exit(0 if "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in os.environ else 3)
        except BaseException:
            os._exit(4)
    deadline = time.monotonic() + 15
    while (done := os.waitpid(pid, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    if done == (0, 0):
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung in clear()")
    assert os.waitstatus_to_exitcode(done[1]) == 0
    assert os.path.exists(token_file)
    assert served_key(switch) == grant.access_key_id
    manager.clear()
    assert not os.path.exists(token_file)
