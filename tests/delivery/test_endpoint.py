"""The credential endpoint's security and format, and the environment the endpoint delivery writes.

Real sockets on 127.0.0.1 and a real credential server (its own process) throughout; requests are
raw HTTP (http.client) so that every header, the Host header included, is exactly what a test says.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from ipy_tempcreds.delivery import server as server_module
from ipy_tempcreds.delivery.endpoint import PATH, CredentialEndpoint
from ipy_tempcreds.delivery.switch import SET_ASIDE_VARIABLES, EndpointDelivery
from ipy_tempcreds.model.credentials import TemporaryCredentials
from support import aws_environment, served_token

TOKEN = "test-token-" + "k" * 32
SECRET = "SECRETsecretSECRETsecretSECRETsecret0123"
SESSION_TOKEN = "SESSIONTOKEN" + "t" * 120


def credentials(key_id="ASIAENDPOINT0000001", secret=SECRET, token=SESSION_TOKEN, minutes=60):
    return TemporaryCredentials(key_id, secret, token, datetime.now(timezone.utc) + timedelta(minutes=minutes))


@pytest.fixture
def served():
    """A running credential server serving one set at PATH to TOKEN's holder."""
    endpoint = CredentialEndpoint().start()
    endpoint.served = credentials()
    endpoint.serve(PATH, TOKEN, endpoint.served)
    yield endpoint
    endpoint.stop()


@pytest.fixture
def delivery():
    """An endpoint delivery; its credential server is stopped afterwards."""
    made = EndpointDelivery()
    yield made
    made.close()


def port_of(endpoint: CredentialEndpoint) -> int:
    return int(endpoint.url.split(":")[2].split("/")[0])


def fetch(endpoint, *, method="GET", path=PATH, host="default", token=TOKEN, address="127.0.0.1"):
    """(status, body text) of one request with exactly these headers."""
    port = port_of(endpoint)
    connection = http.client.HTTPConnection(address, port, timeout=5)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            connection.putheader("Host", f"127.0.0.1:{port}" if host == "default" else host)
        if token is not None:
            connection.putheader("Authorization", token)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def assert_no_credential(body: str) -> None:
    for value in (SECRET, SESSION_TOKEN, "ASIAENDPOINT", "SecretAccessKey"):
        assert value not in body


# -- format --------------------------------------------------------------------------------------

def test_serves_the_container_credentials_format(served):
    status, body = fetch(served)
    assert status == 200
    answer = json.loads(body)
    assert answer["AccessKeyId"] == "ASIAENDPOINT0000001"
    assert answer["SecretAccessKey"] == SECRET and answer["Token"] == SESSION_TOKEN
    expiration = answer["Expiration"]
    assert expiration.endswith("Z")  # ISO 8601 UTC, as botocore and the C++ SDK parse it
    parsed = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    assert abs((parsed - served.served.expiration).total_seconds()) < 1


def test_follows_what_is_current_and_serves_nothing_while_no_role_is_active(served):
    served.serve(PATH, TOKEN, credentials(key_id="ASIAENDPOINT0000002"))
    assert json.loads(fetch(served)[1])["AccessKeyId"] == "ASIAENDPOINT0000002"
    served.refuse(PATH)
    status, body = fetch(served)
    assert status == 404
    assert_no_credential(body)
    assert "No temporary credentials are active" in body


def test_a_grant_gives_its_account_too(served):
    class Grant:  # what the manager's current() returns: credentials and account
        credentials = credentials()
        account = "123456789012"

    served.serve(PATH, TOKEN, Grant)
    assert json.loads(fetch(served)[1])["AccountId"] == "123456789012"


# -- security ------------------------------------------------------------------------------------

def test_bound_to_loopback_only(served):
    assert served.url.startswith("http://127.0.0.1:")
    port = port_of(served)
    # Another loopback address is refused: the socket is bound to 127.0.0.1, not to every address.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", port), timeout=2).close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # finds a non-loopback address if any
        try:
            probe.connect(("10.255.255.255", 1))  # UDP: nothing is sent
            outside = probe.getsockname()[0]
        except OSError:
            outside = None
    if outside and not outside.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((outside, port), timeout=2).close()


def test_without_the_token_401_with_no_credential(served):
    status, body = fetch(served, token=None)
    assert status == 401
    assert_no_credential(body)


@pytest.mark.parametrize("token", ["wrong", TOKEN[:-1] + "x", TOKEN + "x", "", "Bearer " + TOKEN, TOKEN.upper()])
def test_with_a_wrong_token_403_with_no_credential(served, token):
    status, body = fetch(served, token=token)
    assert status == 403
    assert_no_credential(body)


def test_the_token_is_compared_in_constant_time(monkeypatch):
    """The server's answers, in this process (delivery/server.py's Answers is pure)."""
    compared = []
    real = server_module.compare_digest

    def recording(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(server_module, "compare_digest", recording)
    answers = server_module.Answers(b"127.0.0.1:1")
    answers.command({"op": "serve", "path": PATH, "token": TOKEN, "body": "{}"})
    headers = {b"host": b"127.0.0.1:1"}
    assert answers.answer(b"GET", PATH.encode(), {**headers, b"authorization": b"wrong"}).startswith(b"HTTP/1.1 403")
    assert answers.answer(b"GET", PATH.encode(), {**headers, b"authorization": TOKEN.encode()}).startswith(b"HTTP/1.1 200")
    assert compared == [(b"wrong", TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost:{port}", "127.0.0.1",
                                  "127.0.0.1:1", "[::1]:{port}", None])
def test_a_host_that_is_not_the_served_address_is_refused(served, host):
    """DNS rebinding: a page whose name now resolves to 127.0.0.1 still sends its own name."""
    status, body = fetch(served, host=host.format(port=port_of(served)) if host else None)
    assert status == 403
    assert_no_credential(body)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"])
def test_only_get(served, method):
    status, body = fetch(served, method=method)
    assert status == 405
    assert_no_credential(body)


@pytest.mark.parametrize("path", ["/", PATH + "/", PATH + "?x=1", "/latest/meta-data/", PATH.upper(), "/ipy_tempcreds"])
def test_only_the_one_path(served, path):
    status, body = fetch(served, path=path)
    assert status == 404
    assert_no_credential(body)


def test_after_stop_nothing_is_served_even_on_a_kept_alive_connection(served):
    port = port_of(served)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Host": f"127.0.0.1:{port}", "Authorization": TOKEN}
    connection.request("GET", PATH, headers=headers)
    first = connection.getresponse()
    assert first.status == 200 and first.getheader("Connection") != "close"
    first.read()
    served.stop()
    with pytest.raises((OSError, http.client.HTTPException)):
        connection.request("GET", PATH, headers=headers)
        connection.getresponse().read()
    connection.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_new_token_for_every_activation_and_none_in_a_repr_or_variable(isolated_environment, delivery):
    delivery.inject(credentials(), None)
    first, url = served_token(), delivery.url
    assert len(first) >= 43  # 256 bits, url-safe
    for text in (repr(delivery), str(delivery), repr(delivery.server), str(dict(os.environ))):
        assert first not in text
    assert url in repr(delivery)
    delivery.restore()
    delivery.inject(credentials(), None)
    second = served_token()
    assert second != first and delivery.url == url  # the same port, a new token
    port = int(url.split(":")[2].split("/")[0])
    assert fetch_url(port, first)[0] == 403  # the old token is refused from then on
    assert fetch_url(port, second)[0] == 200


def fetch_url(port: int, token: str, path: str = PATH) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers={"Authorization": token})
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


# -- the environment -----------------------------------------------------------------------------

def test_inject_points_the_environment_at_the_endpoint_and_restore_gives_everything_back(
        isolated_environment, caplog, delivery):
    os.environ.update(AWS_ACCESS_KEY_ID="AKIAKERNELOWN000001", AWS_SECRET_ACCESS_KEY="kernel-secret",
                      AWS_SECURITY_TOKEN="old-security-token", AWS_ACCOUNT_ID="999999999999",
                      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/ecs-task",
                      AWS_CONTAINER_AUTHORIZATION_TOKEN="the-container-agents-token")
    before = aws_environment()
    with caplog.at_level(logging.DEBUG, logger="ipy_tempcreds"):
        delivery.inject(credentials(), "123456789012")
    try:
        now = aws_environment()
        assert now["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == delivery.url
        assert delivery.url.startswith("http://127.0.0.1:")
        # The token is in the file only; the agent's own token is set aside, never sent here.
        assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in now
        token_file = now["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
        port = int(delivery.url.split(":")[2].split("/")[0])
        with open(token_file) as handle:
            token = handle.read()
        assert fetch_url(port, token)[0] == 200  # exactly: SDKs send the content as the header
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(token_file)).st_mode) == 0o700
        for name in SET_ASIDE_VARIABLES:
            assert name not in now, name  # the keys and RELATIVE_URI (it would win) are set aside
        assert token not in caplog.text and SECRET not in caplog.text
        # The original stays reachable for the STS client (source credentials).
        assert {k: v for k, v in delivery.original().items() if k.startswith("AWS_")} == before
    finally:
        assert delivery.restore()
    assert aws_environment() == before
    assert not os.path.exists(token_file)
    assert delivery.url == "" and not delivery.restore()


def test_restore_removes_what_was_absent(isolated_environment, delivery):
    before = aws_environment()
    assert "AWS_ACCESS_KEY_ID" not in before
    delivery.inject(credentials(), None)
    delivery.restore()
    assert aws_environment() == before


def test_renewals_do_not_touch_the_environment(isolated_environment, monkeypatch, delivery):
    """Only the served set changes: a child process started at any moment of a renewal inherits the
    same variables (os.putenv, which writes the C-level environment children inherit, is not called)."""
    delivery.inject(credentials(key_id="ASIAENDPOINT0000001"), None)
    try:
        environment = aws_environment()
        written = []
        monkeypatch.setattr(os, "putenv", lambda *args: written.append(args))
        monkeypatch.setattr(os, "unsetenv", lambda *args: written.append(args))
        delivery.inject(credentials(key_id="ASIAENDPOINT0000002"), None)
        monkeypatch.undo()
        assert written == [] and aws_environment() == environment
        port = int(delivery.url.split(":")[2].split("/")[0])
        assert json.loads(fetch_url(port, served_token())[1])["AccessKeyId"] == "ASIAENDPOINT0000002"
    finally:
        delivery.restore()


def test_aws_profile_is_set_aside_and_its_region_kept(isolated_environment, delivery):
    (isolated_environment / "config").write_text("[profile dev]\nregion = eu-west-3\n")
    (isolated_environment / "credentials").write_text("[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\n")
    os.environ["AWS_PROFILE"] = "dev"
    before = aws_environment()
    delivery.inject(credentials(), None)
    try:
        # Left in place, the profile's keys would come before the endpoint in every child's chain.
        assert "AWS_PROFILE" not in os.environ
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-3"
        assert delivery.warnings == []
    finally:
        delivery.restore()
    assert aws_environment() == before


def test_a_default_profile_with_keys_is_named_in_a_warning(isolated_environment, caplog, delivery):
    path = isolated_environment / "credentials"
    path.write_text("[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n")
    with caplog.at_level(logging.WARNING, logger="ipy_tempcreds"):
        delivery.inject(credentials(), None)
    try:
        assert len(delivery.warnings) == 1
        warning = delivery.warnings[0]
        assert "[default]" in warning and str(path) in warning and "delivery = 'environment'" in warning
        assert "default-secret" not in warning and "AKIADEFAULT" not in warning
        assert warning in caplog.text
    finally:
        delivery.restore()


def test_a_default_profile_without_credentials_gives_no_warning(isolated_environment, delivery):
    (isolated_environment / "config").write_text("[default]\nregion = eu-west-1\n")
    delivery.inject(credentials(), None)
    try:
        assert delivery.warnings == []
    finally:
        delivery.restore()


def test_a_manager_in_environment_mode_imports_no_http_server():
    """Every first %assume_role imports the manager: the endpoint's modules (subprocess, select, the
    server's) load only when the endpoint delivery is used."""
    script = ("import sys\nfrom ipy_tempcreds.core.manager import CredentialManager\nCredentialManager(background=False)\n"
              "print(sorted(m for m in ('ipy_tempcreds.delivery.endpoint', 'ipy_tempcreds.delivery.server', 'tempfile', "
              "'configparser') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    loaded = done.stdout.strip()
    assert "ipy_tempcreds.delivery.server" not in loaded and "ipy_tempcreds.delivery.endpoint" not in loaded, loaded


def test_a_hundred_processes_asking_at_once_are_all_answered(served):
    """A job array starting at once: each child opens its own connection. socketserver's default
    backlog (5) dropped most of such a burst (connection resets, retries a second apart)."""
    import threading

    statuses, errors = [], []
    go = threading.Event()

    def ask():
        go.wait()
        try:
            statuses.append(fetch(served)[0])
        except OSError as exc:
            errors.append(type(exc).__name__)

    askers = [threading.Thread(target=ask) for _ in range(100)]
    for asker in askers:
        asker.start()
    go.set()
    for asker in askers:
        asker.join(30)
    assert errors == [] and statuses == [200] * 100
