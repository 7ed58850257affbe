"""Raw HTTP with the active credentials: SigV4-signed requests (requests, urllib) and presigned
S3 URLs, against the local S3/STS.

Signed requests are checked by moto with IAM auth on: it verifies the signature, the key, the
session token and the role's policy. moto cannot check query-string signatures with IAM auth on
(it answers 500: it looks for an Authorization header), so presigned URLs are fetched with auth
off (proving they address the object) and their signature is verified by ``verify_presigned``
below, written from AWS's published SigV4 algorithm independently of botocore.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.error
import urllib.request
import warnings
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

requests = pytest.importorskip("requests")

import ipy_tempcreds as tc  # noqa: E402
from aws_standin import ACCOUNT, allow  # noqa: E402
from ipy_tempcreds import api  # noqa: E402
from support import role_arn  # noqa: E402

A = role_arn("A")


@pytest.fixture
def world(aws):
    alice = aws.base_user
    aws.create_role("A", [alice.arn], allow(["s3:*", "sts:GetCallerIdentity"],
                                            ["arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-a/*"]))
    aws.create_bucket("bucket-a", {"data.csv": b"owner,n\na,1\n"})
    aws.create_bucket("bucket-b", {"data.csv": b"owner,n\nb,2\n"})
    return aws


@pytest.fixture
def auth_on(world):
    world.set_auth(True)
    return world


def object_url(aws, bucket: str, key: str) -> str:
    return f"{aws.url}/{bucket}/{key}"


def fetch(request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# -- signed requests -------------------------------------------------------------------------------

def test_requests_auth_object_reads_what_the_role_may_read(auth_on):
    api.assume_role(A, session_name="raw")
    auth = tc.SigV4Auth("s3")
    response = requests.get(object_url(auth_on, "bucket-a", "data.csv"), auth=auth, timeout=10)
    assert response.status_code == 200 and response.content == b"owner,n\na,1\n"
    assert response.request.headers["X-Amz-Security-Token"] == api.current().credentials.session_token
    assert "X-Amz-Security-Token" not in response.request.url  # header or query, never both
    # The role's policy applies: bucket-b is not the role's.
    assert requests.get(object_url(auth_on, "bucket-b", "data.csv"), auth=auth, timeout=10).status_code == 403


def test_a_put_with_a_body_is_signed_and_stored(auth_on):
    api.assume_role(A, session_name="raw")
    url = object_url(auth_on, "bucket-a", "new.txt")
    assert requests.put(url, data=b"hello", auth=tc.SigV4Auth("s3"), timeout=10).status_code == 200
    assert requests.get(url, auth=tc.SigV4Auth("s3"), timeout=10).content == b"hello"


def test_missing_or_wrong_token_is_rejected_and_the_right_one_accepted(auth_on):
    api.assume_role(A, session_name="raw")
    session = requests.Session()

    def signed():
        prepared = session.prepare_request(requests.Request("GET", object_url(auth_on, "bucket-a", "data.csv")))
        return tc.sign(prepared, service="s3")

    assert session.send(signed(), timeout=10).status_code == 200
    missing = signed()
    del missing.headers["X-Amz-Security-Token"]
    response = session.send(missing, timeout=10)
    # Without its token a temporary key is unknown to AWS.
    assert (response.status_code, error_code(response)) == (403, "InvalidAccessKeyId")
    wrong = signed()
    token = wrong.headers["X-Amz-Security-Token"]
    wrong.headers["X-Amz-Security-Token"] = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = session.send(wrong, timeout=10)
    assert (response.status_code, error_code(response)) == (400, "InvalidToken")


def error_code(response) -> str:
    found = re.search(r"<Code>([^<]+)</Code>", response.text)
    return found.group(1) if found else response.text[:100]


def test_urllib_request_and_another_service(auth_on):
    api.assume_role(A, session_name="via-urllib")
    status, body = fetch(tc.sign(urllib.request.Request(object_url(auth_on, "bucket-a", "data.csv"))))
    assert (status, body) == (200, b"owner,n\na,1\n")
    # STS over a raw POST: AWS names the identity that signed it.
    request = urllib.request.Request(
        auth_on.url + "/", data=b"Action=GetCallerIdentity&Version=2011-06-15", method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    status, body = fetch(tc.sign(request, service="sts"))
    assert status == 200 and f"arn:aws:sts::{ACCOUNT}:assumed-role/A/via-urllib".encode() in body


def test_signing_again_replaces_the_signature_and_follows_a_renewal(auth_on):
    api.assume_role(A, session_name="raw")
    request = urllib.request.Request(object_url(auth_on, "bucket-a", "data.csv"))
    tc.sign(request)
    api.refresh()
    tc.sign(request)
    names = [name.lower() for name, _ in request.header_items()]
    assert names.count("authorization") == 1 and names.count("x-amz-security-token") == 1
    assert request.get_header("X-amz-security-token") == api.current().credentials.session_token
    assert fetch(request)[0] == 200


def test_signing_without_active_credentials_says_what_to_do(world):
    request = urllib.request.Request(object_url(world, "bucket-a", "data.csv"))
    with pytest.raises(tc.TempCredsError, match="assume a role"):
        tc.sign(request)
    with pytest.raises(tc.TempCredsError, match="cannot sign a str"):
        api.assume_role(A)
        tc.sign("https://example.invalid/")
    assert "secret" not in repr(tc.SigV4Auth("s3")).lower()


# -- presigned URLs --------------------------------------------------------------------------------

def verify_presigned(url: str, secret: str, region: str = "us-east-1", service: str = "s3") -> bool:
    """Check a SigV4 query-string signature as AWS does (an independent oracle: the canonical
    request over the exact query received, string to sign, HMAC key chain)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(query).get("X-Amz-Signature", "")
    params = sorted((k, v) for k, v in query if k != "X-Amz-Signature")
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params)
    values = dict(params)
    signed_headers = values.get("X-Amz-SignedHeaders", "host")
    canonical = "\n".join([
        "GET", quote(parts.path, safe="/-_.~"), canonical_query,
        f"host:{parts.netloc}\n", signed_headers, "UNSIGNED-PAYLOAD",
    ])
    amz_date = values.get("X-Amz-Date", "")
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), given)


def test_presigned_url_carries_the_token_in_the_query_only_and_verifies(world):
    grant = api.assume_role(A, session_name="share")
    url = tc.presign("s3://bucket-a/data.csv", expires="10m")
    query = parse_qsl(urlsplit(url).query)
    names = [name for name, _ in query]
    assert names.count("X-Amz-Security-Token") == 1 and dict(query)["X-Amz-Security-Token"] == grant.credentials.session_token
    assert dict(query)["X-Amz-Credential"].startswith(grant.access_key_id + "/")
    assert dict(query)["X-Amz-Expires"] == "600"

    secret = grant.credentials.secret_access_key
    assert verify_presigned(url, secret)
    without = re.sub(r"&?X-Amz-Security-Token=[^&]*", "", url)
    assert not verify_presigned(without, secret)
    wrong = re.sub(r"(X-Amz-Security-Token=)[^&]*", r"\1FwoGZXIvYXdzEXAMPLE", url)
    assert not verify_presigned(wrong, secret)
    assert not verify_presigned(url, "x" * 40)

    # A plain HTTP client, no AWS library: the URL addresses the object (moto checks no query
    # signature, see the module docstring).
    assert fetch(url) == (200, b"owner,n\na,1\n")


def test_presigned_put_uploads(world):
    api.assume_role(A)
    url = tc.presign("s3://bucket-a/upload.txt", method="PUT", expires=300)
    assert requests.put(url, data=b"uploaded", timeout=10).status_code == 200
    assert fetch(tc.presign("s3://bucket-a/upload.txt")) == (200, b"uploaded")


def test_presign_refuses_bad_input_and_warns_when_the_credentials_die_first(world):
    api.assume_role(A, duration="15m")
    for url, kwargs, words in [
        ("https://bucket-a/data.csv", {}, "s3://BUCKET/KEY"),
        ("s3://bucket-a", {}, "s3://BUCKET/KEY"),
        ("s3://bucket-a/data.csv", {"expires": "8d"}, "not understood"),
        ("s3://bucket-a/data.csv", {"expires": 8 * 24 * 3600}, "1 second to 7 days"),
        ("s3://bucket-a/data.csv", {"method": "PATCH"}, "GET, PUT"),
    ]:
        with pytest.raises(tc.TempCredsError, match=re.escape(words)):
            tc.presign(url, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tc.presign("s3://bucket-a/data.csv", expires=timedelta(hours=2))
        assert [str(w.message) for w in caught if "stops working at" in str(w.message)]
        caught.clear()
        # Without expires: as long as the credentials last (here less than the 1-hour default).
        url = tc.presign("s3://bucket-a/data.csv")
        assert not caught
    lasts = int(dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"])
    remaining = (api.current().expiration - datetime.now(timezone.utc)).total_seconds()
    assert remaining - 5 <= lasts <= remaining
