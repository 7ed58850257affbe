"""Which errors are AWS refusing the credentials, and what URL and caller they name (core/denials.py).

The texts are what each reader raised against the local stand-in with IAM authorization on
(measured; the real readers in a real kernel: tests/ui/test_identity_kernel.py). The reasons an
expired grant was not renewed, from the renewal state (core/access_note.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from ipy_tempcreds.core.access_note import access_note
from ipy_tempcreds.core.denials import DENIED, EXPIRED, classify
from ipy_tempcreds.core.renewal import IDLE, RenewalState
from ipy_tempcreds.model.settings import TempCreds


def client_error(code: str, operation: str = "GetObject") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, operation)


def chained(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as exc:
        return exc


class DuckdbHTTPException(Exception):
    __module__ = "_duckdb"


class PolarsComputeError(Exception):
    __module__ = "polars.exceptions"


@pytest.mark.parametrize("error, kind, url", [
    (client_error("AccessDenied"), DENIED, None),
    (client_error("403", "HeadObject"), DENIED, None),
    (client_error("ExpiredToken"), EXPIRED, None),
    (client_error("RequestExpired"), EXPIRED, None),
    (RuntimeError("Credentials were refreshed, but the refreshed credentials are still expired."), EXPIRED, None),
    (chained(PermissionError("Forbidden"), client_error("403", "HeadObject")), DENIED, None),  # s3fs
    (PermissionError("object-store error: The operation lacked the necessary privileges to complete for path "
                     "data.csv: Error performing HEAD http://127.0.0.1:42547/bucket-b/data.csv in 2.3ms - Server "
                     "returned non-2xx status code: 403 Forbidden:  (path: s3://bucket-b/data.csv)"),
     DENIED, "s3://bucket-b/data.csv"),  # polars
    (PolarsComputeError("Generic S3 error: ... 403 Forbidden (path: s3://bucket-b/x/)"), DENIED, "s3://bucket-b/x/"),
    (DuckdbHTTPException("HTTP Error: HTTP GET error reading 'http://127.0.0.1:42547/bucket-b/data.csv' in region "
                         "'us-east-1' (HTTP 403 Forbidden)\n\nAccessDenied: Access Denied"), DENIED, "s3://bucket-b/data.csv"),
    (DuckdbHTTPException("HTTP GET error on 'https://bucket-b.s3.eu-west-1.amazonaws.com/d/x.parquet' (HTTP 403)"),
     DENIED, "s3://bucket-b/d/x.parquet"),
    (OSError("When reading information for key 'data.csv' in bucket 'bucket-b': AWS Error ACCESS_DENIED during "
             "HeadObject operation: No response body."), DENIED, "s3://bucket-b/data.csv"),  # pyarrow
    (chained(PermissionError("unable to access bucket: 'bucket-b' key: 'data.csv' version: None error: An error "
                             "occurred (AccessDenied) when calling the GetObject operation: Access Denied"),
             client_error("AccessDenied")), DENIED, "s3://bucket-b/data.csv"),  # smart_open
])
def test_each_readers_refusal_is_read(error, kind, url):
    denial = classify(error)
    assert denial is not None and denial.kind == kind and denial.url == url


@pytest.mark.parametrize("error", [
    client_error("NoSuchBucket"), client_error("NoSuchKey"), client_error("404", "HeadObject"),
    FileNotFoundError("bucket-a/missing.csv"), PermissionError(13, "Permission denied", "/root/x"),
    ValueError("Access Denied by my own check"), RuntimeError("something else"), ConnectionError("refused"),
    KeyboardInterrupt(), None,
])
def test_what_is_not_a_refusal_is_none(error):
    assert classify(error) is None


def test_an_error_raised_from_none_hides_the_refusal_it_replaced():
    try:
        try:
            raise client_error("AccessDenied")
        except ClientError:
            raise ValueError("our own one-line message") from None
    except ValueError as exc:
        assert classify(exc) is None


def test_the_url_and_caller_are_read_from_a_real_call():
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                      aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
    message = "User: arn:aws:sts::123456789012:assumed-role/B/alice is not authorized to perform: s3:GetObject"
    s3.meta.events.register("before-send", lambda **_: _answer(403, message))
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket="bucket-b", Key="dir/data.csv")
    denial = classify(caught.value)
    assert denial.url == "s3://bucket-b/dir/data.csv"
    assert denial.caller == "arn:aws:sts::123456789012:assumed-role/B/alice"


def _answer(status: int, message: str):
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_):
            yield f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>".encode()

    return AWSResponse("http://127.0.0.1:9", status, {}, Raw())


# -- why expired credentials were not renewed --------------------------------------------------------


@dataclass(frozen=True)
class Request:
    label: str = "reader"
    role_arn: str = "arn:aws:iam::123456789012:role/Reader"


@dataclass
class Grant:
    expiration: datetime
    auto_refresh: bool = True
    arn: str = "arn:aws:sts::123456789012:assumed-role/Reader/alice"
    request: Request = Request()

    def remaining(self, now):
        return (self.expiration - now).total_seconds()


class Manager:
    cell_roles = None

    def __init__(self, grant, renewal):
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
        self.grant, self.renewal, self.settings = grant, renewal, TempCreds()

    def clock(self):
        return self.now

    def current(self):
        return self.grant


@pytest.mark.parametrize("auto_refresh, renewal, why, command", [
    (False, IDLE, "auto-refresh is off for them", "%assume_role --refresh"),
    (True, RenewalState().waiting_for_code(), "renewing them needs a new MFA code", "%assume_role --refresh --mfa-code 123456"),
    (True, RenewalState().failed("the source credentials have expired (ExpiredToken).", datetime.now(timezone.utc)),
     "the last renewal failed: the source credentials have expired (ExpiredToken)", "%assume_role --refresh"),
    (True, IDLE, "no renewal was due yet", "%assume_role --refresh"),
])
def test_expired_credentials_say_why_they_were_not_renewed(auto_refresh, renewal, why, command):
    expired = datetime(2030, 1, 1, 11, 50, tzinfo=timezone.utc)
    manager = Manager(Grant(expired, auto_refresh), renewal)
    note = access_note(manager, client_error("ExpiredToken"))
    assert note.startswith("ipy_tempcreds: the credentials of role Reader (session alice, account 123456789012) "
                           "expired at 11:50 UTC (10m 0s ago); they were not renewed: ")
    assert why in note and note.endswith(f"Renew: {command}")
    assert manager.now - expired == timedelta(minutes=10)
