"""``%aws_can`` / ``can_read(url)`` (core/read_checks.py): the current identity and each known role,
a harmless read each, the right result; roles needing MFA listed, not asked; a bucket in another
region answered after S3's redirect; the kernel's identity unchanged; bad URLs one line."""

from __future__ import annotations

import re

import pytest

import ipy_tempcreds
from aws_standin import allow
from identity_support import NOBODY, READ, B, C, only, world  # noqa: F401 (world: the fixture)
from ipy_tempcreds import api
from ipy_tempcreds.base.errors import InvalidInput
from proxy_support import LoopbackServer, answer, forward, read_body
from support import aws_environment, role_arn

MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"


@pytest.fixture
def roles(shell):
    shell.run_line_magic("config", f"TempCreds.roles = {{'b': {B!r}, 'c': {C!r}, 'nobody': {NOBODY!r}}}")


def results(checks) -> dict[str, str]:
    return {row.label: row.result for row in checks}


@pytest.mark.parametrize("url, expected", [
    ("s3://bucket-b/data.csv", {"(current)": "denied", "b": "allowed", "c": "denied"}),
    ("s3://bucket-a/", {"(current)": "allowed", "b": "denied", "c": "denied"}),
    ("s3://bucket-c", {"(current)": "denied", "b": "denied", "c": "allowed"}),
    ("s3://bucket-c/part", {"(current)": "denied", "b": "denied", "c": "allowed"}),  # a prefix, no slash
    ("s3://bucket-b/missing.csv", {"(current)": "denied", "b": "not found", "c": "denied"}),
])
def test_each_identity_gets_the_right_result(world, roles, url, expected):
    environment = aws_environment()
    checks = ipy_tempcreds.can_read(url)
    assert results(checks) == {**expected, "nobody": "could not assume"}
    assert aws_environment() == environment and api.current() is None
    assert api.get_manager().named_sessions() == []  # roles only tried are not listed as sessions


def test_the_table_names_identities_and_the_command_to_switch(world, roles, run):
    text = run("%aws_can s3://bucket-b/data.csv")
    assert text.startswith("Who can read s3://bucket-b/data.csv (HeadObject; the kernel's identity is unchanged):")
    rows = {line.split()[0]: line for line in text.splitlines()[2:] if line.startswith("  ")}
    assert re.search(r"\(current\) · IAM user alice \(account 123456789012\)\s+denied", rows["(current)"])
    assert re.search(r"b · role B \(account 123456789012\)\s+allowed\s+%%as_role b$", rows["b"])
    assert "could not assume (AccessDenied)" in rows["nobody"]
    assert "%%as_role" not in rows["c"]


def test_with_a_role_in_force_it_is_the_current_row(world, roles):
    api.assume_role(C, session_name="in-force")
    checks = ipy_tempcreds.can_read("s3://bucket-c/data.csv")
    first = checks[0]
    assert first.label == "(current)" and first.result == "allowed" and "session in-force" in first.identity
    assert "c" not in results(checks)  # the role in force is the current row, not twice


def test_a_role_that_needs_mfa_is_listed_not_asked_unless_mfa(world, shell, run):
    shell.run_line_magic("config", f"TempCreds.roles = {{'b': {B!r}}}")
    # moto's GetSessionToken gives a key its own IAM auth refuses (tests/sources/test_faults_sources.py,
    # mfa_without_auth): assume with the code.
    shell.run_line_magic("config", "TempCreds.mfa_session_duration = 0")
    import os

    with open(os.environ["AWS_CONFIG_FILE"], "w") as config:
        config.write(f"[profile guarded]\nrole_arn = {C}\nsource_profile = base\nmfa_serial = {MFA_SERIAL}\n")
    with open(os.environ["AWS_SHARED_CREDENTIALS_FILE"], "w") as credentials:
        user = world.base_user
        credentials.write(f"[base]\naws_access_key_id = {user.access_key_id}\n"
                          f"aws_secret_access_key = {user.secret_access_key}\n")
    checks = ipy_tempcreds.can_read("s3://bucket-c/data.csv")
    row = next(r for r in checks if r.label == "guarded")
    assert row.result == "needs MFA" and row.command == "%aws_can s3://bucket-c/data.csv --mfa"
    text = run("%aws_can s3://bucket-c/data.csv --mfa --mfa-code 123456")
    assert re.search(r"guarded · role C .*\sallowed\s+%%as_role guarded", text), text


@pytest.mark.parametrize("url, words", [
    ("s3:///key", "names no bucket"), ("https://bucket/key", "is not an s3:// URL"), ("s3://b@d/x", "bucket name")])
def test_a_bad_url_is_one_line(world, run, url, words):
    message = run(f"%aws_can {url}", expect_error=True)
    assert words in message and "\n" not in message.strip()
    with pytest.raises(InvalidInput):
        ipy_tempcreds.can_read(url)


def test_no_url_is_one_line(world, run):
    assert run("%aws_can", expect_error=True) == "%aws_can needs an S3 URL, e.g. `%aws_can s3://bucket/prefix/`."


# -- a bucket in another region -------------------------------------------------------------------


class RegionalS3:
    """S3 as AWS answers a request for a bucket in another region: 301 PermanentRedirect with the
    bucket's region in ``x-amz-bucket-region`` (a HEAD has no body); the rest goes to moto."""

    def __init__(self, upstream: str, buckets: dict[str, str]):
        host, port = upstream.rsplit("/", 1)[1].split(":")
        self.upstream, self.buckets = (host, int(port)), buckets
        self.redirected: list[str] = []
        self.server = LoopbackServer(self._handle, name="regional-s3", methods=("GET", "HEAD", "POST", "PUT"))

    def _handle(self, handler) -> None:
        body = read_body(handler)
        bucket = handler.path.lstrip("/").split("/")[0].split("?")[0]
        region = self.buckets.get(bucket)
        signed_for = re.search(r"Credential=[^/]+/\d+/([^/]+)/s3/", handler.headers.get("Authorization", ""))
        if region and signed_for and signed_for.group(1) != region:
            self.redirected.append(handler.command)
            content = b"" if handler.command == "HEAD" else (
                b"<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be "
                b"addressed using the specified endpoint.</Message></Error>")
            answer(handler, 301, content, "application/xml", headers=[("x-amz-bucket-region", region)])
            return
        status, reason, headers, content = forward(self.upstream, handler, body)
        handler.send_response(status, reason)
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(content)


def test_a_bucket_in_another_region_is_checked_in_its_region(world, roles):
    import os

    world.set_auth(False)  # seeding
    s3 = world.client("s3")
    s3.create_bucket(Bucket="bucket-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="bucket-eu", Key="data.csv", Body=b"x")
    world.client("iam").put_role_policy(RoleName="B", PolicyName="eu", PolicyDocument=allow(READ, only("bucket-eu")))
    world.set_auth(True)
    regional = RegionalS3(world.url, {"bucket-eu": "eu-west-1"})
    regional.server.start()
    try:
        os.environ["AWS_ENDPOINT_URL_S3"] = regional.server.url
        key = results(ipy_tempcreds.can_read("s3://bucket-eu/data.csv"))
        prefix = results(ipy_tempcreds.can_read("s3://bucket-eu/"))
    finally:
        regional.server.stop()
    assert regional.redirected  # S3 redirected, and the checks followed to the bucket's region
    assert key["b"] == "allowed" and prefix["b"] == "allowed"
    assert key["(current)"] == "denied" and key["c"] == "denied"
    assert role_arn("B") == B
