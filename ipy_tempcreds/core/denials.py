"""Is an exception AWS refusing the kernel's credentials? Which URL was it, and who did AWS name?

Read from what each reader raises (measured against the local stand-in with IAM authorization on):

- boto3/botocore: ``ClientError`` with the code ``AccessDenied`` (``403``/``Forbidden`` for a HEAD),
  ``ExpiredToken``, ``RequestExpired``...; botocore's ``RuntimeError`` "Credentials were refreshed,
  but the refreshed credentials are still expired";
- s3fs/fsspec (pandas, Dask): ``PermissionError('Forbidden')`` chained from the ClientError;
- smart_open: ``PermissionError("unable to access bucket: 'b' key: 'k' ... (AccessDenied) ...")``;
- polars: ``PermissionError('object-store error: ... 403 Forbidden ... (path: s3://b/k)')``;
- DuckDB: ``HTTPException("HTTP Error: HTTP GET error reading 'http://host/b/k' ... (HTTP 403 Forbidden)")``;
- pyarrow: ``OSError("When reading information for key 'k' in bucket 'b': AWS Error ACCESS_DENIED ...")``;
- a sign-in behind the kernel's own credentials that ended (a profile of IAM Identity Center or of
  ``aws login``): botocore's ``UnauthorizedSSOTokenError``, ``TokenRetrievalError`` from its SSO
  token provider, ``LoginRefreshRequired``; their code is ``SSO`` or ``login`` (the note names the
  magic that signs in again, not the terminal command botocore names).

The whole chain (``__cause__``, ``__context__``) is read. Only errors of these kinds and libraries
are read as text: a user's own ``ValueError("access denied")`` is not AWS's, nor is a local file's
``PermissionError`` (it names a file). Errors that are not refusals (NoSuchBucket, NoSuchKey, a
network error) are None. Runs only after a cell failed: a cell that succeeds never gets here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DENIED, EXPIRED = "denied", "expired"
SSO_ENDED, LOGIN_ENDED = "SSO", "login"  # Denial.code of an EXPIRED sign-in
# botocore's exceptions for a sign-in that ended, by class name (botocore is not imported here).
_SIGN_IN_ENDED = {"UnauthorizedSSOTokenError": SSO_ENDED, "SSOTokenLoadError": SSO_ENDED,
                  "LoginRefreshRequired": LOGIN_ENDED, "LoginTokenLoadError": LOGIN_ENDED}
_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "403", "Forbidden", "AllAccessDisabled",
                           "InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException",
                           "SignatureDoesNotMatch", "InvalidToken"})
_EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})
_EXPIRED_TEXT = re.compile(
    r"refreshed credentials are still expired|\bExpiredToken\b|\bRequestExpired\b|"
    r"security token included in the request is expired|token has expired", re.IGNORECASE)
_DENIED_TEXT = re.compile(
    r"\bAccess ?Denied\b|\bACCESS_DENIED\b|\bHTTP 403\b|status code: 403|\b403 Forbidden\b|"
    r"lacked the necessary privileges|\bInvalidAccessKeyId\b|\bSignatureDoesNotMatch\b|^Forbidden$",
    re.IGNORECASE)
# Libraries whose own exception types carry AWS's refusal in their text.
_READERS = frozenset({"polars", "duckdb", "_duckdb", "pyarrow", "botocore", "aiobotocore", "s3fs", "fsspec",
                      "smart_open", "boto3"})
_CALLER = re.compile(r"(arn:aws[\w-]*:(?:sts|iam)::\d{12}:[\w+=,.@/-]+) is not authorized")
_URLS = (
    re.compile(r"s3://(?P<bucket>[A-Za-z0-9][\w.-]+)(?:/(?P<key>[^\s'\")]*))?"),
    re.compile(r"key '(?P<key>[^']*)' in bucket '(?P<bucket>[^']+)'"),  # pyarrow
    re.compile(r"bucket: '(?P<bucket>[^']+)' key: '(?P<key>[^']*)'"),  # smart_open
    re.compile(r"https?://(?P<host>[^/\s'\"]+)/(?P<path>[^\s'\"?)]*)"),  # DuckDB, polars: the request
)


@dataclass(frozen=True)
class Denial:
    """An AWS refusal of the kernel's credentials, as far as the error tells."""

    kind: str  # DENIED or EXPIRED
    code: str  # AWS's code (AccessDenied, ExpiredToken, 403...) or the reader's words
    url: str | None = None  # s3://bucket/key when the error or its call names one
    caller: str | None = None  # the identity AWS named in its message ("User: arn:... is not authorized")


def classify(error: BaseException | None) -> Denial | None:
    """The refusal ``error`` (or an exception in its chain) is, or None."""
    chain = list(_chain(error))
    # A sign-in that ended says most, wherever it is in the chain (a reader may wrap it in its own
    # "Forbidden"); then the first refusal from the outside in.
    found = next((ended for exc in chain if (ended := _sign_in_ended(exc)) is not None), None)
    for exc in chain if found is None else ():
        found = _one(exc)
        if found is not None:
            break
    if found is None:
        return None
    kind, code = found
    texts = [str(exc) for exc in chain]
    caller = next((m.group(1) for text in texts if (m := _CALLER.search(text))), None)
    return Denial(kind, code, _url(chain, texts), caller)


def _chain(error: BaseException | None):
    """``error`` and what it was raised from, as Python shows them (``from None`` ends the chain:
    our own one-line errors hide the AWS error they explain)."""
    seen = 0
    while error is not None and seen < 16:
        yield error
        error = error.__cause__ if error.__cause__ is not None else (
            None if error.__suppress_context__ else error.__context__)
        seen += 1


def _sign_in_ended(exc: BaseException) -> tuple[str, str] | None:
    if type(exc).__module__.split(".")[0] != "botocore":
        return None
    name = type(exc).__name__
    if name in _SIGN_IN_ENDED:
        return EXPIRED, _SIGN_IN_ENDED[name]
    if name == "TokenRetrievalError" and getattr(exc, "kwargs", {}).get("provider") == "sso":
        return EXPIRED, SSO_ENDED
    return None


def _one(exc: BaseException) -> tuple[str, str] | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):  # botocore's ClientError
        code = str(response["Error"].get("Code") or "")
        if code in _EXPIRED_CODES:
            return EXPIRED, code
        if code in _DENIED_CODES:
            return DENIED, code
        return None
    module = type(exc).__module__.split(".")[0]
    if not (module in _READERS or (isinstance(exc, OSError) and getattr(exc, "filename", None) is None)
            or (isinstance(exc, RuntimeError) and module == "builtins")):
        return None
    text = str(exc)
    if _EXPIRED_TEXT.search(text):
        return EXPIRED, "ExpiredToken"
    if isinstance(exc, RuntimeError) and module == "builtins":
        return None  # botocore's expiry message only
    if _DENIED_TEXT.search(text.strip()):
        return DENIED, "AccessDenied"
    return None


def _url(chain: list[BaseException], texts: list[str]) -> str | None:
    for exc in chain:  # the S3 call's own parameters, in botocore's (or aiobotocore's) frame
        params = _call_parameters(exc)
        if params is not None:
            key = params.get("Key", params.get("Prefix", ""))
            return f"s3://{params['Bucket']}/{key if isinstance(key, str) else ''}"
    for pattern in _URLS:
        for text in texts:
            match = pattern.search(text)
            if match is None:
                continue
            groups = match.groupdict()
            if "bucket" in groups:
                return f"s3://{groups['bucket']}/{groups.get('key') or ''}"
            host, path = groups["host"], groups["path"]
            virtual = re.match(r"(?P<bucket>[\w.-]+?)\.s3[.-]", host)
            if virtual is not None:
                return f"s3://{virtual['bucket']}/{path}"
            bucket, _, key = path.partition("/")
            if bucket:
                return f"s3://{bucket}/{key}"
    return None


def _call_parameters(exc: BaseException) -> dict | None:
    """``api_params`` of the ``_make_api_call`` frame the error passed through, if it has a Bucket."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "_make_api_call":
            params = frame.f_locals.get("api_params")
            if isinstance(params, dict) and isinstance(params.get("Bucket"), str):
                return params
        tb = tb.tb_next
    return None
