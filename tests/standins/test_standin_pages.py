"""The pages a person's browser meets at the stand-ins in `make demo` (tests/standin_pages.py): the
Identity Center verification page approves or denies the sign-in the notebook waits for, and a
console sign-in lands on a local page naming who signed in (the real console is not there)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest

import ipy_tempcreds as tc
from federation_standin import Standin
from ipy_tempcreds import api
from sso_standin import SsoStandin
from support import role_arn


def fetch(url: str, form: dict | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def sso_oidc(aws):
    import boto3

    standin = SsoStandin(aws).start()
    oidc = boto3.client("sso-oidc", endpoint_url=standin.url, region_name="us-east-1")
    client = oidc.register_client(clientName="demo", clientType="public")
    yield standin, oidc, client
    standin.stop()


def start(oidc, client):
    return oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                           startUrl="https://demo.awsapps.com/start")


def token(oidc, client, device):
    return oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
                             grantType="urn:ietf:params:oauth:grant-type:device_code",
                             deviceCode=device["deviceCode"])


@pytest.mark.parametrize("decision", ["allow", "deny"])
def test_the_verification_page_shows_the_code_and_the_persons_answer_decides(sso_oidc, decision):
    standin, oidc, client = sso_oidc
    device = start(oidc, client)
    status, page = fetch(device["verificationUriComplete"])
    assert status == 200 and device["userCode"] in page and "Allow" in page and "Deny" in page
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        token(oidc, client, device)  # nobody answered yet
    status, page = fetch(f"{standin.url}/device", {"user_code": device["userCode"], "decision": decision})
    assert status == 200
    if decision == "allow":
        assert "allowed: go back to the notebook" in page
        assert token(oidc, client, device)["accessToken"]
    else:
        assert "was denied" in page
        with pytest.raises(oidc.exceptions.AccessDeniedException):
            token(oidc, client, device)


def test_an_unknown_code_is_said_and_changes_nothing(sso_oidc):
    standin, oidc, client = sso_oidc
    device = start(oidc, client)
    status, page = fetch(f"{standin.url}/device", {"user_code": "<b>NOPE</b>", "decision": "allow"})
    assert status == 404 and "&lt;b&gt;NOPE&lt;/b&gt;" in page and "<b>NOPE" not in page
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        token(oidc, client, device)


def test_a_console_sign_in_lands_on_a_page_naming_the_role_and_the_console_page(aws, monkeypatch):
    import os

    standin = Standin(aws.url, landing=True).start()
    try:
        aws.create_role("Reader", [aws.base_user.arn])
        aws.set_auth(True)
        monkeypatch.setitem(os.environ, "AWS_ENDPOINT_URL_STS", standin.url)
        api.get_settings().signin_endpoint = standin.endpoint
        grant = tc.assume_role(role_arn("Reader"), session_name="landing")
        status, page = fetch(str(tc.console_url("s3")))
        assert status == 200 and "Signed in to the AWS console" in page
        assert grant.arn in page and "console.aws.amazon.com/s3/" in page, page
        assert standin.logins[0][0] == grant.arn
    finally:
        standin.stop()
