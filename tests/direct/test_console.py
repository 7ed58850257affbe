"""Console sign-in (console_url, %aws_console) against the loopback federation stand-in and moto.

STS calls go through the stand-in (AWS_ENDPOINT_URL_STS), which records how each key set was
issued, as AWS knows it; getSigninToken checks the session against moto with IAM auth on (off only
where moto's IAM auth cannot follow: GovCloud/China partitions and MFA sessions, said per test).
"""

from __future__ import annotations

import os
import pickle
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import ipy_tempcreds as tc
from faultproxy import closed_port_url
from federation_standin import Standin
from ipy_tempcreds import api
from ipy_tempcreds.base.errors import InvalidInput, TempCredsError
from ipy_tempcreds.direct.console import ConsoleSigninError, console_destination, default_signin_endpoint
from support import aws_environment, role_arn

READER, OTHER = role_arn("Reader"), role_arn("Other")
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture(scope="session")
def standin(local_aws):
    server = Standin(local_aws.url).start()
    yield server
    server.stop()


@pytest.fixture
def world(aws, standin):
    """Roles Reader and Other that alice may assume; STS through the stand-in; IAM auth on."""
    standin.reset()
    alice = aws.base_user
    aws.create_role("Reader", [alice.arn])
    sessions = [f"arn:aws:sts::123456789012:assumed-role/Reader/{name}" for name in ("chain", "outside")]
    aws.create_role("Other", [alice.arn, *sessions])
    os.environ["AWS_ENDPOINT_URL_STS"] = standin.url
    api.get_settings().signin_endpoint = standin.endpoint
    aws.set_auth(True)
    return standin


def query_of(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def follow_login(url: str) -> tuple[int, str]:
    """Open the sign-in URL as a browser would, without following the redirect: (status, Location)."""
    class Stop(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(Stop(), urllib.request.ProxyHandler({}))
    try:
        with opener.open(str(url), timeout=5) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def secrets_of(standin: Standin, *extra: str) -> set[str]:
    """Every session token, secret key and sign-in token the stand-in saw issued."""
    found = set(standin.tokens) | {s for s in extra if s}
    for token, issued in standin.issued.items():
        found |= {token, issued.secret_access_key}
    return found


# -- the happy path --------------------------------------------------------------------------------

def test_a_role_opens_the_service_page_in_the_region(world):
    grant = tc.assume_role(READER, session_name="console", duration="2h")
    url = tc.console_url("s3", region="eu-west-1")
    assert str(url).startswith(world.endpoint + "?")
    query = query_of(url)
    destination = "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
    assert query["Action"] == "login" and query["Issuer"] == "ipy_tempcreds"
    assert query["Destination"] == destination and query["SigninToken"] in world.tokens
    # Assumed directly with alice's long-term keys: the console session lasts as long as the role's.
    assert [(r.session_duration, r.status) for r in world.requests] == [("7200", 200)]
    assert follow_login(url) == (302, destination)
    assert world.logins == [(grant.arn, destination)]
    assert query["SigninToken"] not in repr(url) and grant.arn in repr(url)


def test_without_a_service_the_console_home_in_the_configured_region(world):
    tc.assume_role(READER)
    assert query_of(tc.console_url())["Destination"] == \
        "https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1"  # AWS_REGION
    api.get_settings().region = "ap-southeast-2"
    assert query_of(tc.console_url("ec2"))["Destination"] == \
        "https://ap-southeast-2.console.aws.amazon.com/ec2/home?region=ap-southeast-2"


@pytest.mark.parametrize("partition, region, host", [
    ("aws-us-gov", "us-gov-west-1", "console.amazonaws-us-gov.com"),
    ("aws-cn", "cn-north-1", "console.amazonaws.cn"),
])
def test_govcloud_and_china_roles_open_their_partitions_console(world, aws, partition, region, host):
    aws.set_auth(False)  # moto's IAM auth knows alice in the aws partition only
    grant = tc.assume_role(f"arn:{partition}:iam::123456789012:role/Reader", region=region)
    assert grant.arn.startswith(f"arn:{partition}:sts::")
    url = tc.console_url("s3")  # AWS_REGION (us-east-1) is another partition's: the partition's own
    assert query_of(url)["Destination"] == f"https://{host}/s3/home?region={region}"
    assert follow_login(url)[0] == 302
    with pytest.raises(InvalidInput, match=r'region="eu-west-1" is not a region of the aws-[\w-]+ partition'):
        tc.console_url("s3", region="eu-west-1")


@pytest.mark.parametrize("partition, endpoint", [
    ("aws", "https://signin.aws.amazon.com/federation"),
    ("aws-us-gov", "https://signin.amazonaws-us-gov.com/federation"),
    ("aws-cn", "https://signin.amazonaws.cn/federation"),
])
def test_without_a_setting_each_partition_signs_in_at_its_own_endpoint(world, aws, monkeypatch, partition, endpoint):
    """The real endpoints cannot be reached from here (loopback only): the one request is replaced
    by a recorder, and everything before and after it is the product's."""
    from ipy_tempcreds.direct import console

    aws.set_auth(False)
    api.get_settings().signin_endpoint = None
    asked = []
    monkeypatch.setattr(console, "_fetch_token", lambda endpoint, session, timeout: asked.append(endpoint) or "T0KEN")
    region = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}[partition]
    tc.assume_role(f"arn:{partition}:iam::123456789012:role/Reader", region=region)
    url = tc.console_url()
    assert asked == [endpoint] and str(url).startswith(endpoint + "?Action=login&")
    assert default_signin_endpoint(partition) == endpoint
    with pytest.raises(ConsoleSigninError, match="not available for the aws-iso partition"):
        console_destination("aws-iso", None, "us-iso-east-1")


# -- credentials AWS refuses, and SessionDuration -----------------------------------------------------

def test_an_iam_user_without_a_role_is_told_to_get_a_federation_token_first(world):
    with pytest.raises(ConsoleSigninError) as refused:
        tc.console_url("s3")
    message = str(refused.value)
    assert "IAM user" in message
    assert message.index("%federation_token NAME --policy-arn") < message.index("%assume_role")  # offered first
    assert world.requests == []  # AWS would refuse: nothing was sent
    grant = tc.federation_token("bob", policy_arns=[READ_ONLY])
    url = tc.console_url("s3")
    assert [(r.session_duration, r.status) for r in world.requests] == [(None, 200)]
    assert follow_login(url)[0] == 302 and world.logins[0][0] == grant.arn


def test_a_session_token_is_refused_with_advice_and_nothing_is_sent(world, aws):
    aws.set_auth(False)  # moto's IAM auth does not recognise GetSessionToken keys
    tc.session_token()
    with pytest.raises(ConsoleSigninError, match=r"does not accept credentials from GetSessionToken.*%assume_role"):
        tc.console_url()
    assert world.requests == []


def test_a_chained_role_signs_in_without_session_duration_which_aws_refuses_for_it(world):
    tc.assume_role(READER, session_name="chain")
    chained = tc.assume_role(OTHER, chain=True, duration="1h")
    url = tc.console_url("s3")
    assert [(r.session_duration, r.status) for r in world.requests] == [(None, 200)]
    assert world.tokens[query_of(url)["SigninToken"]][0] == chained.arn
    # The stand-in refuses what AWS refuses: the same session with a SessionDuration.
    from ipy_tempcreds.direct.console import _fetch_token, _Session

    held = chained.credentials
    with pytest.raises(ConsoleSigninError, match=r"console session of 3600 s \(HTTP 400\)"):
        _fetch_token(world.endpoint, _Session(held.access_key_id, held.secret_access_key, held.session_token,
                                              chained.arn, 3600), 5)


def test_a_role_through_an_mfa_session_signs_in_without_session_duration(world, aws):
    aws.set_auth(False)  # moto's IAM auth does not recognise GetSessionToken keys
    tc.assume_role(READER, mfa_serial="arn:aws:iam::123456789012:mfa/alice", mfa_code="123456")
    tc.console_url()
    assert [(r.session_duration, r.status) for r in world.requests] == [(None, 200)]
    assert [i.signed_with_temporary for i in world.issued.values() if i.operation == "AssumeRole"] == [True]


def test_the_kernels_own_role_session_signs_in_and_so_does_a_role_assumed_from_it(world):
    import boto3

    sts = boto3.client("sts", region_name="us-east-1")  # alice's keys, through the stand-in
    outside = sts.assume_role(RoleArn=READER, RoleSessionName="outside")["Credentials"]
    os.environ.update(AWS_ACCESS_KEY_ID=outside["AccessKeyId"], AWS_SECRET_ACCESS_KEY=outside["SecretAccessKey"],
                      AWS_SESSION_TOKEN=outside["SessionToken"])
    boto3.DEFAULT_SESSION = None
    url = tc.console_url("s3")
    assert world.tokens[query_of(url)["SigninToken"]][0].endswith("assumed-role/Reader/outside")
    tc.assume_role(OTHER, duration="1h")  # from temporary source credentials: role chaining to AWS
    tc.console_url("s3")
    assert [(r.session_duration, r.status) for r in world.requests] == [(None, 200), (None, 200)]


# -- the endpoint misbehaves ------------------------------------------------------------------------------

@pytest.mark.parametrize("fault, expected", [
    ("refused", "connection was refused"),
    ("html", "not a sign-in token"),
    ("garbled", "not a sign-in token"),
    ("status", "HTTP 503"),
    ("close", "closed without an answer"),
    ("slow", "did not answer within 0.5 s"),
    ("revoked", "refused the session of arn:aws:sts::123456789012:assumed-role/Reader/"),
])
def test_endpoint_faults_give_one_line_without_secrets(world, aws, fault, expected):
    grant = tc.assume_role(READER)
    api.get_settings().sts_timeout = 0.5
    if fault == "refused":
        api.get_settings().signin_endpoint = closed_port_url() + "/federation"
    elif fault == "revoked":
        aws.reset()  # moto forgets the role session: the keys are no longer valid anywhere
        aws.set_auth(True)
    else:
        world.fault(fault, seconds=3)
    started = time.monotonic()
    with pytest.raises(ConsoleSigninError) as failed:
        tc.console_url("s3")
    assert time.monotonic() - started < 2.5
    message = str(failed.value)
    assert expected in message and "\n" not in message
    for secret in secrets_of(world, grant.credentials.secret_access_key, grant.credentials.session_token):
        assert secret not in message
    assert failed.value.__context__ is None or "SigninToken" not in str(failed.value.__context__)


def test_an_https_endpoint_with_an_untrusted_certificate_is_refused(world, tmp_path):
    """A TLS endpoint on loopback with a self-signed certificate (openssl): the session is not sent."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        tc.assume_role(READER)
        api.get_settings().signin_endpoint = f"https://127.0.0.1:{server.server_address[1]}/federation"
        with pytest.raises(ConsoleSigninError, match=r"could not connect \(TLS: .*certificate"):
            tc.console_url()
        assert seen == []
    finally:
        server.shutdown()
        server.server_close()


# -- bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("service, region, expected", [
    ("S3 bucket", None, "not a console service name"),
    ("../iam", None, "is not a console path"),
    ("s3", "moon-1", "not a region name"),
    ("s3", "cn-north-1", "not a region of the aws partition"),
])
def test_bad_input_is_refused_before_anything_is_sent(world, service, region, expected):
    grant = tc.assume_role(READER)
    before = aws_environment(), tc.current()
    with pytest.raises(InvalidInput, match=expected):
        tc.console_url(service, region=region)
    # Only this test's key counts: a slow request of an earlier fault test may still land after
    # the stand-in was reset (seen under load), and it is not this call's doing.
    sent = [r for r in world.requests if r.access_key_id == grant.access_key_id]
    assert (aws_environment(), tc.current()) == before and sent == []


@pytest.mark.parametrize("value, expected", [
    ("http://example.com/federation", "allowed only to a loopback address"),
    ("ftp://127.0.0.1/federation", "not an https URL"),
    ("https://user:pw@signin.example/federation", "no user:password@"),
    ("https://signin.aws.amazon.com/federation?x=1", "no ?query"),
    ("federation", "not an https URL"),
])
def test_a_bad_signin_endpoint_is_refused_and_the_setting_stays(world, value, expected):
    from traitlets import TraitError

    with pytest.raises(TraitError, match=expected.replace("?", r"\?")):
        api.get_settings().signin_endpoint = value
    assert api.get_settings().signin_endpoint == world.endpoint
    for ok in ("http://127.0.0.1:9/federation", "http://[::1]:9/federation", "https://signin.example/federation"):
        api.get_settings().signin_endpoint = ok
    api.get_settings().signin_endpoint = ""
    assert api.get_settings().signin_endpoint is None


# -- the magic in a terminal shell, and the link widget ----------------------------------------------

def test_the_magic_in_a_terminal_prints_the_url_only_when_asked(run, world):
    run(f"%assume_role {READER} -q")
    key = api.current().access_key_id

    def sent():  # this test's requests only: an earlier test's slow one may land late (seen under load)
        return [r for r in world.requests if r.access_key_id == key]

    note = run("%aws_console s3 --region eu-west-1")
    assert "%aws_console s3 --region eu-west-1 --print" in note and "http" not in note
    assert sent() == []
    printed = run("%aws_console s3 --print")
    url = printed.strip().splitlines()[-1]
    assert url.startswith(world.endpoint + "?Action=login&") and follow_login(url)[0] == 302
    help_text = run("%aws_console --help")
    assert "%aws_console [--region R] [--print] [service]" in help_text and "15 minutes" in help_text
    assert "not a console service name" in run("%aws_console 'S3 now'", expect_error=True)
    assert "expected one argument" in run("%aws_console --region", expect_error=True)
    assert "--region cn-north-1 is not a region of the aws partition" in \
        run("%aws_console s3 --region cn-north-1 --print", expect_error=True)  # the hint, worded as the magic's
    assert len(sent()) == 1  # only the one --print asked for


def test_the_magic_refuses_print_in_a_notebook_and_shows_no_url_there(shell, world, monkeypatch, capsys):
    from IPython.core.error import UsageError

    tc.assume_role(READER)
    monkeypatch.setattr(shell, "kernel", object(), raising=False)  # as ipykernel's shell has one
    with pytest.raises(UsageError, match="saved with the notebook"):
        shell.run_line_magic("aws_console", "s3 --print")
    assert world.requests == []


def test_the_widget_hands_each_view_its_own_link_in_messages_only(world):
    """No frontend in-process: the widget's custom messages are recorded instead of sent."""
    from ipy_tempcreds.ui.widgets.console_link import ConsoleLink

    grant = tc.assume_role(READER)
    first = tc.console_url("s3")
    link = ConsoleLink(api.get_manager(), "s3", None, first=first)
    sent = []
    link.send = sent.append
    for view in ("view-1", "view-2"):
        link._on_custom_msg(link, {"type": "console_url", "request": view}, [])
    assert [m["request"] for m in sent] == ["view-1", "view-2"]
    assert sent[0]["url"] == str(first) and sent[1]["url"] != str(first)  # the first view only
    assert all(follow_login(m["url"])[0] == 302 and 14 * 60_000 < m["expires_in_ms"] <= 15 * 60_000 for m in sent)
    state = repr(link.get_state()) + repr(link)
    for secret in secrets_of(world, grant.credentials.secret_access_key):
        assert secret not in state
    tc.clear()
    os.environ.pop("AWS_SESSION_TOKEN", None)
    link._on_custom_msg(link, {"type": "console_url", "request": "view-3"}, [])
    assert sent[-1]["type"] == "console_error" and "%federation_token" in sent[-1]["message"]
    link.close()


def test_the_panels_console_action_answers_the_view_that_asked_and_keeps_no_url(world):
    """No frontend in-process: the panel's custom messages are recorded instead of sent."""
    panel = tc.panel()
    sent = []
    panel.send = sent.append
    assert panel.show_console
    panel._on_custom_msg(panel, {"action": "console", "seq": "view:1"}, [])
    # No role: the browser disables the button; a message from an old view is refused, nothing asked.
    assert "none is active: pick one in the role field" in panel.error and [m["type"] for m in sent] == ["done"]
    assert world.requests == []
    grant = tc.assume_role(READER)
    sent.clear()
    panel._on_custom_msg(panel, {"action": "console", "seq": "view:2"}, [])
    assert [(m["type"], m["seq"]) for m in sent] == [("console_url", "view:2"), ("done", "view:2")]
    assert 14 * 60_000 < sent[0]["expires_in_ms"] <= 15 * 60_000  # how long a link the browser offers stays
    assert panel.error == "" and follow_login(sent[0]["url"])[0] == 302
    state = repr(panel.get_state()) + repr(panel)
    for secret in secrets_of(world, grant.credentials.secret_access_key):
        assert secret not in state
    panel.close()


def test_a_signin_url_is_not_pickled_and_its_repr_hides_the_token(world):
    tc.assume_role(READER)
    url = tc.console_url()
    with pytest.raises(TypeError, match="bearer secret"):
        pickle.dumps(url)
    from IPython.lib.pretty import pretty

    assert query_of(url)["SigninToken"] not in pretty(url) + repr(url) + repr([url])
    assert isinstance(url, str) and str(url).startswith("http://127.0.0.1")
    assert issubclass(ConsoleSigninError, TempCredsError)

