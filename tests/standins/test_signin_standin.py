"""The AWS Sign-In stand-in (signin_standin.py) stays true to the service, judged by the clients AWS
ships: botocore's own, unmodified LoginProvider in a fresh process loads a cache entry written as
`aws login` writes it, refreshes it against the stand-in when under five minutes remain (DPoP,
refresh token rotated, file rewritten) and reads S3 through moto with IAM authorization on; each
refusal answers as the service model says and as botocore reads it; and a test-only client that
does what the CLI does (CliLogin) signs in both ways, same-device and cross-device.

CliLogin follows aws/aws-cli v2 awscli/customizations/login/utils.py and login.py step by step; it
is test code, not the product's %aws_login.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import secrets
import stat
import string
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse

import botocore
import botocore.config
import botocore.endpoint
import botocore.session
import pytest
from awscrt.crypto import EC, ECType
from botocore.credentials import _build_add_dpop_header_handler
from botocore.exceptions import LoginInsufficientPermissions, LoginRefreshRequired
from botocore.utils import JSONFileCache, LoginTokenLoader, generate_login_cache_key, percent_encode_sequence
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from aws_standin import ACCOUNT, REGION
from proxy_support import LoopbackServer, answer
from signin_standin import CROSS_DEVICE, SAME_DEVICE, SigninStandin, b64url

BUCKET, KEY, CONTENT = "console-data", "report.csv", "region,n\neu,3\n"
PROFILE = "console"
# What the console identity may do: read the report and say who it is. S3 writes are refused,
# which shows that IAM authorization is on and that the credentials are the role's.
READ_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{BUCKET}/*"},
    {"Effect": "Allow", "Action": ["sts:GetCallerIdentity"], "Resource": "*"}]})


@pytest.fixture
def signin(aws, clock):
    """The stand-in on the fake clock, with console role Admin (read-only on the bucket) in moto."""
    standin = SigninStandin(aws, clock=clock).start()
    standin.console_role("Admin", READ_ONLY)
    aws.create_bucket(BUCKET, {KEY: CONTENT.encode()})
    yield standin
    standin.stop()


@pytest.fixture
def home(tmp_path):
    """Where the CLI would write: an AWS config file and the login cache directory."""
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    return tmp_path


def cache_dir(home):
    return home / "login" / "cache"


def cache_file(home, session: str):
    return cache_dir(home) / f"{generate_login_cache_key(session)}.json"


# -- A client that does what `aws login` does --------------------------------------------------------

class CliLogin:
    """`aws login` (``--remote``: cross-device) as the CLI does it, against the stand-in."""

    def __init__(self, standin: SigninStandin, home, *, remote: bool):
        self.standin, self.home, self.remote = standin, home, remote
        self.client_id = CROSS_DEVICE if remote else SAME_DEVICE
        # BaseLoginTokenFetcher.__init__: 64 unreserved characters, challenge with its '=', a UUID.
        self.verifier = "".join(secrets.choice(string.ascii_letters + string.digits + "-._~") for _ in range(64))
        self.challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).decode()
        self.state = uuid.uuid4()
        self.key = loadable_key()

    def authorization_url(self, redirect_uri: str) -> str:
        # _get_authorization_uri: these in this order, then the challenge unencoded, its '=' cut.
        params = {"response_type": "code", "client_id": self.client_id, "state": self.state,
                  "code_challenge_method": "SHA-256", "scope": "openid", "redirect_uri": redirect_uri}
        return (f"{self.standin.url}/v1/authorize?{percent_encode_sequence(params)}"
                f"&code_challenge={self.challenge[:-1]}")

    def sign_in(self, person=None) -> tuple[dict, str]:
        """The browser part and the exchange: (the cache entry, the login session). ``person``
        answers the link as the stand-in's :meth:`sign_in` does (the default)."""
        person = person or self.standin.sign_in
        if self.remote:
            redirect_uri = f"{self.standin.url}/v1/sessions/confirmation"
            visit = person(self.authorization_url(redirect_uri))
            code, state = parse_verification_code(visit.paste_code)
        else:
            callback = Callback().start()
            try:
                redirect_uri = callback.redirect_uri
                person(self.authorization_url(redirect_uri))
                callback.done.wait(10)  # get_auth_code_and_state: the CLI waits up to 10 minutes
                code, state = callback.code, callback.state
            finally:
                callback.stop()
        if code is None:
            raise RuntimeError("Failed to retrieve an authorization code.")
        if state != str(self.state):
            raise RuntimeError("State parameter does not match expected value.")
        return self.exchange(code, redirect_uri)

    def signin_client(self):
        session = botocore.session.Session()
        if session.profile is not None and session.profile not in session.available_profiles:
            # login.py: a profile not written yet is added to the session, or no client can be made.
            session._profile_map[session.profile] = {}
        client = session.create_client(
            "signin", region_name=REGION, endpoint_url=self.standin.url,
            config=botocore.config.Config(signature_version=botocore.UNSIGNED))
        # The CLI registers its (vendored) build_add_dpop_header_handler; botocore's is the same.
        client.meta.events.register("before-call.signin.CreateOAuth2Token", _build_add_dpop_header_handler(self.key))
        return client

    def exchange(self, code: str, redirect_uri: str) -> tuple[dict, str]:
        output = self.signin_client().create_o_auth2_token(tokenInput={
            "clientId": self.client_id, "grantType": "authorization_code", "code": code,
            "codeVerifier": self.verifier, "redirectUri": redirect_uri})["tokenOutput"]
        expires = datetime.now(timezone.utc) + timedelta(seconds=output["expiresIn"])
        session = claims(output["idToken"])["sub"]
        token = {
            "accessToken": {"accessKeyId": output["accessToken"]["accessKeyId"],
                            "secretAccessKey": output["accessToken"]["secretAccessKey"],
                            "sessionToken": output["accessToken"]["sessionToken"],
                            "accountId": session.split(":")[4],
                            "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "tokenType": output["tokenType"], "clientId": self.client_id, "refreshToken": output["refreshToken"],
            "idToken": output["idToken"], "dpopKey": sec1_pem(self.key)}
        return token, session

    def save(self, token: dict, session: str, profile: str = PROFILE) -> None:
        """login.py: the cache entry through LoginCredentialsLoader (botocore's LoginTokenLoader),
        then ``login_session`` (and, when it had to ask, ``region``) into the profile."""
        from awscli.customizations.configure.writer import ConfigFileWriter

        LoginTokenLoader(JSONFileCache(str(cache_dir(self.home)))).save_token(session, token)
        ConfigFileWriter().update_config({"__section__": f"profile {profile}", "login_session": session,
                                          "region": REGION}, str(self.home / "config"))


class Callback:
    """The CLI's AuthCodeFetcher: a server on the loopback address that takes the one redirect
    (``code`` and ``state``, or ``error``) at /oauth/callback."""

    def __init__(self):
        self.code = self.state = self.error = None
        self.done = threading.Event()
        self._server = LoopbackServer(self._take, name="login-callback", methods=("GET",))
        self.redirect_uri = f"{self._server.url}/oauth/callback"

    def start(self) -> Callback:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def _take(self, handler) -> None:
        query = {k: v[0] for k, v in parse_qs(urlparse(handler.path).query).items()}
        if "error" in query:
            self.error = query["error"]
        else:
            self.code, self.state = query.get("code"), query.get("state")
        answer(handler, 200, b"<html><body>You may close this window.</body></html>", "text/html")
        self.done.set()


def loadable_key(*, wanted=lambda key: True):
    """An awscrt P-256 key (login.py: EC.new_generate) that botocore can load again from its SEC1
    PEM, and that satisfies ``wanted``. The CLI does not check: awscrt writes the private scalar
    without its leading zero bytes, so about 1 key in 256 comes back as a 31-byte scalar that
    awscrt itself refuses to read (test_an_awscrt_key_that_awscrt_cannot_read_back ...); a test that
    drew one would fail by chance."""
    for _ in range(5000):
        key = EC.new_generate(ECType.P_256)
        if wanted(key) and sec1_loads(key):
            return key
    raise AssertionError("no such awscrt key in 5000")


def sec1_loads(key) -> bool:
    from awscrt.crypto import ECExportFormat

    try:
        EC.new_key_from_der_data(key.export_key(ECExportFormat.SEC1))
    except RuntimeError:
        return False
    return True


def parse_verification_code(pasted: str) -> tuple[str, str]:
    """CrossDeviceLoginTokenFetcher.parse_verification_code: base64 of 'state=...&code=...'."""
    params = dict(parse_qsl(base64.b64decode(pasted).decode()))
    return params["code"], params["state"]


def sec1_pem(key) -> str:
    """_serialize_to_pem: the key's SEC1 DER in base64, 64 characters a line."""
    from awscrt.crypto import ECExportFormat

    body = base64.b64encode(key.export_key(ECExportFormat.SEC1)).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN EC PRIVATE KEY-----\n{lines}\n-----END EC PRIVATE KEY-----\n"


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- botocore's LoginProvider in a fresh process ----------------------------------------------------

LOAD = """
import json, sys
import boto3, botocore.exceptions
session = boto3.Session()
credentials = session.get_credentials()
frozen = credentials.get_frozen_credentials()
arn = session.client("sts").get_caller_identity()["Arn"]
s3 = session.client("s3")
body = s3.get_object(Bucket=sys.argv[1], Key=sys.argv[2])["Body"].read().decode()
try:
    s3.put_object(Bucket=sys.argv[1], Key="written", Body=b"x")
    put = "allowed"
except botocore.exceptions.ClientError as error:
    put = error.response["Error"]["Code"]
print(json.dumps({"method": credentials.method, "key": frozen.access_key, "arn": arn, "body": body, "put": put}))
"""


def fresh_environ(home, standin, aws, profile: str = PROFILE) -> dict[str, str]:
    """Nothing of this process's AWS settings: the profile, the cache, the two endpoints."""
    return {"PATH": os.environ["PATH"], "HOME": str(home), "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_PROFILE": profile,
            "AWS_LOGIN_CACHE_DIRECTORY": str(cache_dir(home)), "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": aws.url, **standin.environ()}


def load_in_fresh_process(home, standin, aws, **extra) -> dict:
    done = subprocess.run([sys.executable, "-c", LOAD, BUCKET, KEY], capture_output=True, text=True, timeout=60,
                          env={**fresh_environ(home, standin, aws), **extra})
    assert done.returncode == 0, f"{done.stderr[-1500:]}\nthe stand-in saw: {standin.calls}"
    for value in standin.secrets():
        assert value not in done.stdout + done.stderr
    return json.loads(done.stdout)


def near_expiry(home, session: str, seconds: int) -> dict:
    """The cache entry as it is ``seconds`` before its credentials expire (the CLI wrote it 15
    minutes earlier); returns it."""
    path = cache_file(home, session)
    token = json.loads(path.read_text())
    token["accessToken"]["expiresAt"] = (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(token))
    return token


def test_botocore_refreshes_a_cli_written_session_near_expiry_and_reads_s3_with_iam_auth_on(signin, aws, home):
    login = CliLogin(signin, home, remote=True)
    token, session = login.sign_in()
    login.save(token, session)
    before = near_expiry(home, session, 120)
    aws.set_auth(True)

    seen = load_in_fresh_process(home, signin, aws)

    # Two minutes left, under botocore's five: one refresh_token grant, its DPoP proof accepted.
    assert [(c["grantType"], c["dpop"], c["result"]) for c in signin.token_calls()] == [
        ("authorization_code", "accepted", "ok"), ("refresh_token", "accepted", "ok")]
    after = json.loads(cache_file(home, session).read_text())
    assert seen == {"method": "login", "key": after["accessToken"]["accessKeyId"],
                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice", "body": CONTENT, "put": "AccessDenied"}
    assert seen["arn"] == session == signin.person.session_arn
    # botocore rewrote the file: new credentials and refresh token, 15 minutes, the rest kept.
    assert after["refreshToken"] != before["refreshToken"] and after["refreshToken"].startswith("ASOR")
    assert after["accessToken"]["accessKeyId"] != before["accessToken"]["accessKeyId"]
    expires = datetime.strptime(after["accessToken"]["expiresAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((expires - datetime.now(timezone.utc)).total_seconds() - 900) < 30
    assert {k: v for k, v in after.items() if k not in ("accessToken", "refreshToken")} == \
           {k: v for k, v in before.items() if k not in ("accessToken", "refreshToken")}
    assert after["accessToken"]["accountId"] == ACCOUNT
    assert stat.S_IMODE(cache_file(home, session).stat().st_mode) == 0o600
    # Rotated: once the new refresh token is used, the one botocore spent is refused.
    client = login.signin_client()
    client.create_o_auth2_token(tokenInput={"clientId": CROSS_DEVICE, "grantType": "refresh_token",
                                            "refreshToken": after["refreshToken"]})
    with pytest.raises(client.exceptions.AccessDeniedException) as refused:
        client.create_o_auth2_token(tokenInput={"clientId": CROSS_DEVICE, "grantType": "refresh_token",
                                                "refreshToken": before["refreshToken"]})
    assert refused.value.response["error"] == "TOKEN_EXPIRED"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


@pytest.mark.parametrize("remote", [False, True], ids=["same-device", "cross-device"])
def test_the_cli_flow_signs_in_and_botocore_loads_what_it_wrote(signin, aws, home, remote):
    login = CliLogin(signin, home, remote=remote)
    token, session = login.sign_in()
    login.save(token, session)
    aws.set_auth(True)

    seen = load_in_fresh_process(home, signin, aws)

    # Fresh 15-minute credentials: botocore reads the file again but calls nobody (over 5 minutes).
    assert [c["grantType"] for c in signin.token_calls()] == ["authorization_code"]
    assert seen["key"] == token["accessToken"]["accessKeyId"] and seen["body"] == CONTENT
    assert seen["arn"] == session and seen["put"] == "AccessDenied"
    assert (home / "config").read_text() == f"[profile {PROFILE}]\nlogin_session = {session}\nregion = {REGION}\n"
    assert set(token) == {"accessToken", "tokenType", "clientId", "refreshToken", "idToken", "dpopKey"}
    assert token["tokenType"] == "aws_sigv4" and token["clientId"] == login.client_id
    assert claims(token["idToken"])["aud"] == login.client_id


def test_without_awscrt_botocore_refuses_a_login_profile_and_names_the_extra(signin, aws, home):
    login = CliLogin(signin, home, remote=True)
    login.save(*login.sign_in())
    # BOTO_DISABLE_CRT is botocore's switch for "as if awscrt were not installed".
    done = subprocess.run([sys.executable, "-c", LOAD, BUCKET, KEY], capture_output=True, text=True, timeout=60,
                          env={**fresh_environ(home, signin, aws), "BOTO_DISABLE_CRT": "true"})
    assert done.returncode != 0
    assert 'pip install "botocore[crt]"' in done.stderr and "MissingDependencyException" in done.stderr


# -- botocore in this process: when it calls, and what it makes of each refusal ----------------------

@pytest.fixture
def login_environ(signin, home, monkeypatch):
    """This process set up as the fresh one is (the aws fixture's own user keys removed)."""
    for name, value in fresh_environ(home, signin, signin.aws).items():
        if name != "PATH":
            monkeypatch.setenv(name, value)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def signed_in(signin, home) -> str:
    login = CliLogin(signin, home, remote=True)
    token, session = login.sign_in()
    login.save(token, session)
    return session


@pytest.mark.parametrize("left, calls", [(6 * 60, 0), (4 * 60, 1)], ids=["6-minutes-left", "4-minutes-left"])
def test_botocore_calls_the_service_only_under_five_minutes(signin, home, login_environ, left, calls):
    session = signed_in(signin, home)
    near_expiry(home, session, left)
    credentials = botocore.session.Session().get_credentials()
    assert credentials.method == "login"
    credentials.get_frozen_credentials()
    assert len(signin.token_calls()) == 1 + calls


@pytest.mark.parametrize("act, error, raised", [
    (lambda s: s.revoke_sessions(), "TOKEN_EXPIRED", LoginRefreshRequired),
    (lambda s: s.change_credentials("Admin"), "USER_CREDENTIALS_CHANGED", LoginRefreshRequired),
    (lambda s: s.forbid("Admin"), "INSUFFICIENT_PERMISSIONS", LoginInsufficientPermissions),
], ids=["TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED", "INSUFFICIENT_PERMISSIONS"])
def test_login_provider_reads_each_refusal_as_the_service_means_it(signin, home, login_environ, act, error, raised):
    session = signed_in(signin, home)
    near_expiry(home, session, 60)
    act(signin)
    credentials = botocore.session.Session().get_credentials()
    with pytest.raises(raised) as caught:
        credentials.get_frozen_credentials()  # a mandatory refresh: botocore raises what failed
    assert signin.token_calls()[-1]["result"] == error
    assert not any(value in str(caught.value) for value in signin.secrets())


def test_the_person_answers_in_a_browser_of_their_own_while_the_cli_waits(signin, home):
    opened = signin.browser("deny")  # what %aws_login's tests can put in place of webbrowser.open
    with pytest.raises(RuntimeError, match="Failed to retrieve an authorization code"):
        CliLogin(signin, home, remote=False).sign_in(person=opened)
    visit = first_visit(opened)
    assert visit.query["error"] == "access_denied" and visit.callback[0] == 200
    signed = signin.browser()
    _, session = CliLogin(signin, home, remote=False).sign_in(person=signed)
    assert session == signin.person.session_arn and first_visit(signed).callback[0] == 200


def first_visit(opened):
    """The browser thread records its visit after the callback answered it: wait that moment."""
    for _ in range(500):
        if opened.visits:
            return opened.visits[0]
        time.sleep(0.01)
    raise AssertionError("the browser never finished its visit")


def test_botocore_retries_with_the_proof_it_made_once_which_a_jti_check_refuses(signin, home, monkeypatch):
    """botocore builds the DPoP header at before-call, once per API call, and resends it on a
    retry. Whether AWS refuses a replayed jti is not published (RFC 9449 lets it); here it does."""
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
    login = CliLogin(signin, home, remote=True)
    token, _ = login.sign_in()
    signin.fault("status", grant="refresh_token", times=1)  # a proxy's 503 after the service did its work
    client = login.signin_client()
    with pytest.raises(client.exceptions.ValidationException, match="jti was used before"):
        client.create_o_auth2_token(tokenInput={"clientId": CROSS_DEVICE, "grantType": "refresh_token",
                                                "refreshToken": token["refreshToken"]})
    # A fresh proof (a new call) gets the rotation's answer again: the model's idempotent refresh.
    again = client.create_o_auth2_token(tokenInput={"clientId": CROSS_DEVICE, "grantType": "refresh_token",
                                                    "refreshToken": token["refreshToken"]})
    assert signin.token_calls()[-1]["replayed"] and again["tokenOutput"]["refreshToken"] in signin.secrets()


def test_the_id_token_names_the_login_session_and_botocore_sends_the_proof_to_the_token_url(signin, home):
    login = CliLogin(signin, home, remote=False)
    token, session = login.sign_in()
    said = claims(token["idToken"])
    assert said["sub"] == said["session_arn"] == session == signin.person.session_arn
    assert said["exp"] - said["iat"] == 900 and said["aud"] == SAME_DEVICE
    assert signin.token_calls()[-1]["dpop"] == "accepted"


# -- Each refusal, as the service answers it ------------------------------------------------------------

class Prover:
    """A DPoP key and proofs with it (RFC 9449 4.2); keywords replace parts of a good proof."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        numbers = self.key.public_key().public_numbers()
        self.x, self.y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")

    def jwk(self) -> dict:
        return {"kty": "EC", "crv": "P-256", "x": b64url(self.x), "y": b64url(self.y)}

    def proof(self, htu: str, iat: int, *, header: dict | None = None, payload: dict | None = None,
              signer=None, signature: bytes | None = None) -> str:
        head = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk(), **(header or {})}
        body = {"htm": "POST", "htu": htu, "iat": iat, "jti": str(uuid.uuid4()), **(payload or {})}
        head = {k: v for k, v in head.items() if v is not None}
        body = {k: v for k, v in body.items() if v is not None}
        signing_input = f"{b64url(json.dumps(head).encode())}.{b64url(json.dumps(body).encode())}"
        if signature is None:
            r, s = decode_dss_signature((signer or self.key).sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{b64url(signature)}"


def post_token(standin: SigninStandin, body: dict, proof: str | None) -> tuple[int, str, dict]:
    """CreateOAuth2Token on the wire: (status, x-amzn-ErrorType, JSON body)."""
    connection = http.client.HTTPConnection("127.0.0.1", urlparse(standin.url).port, timeout=10)
    headers = {"Content-Type": "application/json", **({"DPoP": proof} if proof else {})}
    try:
        connection.request("POST", "/v1/token", body=json.dumps(body).encode(), headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("x-amzn-ErrorType", ""), json.loads(response.read() or b"{}")
    finally:
        connection.close()


class Flow:
    """One sign-in on the wire, each step in the test's hands."""

    def __init__(self, standin: SigninStandin, *, client: str = CROSS_DEVICE):
        self.standin, self.client = standin, client
        self.prover = Prover()
        self.verifier = secrets.token_urlsafe(48)
        self.redirect = standin.confirmation_url if client == CROSS_DEVICE else "http://127.0.0.1:9/oauth/callback"

    def url(self, **params) -> str:
        query = {"response_type": "code", "client_id": self.client, "state": "s-1", "code_challenge_method": "SHA-256",
                 "scope": "openid", "redirect_uri": self.redirect,
                 "code_challenge": base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).decode()[:-1],
                 **params}
        return f"{self.standin.url}/v1/authorize?{percent_encode_sequence({k: v for k, v in query.items() if v is not None})}"

    def code(self) -> str:
        return self.standin.sign_in(self.url(), follow=False).query["code"]

    def now(self) -> int:
        return int(self.standin.clock().timestamp())

    def token(self, body: dict, proof: str | None = "good") -> tuple[int, str, dict]:
        if proof == "good":
            proof = self.prover.proof(self.standin.token_url, self.now())
        return post_token(self.standin, {"clientId": self.client, **body}, proof)

    def redeem(self, code: str, **changes) -> tuple[int, str, dict]:
        body = {"grantType": "authorization_code", "code": code, "codeVerifier": self.verifier,
                "redirectUri": self.redirect, **changes}
        return self.token({k: v for k, v in body.items() if v is not None})

    def refresh(self, refresh_token: str, proof: str | None = "good") -> tuple[int, str, dict]:
        return self.token({"grantType": "refresh_token", "refreshToken": refresh_token}, proof)


REFUSED = {"AUTHCODE_EXPIRED": (401, "AccessDeniedException"), "TOKEN_EXPIRED": (401, "AccessDeniedException"),
           "USER_CREDENTIALS_CHANGED": (403, "AccessDeniedException"),
           "INSUFFICIENT_PERMISSIONS": (403, "AccessDeniedException"), "INVALID_REQUEST": (400, "ValidationException")}


def assert_refused(result: tuple[int, str, dict], error: str, standin: SigninStandin) -> None:
    status, error_type, body = result
    assert (status, error_type, body.get("error")) == (*REFUSED[error], error), result
    assert body.get("message") and set(body) == {"error", "message"}
    assert not any(value in json.dumps(body) for value in standin.secrets())


def test_a_code_is_single_use(signin):
    flow = Flow(signin)
    code = flow.code()
    status, _, issued = flow.redeem(code)
    assert status == 200 and set(issued) == {"accessToken", "tokenType", "expiresIn", "refreshToken", "idToken"}
    assert issued["tokenType"] == "aws_sigv4" and issued["expiresIn"] == 900
    assert_refused(flow.redeem(code), "AUTHCODE_EXPIRED", signin)


def test_a_form_encoded_redemption_gets_the_same_answer(signin):
    """The model's documentation allows OAuth's own form body; the answer is the same JSON."""
    flow = Flow(signin)
    form = urlencode({"client_id": flow.client, "grant_type": "authorization_code", "code": flow.code(),
                      "code_verifier": flow.verifier, "redirect_uri": flow.redirect})
    connection = http.client.HTTPConnection("127.0.0.1", urlparse(signin.url).port, timeout=10)
    try:
        connection.request("POST", "/v1/token", body=form.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "DPoP": flow.prover.proof(signin.token_url, flow.now())})
        response = connection.getresponse()
        issued = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 200 and issued["tokenType"] == "aws_sigv4" and "idToken" in issued


def test_a_code_expires(signin, clock):
    flow = Flow(signin)
    code = flow.code()
    clock.advance(signin.code_lifetime)
    assert_refused(flow.redeem(code), "AUTHCODE_EXPIRED", signin)


@pytest.mark.parametrize("changes", [
    {"codeVerifier": secrets.token_urlsafe(48)},
    {"redirectUri": "http://127.0.0.1:9/elsewhere"},
    {"redirectUri": None},
    {"clientId": SAME_DEVICE},
    {"codeVerifier": "short"},
    {"grantType": "client_credentials"},
], ids=["wrong-verifier", "other-redirect", "no-redirect", "other-client", "short-verifier", "other-grant"])
def test_a_redemption_that_does_not_match_the_request_is_invalid(signin, changes):
    flow = Flow(signin)
    code = flow.code()
    assert_refused(flow.redeem(code, **changes), "INVALID_REQUEST", signin)
    assert flow.redeem(code)[0] == 200  # a refused attempt did not spend the code


@pytest.mark.parametrize("params, problem", [
    ({"state": None}, "state is required"),
    ({"code_challenge_method": "S256"}, "code_challenge_method must be SHA-256"),
    ({"code_challenge": None}, "code_challenge must be"),
    ({"code_challenge": "YWJj="}, "code_challenge must be"),
    ({"response_type": "token"}, "response_type must be code"),
    ({"scope": "profile"}, "scope must include openid"),
], ids=["no-state", "S256", "no-challenge", "padded-challenge", "implicit", "no-openid"])
def test_an_invalid_authorization_request_is_sent_back_to_the_client(signin, params, problem):
    visit = signin.sign_in(Flow(signin).url(**params), follow=False)
    assert visit.status == 302 and visit.location.startswith(signin.confirmation_url)
    assert visit.query["error"] == "invalid_request" and visit.query["error_description"].startswith(problem)
    assert ("state" in visit.query) == ("state" not in params) and "code" not in visit.query


@pytest.mark.parametrize("client, redirect", [
    ("arn:aws:signin:::devtools/elsewhere", None),
    (SAME_DEVICE, "http://localhost:8080/oauth/callback"),
    (SAME_DEVICE, "https://127.0.0.1:8080/oauth/callback"),
    (SAME_DEVICE, "http://127.0.0.1/oauth/callback"),
    (SAME_DEVICE, "http://attacker.example/oauth/callback"),
    (SAME_DEVICE, "CONFIRMATION"),
    (CROSS_DEVICE, "http://127.0.0.1:8080/oauth/callback"),
    (CROSS_DEVICE, "https://attacker.example/v1/sessions/confirmation"),
], ids=["unknown-client", "localhost", "https-loopback", "no-port", "remote", "same-device-to-confirmation",
        "cross-device-to-loopback", "cross-device-elsewhere"])
def test_an_unknown_client_or_redirect_gets_an_error_page_and_no_redirect(signin, client, redirect):
    flow = Flow(signin, client=client if client in (SAME_DEVICE, CROSS_DEVICE) else CROSS_DEVICE)
    redirect = signin.confirmation_url if redirect == "CONFIRMATION" else redirect
    visit = signin.sign_in(flow.url(client_id=client, redirect_uri=redirect or flow.redirect))
    assert visit.status == 400 and visit.location is None and "Sign-in error" in visit.page


def test_a_denied_sign_in_redirects_with_access_denied_and_the_state(signin):
    callback = Callback().start()
    try:
        flow = Flow(signin, client=SAME_DEVICE)
        flow.redirect = callback.redirect_uri
        visit = signin.deny(flow.url())
    finally:
        callback.stop()
    assert visit.query == {"error": "access_denied", "state": "s-1"} and callback.error == "access_denied"
    assert visit.callback[0] == 200 and callback.code is None


def test_the_confirmation_page_shows_state_and_code_in_base64_for_pasting(signin):
    flow = Flow(signin)
    visit = signin.sign_in(flow.url())
    assert visit.status == 200 and visit.paste_code in signin.secrets()
    code, state = parse_verification_code(visit.paste_code)
    assert state == "s-1" and flow.redeem(code)[0] == 200
    assert len(code) > 512  # past the model's maximum, as real codes are


def bad_proofs(flow: Flow):
    """Each way a DPoP proof can be wrong, as (name, proof)."""
    url, now, prover = flow.standin.token_url, flow.now(), flow.prover
    replayed = prover.proof(url, now)
    flow.refresh("ASOR-unknown", replayed)  # its jti is now spent
    private = {**prover.jwk(), "d": b64url(prover.key.private_numbers().private_value.to_bytes(32, "big"))}
    return [
        ("missing", None),
        ("not-a-jws", "abc.def"),
        ("typ-jwt", prover.proof(url, now, header={"typ": "JWT"})),
        ("alg-none", prover.proof(url, now, header={"alg": "none"})),
        ("no-jwk", prover.proof(url, now, header={"jwk": None})),
        ("private-jwk", prover.proof(url, now, header={"jwk": private})),
        ("htm-get", prover.proof(url, now, payload={"htm": "GET"})),
        ("htu-elsewhere", prover.proof("https://us-east-1.signin.aws.amazon.com/v1/token", now)),
        ("stale-iat", prover.proof(url, now - flow.standin.dpop_leeway - 1)),
        ("future-iat", prover.proof(url, now + flow.standin.dpop_leeway + 1)),
        ("no-jti", prover.proof(url, now, payload={"jti": None})),
        ("replayed-jti", replayed),
        ("other-signer", prover.proof(url, now, signer=ec.generate_private_key(ec.SECP256R1()))),
        ("der-signature", prover.proof(url, now, signature=b"\x30" * 70)),
    ]


def test_every_token_call_needs_a_valid_dpop_proof(signin):
    flow = Flow(signin)
    code = flow.code()
    for name, proof in bad_proofs(flow):
        result = flow.token({"grantType": "authorization_code", "code": code, "codeVerifier": flow.verifier,
                             "redirectUri": flow.redirect}, proof)
        assert_refused(result, "INVALID_REQUEST", signin)
        assert "DPoP" in result[2]["message"], name
    assert flow.redeem(code)[0] == 200  # nothing above spent the code


def signed_in_flow(signin) -> tuple[Flow, dict]:
    flow = Flow(signin)
    status, _, issued = flow.redeem(flow.code())
    assert status == 200
    return flow, issued


def test_a_refresh_token_is_bound_to_the_key_that_redeemed_the_code(signin):
    flow, issued = signed_in_flow(signin)
    stranger = Prover().proof(signin.token_url, flow.now())
    assert_refused(flow.refresh(issued["refreshToken"], stranger), "INVALID_REQUEST", signin)
    assert flow.refresh(issued["refreshToken"])[0] == 200


def test_a_refresh_rotates_the_token_and_replays_until_the_successor_is_used(signin):
    flow, issued = signed_in_flow(signin)
    first = flow.refresh(issued["refreshToken"])
    assert first[0] == 200 and first[2]["refreshToken"] != issued["refreshToken"] and "idToken" not in first[2]
    # The model: "idempotent within token validity window": the spent token gets the same answer.
    again = flow.refresh(issued["refreshToken"])
    assert again[2]["refreshToken"] == first[2]["refreshToken"]
    assert again[2]["accessToken"] == first[2]["accessToken"] and signin.token_calls()[-1]["replayed"]
    assert flow.refresh(first[2]["refreshToken"])[0] == 200
    assert_refused(flow.refresh(issued["refreshToken"]), "TOKEN_EXPIRED", signin)


def test_a_spent_refresh_token_is_refused_after_the_replay_window(signin, clock):
    flow, issued = signed_in_flow(signin)
    flow.refresh(issued["refreshToken"])
    clock.advance(signin.replay_window)
    assert_refused(flow.refresh(issued["refreshToken"]), "TOKEN_EXPIRED", signin)


def test_the_login_session_ends_after_its_lifetime(signin, clock):
    flow, issued = signed_in_flow(signin)
    clock.advance(signin.session_lifetime - 600)
    status, _, renewed = flow.refresh(issued["refreshToken"])
    assert status == 200 and renewed["expiresIn"] == 600  # never past the session's end
    clock.advance(600)
    assert_refused(flow.refresh(renewed["refreshToken"]), "TOKEN_EXPIRED", signin)
    assert_refused(flow.refresh("ASOR" + "x" * 40), "TOKEN_EXPIRED", signin)


def test_changed_credentials_end_earlier_sessions_but_not_a_new_sign_in(signin, clock):
    flow, issued = signed_in_flow(signin)
    clock.advance(1)
    signin.change_credentials("Admin")
    assert_refused(flow.refresh(issued["refreshToken"]), "USER_CREDENTIALS_CHANGED", signin)
    clock.advance(1)
    again, renewed = signed_in_flow(signin)
    assert again.refresh(renewed["refreshToken"])[0] == 200


def test_insufficient_permissions_refuses_both_grants(signin):
    flow, issued = signed_in_flow(signin)
    signin.forbid("Admin")
    assert_refused(flow.refresh(issued["refreshToken"]), "INSUFFICIENT_PERMISSIONS", signin)
    other = Flow(signin)
    assert_refused(other.redeem(other.code()), "INSUFFICIENT_PERMISSIONS", signin)


def test_botocore_reads_the_refusals_where_login_provider_looks(signin, home):
    client = CliLogin(signin, home, remote=True).signin_client()
    with pytest.raises(client.exceptions.AccessDeniedException) as refused:
        client.create_o_auth2_token(tokenInput={"clientId": CROSS_DEVICE, "grantType": "refresh_token",
                                                "refreshToken": "ASOR" + "x" * 40})
    assert refused.value.response["error"] == "TOKEN_EXPIRED"
    with pytest.raises(client.exceptions.ValidationException) as invalid:
        client.create_o_auth2_token(tokenInput={"clientId": CROSS_DEVICE, "grantType": "authorization_code",
                                                "code": "c", "codeVerifier": "!" * 43, "redirectUri": "x"})
    assert invalid.value.response["error"] == "INVALID_REQUEST"


def test_botocores_proof_from_a_key_with_a_short_coordinate_is_padded_or_refused(signin, home):
    login = CliLogin(signin, home, remote=True)
    # About 1 key in 128 has a coordinate that awscrt gives as 31 bytes.
    login.key = loadable_key(wanted=lambda key: min(len(c) for c in key.get_public_coords()) < 32)
    token, _ = login.sign_in()
    assert signin.token_calls()[-1].get("short_coordinate")
    signin.pad_short_coordinates = False
    client = login.signin_client()
    with pytest.raises(client.exceptions.ValidationException):
        client.create_o_auth2_token(tokenInput={"clientId": CROSS_DEVICE, "grantType": "refresh_token",
                                                "refreshToken": token["refreshToken"]})


def test_an_awscrt_key_that_awscrt_cannot_read_back_breaks_botocores_refresh(signin, home, login_environ):
    """awscrt's SEC1 export drops the private scalar's leading zero bytes (RFC 5915 wants all 32);
    its own parser then refuses the key, and botocore's _load_private_key, which catches only
    ValueError, lets the RuntimeError through. `aws login` stores keys made this way."""
    session = signed_in(signin, home)
    unreadable = None
    for _ in range(5000):  # about 1 in 256
        key = EC.new_generate(ECType.P_256)
        if not sec1_loads(key):
            unreadable = key
            break
    assert unreadable is not None, "awscrt exported no short scalar in 5000 keys: fixed upstream?"
    token = near_expiry(home, session, 60)
    token["dpopKey"] = sec1_pem(unreadable)
    cache_file(home, session).write_text(json.dumps(token))
    with pytest.raises(RuntimeError, match="AWS_ERROR_CAL_UNSUPPORTED_KEY_FORMAT"):
        botocore.session.Session().get_credentials().get_frozen_credentials()
    assert len(signin.token_calls()) == 1  # it failed before any call


# -- Damaged and failing answers ------------------------------------------------------------------------

def test_a_cut_refresh_answer_rotated_the_token_and_the_retry_gets_the_same_answer(signin):
    flow, issued = signed_in_flow(signin)
    signin.fault("cut", grant="refresh_token", times=1)
    with pytest.raises((http.client.HTTPException, ValueError)):
        flow.refresh(issued["refreshToken"])
    status, _, answer_ = flow.refresh(issued["refreshToken"])
    assert status == 200 and signin.token_calls()[-1]["replayed"]
    assert answer_["refreshToken"] in signin.secrets()


@pytest.mark.parametrize("status, error_type, error", [
    (500, "InternalServerException", "server_error"), (429, "TooManyRequestsError", "INVALID_REQUEST"),
    (400, "ValidationException", "INVALID_REQUEST")])
def test_an_injected_service_error_does_no_work(signin, status, error_type, error):
    flow, issued = signed_in_flow(signin)
    signin.fault("error", status=status, times=1)
    assert flow.refresh(issued["refreshToken"])[:2] == (status, error_type)
    assert flow.refresh(issued["refreshToken"])[0] == 200 and not signin.token_calls()[-1].get("replayed")


@pytest.mark.parametrize("kind, seen", [
    ("html", lambda r: r[0] == 200 and "HotelNet" in r[2]),
    ("status", lambda r: r[0] == 503),
    ("malformed", lambda r: r[0] == 200 and r[2] is None),
    ("empty_key", lambda r: r[0] == 200 and json.loads(r[2])["accessToken"]["accessKeyId"] == ""),
])
def test_a_damaged_answer_comes_after_the_work(signin, kind, seen):
    flow = Flow(signin)
    code = flow.code()
    signin.fault(kind, grant="authorization_code", times=1)
    assert seen(raw_redeem(flow, code)), kind
    # The service did its work before the network damaged the answer: the code is spent.
    assert_refused(flow.redeem(code), "AUTHCODE_EXPIRED", signin)


def raw_redeem(flow: Flow, code: str) -> tuple[int, str, str | None]:
    """A redemption whose answer may not be JSON: (status, content type, text or None if undecodable)."""
    body = {"clientId": flow.client, "grantType": "authorization_code", "code": code,
            "codeVerifier": flow.verifier, "redirectUri": flow.redirect}
    connection = http.client.HTTPConnection("127.0.0.1", urlparse(flow.standin.url).port, timeout=10)
    try:
        connection.request("POST", "/v1/token", body=json.dumps(body).encode(),
                           headers={"DPoP": flow.prover.proof(flow.standin.token_url, flow.now())})
        response = connection.getresponse()
        text = response.read().decode()
    finally:
        connection.close()
    if response.getheader("Content-Type", "").startswith("application/json"):
        try:
            json.loads(text)
        except ValueError:
            text = None
    return response.status, response.getheader("Content-Type", ""), text


def test_no_secret_in_the_records_or_refusals(signin, home):
    login = CliLogin(signin, home, remote=False)
    token, _ = login.sign_in()
    flow, issued = signed_in_flow(signin)
    flow.refresh(issued["refreshToken"])
    flow.refresh("ASOR" + "y" * 40)
    recorded = repr(signin.calls)
    assert token["refreshToken"] in signin.secrets() and token["accessToken"]["secretAccessKey"] in signin.secrets()
    assert not any(value in recorded for value in signin.secrets())
    assert "BEGIN EC PRIVATE KEY" not in recorded
