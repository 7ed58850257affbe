"""A loopback stand-in for AWS's console federation endpoint (moto has none), in front of moto's STS.

What it emulates, as AWS's ``https://signin.aws.amazon.com/federation`` behaves:

- ``GET /federation?Action=getSigninToken&Session={"sessionId","sessionKey","sessionToken"}
  [&SessionDuration=N]`` answers ``{"SigninToken": "..."}`` for temporary credentials from
  AssumeRole or GetFederationToken. It refuses (a bare HTTP 400, as AWS's answer says nothing of
  the cause): a session without a token (an IAM user's long-term keys), keys the local STS does not
  recognise or whose secret is wrong, GetSessionToken credentials, an identity that is an IAM user
  or root, and ``SessionDuration`` outside 900-43200 or for anything but AssumeRole credentials
  obtained with long-term keys (not a chained role, not a role assumed through an MFA session).
- ``GET /federation?Action=login&Issuer=..&Destination=..&SigninToken=..`` redirects (302) to the
  destination if the token was issued here in the last 15 minutes; else 400.

How it knows what AWS knows: every other path is forwarded to moto's STS unchanged (point
``AWS_ENDPOINT_URL_STS`` here), and each issued key set is recorded with the operation that issued
it and whether that call was signed with temporary credentials (an ``X-Amz-Security-Token``
header). A session is checked against the local STS: GetCallerIdentity with the given keys (moto's
IAM auth on, so bad keys fail), except GetFederationToken sessions, which moto's IAM auth does not
recognise; those must match exactly what was issued through here.

``fault(kind)`` makes getSigninToken misbehave instead: ``"html"`` (200 with a web page),
``"garbled"`` (200 JSON without a token), ``"status"`` (503), ``"close"`` (the connection is
closed without an answer), ``"slow"`` (answers after ``seconds``). Only 127.0.0.1 is bound or contacted.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from proxy_support import LoopbackServer, answer, forward, read_body
from standin_pages import console_landing

TOKEN_LIFETIME = 15 * 60


@dataclass(frozen=True)
class Issued:
    """A key set the local STS issued through this stand-in."""

    operation: str
    secret_access_key: str
    arn: str  # the role session's or federated user's ARN ('' for GetSessionToken)
    signed_with_temporary: bool


@dataclass
class Request:
    """One getSigninToken the stand-in answered (no secrets kept: the key id and what was decided)."""

    access_key_id: str
    session_duration: str | None
    status: int


@dataclass
class Standin:
    upstream: str  # moto's URL
    url: str = ""
    clock: callable = time.time
    issued: dict[str, Issued] = field(default_factory=dict)  # by session token
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # sign-in token -> (identity, issued at)
    requests: list[Request] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (identity, destination)
    _fault: tuple[str, float] | None = None
    # True (the demo): a sign-in lands on a local page naming the identity and the console page,
    # instead of a redirect to the real console.
    landing: bool = False

    @property
    def endpoint(self) -> str:
        return f"{self.url}/federation"

    def start(self) -> Standin:
        self._stopping = threading.Event()
        self._server = LoopbackServer(self._dispatch, name="federation-standin").start()
        self.url = self._server.url
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.stop()

    def reset(self) -> None:
        self.issued.clear()
        self.tokens.clear()
        self.requests.clear()
        self.logins.clear()
        self._fault = None

    def fault(self, kind: str | None, seconds: float = 0.0) -> None:
        assert kind in (None, "html", "garbled", "status", "slow", "close")
        self._fault = (kind, seconds) if kind else None

    # -- serving ------------------------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        if parts.path != "/federation":
            return self._forward_sts(handler)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        action = query.get("Action")
        if action == "getSigninToken":
            return self._get_signin_token(handler, query)
        if action == "login":
            return self._login(handler, query)
        return answer(handler, 400, b"Bad Request", "text/plain")

    def _get_signin_token(self, handler, query: dict) -> None:
        if self._fault is not None:
            kind, seconds = self._fault
            if kind == "slow":
                if self._stopping.wait(seconds):
                    return None
            elif kind == "html":
                return answer(handler, 200, b"<html><body><h1>Sign in to the proxy</h1></body></html>", "text/html")
            elif kind == "garbled":
                return answer(handler, 200, b'{"Message": "something else"}', "application/json")
            elif kind == "close":
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return None
            elif kind == "status":
                return answer(handler, 503, b"<html><body>503 Service Unavailable</body></html>", "text/html")
        try:
            session = json.loads(query.get("Session", ""))
            key, secret, token = session["sessionId"], session["sessionKey"], session.get("sessionToken")
        except (ValueError, KeyError, TypeError):
            key, secret, token = "", "", None
        duration = query.get("SessionDuration")
        identity = self._verify(key, secret, token, duration) if key else None
        status = 200 if identity else 400
        self.requests.append(Request(key, duration, status))
        if identity is None:
            return answer(handler, 400, b"", "text/plain")
        signin_token = secrets.token_urlsafe(300)
        self.tokens[signin_token] = (identity, self.clock())
        return answer(handler, 200, json.dumps({"SigninToken": signin_token}).encode(), "application/json")

    def _verify(self, key: str, secret: str, token: str | None, duration: str | None) -> str | None:
        """The identity signing in, or None where AWS refuses."""
        if not token:
            return None  # long-term keys: an IAM user's or root's
        issued = self.issued.get(token)
        if issued is not None and issued.secret_access_key != secret:
            return None
        if issued is not None and issued.operation == "GetSessionToken":
            return None
        if duration is not None:
            if not duration.isdigit() or not 900 <= int(duration) <= 43200:
                return None
            if issued is None or issued.operation != "AssumeRole" or issued.signed_with_temporary:
                return None  # AWS: only AssumeRole credentials obtained with long-term keys
        if issued is not None and issued.operation == "GetFederationToken":
            return issued.arn  # moto's IAM auth does not recognise these keys: what was issued is the check
        arn = self._caller_arn(key, secret, token, issued.arn if issued is not None else "")
        if arn is None or (":assumed-role/" not in arn and ":federated-user/" not in arn):
            return None
        return arn

    def _caller_arn(self, key: str, secret: str, token: str, issued_arn: str) -> str | None:
        import boto3
        from botocore.exceptions import ClientError

        # moto keeps each partition's sessions apart: ask in a region of the partition they came from.
        partition = issued_arn.split(":")[1] if issued_arn.count(":") >= 5 else "aws"
        region = {"aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}.get(partition, "us-east-1")
        sts = boto3.client("sts", endpoint_url=self.upstream, region_name=region, aws_access_key_id=key,
                           aws_secret_access_key=secret, aws_session_token=token)
        try:
            return sts.get_caller_identity()["Arn"]
        except ClientError:
            return None

    def _login(self, handler, query: dict) -> None:
        found = self.tokens.get(query.get("SigninToken", ""))
        destination = query.get("Destination", "")
        if found is None or self.clock() - found[1] > TOKEN_LIFETIME or not destination.startswith("https://"):
            return answer(handler, 400, b"<html><body>Your sign-in link is invalid or expired.</body></html>",
                           "text/html")
        self.logins.append((found[0], destination))
        if self.landing:
            return answer(handler, 200, console_landing(found[0], destination), "text/html; charset=utf-8")
        return answer(handler, 302, b"", headers=[("Location", destination)])

    def _forward_sts(self, handler) -> None:
        body = read_body(handler)
        upstream = urllib.parse.urlsplit(self.upstream)
        status, reason, kept, content = forward((upstream.hostname, upstream.port), handler, body)
        action = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"))).get("Action", "")
        if status == 200 and action in ("AssumeRole", "GetFederationToken", "GetSessionToken"):
            self._record(action, content, "x-amz-security-token" in {k.lower() for k in handler.headers})
        answer(handler, status, content, None, kept, reason)

    def _record(self, action: str, content: bytes, signed_with_temporary: bool) -> None:
        found = {}
        for element in ET.fromstring(content).iter():
            name = element.tag.rsplit("}", 1)[-1]
            if name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Arn"):
                found[name] = element.text or ""
        if "SessionToken" in found:
            self.issued[found["SessionToken"]] = Issued(action, found.get("SecretAccessKey", ""),
                                                        found.get("Arn", ""), signed_with_temporary)

