"""A loopback stand-in of AWS Sign-In, the service behind ``aws login`` (AWS CLI 2.32+) and botocore's
LoginProvider (a profile's ``login_session``).

moto implements neither face of it. This server emulates both on 127.0.0.1, as botocore's ``signin``
service model (botocore/data/signin/2023-01-01/service-2.json) and the CLI's flow
(aws/aws-cli v2, awscli/customizations/login/utils.py and login.py) describe them:

- The browser's face, an OAuth 2.0 authorization-code flow with PKCE. ``GET /v1/authorize`` takes
  ``response_type=code``, ``client_id`` (``arn:aws:signin:::devtools/same-device`` or ``/cross-device``),
  ``redirect_uri``, ``state``, ``code_challenge`` (base64url of SHA-256(verifier) without its ``=``),
  ``code_challenge_method=SHA-256`` (that literal: the CLI does not send RFC 7636's ``S256``) and
  ``scope=openid``. The same-device client must redirect to a loopback
  ``http://127.0.0.1:PORT/...`` (the CLI's callback server); the cross-device client to this
  server's own ``/v1/sessions/confirmation``, a page that shows the code to paste:
  base64("state=<state>&code=<code>"). An unknown client or a redirect_uri that breaks these rules
  gets an error page and no redirect (RFC 6749 4.1.2.1: never redirect to an unverified URI); any
  other fault in the request is sent to the redirect_uri as ``error=invalid_request`` with the
  state. A valid request shows a consent page; the person's answer comes back as a redirect with
  ``code`` and ``state``, or ``error=access_denied``.
- ``POST /v1/token``: CreateOAuth2Token, rest-json, unsigned (the model's ``noAuth``: public CLI
  clients), body = the ``tokenInput`` members (JSON as the SDKs send it, or a form with OAuth's
  own names, which the model also allows), answer = the ``tokenOutput`` members: ``accessToken``
  {accessKeyId, secretAccessKey, sessionToken}, ``tokenType`` "aws_sigv4", ``expiresIn`` (900 at
  most), ``refreshToken`` and, for the authorization-code grant only, ``idToken`` (a JWT whose
  ``sub`` is the login session: the console identity's ARN). Grants:
  ``authorization_code`` (code, codeVerifier and redirectUri checked against the authorization
  request; a code is single-use and expires) and ``refresh_token`` (each refresh token is bound to
  the DPoP key that redeemed the code, ``cnf.jkt`` in the model, and is rotated: the model calls the
  refresh "idempotent within the token validity window", so the spent token gets the same answer
  again until its successor is used or ``replay_window`` passes, then TOKEN_EXPIRED; a login session
  ends ``session_lifetime`` after sign-in). Every call must carry a ``DPoP`` header: an ES256 JWT
  (``typ`` dpop+jwt, a public ``jwk`` header) with ``htm`` POST, ``htu`` this endpoint's URL, an
  ``iat`` within ``dpop_leeway`` of the clock and a ``jti`` not seen before (``check_jti``).

Errors are what the model declares, status from its documentation, the type in
``x-amzn-ErrorType``, ``error`` and ``message`` in the body (botocore puts ``error`` at the top of
``ClientError.response``, where LoginProvider reads it): AccessDeniedException 401 AUTHCODE_EXPIRED
(unknown, used or expired code) and TOKEN_EXPIRED (unknown, spent or ended refresh token), 403
USER_CREDENTIALS_CHANGED (:meth:`change_credentials`) and INSUFFICIENT_PERMISSIONS (:meth:`forbid`),
ValidationException 400 INVALID_REQUEST (malformed input, a wrong verifier, redirect_uri or client,
a bad DPoP proof). A missing proof gets exactly that from the real service (observed by a third
party); which refusal a wrong verifier or a bad proof gets is not published: REFUSALS holds each
choice in one place, so a correction is one line. Codes are about 1,600 characters long, as real
ones are, though the model's maximum is 512.

The person in the browser: :meth:`sign_in` and :meth:`deny` are a browser that opens the link over
HTTP, answers the consent page and follows the redirect (to the client's loopback callback, or to
the confirmation page, whose paste code :class:`Visit` carries); :meth:`browser` returns one to
stand in for ``webbrowser.open``. The console identity is a role in moto (:meth:`console_role`):
credentials come from moto's STS AssumeRole (signed by a seed user), so S3 with IAM authorization
on accepts them and GetCallerIdentity names ``assumed-role/<role>/<person>``, the ``sub``.

``clock`` is injectable (aware UTC datetimes): code, request, session and replay expiry and the
DPoP ``iat`` check read it, so nothing sleeps. :meth:`fault` damages answers after the work was
done (sso_damage.py's kinds: a cut refresh answer has rotated the token all the same) or, kind
``error``, answers a modeled 400/429/500 instead of doing it. Secrets (secret keys, session tokens,
refresh tokens, codes) are listed by :meth:`secrets` and appear in no record, page title or
exception here; DPoP private keys never reach the server.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.client
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from aws_standin import ACCOUNT, allow
from proxy_support import LoopbackStandin, answer, read_body
from sso_damage import answer_damaged

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
CLIENTS = (SAME_DEVICE, CROSS_DEVICE)
CONFIRMATION = "/v1/sessions/confirmation"
PERSON = "alice"  # the console user's session name: assumed-role/<role>/alice

# The answer to each refusal: (HTTP status, error type, the model's OAuth2ErrorCode). Status codes
# are the ones the model documents for AccessDeniedException (401 for the two *_EXPIRED, 403 for
# the others) and its ValidationException, TooManyRequestsError and InternalServerException.
REFUSALS = {
    "AUTHCODE_EXPIRED": (401, "AccessDeniedException", "AUTHCODE_EXPIRED"),
    "TOKEN_EXPIRED": (401, "AccessDeniedException", "TOKEN_EXPIRED"),
    "USER_CREDENTIALS_CHANGED": (403, "AccessDeniedException", "USER_CREDENTIALS_CHANGED"),
    "INSUFFICIENT_PERMISSIONS": (403, "AccessDeniedException", "INSUFFICIENT_PERMISSIONS"),
    # A token call without a DPoP header is answered 400 INVALID_REQUEST by the real service
    # (captured in cloudposse/atmos issue #2542). Not published: what a wrong verifier,
    # redirect_uri or client, or a bad proof gets; the model has no invalid_grant or
    # invalid_dpop_proof (RFC 9449) among its codes, and INVALID_REQUEST is the one its
    # ValidationException documents for invalid input.
    "INVALID_REQUEST": (400, "ValidationException", "INVALID_REQUEST"),
    "THROTTLED": (429, "TooManyRequestsError", "INVALID_REQUEST"),
    "SERVER_ERROR": (500, "InternalServerException", "server_error"),
}
MODELED_FAULTS = {400: "INVALID_REQUEST", 429: "THROTTLED", 500: "SERVER_ERROR"}
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # the model's CodeVerifier
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of 32 bytes, no padding


def _now() -> datetime:
    return datetime.now(timezone.utc)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_challenge(verifier: str) -> str:
    """What the CLI sends as code_challenge for ``verifier``: base64url(SHA-256), its '=' cut."""
    return b64url(hashlib.sha256(verifier.encode()).digest())


def jwk_thumbprint(x: bytes, y: bytes) -> str:
    """RFC 7638's thumbprint of a P-256 public key: what a refresh token is bound to (cnf.jkt)."""
    members = json.dumps({"crv": "P-256", "kty": "EC", "x": b64url(x), "y": b64url(y)}, separators=(",", ":"))
    return b64url(hashlib.sha256(members.encode()).digest())


class DpopError(ValueError):
    """Why a DPoP proof was refused (no part of the proof in the message)."""


@dataclass
class ConsoleIdentity:
    """Who signs in at the console: a role in moto, and the person's session name in it."""

    role_name: str
    role_arn: str
    person: str
    forbidden: bool = False  # INSUFFICIENT_PERMISSIONS (no signin:CreateOAuth2Token, say)
    changed_at: datetime | None = None  # USER_CREDENTIALS_CHANGED for sessions begun before

    @property
    def session_arn(self) -> str:
        """The login session (the id token's ``sub``), as the CLI writes it to ``login_session``."""
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.role_name}/{self.person}"


@dataclass
class Visit:
    """What the person's browser saw: ``status`` and ``page`` of the last page it showed,
    ``location`` the redirect the service sent it to (None if none), ``paste_code`` the code the
    confirmation page showed (cross-device), ``callback`` the (status, body) of the loopback
    redirect it followed (same-device)."""

    status: int
    page: str = ""
    location: str | None = None
    paste_code: str | None = None
    callback: tuple[int, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        """The redirect's query parameters (code, state, error ...)."""
        if not self.location:
            return {}
        return {k: v[0] for k, v in parse_qs(urlparse(self.location).query).items()}


@dataclass
class _Session:
    """One login session: who, which client, which DPoP key, when it began and ends."""

    identity: ConsoleIdentity
    client: str
    jkt: str
    began: datetime
    ends: datetime
    revoked: bool = False


@dataclass
class _Refresh:
    session: _Session
    successor: str | None = None  # the refresh token this one was exchanged for
    answer: dict | None = None  # that exchange's answer, for an idempotent replay
    rotated_at: datetime | None = None
    credentials_expire: datetime | None = None


@dataclass
class _Faults:
    table: dict = field(default_factory=dict)  # grant ("*" any) -> fault

    def take(self, grant: str) -> dict | None:
        for key in (grant, "*"):
            fault = self.table.get(key)
            if fault is None:
                continue
            if fault["times"] is not None:
                fault["times"] -= 1
                if fault["times"] <= 0:
                    del self.table[key]
            return fault
        return None


class SigninStandin(LoopbackStandin):
    """AWS Sign-In on one loopback HTTP server, with console credentials from moto's STS."""

    FAULTS = ("cut", "malformed", "drop", "html", "expired", "empty_key", "status", "delay", "set", "error")

    def __init__(self, aws, *, clock=_now, code_lifetime: int = 300, request_lifetime: int = 600,
                 credential_lifetime: int = 900, session_lifetime: int = 12 * 3600,
                 replay_window: int | None = None, dpop_leeway: int = 300, pad_short_coordinates: bool = True,
                 check_jti: bool = True):
        self.aws = aws  # ipy_tempcreds._standin.LocalAws
        self.clock = clock
        self.code_lifetime = code_lifetime  # not published; RFC 6749 advises 10 minutes at most
        self.request_lifetime = request_lifetime  # how long a consent page stays answerable
        self.credential_lifetime = credential_lifetime  # the model: 15 minutes at most
        self.session_lifetime = session_lifetime  # `aws login`: up to 12 hours
        self.replay_window = credential_lifetime if replay_window is None else replay_window
        self.dpop_leeway = dpop_leeway
        # botocore's DPoP builder takes the key's coordinates from awscrt, which drops a leading
        # zero byte (about 1 key in 128): a 31-byte x or y, where RFC 7518 wants 32. Accepted
        # here, left-padded, since AWS's own SDK sends them; False refuses them as RFC 7518 would.
        self.pad_short_coordinates = pad_short_coordinates
        # RFC 9449 lets a server refuse a jti it has seen; whether AWS does is not published. On
        # here, so a client that resends a proof (botocore does, on a retry) is found out.
        self.check_jti = check_jti
        self.calls: list[tuple[str, dict]] = []  # (operation, non-secret details), in order
        self.identities: dict[str, ConsoleIdentity] = {}
        self.person: ConsoleIdentity | None = None  # who approves when no role is named
        self._lock = threading.Lock()
        self._requests: dict[str, dict] = {}  # consent request id -> the authorization request
        self._codes: dict[str, dict] = {}  # authorization code -> its binding
        self._refresh: dict[str, _Refresh] = {}
        self._jtis: dict[str, datetime] = {}
        self._issued: set[str] = set()
        self._faults = _Faults()
        self._seed = None
        self._sts = None
        self._id_key = ec.generate_private_key(ec.SECP256R1())  # signs id tokens
        super().__init__("signin-standin")

    # -- wiring ---------------------------------------------------------------------------------------

    def environ(self) -> dict[str, str]:
        """What sends botocore's ``signin`` client here (LoginProvider's refresh, the CLI's login)."""
        return {"AWS_ENDPOINT_URL_SIGNIN": self.url}

    @property
    def token_url(self) -> str:
        return f"{self.url}/v1/token"

    @property
    def confirmation_url(self) -> str:
        return f"{self.url}{CONFIRMATION}"

    # -- seeding (moto with IAM auth off) -----------------------------------------------------------

    def console_role(self, role_name: str, policy: str | None = None, *, person: str = PERSON) -> ConsoleIdentity:
        """A console identity: role ``role_name`` in moto, which the stand-in's seed user may
        assume, with ``policy``. The first one is who approves sign-ins by default."""
        if self._seed is None:
            self._seed = self.aws.create_user("signin-broker", allow(["sts:AssumeRole"]))
            # Made now: a client made later would read whatever AWS_PROFILE the test has set by then.
            self._sts = self.aws.client("sts", aws_access_key_id=self._seed.access_key_id,
                                        aws_secret_access_key=self._seed.secret_access_key)
        arn = self.aws.create_role(role_name, [self._seed.arn], policy or allow(["sts:*", "s3:*"]))
        identity = ConsoleIdentity(role_name, arn, person)
        self.identities[role_name] = identity
        if self.person is None:
            self.person = identity
        return identity

    # -- control API (what a person, an administrator or time would do) ---------------------------

    def change_credentials(self, role_name: str) -> None:
        """The person changed their password: sessions begun before now are refused
        (USER_CREDENTIALS_CHANGED); a new sign-in works."""
        with self._lock:
            self.identities[role_name].changed_at = self.clock()

    def forbid(self, role_name: str, forbidden: bool = True) -> None:
        """The identity loses (or, False, gets back) the permission to take tokens:
        INSUFFICIENT_PERMISSIONS for both grants."""
        with self._lock:
            self.identities[role_name].forbidden = forbidden

    def revoke_sessions(self) -> None:
        """Every login session ends now (its refresh tokens answer TOKEN_EXPIRED)."""
        with self._lock:
            for record in self._refresh.values():
                record.session.revoked = True

    def fault(self, kind: str, *, grant: str | None = None, field: str = "", seconds: float = 0.0,
              times: int | None = None, value=None, status: int = 500) -> None:
        """Damage CreateOAuth2Token's answers (of ``grant`` only, if given) as ``kind`` says,
        ``times`` times (None: until :meth:`heal`). Kinds are sso_damage.py's, plus ``error``: the
        service's own refusal with ``status`` 400, 429 or 500, answered instead of doing the work."""
        if kind not in self.FAULTS or (kind in ("drop", "set") and not field) or \
                (kind == "error" and status not in MODELED_FAULTS):
            raise ValueError(kind)
        with self._lock:
            self._faults.table[grant or "*"] = {"kind": kind, "field": field, "seconds": seconds,
                                                "times": times, "value": value, "status": status}

    def heal(self) -> None:
        with self._lock:
            self._faults.table.clear()

    def secrets(self) -> set[str]:
        """Every secret handed out: codes, paste codes, refresh tokens, secret keys, session tokens."""
        with self._lock:
            return set(self._issued)

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def token_calls(self) -> list[dict]:
        """The details of each CreateOAuth2Token call, in order."""
        return [details for name, details in self.calls if name == "CreateOAuth2Token"]

    # -- the person's browser --------------------------------------------------------------------------

    def sign_in(self, url: str, *, role: str | None = None, follow: bool = True) -> Visit:
        """The person opens ``url`` (the client's authorization link), signs in to the console as
        ``role`` (the default person if None), allows the access and, with ``follow``, lets the
        browser follow the redirect: to the client's loopback callback, or to the confirmation
        page, whose paste code the Visit carries."""
        return self._browse(url, "allow", role, follow)

    def deny(self, url: str, *, follow: bool = True) -> Visit:
        """The person opens ``url`` and refuses the access."""
        return self._browse(url, "deny", None, follow)

    def browser(self, decision: str = "allow", role: str | None = None):
        """A stand-in for ``webbrowser.open``: each URL it is given is opened on a thread of its
        own (the caller goes on to wait for the callback, as the CLI does) and answered with
        ``decision``. The Visits are in the returned callable's ``visits``."""
        visits: list[Visit] = []

        def open_url(url: str, *args, **kwargs) -> bool:
            def run():
                visits.append(self._browse(url, decision, role, True))

            threading.Thread(target=run, name="signin-browser", daemon=True).start()
            return True

        open_url.visits = visits  # type: ignore[attr-defined]
        return open_url

    def _browse(self, url: str, decision: str, role: str | None, follow: bool) -> Visit:
        status, headers, page = _http("GET", url)
        found = re.search(r'name="request" value="([^"]+)"', page)
        if status == 200 and found:  # the consent page: the person answers it
            form = {"request": found.group(1), "decision": decision}
            if role:
                form["role"] = role
            status, headers, page = _http("POST", f"{self.url}/v1/authorize/decision", urlencode(form).encode(),
                                          {"Content-Type": "application/x-www-form-urlencoded"})
        # A redirect (with a code, or an error), or an error page that a browser shows and leaves.
        location = headers.get("location") if 300 <= status < 400 else None
        visit = Visit(status, page, location)
        if not (follow and location):
            return visit
        status, _, page = _http("GET", location)
        if location.startswith(self.confirmation_url):
            shown = re.search(r'<code id="verification-code">([^<]+)</code>', page)
            return Visit(status, page, location, shown.group(1) if shown else None)
        visit.callback = (status, page)
        return visit

    # -- serving -------------------------------------------------------------------------------------

    def _serve(self, handler) -> None:
        url = urlparse(handler.path)
        method = handler.command
        raw = read_body(handler)
        base = f"http://{handler.headers.get('Host') or self.url[len('http://'):]}"
        if method == "GET" and url.path == "/v1/authorize":
            return self._page(handler, *self.authorize(_query(url.query), base))
        if method == "POST" and url.path == "/v1/authorize/decision":
            return self._page(handler, *self.decide(_query(raw.decode("latin-1"))))
        if method == "GET" and url.path == CONFIRMATION:
            return self._page(handler, *self.confirmation(_query(url.query)))
        if method == "POST" and url.path == "/v1/token":
            return self._token(handler, raw, base + url.path)
        return _answer_json(handler, 404, {"__type": "UnknownOperationException", "message": "no such path"})

    def _page(self, handler, status: int, title: str, body: str, location: str | None = None) -> None:
        document = (f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head>"
                    f"<body><h1>{html.escape(title)}</h1>{body}</body></html>").encode()
        headers = [("Location", location)] if location else []
        answer(handler, status, document, "text/html; charset=utf-8", headers)

    # -- the browser's face --------------------------------------------------------------------------

    def _redirect_allowed(self, client: str, redirect_uri: str, base: str) -> bool:
        if client == CROSS_DEVICE:
            return redirect_uri == base + CONFIRMATION
        parts = urlparse(redirect_uri)
        try:
            port = parts.port
        except ValueError:
            return False
        # The same-device client's callback is the CLI's own server on the loopback address (the
        # service is never on it; this stand-in is, so its own address is refused explicitly).
        return (parts.scheme == "http" and parts.hostname == "127.0.0.1" and port is not None
                and not parts.fragment and parts.netloc != urlparse(base).netloc)

    def authorize(self, query: dict, base: str):
        """GET /v1/authorize: (status, title, body html[, location])."""
        client, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        with self._lock:
            if client not in CLIENTS:
                self.calls.append(("Authorize", {"result": "unknown client"}))
                return 400, "Sign-in error", "<p>The application is not recognized.</p>"
            if not self._redirect_allowed(client, redirect_uri, base):
                self.calls.append(("Authorize", {"client": client, "result": "redirect_uri refused"}))
                return 400, "Sign-in error", "<p>The redirect address is not allowed for this application.</p>"
            problem = _authorization_problem(query)
            self.calls.append(("Authorize", {"client": client, "result": problem or "consent"}))
            if problem:
                error = {"error": "invalid_request", "error_description": problem}
                if query.get("state"):
                    error["state"] = query["state"]
                return 302, "Redirecting", "", _with_query(redirect_uri, error)
            request = secrets.token_urlsafe(24)
            self._requests[request] = {"client": client, "redirect_uri": redirect_uri, "state": query["state"],
                                       "challenge": query["code_challenge"],
                                       "expires": self.clock() + timedelta(seconds=self.request_lifetime)}
        device = "this device" if client == SAME_DEVICE else "another device"
        return 200, "Allow AWS CLI access?", (
            f"<p>An application on {device} asks for credentials of your console session.</p>"
            '<form method="post" action="/v1/authorize/decision">'
            f'<input type="hidden" name="request" value="{request}"/>'
            '<button name="decision" value="allow">Allow</button>'
            '<button name="decision" value="deny">Deny</button></form>')

    def decide(self, form: dict):
        """POST /v1/authorize/decision: the person's answer on the consent page."""
        with self._lock:
            request = self._requests.pop(form.get("request", ""), None)
            if request is None or request["expires"] <= self.clock():
                self.calls.append(("Consent", {"result": "unknown or expired request"}))
                return 400, "Sign-in error", "<p>This sign-in request has expired. Start again.</p>"
            if form.get("decision") != "allow":
                self.calls.append(("Consent", {"client": request["client"], "result": "denied"}))
                return 302, "Redirecting", "", _with_query(request["redirect_uri"], {
                    "error": "access_denied", "state": request["state"]})
            identity = self.identities[form["role"]] if form.get("role") else self.person
            if identity is None:
                raise RuntimeError("no console identity: call console_role() first")
            # As long as real ones (about 1,600 characters), past the model's 512: a client that
            # trusted the model's maximum would break here as it would against AWS.
            code = self._issue(secrets.token_urlsafe(1176))
            self._codes[code] = {"client": request["client"], "redirect_uri": request["redirect_uri"],
                                 "challenge": request["challenge"], "identity": identity, "used": False,
                                 "expires": self.clock() + timedelta(seconds=self.code_lifetime)}
            self.calls.append(("Consent", {"client": request["client"], "result": "allowed",
                                           "role": identity.role_name}))
            return 302, "Redirecting", "", _with_query(request["redirect_uri"], {"code": code, "state": request["state"]})

    def confirmation(self, query: dict):
        """GET /v1/sessions/confirmation: the cross-device redirect target, a page that shows
        base64("state=...&code=...") for the person to paste into the CLI."""
        if query.get("error"):
            return 200, "Sign-in not completed", f"<p>{html.escape(query['error'])}</p>"
        if not query.get("code") or not query.get("state"):
            return 400, "Sign-in error", "<p>Nothing to confirm.</p>"
        shown = base64.b64encode(urlencode({"state": query["state"], "code": query["code"]}).encode()).decode()
        with self._lock:
            self._issued.add(shown)
        return 200, "Authorization code", (
            "<p>Paste this code into the application that asked for it:</p>"
            f'<code id="verification-code">{html.escape(shown)}</code>')

    # -- CreateOAuth2Token ------------------------------------------------------------------------------

    def _token(self, handler, raw: bytes, htu: str) -> None:
        body = _token_input(raw, handler.headers.get("Content-Type", ""))
        grant = body.get("grantType", "") if isinstance(body, dict) else ""
        fault = self._faults_take(grant)
        if fault is not None and fault["kind"] == "error":
            with self._lock:
                self.calls.append(("CreateOAuth2Token", {"grantType": grant, "result": "injected",
                                                         "status": fault["status"]}))
            return _answer_json(handler, *_refusal(MODELED_FAULTS[fault["status"]], "Injected failure."))
        with self._lock:
            try:
                status, result = self.create_token(body, handler.headers.get("DPoP"), htu)
            except Exception as exc:
                # A fault of the stand-in (moto unreachable, say): answered as the service's own
                # 500, and said in the record, rather than a dropped connection that botocore
                # would retry with the same DPoP proof.
                self.calls.append(("CreateOAuth2Token", {"result": "SERVER_ERROR", "exception": type(exc).__name__}))
                status, result = _refusal("SERVER_ERROR", "Internal error.")
        if fault is not None:
            return answer_damaged(handler, status, result, fault, self._stopping, _answer_json)
        return _answer_json(handler, status, result)

    def _faults_take(self, grant: str) -> dict | None:
        with self._lock:
            return self._faults.take(grant)

    def create_token(self, body, proof: str | None, htu: str):
        """CreateOAuth2Token (the lock held): (status, answer)."""
        details: dict = {"grantType": body.get("grantType") if isinstance(body, dict) else None}
        self.calls.append(("CreateOAuth2Token", details))
        try:
            jkt = self._check_dpop(proof, htu, details)
        except DpopError as problem:
            details.update(result="INVALID_REQUEST", dpop=str(problem))
            return _refusal("INVALID_REQUEST", f"Invalid DPoP proof: {problem}.")
        details["dpop"] = "accepted"
        problem = _input_problem(body)
        if problem:
            details["result"] = "INVALID_REQUEST"
            return _refusal("INVALID_REQUEST", problem)
        details["clientId"] = body["clientId"]
        if body["grantType"] == "authorization_code":
            refusal, answer_ = self._redeem_code(body, jkt)
        else:
            refusal, answer_ = self._redeem_refresh(body, jkt, details)
        if refusal:
            details["result"] = refusal
            return _refusal(refusal, answer_)
        details["result"] = "ok"
        return 200, answer_

    def _redeem_code(self, body: dict, jkt: str):
        record = self._codes.get(body["code"])
        now = self.clock()
        if record is None or record["used"] or record["expires"] <= now:
            return "AUTHCODE_EXPIRED", "The authorization code has expired or was already used."
        if record["client"] != body["clientId"]:
            return "INVALID_REQUEST", "The authorization code was not issued to this client."
        if record["redirect_uri"] != body["redirectUri"]:
            return "INVALID_REQUEST", "redirect_uri does not match the authorization request."
        if pkce_challenge(body["codeVerifier"]) != record["challenge"]:
            return "INVALID_REQUEST", "code_verifier does not match the code challenge."
        identity = record["identity"]
        if identity.forbidden:
            return "INSUFFICIENT_PERMISSIONS", "Not authorized to perform signin:CreateOAuth2Token."
        record["used"] = True
        session = _Session(identity, body["clientId"], jkt, now, now + timedelta(seconds=self.session_lifetime))
        answer_ = self._tokens(session)
        answer_["idToken"] = self._id_token(identity, body["clientId"], now)
        return None, answer_

    def _redeem_refresh(self, body: dict, jkt: str, details: dict):
        record = self._refresh.get(body["refreshToken"])
        now = self.clock()
        if record is None:
            return "TOKEN_EXPIRED", "The refresh token is invalid or has expired."
        session = record.session
        if session.client != body["clientId"]:
            return "INVALID_REQUEST", "The refresh token was not issued to this client."
        if session.jkt != jkt:
            return "INVALID_REQUEST", "The DPoP key is not the one the refresh token is bound to."
        if session.revoked or session.ends <= now:
            return "TOKEN_EXPIRED", "The login session has expired."
        identity = session.identity
        if identity.changed_at is not None and identity.changed_at >= session.began:
            return "USER_CREDENTIALS_CHANGED", "The user's credentials changed since sign-in."
        if identity.forbidden:
            return "INSUFFICIENT_PERMISSIONS", "Not authorized to perform signin:CreateOAuth2Token."
        if record.answer is not None:
            successor = self._refresh[record.successor]
            if successor.answer is None and now < record.rotated_at + timedelta(seconds=self.replay_window):
                # The same answer again (a client whose answer was lost retries with the spent token).
                replay = json.loads(json.dumps(record.answer))
                remaining = int((record.credentials_expire - now).total_seconds())
                replay["expiresIn"] = max(1, remaining)
                details["replayed"] = True
                return None, replay
            return "TOKEN_EXPIRED", "The refresh token has already been used."
        answer_ = self._tokens(session)
        record.successor, record.answer, record.rotated_at = answer_["refreshToken"], answer_, now
        record.credentials_expire = now + timedelta(seconds=answer_["expiresIn"])
        return None, answer_

    def _tokens(self, session: _Session) -> dict:
        credentials = self._mint(session.identity)
        lifetime = min(self.credential_lifetime, int((session.ends - self.clock()).total_seconds()))
        refresh = self._issue("ASOR" + secrets.token_urlsafe(96))  # the model: Sign-In refresh tokens start ASOR
        self._refresh[refresh] = _Refresh(session)
        return {"accessToken": credentials, "tokenType": "aws_sigv4", "expiresIn": max(1, lifetime),
                "refreshToken": refresh}

    def _mint(self, identity: ConsoleIdentity) -> dict:
        # STS's floor is 900 s; a shorter credential_lifetime is what expiresIn says, not STS.
        issued = self._sts.assume_role(RoleArn=identity.role_arn, RoleSessionName=identity.person,
                                       DurationSeconds=max(900, self.credential_lifetime))["Credentials"]
        self._issued.update((issued["SecretAccessKey"], issued["SessionToken"]))
        return {"accessKeyId": issued["AccessKeyId"], "secretAccessKey": issued["SecretAccessKey"],
                "sessionToken": issued["SessionToken"]}

    def _id_token(self, identity: ConsoleIdentity, client: str, now: datetime) -> str:
        header = {"alg": "ES256", "typ": "JWT", "kid": "signin-standin"}
        iat = int(now.timestamp())
        claims = {"sub": identity.session_arn, "aud": client, "iss": f"{self.url}/signin",
                  "session_arn": identity.session_arn, "iat": iat, "exp": iat + self.credential_lifetime}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self._id_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def _issue(self, value: str) -> str:
        self._issued.add(value)
        return value

    # -- DPoP (RFC 9449) ---------------------------------------------------------------------------------

    def _check_dpop(self, proof: str | None, htu: str, details: dict) -> str:
        """The proof's key thumbprint, or DpopError saying why it is refused."""
        if not proof:
            raise DpopError("missing")
        parts = proof.split(".")
        if len(parts) != 3:
            raise DpopError("not a JWS")
        try:
            header, claims = (json.loads(_unb64url(part)) for part in parts[:2])
            signature = _unb64url(parts[2])
        except (ValueError, UnicodeDecodeError) as exc:
            raise DpopError("undecodable") from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise DpopError("undecodable")
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
            raise DpopError("typ must be dpop+jwt and alg ES256")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            raise DpopError("jwk must be a P-256 EC key")
        if "d" in jwk:
            raise DpopError("jwk holds a private key")
        x, y = self._coordinate(jwk.get("x"), details), self._coordinate(jwk.get("y"), details)
        try:
            key = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                                ec.SECP256R1()).public_key()
        except ValueError as exc:
            raise DpopError("jwk is not a point on P-256") from exc
        if len(signature) != 64:
            raise DpopError("signature is not 64 bytes (r||s)")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise DpopError("signature does not verify") from exc
        if claims.get("htm") != "POST":
            raise DpopError("htm is not POST")
        if not isinstance(claims.get("htu"), str) or _without_query(claims["htu"]) != htu:
            raise DpopError("htu is not this endpoint")
        iat, jti = claims.get("iat"), claims.get("jti")
        now = self.clock()
        if not isinstance(iat, (int, float)) or isinstance(iat, bool) or abs(now.timestamp() - iat) > self.dpop_leeway:
            raise DpopError("iat is outside the accepted window")
        if not isinstance(jti, str) or not jti:
            raise DpopError("jti missing")
        for seen, at in list(self._jtis.items()):  # forget what is too old to be replayed anyway
            if (now - at).total_seconds() > 2 * self.dpop_leeway:
                del self._jtis[seen]
        if jti in self._jtis and self.check_jti:
            raise DpopError("jti was used before")
        self._jtis[jti] = now
        return jwk_thumbprint(x, y)

    def _coordinate(self, value, details: dict) -> bytes:
        try:
            raw = _unb64url(value) if isinstance(value, str) else b""
        except ValueError:
            raw = b""
        if len(raw) == 32:
            return raw
        if 0 < len(raw) < 32 and self.pad_short_coordinates:
            details["short_coordinate"] = True
            return raw.rjust(32, b"\0")
        raise DpopError("jwk coordinate is not 32 bytes")


def _authorization_problem(query: dict) -> str | None:
    """What is wrong with an authorization request whose client and redirect_uri are valid."""
    if query.get("response_type") != "code":
        return "response_type must be code"
    if not query.get("state"):
        return "state is required"
    if query.get("code_challenge_method") != "SHA-256":
        return "code_challenge_method must be SHA-256"
    if not CHALLENGE.fullmatch(query.get("code_challenge", "")):
        return "code_challenge must be the base64url SHA-256 of the verifier, without padding"
    if "openid" not in query.get("scope", "").split():
        return "scope must include openid"
    return None


def _input_problem(body) -> str | None:
    """The model's constraints on tokenInput, as its ValidationException would name them."""
    if not isinstance(body, dict):
        return "The request body is not a JSON object."
    if body.get("clientId") not in CLIENTS:
        return "clientId is missing or not a devtools client."
    grant = body.get("grantType")
    if grant == "authorization_code":
        for name in ("code", "redirectUri", "codeVerifier"):
            if not isinstance(body.get(name), str) or not body[name]:
                return f"{name} is required for the authorization_code grant."
        if not VERIFIER.fullmatch(body["codeVerifier"]):
            return "codeVerifier must be 43 to 128 unreserved characters."
        # No maximum length: the model says 512 for a code, but real codes run to about 1,600
        # characters (cloudposse/atmos #2542 measured 1567), and `aws login` works with them.
        return None
    if grant == "refresh_token":
        token = body.get("refreshToken")
        if not isinstance(token, str) or not token:
            return "refreshToken is required for the refresh_token grant."
        return None
    return "grantType must be authorization_code or refresh_token."


# The model's documentation: the body may also be form-encoded with OAuth's own names (RFC 6749),
# and the answer is the same JSON. Third-party clients do this (cloudposse/atmos).
FORM_NAMES = {"client_id": "clientId", "grant_type": "grantType", "code": "code", "redirect_uri": "redirectUri",
              "code_verifier": "codeVerifier", "refresh_token": "refreshToken"}


def _token_input(raw: bytes, content_type: str):
    """tokenInput from a JSON body (what the SDKs send) or a form; None if neither can be read."""
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        form = _query(raw.decode("latin-1"))
        return {FORM_NAMES[k]: v for k, v in form.items() if k in FORM_NAMES}
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return None


def _refusal(name: str, message: str):
    status, error_type, code = REFUSALS[name]
    return status, {"__type": error_type, "error": code, "message": message}


def _answer_json(handler, status: int, body: dict) -> None:
    # The error's type goes in x-amzn-ErrorType, where botocore reads it first (rest-json); the
    # body keeps the model's members, `error` and `message`.
    headers = [("x-amzn-RequestId", str(uuid.uuid4()))]
    if status >= 400:
        headers.append(("x-amzn-ErrorType", body["__type"]))
        body = {k: v for k, v in body.items() if k != "__type"}
    answer(handler, status, json.dumps(body).encode(), "application/json", headers)


def _query(text: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _with_query(url: str, params: dict) -> str:
    return f"{url}{'&' if urlparse(url).query else '?'}{urlencode(params)}"


def _without_query(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _http(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    """One request as a browser sends it, redirects not followed: (status, headers, text)."""
    parts = urlparse(url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError(f"the stand-in's browser visits only loopback addresses, not {parts.hostname}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target or "/", body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text
    except OSError as exc:
        return 0, {}, f"unreachable: {type(exc).__name__}"
    finally:
        connection.close()
