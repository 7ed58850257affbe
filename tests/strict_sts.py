"""A strict AWS stand-in: a loopback proxy in front of moto that enforces what real AWS enforces and
moto does not.

moto (5.x, measured) never expires temporary credentials and enforces neither a role's
MaxSessionDuration nor AWS's 1-hour cap on roles assumed with temporary credentials. Real STS and
S3 do all three, and code that passes against moto alone can fail the first hour against AWS. This
proxy forwards every request to moto unchanged (the ``Host`` header too, so moto's SigV4 check
still holds with IAM auth on) and emulates, as AWS behaves:

- **Credentials that expire.** Each ``<Expiration>`` in an STS answer is rewritten to ``lifetime``
  seconds ahead (when ``lifetime`` is set; else moto's is kept), and each access key's expiry is
  remembered. A later request signed with that key (``Credential=AKID/...`` in the Authorization
  header, or ``X-Amz-Credential`` in a presigned URL) after its expiry is answered with
  ``ExpiredToken``: STS (and IAM) as HTTP 403 ``<ErrorResponse>``, S3 as HTTP 400 ``<Error>``.
- **The 1-hour cap for any temporary caller.** AssumeRole with ``DurationSeconds`` > 3600 signed
  with temporary credentials (a session token present: a role session, an MFA session from
  GetSessionToken, SSO or instance-role credentials) is refused with AWS's exact words,
  "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role
  chaining." (HTTP 400 ValidationError).
- **MaxSessionDuration.** AssumeRole with more than the role's ``MaxSessionDuration`` (read from
  moto's IAM, in this process) is refused: "The requested DurationSeconds exceeds the
  MaxSessionDuration set for this role." (HTTP 400 ValidationError).
- **Roles that do not exist.** AssumeRole of a role moto's IAM does not hold is refused as AWS
  refuses it (HTTP 403 AccessDenied, "User: ARN is not authorized to perform: sts:AssumeRole on
  resource: ROLE"): moto alone lets any caller assume any name.
- **GetSessionToken / GetFederationToken from temporary credentials** are refused as AWS does
  (HTTP 403 AccessDenied, "Cannot call GetSessionToken with session credentials").
- **MFA codes.** A role whose trust policy requires MFA (a condition on ``aws:MultiFactorAuthPresent``
  or ``aws:MultiFactorAuthAge``) is refused without a code, as AWS refuses it ("User: ARN is not
  authorized to perform: sts:AssumeRole on resource: ROLE"), unless the call is signed by an MFA
  session (GetSessionToken with a good code, through here). A code given with the serial of a
  virtual MFA device in moto's IAM is checked as AWS checks it: a TOTP of the device's seed
  (tests/totp.py; the step before and after count too), each code once per device, the device
  the caller's own. A wrong or reused code: "MultiFactorAuthentication failed with invalid MFA one
  time pass code." (AssumeRole) or "MultiFactorAuthentication failed, unable to validate MFA code.
  Please verify your MFA serial number is valid and associated with this user." (GetSessionToken,
  and a device that is not the caller's). moto checks none of this. Lenient where the older tests
  rely on it: a serial that is no device in moto passes, unless the role requires MFA.

The API, for other tests::

    strict = StrictSts(local_aws.url, lifetime=60, clock=clock).start()
    os.environ["AWS_ENDPOINT_URL"] = strict.url      # STS, IAM and S3 all go through it
    strict.expire("ASIA...")   /   strict.expire_all()   # past expiry now, whatever the clock
    strict.expiry("ASIA...")   # the datetime it expires at (None: a key it never issued)
    strict.refused             # [(action or service, error code)] of every refusal, in order
    strict.requests            # [{"Action": ..., "DurationSeconds": ..., "SerialNumber": ..., "TokenCode": ...,
                               #   "temporary": bool}] of every STS request (no secrets), in order
    strict.stop()

``clock`` returns an aware UTC datetime (a test's fake clock, shared with the product's manager,
moves both together); the default is the wall clock. Presigned URLs pass through, but moto itself
answers them with HTTP 500 while its IAM auth is on (moto 5.2, measured). The pytest fixture ``strict_aws`` (import it
from this module into a test module) gives one, started in front of the ``aws`` fixture's moto
with ``AWS_ENDPOINT_URL`` pointed at it. Only 127.0.0.1 is ever bound or contacted.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

import pytest

from proxy_support import LoopbackServer, answer, forward, read_body
from proxy_support import sts_error_xml as error_response
from totp import matching_step

CHAINING_CAP = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
MAX_SESSION = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
STS_EXPIRED = "The security token included in the request is expired"
S3_EXPIRED = "The provided token has expired."
ACCOUNT = "123456789012"
MFA_INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code."
MFA_UNVALIDATED = ("MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial "
                   "number is valid and associated with this user.")

_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/[0-9]{8}/([^/]*)/([^/,\s]+)/")
_RECORDED = ("Action", "RoleArn", "RoleSessionName", "DurationSeconds", "SerialNumber", "TokenCode")
_ISSUED = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
_EXPIRATION = re.compile(rb"<Expiration>([^<]*)</Expiration>")
_SESSION_ARN = re.compile(rb"<AssumedRoleUser>.*?<Arn>([^<]+)</Arn>", re.S)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def s3_error(code: str, message: str) -> bytes:
    """S3's error document."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>0000000000000000</RequestId></Error>").encode()


_NO_ROLE = object()


def _moto_role(role_arn: str):
    from moto.iam.models import iam_backends

    partition = role_arn.split(":")[1] if role_arn.count(":") >= 5 else "aws"
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ACCOUNT
    try:
        return iam_backends[account][partition].get_role_by_arn(role_arn)
    except Exception:
        return _NO_ROLE


def moto_max_session_duration(role_arn: str) -> int | None:
    """The role's MaxSessionDuration in moto's IAM (moto running in this process); None if unknown."""
    role = _moto_role(role_arn)
    if role is _NO_ROLE:
        return None
    return int(role.max_session_duration) if role.max_session_duration else None


def moto_role_exists(role_arn: str) -> bool:
    return _moto_role(role_arn) is not _NO_ROLE


def moto_role_requires_mfa(role_arn: str) -> bool:
    """True if an Allow statement of the role's trust policy has a condition on MFA."""
    import json

    role = _moto_role(role_arn)
    if role is _NO_ROLE:
        return False
    document = role.assume_role_policy_document
    policy = json.loads(document) if isinstance(document, str) else document
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        conditions = json.dumps(statement.get("Condition", {}))
        if statement.get("Effect") == "Allow" and "aws:MultiFactorAuth" in conditions:
            return True
    return False


def moto_mfa_device(serial: str) -> tuple[str, str] | None:
    """(Base32 seed, the owner's user ARN or "") of a virtual MFA device in moto's IAM, or None."""
    from moto.iam.models import iam_backends

    account = serial.split(":")[4] if serial.count(":") >= 5 else ACCOUNT
    partition = serial.split(":")[1] if serial.count(":") >= 5 else "aws"
    try:
        device = iam_backends[account][partition].virtual_mfa_devices.get(serial)
    except Exception:
        return None
    if device is None:
        return None
    seed = device.base32_string_seed
    return (seed.decode() if isinstance(seed, bytes) else seed), (device.user.arn if device.user else "")


def _loopback(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url)
    if parsed.hostname not in ("127.0.0.1", "localhost") or parsed.port is None:
        raise ValueError("the strict stand-in only forwards to loopback")
    return parsed.hostname, parsed.port


class StrictSts:
    """The proxy (see the module docstring). ``lifetime``: seconds every issued set lives (None:
    what moto says); ``max_session``: role ARN -> MaxSessionDuration or None (default: moto's IAM)."""

    def __init__(self, upstream: str, *, lifetime: float | None = None, clock=now_utc,
                 max_session=moto_max_session_duration, role_exists=moto_role_exists,
                 requires_mfa=moto_role_requires_mfa, mfa_device=moto_mfa_device, sts_upstream: str | None = None):
        self.upstream = _loopback(upstream)
        # Query-protocol calls (STS, IAM) may go elsewhere: the demo sends them through the
        # federation stand-in, which learns how each key set was issued.
        self.sts_upstream = _loopback(sts_upstream) if sts_upstream else self.upstream
        self.lifetime = lifetime
        self.clock = clock
        self.max_session = max_session
        self.role_exists = role_exists
        self.requires_mfa = requires_mfa
        self.mfa_device = mfa_device
        self.url = ""
        self.refused: list[tuple[str, str]] = []
        self.requests: list[dict] = []
        self._expiry: dict[str, datetime] = {}
        self._issued_to: dict[str, str] = {}  # access key id -> the assumed-role ARN it was issued for
        self._used_codes: set[tuple[str, int]] = set()  # (MFA serial, TOTP step) already spent
        self._mfa_sessions: set[str] = set()  # access key ids from GetSessionToken with a good code
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    # -- control ----------------------------------------------------------------------------------

    def start(self) -> StrictSts:
        self._server = LoopbackServer(self._handle, name="strict-sts",
                                      methods=("GET", "POST", "PUT", "DELETE", "HEAD")).start()
        self.url = self._server.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def caller_arn(self, access_key_id: str) -> str:
        """Who signed with this key, as AWS names the caller in a refusal (moto's IAM, or an issued set)."""
        with self._lock:
            if access_key_id in self._issued_to:
                return self._issued_to[access_key_id]
        from moto.iam.models import iam_backends

        try:
            return iam_backends[ACCOUNT]["aws"].get_user_from_access_key_id(access_key_id).arn
        except Exception:
            return "anonymous"

    def expiry(self, access_key_id: str) -> datetime | None:
        with self._lock:
            return self._expiry.get(access_key_id)

    def expire(self, access_key_id: str) -> None:
        """Make one issued key expired from now on, whatever the clock says."""
        with self._lock:
            self._expiry[access_key_id] = datetime.min.replace(tzinfo=timezone.utc)

    def expire_all(self) -> None:
        with self._lock:
            for key in self._expiry:
                self._expiry[key] = datetime.min.replace(tzinfo=timezone.utc)

    # -- serving ----------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = read_body(handler)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query)
        # Only a query-protocol body (STS, IAM) is a form: parsing an 8 MB S3 upload as one cost 2 s.
        is_form = handler.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body and is_form else {}
        params = {k: v[0] for k, v in {**query, **form}.items()}
        action = params.get("Action", "")
        signer, service = self._signer(handler, params)
        token = handler.headers.get("X-Amz-Security-Token") or params.get("X-Amz-Security-Token")
        if action:
            # What was asked, never who signed it: these parameters hold no secret (an MFA code
            # in a test is a made-up one).
            self.requests.append({**{k: params[k] for k in _RECORDED if k in params}, "temporary": bool(token)})
        refusal = self._refusal(action, signer, service, bool(token), params)
        if refusal is not None:
            status, document, code = refusal
            self.refused.append((action or service, code))
            return answer(handler, status, document, "text/xml")
        status, _, headers, content = forward(self.sts_upstream if action else self.upstream, handler, body)
        if action in ("AssumeRole", "GetSessionToken", "GetFederationToken", "AssumeRoleWithSAML",
                      "AssumeRoleWithWebIdentity") and status == 200:
            content = self._issued(content, mfa=action == "GetSessionToken" and bool(params.get("TokenCode")))
        answer(handler, status, content, None, headers)

    @staticmethod
    def _signer(handler, params) -> tuple[str | None, str]:
        """(access key id, service) from the SigV4 Authorization header or a presigned URL."""
        authorization = handler.headers.get("Authorization", "")
        credential = params.get("X-Amz-Credential")
        match = _CREDENTIAL.search(authorization) or (credential and _CREDENTIAL.search(f"Credential={credential}"))
        if not match:
            return None, "sts" if params.get("Action") else "s3"
        return match[1], match[3]

    def _refusal(self, action, signer, service, temporary, params) -> tuple[int, bytes, str] | None:
        expiry = self.expiry(signer) if signer else None
        if expiry is not None and self.clock() >= expiry:
            if service == "s3":
                return 400, s3_error("ExpiredToken", S3_EXPIRED), "ExpiredToken"
            return 403, error_response("ExpiredToken", STS_EXPIRED), "ExpiredToken"
        if action in ("GetSessionToken", "GetFederationToken") and temporary:
            return 403, error_response("AccessDenied", f"Cannot call {action} with session credentials"), "AccessDenied"
        if action == "GetSessionToken":
            return self._mfa_refusal(action, signer, params, required=False)
        if action != "AssumeRole":
            return None
        try:
            duration = int(params.get("DurationSeconds", "3600"))
        except ValueError:
            return None  # moto answers for itself
        role = params.get("RoleArn", "")
        if self.role_exists is not None and not self.role_exists(role):
            # AWS does not say whether the role exists: the same refusal as a trust policy's.
            who = self.caller_arn(signer) if signer else "anonymous"
            return 403, error_response("AccessDenied", f"User: {who} is not authorized to perform: sts:AssumeRole "
                                                       f"on resource: {role}"), "AccessDenied"
        mfa = self._mfa_refusal(action, signer, params, required=bool(self.requires_mfa and self.requires_mfa(role)))
        if mfa is not None:
            return mfa
        if temporary and duration > 3600:
            return 400, error_response("ValidationError", CHAINING_CAP), "ValidationError"
        maximum = self.max_session(params.get("RoleArn", "")) if self.max_session else None
        if maximum is not None and duration > maximum:
            return 400, error_response("ValidationError", MAX_SESSION), "ValidationError"
        return None

    def _mfa_refusal(self, action, signer, params, *, required: bool) -> tuple[int, bytes, str] | None:
        """AWS's MFA checks (module docstring); None: no refusal. Spends a good code."""
        serial, given = params.get("SerialNumber"), params.get("TokenCode")
        with self._lock:
            mfa_session = signer in self._mfa_sessions
        if not (serial and given):
            if required and not mfa_session:
                who = self.caller_arn(signer) if signer else "anonymous"
                return 403, error_response("AccessDenied", f"User: {who} is not authorized to perform: sts:AssumeRole "
                                                           f"on resource: {params.get('RoleArn', '')}"), "AccessDenied"
            return None
        device = self.mfa_device(serial) if self.mfa_device else None
        unvalidated = 403, error_response("AccessDenied", MFA_UNVALIDATED), "AccessDenied"
        if device is None:
            return unvalidated if required else None
        seed, owner = device
        if owner and signer and owner != self.caller_arn(signer):
            return unvalidated
        spent = matching_step(seed, given, self.clock().timestamp())
        with self._lock:
            if spent is not None and (serial, spent) not in self._used_codes:
                self._used_codes.add((serial, spent))
                return None
        if action == "GetSessionToken":
            return unvalidated
        return 403, error_response("AccessDenied", MFA_INVALID), "AccessDenied"

    def _issued(self, content: bytes, *, mfa: bool = False) -> bytes:
        """Rewrite the answer's Expiration (with ``lifetime``) and remember the key's expiry (and,
        ``mfa``, that the key is an MFA session's)."""
        key = _ISSUED.search(content)
        if key is not None and mfa:
            with self._lock:
                self._mfa_sessions.add(key[1].decode())
        found = _EXPIRATION.search(content)
        session = _SESSION_ARN.search(content)
        if key is not None and session is not None:
            with self._lock:
                self._issued_to[key[1].decode()] = session[1].decode()
        if key is None or found is None:
            return content
        if self.lifetime is not None:
            expiration = self.clock() + timedelta(seconds=self.lifetime)
            stamp = expiration.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
            content = content[: found.start(1)] + stamp + content[found.end(1):]
        else:
            expiration = datetime.fromisoformat(found[1].decode().replace("Z", "+00:00"))
        with self._lock:
            self._expiry[key[1].decode()] = expiration
        return content


@pytest.fixture
def strict_aws(aws):
    """The ``aws`` fixture's moto behind a StrictSts (wall clock, moto's lifetimes), with
    ``AWS_ENDPOINT_URL`` (STS, IAM, S3) pointed at it. Set ``.lifetime``/``.clock`` as needed."""
    import os

    strict = StrictSts(aws.url).start()
    os.environ["AWS_ENDPOINT_URL"] = strict.url
    yield strict
    strict.stop()
