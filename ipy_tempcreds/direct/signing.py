"""Raw HTTPS with the active credentials: SigV4 for requests/urllib, presigned S3 URLs.

Signatures come from botocore's own signers (``botocore.auth``), never from code of ours. The
session token travels in exactly one place: the ``X-Amz-Security-Token`` header of a signed
request, or the query string of a presigned URL.

Nothing here imports requests: a ``requests.PreparedRequest`` (or anything with ``method``,
``url``, ``headers`` and ``body``) and a ``urllib.request.Request`` are both accepted as they are.
botocore is imported on first use.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from abc import ABC, abstractmethod

from ..base import validation as v
from ..base.errors import InvalidInput, NotActive
from ..base.s3_urls import split_s3_url
from ..model.credentials import TemporaryCredentials, iso_utc

log = logging.getLogger("ipy_tempcreds")

# What a signature puts on a request: replaced, never duplicated, when a request is signed again.
SIGNATURE_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")
# Headers that clients and proxies add or rewrite in transit: signing them would break the
# signature for no gain (AWS requires only host and the x-amz-* headers to be signed).
UNSIGNED_HEADERS = frozenset({
    "user-agent", "connection", "accept-encoding", "accept", "expect", "transfer-encoding",
    "keep-alive", "te", "upgrade", "proxy-authorization", "proxy-connection",
})
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit for a presigned URL


def active_credentials(manager) -> TemporaryCredentials:
    """The credentials in force, renewed first if their renewal is due."""
    manager.renew_if_due(manual_too=True)
    grant = manager.current()
    if grant is None:
        raise NotActive("no temporary credentials are active: assume a role before signing requests with them.")
    return grant.credentials


def default_region(manager, region: str | None) -> str:
    return (
        region
        or manager.settings.region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )


# -- signing a request ----------------------------------------------------------------------------

def sign(manager, request, *, service: str, region: str | None = None):
    """SigV4-sign ``request`` in place with the active credentials and return it."""
    from botocore.auth import S3SigV4Auth
    from botocore.auth import SigV4Auth as BotocoreSigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    if not service or not isinstance(service, str):
        raise InvalidInput("sign() needs the AWS service the request is for, e.g. service='s3'.")
    target = _RequestView.of(request)
    held = active_credentials(manager)
    region = v.check_region(default_region(manager, region))
    headers = {name: value for name, value in target.headers().items()
               if name.lower() not in UNSIGNED_HEADERS and name.lower() not in SIGNATURE_HEADERS}
    aws_request = AWSRequest(method=target.method(), url=target.url(), data=target.body(), headers=headers)
    signer_class = S3SigV4Auth if service == "s3" else BotocoreSigV4Auth
    credentials = Credentials(held.access_key_id, held.secret_access_key, held.session_token)
    signer_class(credentials, service, region).add_auth(aws_request)
    target.replace_signature({name: value for name, value in aws_request.headers.items()
                              if name.lower() in SIGNATURE_HEADERS})
    return request


class _RequestView(ABC):
    """One interface over the request types accepted: requests' and urllib's."""

    def __init__(self, request):
        self.request = request

    @abstractmethod
    def method(self) -> str: ...

    @abstractmethod
    def url(self) -> str: ...

    @abstractmethod
    def headers(self) -> dict: ...

    @abstractmethod
    def _raw_body(self): ...

    @abstractmethod
    def replace_signature(self, new: dict) -> None: ...

    @staticmethod
    def of(request) -> _RequestView:
        if hasattr(request, "get_method") and hasattr(request, "full_url"):
            return _UrllibView(request)
        if all(hasattr(request, name) for name in ("method", "url", "headers")):
            return _PreparedView(request)
        raise InvalidInput(
            f"cannot sign a {type(request).__name__}: pass a requests.PreparedRequest "
            "(or use auth=SigV4Auth(...)) or a urllib.request.Request."
        )

    def body(self):
        data = self._raw_body()
        if data is None or isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode("utf-8")
        if isinstance(data, (bytearray, memoryview)):
            return bytes(data)
        if hasattr(data, "read") and hasattr(data, "seek") and hasattr(data, "tell"):
            return data  # botocore hashes a seekable file and rewinds it
        raise InvalidInput("cannot sign a streaming body (a generator or an unseekable file): pass bytes or a file.")


class _PreparedView(_RequestView):
    def method(self) -> str:
        return (self.request.method or "GET").upper()

    def url(self) -> str:
        return self.request.url

    def headers(self) -> dict:
        return dict(self.request.headers or {})

    def _raw_body(self):
        return getattr(self.request, "body", None)

    def replace_signature(self, new: dict) -> None:
        headers = self.request.headers
        for name in [n for n in headers if n.lower() in SIGNATURE_HEADERS]:
            del headers[name]
        headers.update(new)


class _UrllibView(_RequestView):
    def method(self) -> str:
        return self.request.get_method()

    def url(self) -> str:
        return self.request.full_url

    def headers(self) -> dict:
        return dict(self.request.header_items())

    def _raw_body(self):
        return self.request.data

    def replace_signature(self, new: dict) -> None:
        for name, _ in list(self.request.header_items()):
            if name.lower() in SIGNATURE_HEADERS:
                self.request.remove_header(name)
        for name, value in new.items():
            self.request.add_header(name, value)


# -- presigned S3 URLs ----------------------------------------------------------------------------

class PresigningClients:
    """S3 clients that presign, one per (access key id, region) in force: creating one costs ~0.1 s,
    and a notebook presigning in a loop asks with the same key again and again. One per kernel
    (the kernel's state holds it); a new key retires the others (they were renewed or switched away)."""

    def __init__(self):
        self._clients: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def client(self, held: TemporaryCredentials, region: str):
        cache_key = (held.access_key_id, region)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is not None:
                return client
            import botocore.session
            from botocore.config import Config

            session = botocore.session.Session()
            session.set_credentials(held.access_key_id, held.secret_access_key, held.session_token)
            client = session.create_client("s3", region_name=region, config=Config(signature_version="s3v4"))
            # A new key retires the clients of the old one; other regions of this key stay.
            self._clients = {k: c for k, c in self._clients.items() if k[0] == held.access_key_id}
            self._clients[cache_key] = client
            return client

    def clear(self) -> None:
        with self._lock:
            self._clients = {}

    def __len__(self) -> int:
        return len(self._clients)


def presign(manager, url: str, *, expires=None, method: str = "GET", region: str | None = None,
            clients: PresigningClients | None = None) -> str:
    """A presigned ``https`` URL for ``s3://bucket/key``, signed with the active credentials.

    The session token is in the URL's query string; the URL stops working when the credentials it
    was signed with expire, whatever ``expires`` says. ``expires=None``: one hour, or until the
    credentials expire if that is sooner.
    """
    bucket, key = _parse_s3_url(url)
    operation = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object",
                 "DELETE": "delete_object"}.get(str(method).upper())
    if operation is None:
        raise InvalidInput(f"presign() supports method GET, PUT, HEAD or DELETE, not {method!r}.")
    seconds = v.parse_duration(expires) if expires is not None else None
    if seconds is not None and not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise InvalidInput(f"expires={expires!r}: a presigned URL lasts 1 second to 7 days.")
    held = active_credentials(manager)
    remaining = (held.expiration - manager.clock()).total_seconds()
    if seconds is None:
        seconds = max(1, min(3600, int(remaining)))
    elif seconds > remaining:
        warnings.warn(
            f"the presigned URL stops working at {iso_utc(held.expiration)}, when the temporary "
            f"credentials that sign it expire, before the {seconds} s asked for. Assume the role "
            "with a longer --duration for longer-lived URLs.",
            stacklevel=3,
        )
    client = (clients or PresigningClients()).client(held, default_region(manager, region))
    return client.generate_presigned_url(operation, Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)


def _parse_s3_url(url: str) -> tuple[str, str]:
    return split_s3_url(url, needs_key=True, example="s3://BUCKET/KEY (presign() signs one object)")
