"""Children follow the kernel, unless pinned (``%assume_role ROLE --pin``, core/pins.py).

Real children (python with one boto3 client for their whole life) against credentials that really
expire within seconds (tests/strict_sts.py), IAM auth on: role A may read only bucket-a, B only
bucket-b, so a read of bucket-a succeeds only with A's credentials.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import pytest
from test_endpoint_children import LIFETIME, LONG_LIVED_CLIENT, child, expiring, manager, use_endpoint  # noqa: F401

from ipy_tempcreds import api
from ipy_tempcreds.base.errors import TempCredsError
from support import aws_environment, role_arn

RUN_FOR = 3 * LIFETIME


def start_child(bucket: str, seconds: float = RUN_FOR) -> subprocess.Popen:
    """A child reading ``bucket`` every 0.25 s for ``seconds`` with one client (LONG_LIVED_CLIENT)."""
    return subprocess.Popen([sys.executable, "-c", LONG_LIVED_CLIENT, bucket, str(seconds), "0.25"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def report_of(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    return json.loads(out)


def roles_of(expiring, keys: list[str]) -> set[str]:
    return {expiring.caller_arn(key).split("/")[1] for key in keys}


def test_by_default_a_running_child_follows_the_kernel_to_the_next_role(manager, expiring):
    """What a pin is for: without one, a job started under A signs as B after the kernel switches."""
    use_endpoint(manager)
    manager.activate(manager.role_request(role_arn("A")))
    job = start_child("bucket-a")
    time.sleep(LIFETIME / 2)
    manager.activate(manager.role_request(role_arn("B")))
    report = report_of(job)
    assert roles_of(expiring, report["keys"]) == {"A", "B"}
    assert any("AccessDenied" in error for error in report["errors"])  # B may not read bucket-a


def test_a_pinned_child_keeps_its_role_renewed_while_the_kernel_switches(manager, expiring):
    delivery = use_endpoint(manager)
    grant = manager.activate(manager.role_request(role_arn("A")), pin=True)
    pin, = manager.pins.all()
    assert pin.arn == grant.arn and os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == pin.url == delivery.url
    job = start_child("bucket-a")
    time.sleep(LIFETIME / 2)
    manager.activate(manager.role_request(role_arn("B")))
    # Children started from now on follow the kernel again.
    assert os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] != pin.url
    assert child("import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])").split("/")[1] == "B"
    report = report_of(job)
    assert report["errors"] == [], report
    assert roles_of(expiring, report["keys"]) == {"A"}
    assert len(report["keys"]) >= 4  # renewed by the pin's own thread after the switch, each set reached the job
    manager.clear()
    assert manager.pins.all() == []


def test_while_the_pinned_grant_is_the_kernels_one_renewal_serves_both(manager, expiring):
    """No second STS call per renewal for the pin while the kernel is on the same grant."""
    use_endpoint(manager)
    manager.activate(manager.role_request(role_arn("A")), pin=True)
    time.sleep(2 * LIFETIME)
    assumes = [r for r in expiring.requests if r.get("Action") == "AssumeRole"]
    assert len(manager.renewals) >= 3
    assert len(assumes) == len(manager.renewals)  # the activation and each renewal: nothing more
    pin, = manager.pins.all()
    assert pin.grant.access_key_id == manager.current().access_key_id


FETCH = """
import json, os, sys, urllib.request, urllib.error
try:
    token = sys.argv[1] if len(sys.argv) > 1 else open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).read()
    request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], headers={"Authorization": token})
    print(json.load(urllib.request.urlopen(request, timeout=5))["AccessKeyId"][:4])
except urllib.error.HTTPError as exc:
    print(exc.code, json.load(exc)["message"])
except OSError as exc:
    print(type(exc).__name__)
"""


def fetch_with(environment: dict, *args) -> str:
    done = subprocess.run([sys.executable, "-c", FETCH, *args], env=environment, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_unpin_refuses_the_pinned_child_with_a_message_and_clear_releases_every_pin(manager, expiring):
    use_endpoint(manager)
    manager.activate(manager.role_request(role_arn("A")), pin=True)
    under_a = dict(os.environ)
    with open(under_a["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as handle:
        token_a = handle.read()  # what a running SDK may have read already
    manager.activate(manager.role_request(role_arn("B")), pin=True)
    assert len(manager.pins.all()) == 2
    assert manager.pins.release(role_arn("A")) == 1
    # A's token file went with the pin: a child with A's environment can send nothing...
    assert fetch_with(under_a) == "FileNotFoundError"
    # ...and the token it had is refused with a message that says why.
    assert fetch_with(under_a, token_a).startswith("404 The pinned credentials were released")
    assert fetch_with(dict(os.environ)) == "ASIA"  # B's pin serves on
    under_b = dict(os.environ)
    manager.clear()
    assert manager.pins.all() == []
    assert fetch_with(under_b) == "FileNotFoundError"
    with pytest.raises(TempCredsError, match="no pin matches"):
        manager.pins.release("nothing-pinned")


# -- the magic ---------------------------------------------------------------------------------------

def test_the_magic_pins_and_status_shows_it(run):
    run('%config TempCreds.delivery = "endpoint"')
    run(f"%assume_role {role_arn('Reader')} --pin -q")
    status = run("%assume_role --status")
    pin, = api.pins()
    assert "Pinned:" in status and pin.arn in status and pin.url in status
    run("%assume_role --clear")
    assert "Pinned:" not in run("%assume_role --status")


@pytest.mark.parametrize("line, expect", [
    ("%assume_role {role} --pin", "only the endpoint delivery"),
    ("%assume_role --status --pin", "--pin only apply when assuming"),
    ("%assume_role --clear --pin", "--pin only apply when assuming"),
])
def test_pin_where_it_cannot_apply_is_one_line_and_changes_nothing(run, line, expect):
    before = aws_environment()
    message = run(line.format(role=role_arn("Reader")), expect_error=True)
    assert expect in message and "\n" not in message.strip() and "Traceback" not in message
    assert aws_environment() == before and api.current() is None and api.pins() == []


def test_the_api_refuses_a_pin_outside_the_endpoint_delivery_before_calling_sts(aws, monkeypatch):
    called = []
    monkeypatch.setattr(api.get_manager().issuer, "obtain", lambda *a, **k: called.append(a))
    before = aws_environment()
    with pytest.raises(TempCredsError, match="only the endpoint delivery"):
        api.assume_role(role_arn("Reader"), pin=True)
    assert called == [] and aws_environment() == before


def test_a_bad_delivery_value_is_one_line_and_changes_nothing(run, caplog):
    """IPython's %config reports a refused value itself: one logged line (no UsageError, no traceback)."""
    run('%config TempCreds.delivery = "endpoint"')
    run(f"%assume_role {role_arn('Reader')} -q")
    before, url = aws_environment(), api.get_manager().environment.url
    with caplog.at_level(logging.ERROR):
        assert run('%config TempCreds.delivery = "files"') == ""
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and "expected any of ['environment', 'endpoint']" in errors[0] and "\n" not in errors[0]
    assert "Traceback" not in caplog.text
    assert api.get_settings().delivery == "endpoint" and aws_environment() == before
    assert api.get_manager().environment.url == url
