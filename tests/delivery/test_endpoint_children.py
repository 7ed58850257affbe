"""Real child processes (python with boto3, the AWS CLI, pyarrow, pandas/s3fs, polars, DuckDB)
against credentials that really expire within seconds, across several renewals, in delivery
"endpoint" (and, for contrast, "environment").

The strict stand-in (tests/strict_sts.py) rewrites each issued set's expiry to LIFETIME seconds and
refuses any request signed with an expired key, as AWS does. The manager renews in its background
thread on the wall clock (auto margin: half of the lifetime), as in a kernel; ``use_endpoint`` sets
``TempCreds.delivery = "endpoint"`` on its settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds.core.manager import CredentialManager
from strict_sts import StrictSts
from support import role_arn

# A child with ONE boto3 client for its whole life, reading S3 every ``pause`` seconds for
# ``seconds``; prints the number of calls, the failures (their error text) and the distinct key ids
# that signed. Only key ids leave the child: never a secret.
LONG_LIVED_CLIENT = r"""
import json, sys, time
import boto3
bucket, seconds, pause = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s3 = boto3.client("s3")
keys, errors, calls = [], [], 0
def record(request, **_):
    authorization = request.headers.get("Authorization", b"")
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    key = authorization.split("Credential=")[1].split("/")[0]
    if key not in keys:
        keys.append(key)
s3.meta.events.register("before-send", record)
end = time.time() + seconds
while time.time() < end:
    calls += 1
    try:
        s3.list_objects_v2(Bucket=bucket)
    except Exception as exc:
        errors.append(str(exc)[:200])
    time.sleep(pause)
print(json.dumps({"calls": calls, "errors": errors, "keys": keys, "method": s3._request_signer._credentials.method}))
"""

# A child that prints the identity its default credential chain finds.
WHOAMI = r"""
import boto3
print(boto3.client("sts").get_caller_identity()["Arn"])
"""

# A pyarrow child with one S3FileSystem for its whole life (the AWS C++ SDK's own chain).
PYARROW_READS = r"""
import json, os, sys, time
from urllib.parse import urlsplit
from pyarrow import fs
path, seconds, pause = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
endpoint = urlsplit(os.environ["AWS_ENDPOINT_URL"])
s3 = fs.S3FileSystem(endpoint_override=endpoint.netloc, scheme="http", region="us-east-1")
reads, errors = 0, []
end = time.time() + seconds
while True:
    try:
        with s3.open_input_stream(path) as stream:
            stream.read()
        reads += 1
    except Exception as exc:
        errors.append(str(exc)[:200])
    if time.time() >= end:
        break
    time.sleep(pause)
print(json.dumps({"reads": reads, "errors": errors}))
"""

# A child that fetches from the endpoint exactly as botocore does (the token file first) and
# prints the three values it got, for the mixed-set check.
FETCH_ONCE = r"""
import json, os, urllib.request
headers = {"Authorization": open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).read()}
request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], headers=headers)
answer = json.load(urllib.request.urlopen(request, timeout=5))
print(json.dumps([answer["AccessKeyId"], answer["SecretAccessKey"], answer["Token"]]))
"""


# -- fixtures ------------------------------------------------------------------------------------

LIFETIME = 3.0  # seconds every issued set lives; the manager renews at half-life
AWS_CLI = str(Path(sys.executable).with_name("aws"))


@pytest.fixture
def expiring(buckets):
    """Credentials from STS expire LIFETIME seconds after issue; S3 and STS refuse them after."""
    proxy = StrictSts(buckets.url, lifetime=LIFETIME).start()
    os.environ["AWS_ENDPOINT_URL"] = proxy.url
    yield proxy
    proxy.stop()


@pytest.fixture
def manager(expiring):
    """The kernel's manager (background renewal on the wall clock), renewals counted."""
    manager = CredentialManager()
    kernel_state.install(manager)
    manager.renewals = []
    manager.subscribe(lambda change: change.credentials_changed and change.grant is not None
                      and manager.renewals.append(change.grant.access_key_id))
    yield manager
    manager.close()


def use_endpoint(manager):
    """``%config TempCreds.delivery = "endpoint"``; returns the manager's writer (a DeliverySwitch)."""
    manager.settings.delivery = "endpoint"
    return manager.environment


def child(script: str, *args, timeout: float = 60) -> str:
    """Run ``python -c script`` as a kernel would (it inherits the process environment)."""
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def aws_cli(*args) -> str:
    done = subprocess.run([AWS_CLI, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def assumed(role: str) -> str:
    return f"assumed-role/{role}/"


# -- long-lived children -------------------------------------------------------------------------

def test_a_child_with_one_client_keeps_working_across_renewals(manager, expiring):
    delivery = use_endpoint(manager)
    manager.activate(manager.role_request(role_arn("A")))
    report = json.loads(child(LONG_LIVED_CLIENT, "bucket-a", 3 * LIFETIME, 0.25))
    assert report["errors"] == []
    assert report["method"] == "container-role"
    # Every renewal of the kernel reached the child: it signed with at least four sets in turn.
    assert len(report["keys"]) >= 4, report
    assert len(manager.renewals) >= 4
    assert all(expiring.expiry(key) is not None for key in report["keys"])  # each issued by STS
    assert delivery.url and expiring.refused == []


def test_in_environment_mode_the_same_child_fails_once_its_snapshot_expires(manager, expiring):
    """The problem the endpoint solves, measured with the same stand-in (so the test above can fail)."""
    manager.activate(manager.role_request(role_arn("A")))
    report = json.loads(child(LONG_LIVED_CLIENT, "bucket-a", LIFETIME + 2, 0.25))
    assert len(report["keys"]) == 1
    assert report["errors"], report
    assert any("still expired" in error or "ExpiredToken" in error for error in report["errors"])
    assert len(manager.renewals) >= 2  # the kernel renewed meanwhile; the child could not see it


@pytest.mark.skipif(not __import__("importlib").util.find_spec("pyarrow"), reason="pyarrow not installed")
def test_a_pyarrow_filesystem_in_a_child_keeps_reading_across_renewals(manager, expiring):
    """The AWS C++ SDK's own chain (pyarrow; DuckDB's credential_chain uses the same SDK)."""
    use_endpoint(manager)
    manager.activate(manager.role_request(role_arn("A")))
    report = json.loads(child(PYARROW_READS, "bucket-a/data.csv", 2 * LIFETIME, 0.25))
    assert report["errors"] == [] and report["reads"] >= 8, report
    assert len(manager.renewals) >= 3


# -- children started after a switch or a clear ----------------------------------------------------

def test_children_started_after_a_switch_or_a_clear_see_the_new_identity(manager, buckets):
    use_endpoint(manager)
    manager.activate(manager.role_request(role_arn("A")))
    assert assumed("A") in json.loads(aws_cli("sts", "get-caller-identity", "--output", "json"))["Arn"]
    manager.activate(manager.role_request(role_arn("B")))
    assert assumed("B") in child(WHOAMI)
    assert assumed("B") in json.loads(aws_cli("sts", "get-caller-identity", "--output", "json"))["Arn"]
    aws_cli("s3", "cp", "s3://bucket-b/data.csv", "-")  # B may read its bucket
    manager.clear()
    # The kernel's own credentials again (alice), and no endpoint variable left behind.
    assert child(WHOAMI) == buckets.base_user.arn
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in os.environ


def test_a_child_that_outlives_a_clear_gets_nothing_from_the_endpoint(manager):
    """Its environment still names the endpoint and the token file; the file is gone (an SDK says
    so and sends nothing), and the token it may have kept is refused with a 404 that says why."""
    delivery = use_endpoint(manager)
    manager.activate(manager.role_request(role_arn("A")))
    environment = {k: v for k, v in os.environ.items() if k.startswith("AWS_CONTAINER")}
    with open(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as handle:
        token = handle.read()
    manager.clear()
    assert environment and not any(k.startswith("AWS_CONTAINER") for k in os.environ)
    assert not os.path.exists(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])
    script = ("import json, sys, urllib.request, urllib.error\n"
              "request = urllib.request.Request(sys.argv[1], headers={'Authorization': sys.argv[2]})\n"
              "try:\n    urllib.request.urlopen(request, timeout=2)\n"
              "except urllib.error.HTTPError as exc:\n    print(exc.code, json.load(exc)['message'])")
    answer = child(script, environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], token)
    assert answer.startswith("404 No temporary credentials are active") and delivery.url == ""


# -- no mixed set --------------------------------------------------------------------------------

def test_children_started_during_renewals_never_inherit_a_mixed_set(manager):
    """Environment mode's known limit (tests/core/test_races.py: a child started between two os.putenv
    calls of a swap inherits a mix) cannot happen here: renewals write no variable, and each fetch
    answers one whole set. Children start continuously while the served set is replaced as fast as
    a thread can; every child's three values belong to one issued set."""
    import secrets as random
    import threading
    from datetime import datetime, timedelta, timezone

    from ipy_tempcreds.model.credentials import TemporaryCredentials

    delivery = use_endpoint(manager)
    issued: dict[str, tuple[str, str]] = {}
    stop = threading.Event()

    def renew_forever():
        number = 0
        while not stop.is_set():
            number += 1
            key, secret, token = f"test-mix-{number}", random.token_urlsafe(30), random.token_urlsafe(90)
            issued[key] = (secret, token)
            delivery.inject(TemporaryCredentials(key, secret, token,
                                                 datetime.now(timezone.utc) + timedelta(hours=1)), None)

    first = TemporaryCredentials("test-mix-first", "s" * 40, "t" * 90, datetime.now(timezone.utc) + timedelta(hours=1))
    issued[first.access_key_id] = (first.secret_access_key, first.session_token)
    delivery.inject(first, None)
    environment = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    renewer = threading.Thread(target=renew_forever, daemon=True)
    renewer.start()
    try:
        seen = [json.loads(child(FETCH_ONCE)) for _ in range(8)]
        shells = {tuple(sorted(subprocess.run(["/bin/sh", "-c", "env | grep ^AWS_"], capture_output=True,
                                              text=True, check=True).stdout.splitlines())) for _ in range(30)}
    finally:
        stop.set()
        renewer.join(5)
        delivery.restore()
    assert len(issued) > 100  # the served set really changed all along
    for key, secret, token in seen:
        assert issued[key] == (secret, token)
    assert shells == {tuple(sorted(f"{k}={v}" for k, v in environment.items()))}


# -- the source of renewals ----------------------------------------------------------------------

def test_renewals_are_never_signed_through_the_kernels_own_endpoint(manager, expiring, buckets):
    """A kernel whose own credentials come from a container endpoint (ECS, or any FULL_URI): the
    delivery replaces that variable with its own endpoint. An STS client built while it serves (here:
    the region changed) must still sign as the original source, not as the injected role."""
    from datetime import datetime, timedelta, timezone

    from ipy_tempcreds.delivery.endpoint import PATH, CredentialEndpoint
    from ipy_tempcreds.model.credentials import TemporaryCredentials

    alice = buckets.base_user
    agent = CredentialEndpoint().start()  # the container agent's (a credential server of its own)
    agent.serve(PATH, "container-agent-token", TemporaryCredentials(
        alice.access_key_id, alice.secret_access_key, "", datetime.now(timezone.utc) + timedelta(hours=6)))
    try:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            del os.environ[name]
        os.environ.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=agent.url,
                          AWS_CONTAINER_AUTHORIZATION_TOKEN="container-agent-token")
        delivery = use_endpoint(manager)
        manager.activate(manager.role_request(role_arn("A"), duration=900))
        assert os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == delivery.url != agent.url
        manager.settings.region = "us-west-2"  # a new STS client, built while the delivery serves
        manager.refresh()
        # Both AssumeRole calls signed with alice's long-term key, never a temporary (role) set.
        assumes = [request for request in expiring.requests if request.get("Action") == "AssumeRole"]
        assert [request["temporary"] for request in assumes] == [False, False]
        manager.clear()
        assert os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == agent.url
        assert os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == "container-agent-token"  # given back
    finally:
        agent.stop()


# -- other readers in children ---------------------------------------------------------------------

DUCKDB_CHAIN = r"""
import pathlib, sys
import duckdb
site = pathlib.Path(duckdb.__file__).parent.parent
con = duckdb.connect()
for name in ("httpfs", "aws"):  # loaded by path: nothing is downloaded
    con.execute(f"LOAD '{next(site.glob(f'duckdb_extension_{name}/extensions/*/{name}.duckdb_extension'))}'")
con.execute(f"CREATE SECRET s (TYPE s3, PROVIDER credential_chain, ENDPOINT '{sys.argv[1]}', USE_SSL false, "
            "URL_STYLE 'path', REGION 'us-east-1')")
print(con.execute("SELECT owner FROM read_csv('s3://bucket-a/data.csv')").fetchall()[0][0])
"""

READERS = {
    "pandas/s3fs": ("pandas", "import pandas as pd; print(pd.read_csv('s3://bucket-a/data.csv').owner[0])"),
    "polars": ("polars", "import polars as pl; print(pl.read_csv('s3://bucket-a/data.csv')['owner'][0])"),
    "duckdb credential_chain": ("duckdb_extension_aws", DUCKDB_CHAIN),
    # credential_provider=None: polars' Rust object_store resolves credentials with its own chain.
    "object_store (Rust, via polars)": ("polars", "import os, polars as pl; print(pl.read_csv('s3://bucket-a/data.csv', "
                                        "credential_provider=None, storage_options={'aws_endpoint_url': "
                                        "os.environ['AWS_ENDPOINT_URL'], 'aws_allow_http': 'true', "
                                        "'aws_region': 'us-east-1'})['owner'][0])"),
}


@pytest.mark.parametrize("reader", READERS)
def test_other_readers_in_a_child_take_the_role_from_the_endpoint(manager, expiring, reader):
    """IAM auth on and no key variable in the environment: a read of bucket-a works only with role
    A's credentials, which only the endpoint gives."""
    module, script = READERS[reader]
    if not __import__("importlib").util.find_spec(module):
        pytest.skip(f"{module} not installed")
    use_endpoint(manager)
    manager.activate(manager.role_request(role_arn("A")))
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert child(script, expiring.url.split("//")[1]) == "a"


def test_bang_commands_in_a_real_shell_follow_the_endpoint(manager, shell):
    """``!aws`` as a notebook runs it (IPython's system call, the kernel's environment)."""
    use_endpoint(manager)
    arn = "sts get-caller-identity --query Arn --output text"
    manager.activate(manager.role_request(role_arn("A")))
    shell.run_cell(f"first = !{AWS_CLI} {arn}", store_history=False)
    manager.activate(manager.role_request(role_arn("B")))
    shell.run_cell(f"second = !{AWS_CLI} {arn}", store_history=False)
    assert assumed("A") in shell.user_ns["first"][0]
    assert assumed("B") in shell.user_ns["second"][0]
