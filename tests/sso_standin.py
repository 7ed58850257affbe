"""A loopback stand-in of IAM Identity Center: SSO OIDC (the device sign-in) and the SSO portal.

moto implements neither. This server emulates, on 127.0.0.1, what botocore's ``sso-oidc`` and
``sso`` clients talk to (rest-json, reached through ``AWS_ENDPOINT_URL_SSO_OIDC`` and
``AWS_ENDPOINT_URL_SSO``):

- OIDC ``POST /client/register`` (RegisterClient: a public client; a refresh token is issued later
  only to clients registered with scopes, as AWS does), ``POST /device_authorization``
  (StartDeviceAuthorization: deviceCode, userCode, verificationUri(Complete), expiresIn, interval)
  and ``POST /token`` (CreateToken) with the device-code grant and the refresh-token grant.
  Errors are HTTP 400 with the ``x-amzn-ErrorType`` header and an OAuth-style body, as AWS sends:
  AuthorizationPendingException (not approved yet), SlowDownException (polled too fast),
  ExpiredTokenException (device code expired), AccessDeniedException (the person denied),
  InvalidGrantException (unknown or used device code, revoked refresh token),
  InvalidClientException (unknown client or wrong secret).
- Portal ``GET /federation/credentials?role_name=&account_id=`` (GetRoleCredentials, bearer in
  ``x-amz-sso_bearer_token``, ``expiration`` in epoch milliseconds), ``GET /assignment/accounts``
  (ListAccounts), ``GET /assignment/roles`` (ListAccountRoles), ``POST /logout`` (Logout: the
  access and refresh tokens stop working). A missing, unknown, expired or logged-out token gives
  401 UnauthorizedException; a role not assigned gives 403 ForbiddenException.

The role credentials are real: the stand-in calls moto's STS AssumeRole on a role seeded in moto
(``AWSReservedSSO_<role>_<hex>``, trusted by a seed user that signs the call), so S3 with IAM
authorization on accepts them and GetCallerIdentity names the assumed role.

Where AWS's behaviour depends on a person or on time, the test drives it through a small control
API: :meth:`approve`, :meth:`deny`, :meth:`expire` and :meth:`slow_down` act on a user code;
:meth:`expire_access_tokens` and :meth:`revoke_refresh_tokens` on what was issued. ``clock`` is
injectable (aware UTC datetimes) so expiry needs no sleeping. AWS rate-limits polling by wall time;
here a SlowDown is answered when the test asks for one (deterministic).

Faults (:meth:`fault`) damage the answer of one operation the way a hostile network, a captive
portal or a broken proxy would, after the stand-in did its work (so a damaged CreateToken or
GetRoleCredentials answer held real secrets, recorded in :meth:`secrets`): ``cut`` (HTTP 200,
close-delimited, half the body), ``malformed`` (the JSON's last brace gone), ``drop`` (a field
removed, ``field`` may name one inside ``roleCredentials``), ``html`` (a captive portal's page with
200), ``expired`` (``expiresIn`` 0, or ``expiration`` an hour ago), ``empty_key`` (``accessKeyId`` or
``accessToken`` empty), ``status`` (an HTML 503, as a load balancer sends) and ``delay`` (no answer
for ``seconds``, longer than the client waits).
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

from aws_standin import ACCOUNT, allow
from proxy_support import LoopbackStandin, answer, read_body
from sso_damage import OPERATIONS, answer_damaged
from standin_pages import serve_device_page

PERSON = "alice"  # the person who approves sign-ins: the role session name in the portal's roles


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _token(prefix: str, size: int = 48) -> str:
    return prefix + secrets.token_urlsafe(size)


class SsoStandin(LoopbackStandin):
    """SSO OIDC and the SSO portal on one loopback HTTP server, with role credentials from moto."""

    def __init__(self, aws, *, clock=_now, interval: int = 1, device_lifetime: int = 600,
                 token_lifetime: int = 8 * 3600, role_duration: int = 3600,
                 registration_lifetime: int = 90 * 86400):
        self.aws = aws  # ipy_tempcreds._standin.LocalAws
        self.clock = clock
        self.interval = interval
        self.device_lifetime = device_lifetime
        self.token_lifetime = token_lifetime
        self.role_duration = role_duration
        self.registration_lifetime = registration_lifetime
        self.auto_approve = False  # approve every code at its first poll (for tests in a kernel)
        self.account_names = {ACCOUNT: "analytics"}
        self.calls: list[tuple[str, dict]] = []  # (operation, non-secret details), in order
        self._lock = threading.Lock()
        self._clients: dict[str, dict] = {}
        self._devices: dict[str, dict] = {}  # device code -> state
        self._access: dict[str, dict] = {}  # access token -> {"expires", "client", "valid"}
        self._refresh: dict[str, dict] = {}  # refresh token -> {"client", "valid"}
        self._roles: dict[tuple[str, str], str] = {}  # (account, role name) -> role ARN in moto
        self._issued: set[str] = set()
        self._faults: dict[str, dict] = {}  # operation -> {"kind", "field", "seconds", "times"}
        self._seed = None
        self._sts = None
        super().__init__("sso-standin")

    # -- wiring ---------------------------------------------------------------------------------------

    def environ(self) -> dict[str, str]:
        """The variables that send botocore's sso-oidc and sso clients (and the CLI's) here."""
        return {"AWS_ENDPOINT_URL_SSO_OIDC": self.url, "AWS_ENDPOINT_URL_SSO": self.url}

    # -- seeding (moto with IAM auth off) -----------------------------------------------------------

    def assign(self, role_name: str, policy: str | None = None, account: str = ACCOUNT) -> str:
        """Give the person ``role_name`` in ``account``: a role AWSReservedSSO_<role_name>_<hex>
        in moto that the seed user may assume. Returns the role's ARN."""
        if self._seed is None:
            self._seed = self.aws.create_user("sso-broker", allow(["sts:AssumeRole"]))
        arn = self.aws.create_role(f"AWSReservedSSO_{role_name}_{secrets.token_hex(8)}", [self._seed.arn],
                                   policy or allow(["sts:*", "s3:*"]))
        self._roles[(account, role_name)] = arn
        return arn

    # -- control API (what a person or time would do) ---------------------------------------------

    def _device_by_user_code(self, user_code: str) -> dict:
        for device in self._devices.values():
            if device["user_code"] == user_code:
                return device
        raise KeyError(f"no device authorization with user code {user_code}")

    def _set(self, user_code: str, state: str) -> None:
        with self._lock:
            self._device_by_user_code(user_code)["state"] = state

    def approve(self, user_code: str) -> None:
        self._set(user_code, "approved")

    def deny(self, user_code: str) -> None:
        self._set(user_code, "denied")

    def expire(self, user_code: str) -> None:
        self._set(user_code, "expired")

    def slow_down(self, user_code: str) -> None:
        """The next poll for this code is answered with SlowDownException."""
        with self._lock:
            self._device_by_user_code(user_code)["slow_down"] = True

    def user_codes(self) -> list[str]:
        """The user codes of device authorizations started so far, oldest first."""
        with self._lock:
            return [d["user_code"] for d in self._devices.values()]

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self._access.values():
                token["expires"] = self.clock() - timedelta(seconds=1)

    def forget_clients(self) -> None:
        """Every client registration is refused from now on (revoked): a sign-in registers anew."""
        with self._lock:
            self._clients.clear()

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            for token in self._refresh.values():
                token["valid"] = False

    FAULTS = ("cut", "malformed", "drop", "html", "expired", "empty_key", "status", "delay", "set")

    def fault(self, operation: str, kind: str, *, field: str = "", seconds: float = 0.0,
              times: int | None = None, value=None) -> None:
        """Damage the answers of ``operation`` ("CreateToken", "GetRoleCredentials", ...) as ``kind``
        says, ``times`` times (None: until :meth:`heal`)."""
        if kind not in self.FAULTS or (kind in ("drop", "set") and not field):
            raise ValueError(kind)
        with self._lock:
            self._faults[operation] = {"kind": kind, "field": field, "seconds": seconds, "times": times,
                                       "value": value}

    def heal(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, operation: str) -> dict | None:
        with self._lock:
            fault = self._faults.get(operation)
            if fault is not None and fault["times"] is not None:
                fault["times"] -= 1
                if fault["times"] <= 0:
                    del self._faults[operation]
            return fault

    def secrets(self) -> set[str]:
        """Every secret handed out: client secrets, device codes, access and refresh tokens."""
        with self._lock:
            return set(self._issued)

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    # -- serving -------------------------------------------------------------------------------------

    def _serve(self, handler) -> None:
        if serve_device_page(self, handler):  # the verification page a person opens (the demo)
            return None
        url = urlparse(handler.path)
        method = handler.command
        raw = read_body(handler)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return _answer_json(handler, 400, {"__type": "InvalidRequestException", "error": "invalid_request"})
        with self._lock:
            if method == "POST" and url.path == "/client/register":
                result = self.register_client(body)
            elif method == "POST" and url.path == "/device_authorization":
                result = self.start_device_authorization(body)
            elif method == "POST" and url.path == "/token":
                result = self.create_token(body)
            elif (method, url.path) in (("GET", "/federation/credentials"), ("GET", "/assignment/accounts"),
                                        ("GET", "/assignment/roles"), ("POST", "/logout")):
                result = self.portal(method, url.path, query, handler.headers)
            else:
                result = (404, {"__type": "ResourceNotFoundException", "message": "no such path"})
        fault = self._take_fault(OPERATIONS.get((method, url.path), ""))
        if fault is not None:
            return answer_damaged(handler, *result, fault, self._stopping, _answer_json)
        return _answer_json(handler, *result)

    # -- OIDC -----------------------------------------------------------------------------------------

    def _issue(self, value: str) -> str:
        self._issued.add(value)
        return value

    def register_client(self, body: dict):
        client_id = _token("cid-", 16)
        secret = self._issue(_token("csecret-", 96))
        now = self.clock()
        self._clients[client_id] = {"secret": secret, "scopes": body.get("scopes") or [],
                                    "expires": now + timedelta(seconds=self.registration_lifetime)}
        self.calls.append(("RegisterClient", {"clientName": body.get("clientName"), "scopes": body.get("scopes")}))
        return 200, {"clientId": client_id, "clientSecret": secret, "clientIdIssuedAt": int(now.timestamp()),
                     "clientSecretExpiresAt": int(self._clients[client_id]["expires"].timestamp())}

    def _client_error(self, body: dict):
        client = self._clients.get(body.get("clientId", ""))
        if client is None or client["secret"] != body.get("clientSecret") or client["expires"] <= self.clock():
            return _oidc_error("InvalidClientException", "invalid_client")
        return None

    def start_device_authorization(self, body: dict):
        error = self._client_error(body)
        self.calls.append(("StartDeviceAuthorization", {"startUrl": body.get("startUrl"), "ok": error is None}))
        if error:
            return error
        device_code = self._issue(_token("dev-", 48))
        user_code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        self._devices[device_code] = {"user_code": user_code, "client": body["clientId"], "state": "pending",
                                      "expires": self.clock() + timedelta(seconds=self.device_lifetime),
                                      "start_url": body.get("startUrl"), "slow_down": False}
        verification = f"{self.url}/device"
        return 200, {"deviceCode": device_code, "userCode": user_code, "verificationUri": verification,
                     "verificationUriComplete": f"{verification}?user_code={user_code}",
                     "expiresIn": self.device_lifetime, "interval": self.interval}

    def create_token(self, body: dict):
        grant = body.get("grantType", "")
        error = self._client_error(body)
        if error:
            self.calls.append(("CreateToken", {"grantType": grant, "result": "InvalidClientException"}))
            return error
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            status, answer = self._device_grant(body)
        elif grant == "refresh_token":
            status, answer = self._refresh_grant(body)
        else:
            status, answer = _oidc_error("UnsupportedGrantTypeException", "unsupported_grant_type")
        result = answer.get("__type", "ok") if isinstance(answer, dict) else "ok"
        self.calls.append(("CreateToken", {"grantType": grant, "result": result, "at": self.clock()}))
        return status, answer

    def _device_grant(self, body: dict):
        device = self._devices.get(body.get("deviceCode", ""))
        if device is None or device["client"] != body["clientId"] or device["state"] == "used":
            return _oidc_error("InvalidGrantException", "invalid_grant")
        if device["slow_down"]:
            device["slow_down"] = False
            return _oidc_error("SlowDownException", "slow_down")
        if device["state"] == "expired" or device["expires"] <= self.clock():
            return _oidc_error("ExpiredTokenException", "expired_token")
        if device["state"] == "denied":
            return _oidc_error("AccessDeniedException", "access_denied")
        if device["state"] == "pending" and self.auto_approve:
            device["state"] = "approved"
            return _oidc_error("AuthorizationPendingException", "authorization_pending")
        if device["state"] == "pending":
            return _oidc_error("AuthorizationPendingException", "authorization_pending")
        device["state"] = "used"
        return 200, self._tokens_for(body["clientId"])

    def _refresh_grant(self, body: dict):
        refresh = self._refresh.get(body.get("refreshToken", ""))
        if refresh is None or not refresh["valid"] or refresh["client"] != body["clientId"]:
            return _oidc_error("InvalidGrantException", "invalid_grant")
        refresh["valid"] = False  # rotated, as AWS does: the old refresh token is spent
        return 200, self._tokens_for(body["clientId"])

    def _tokens_for(self, client_id: str) -> dict:
        access = self._issue(_token("aoa", 120))
        self._access[access] = {"expires": self.clock() + timedelta(seconds=self.token_lifetime),
                                "client": client_id, "valid": True}
        answer = {"accessToken": access, "tokenType": "Bearer", "expiresIn": self.token_lifetime}
        if self._clients[client_id]["scopes"]:
            refresh = self._issue(_token("aor", 120))
            self._refresh[refresh] = {"client": client_id, "valid": True, "access": access}
            answer["refreshToken"] = refresh
        return answer

    # -- portal ---------------------------------------------------------------------------------------

    def _bearer(self, headers):
        token = self._access.get(headers.get("x-amz-sso_bearer_token") or "")
        if token is None or not token["valid"] or token["expires"] <= self.clock():
            return None
        return token

    def portal(self, method: str, path: str, query: dict, headers):
        operation = {("GET", "/federation/credentials"): "GetRoleCredentials",
                     ("GET", "/assignment/accounts"): "ListAccounts",
                     ("GET", "/assignment/roles"): "ListAccountRoles", ("POST", "/logout"): "Logout"}[(method, path)]
        token = self._bearer(headers)
        self.calls.append((operation, {"authorized": token is not None, **{k: v for k, v in query.items()
                                                                            if k in ("role_name", "account_id")}}))
        if token is None:
            return _portal_error(401, "UnauthorizedException", "Session token not found or invalid")
        if operation == "Logout":
            for value, access in self._access.items():
                if access is token:
                    access["valid"] = False
                    for refresh in self._refresh.values():
                        if refresh.get("access") == value:
                            refresh["valid"] = False
            return 200, {}
        if operation == "ListAccounts":
            accounts = sorted({account for account, _ in self._roles})
            return 200, {"accountList": [{"accountId": a, "accountName": self.account_names.get(a, a),
                                          "emailAddress": f"aws+{a}@example.com"} for a in accounts]}
        account = query.get("account_id", "")
        if operation == "ListAccountRoles":
            return 200, {"roleList": [{"roleName": r, "accountId": a} for a, r in sorted(self._roles) if a == account]}
        role_arn = self._roles.get((account, query.get("role_name", "")))
        if role_arn is None:
            return _portal_error(403, "ForbiddenException", "No access")
        return 200, {"roleCredentials": self._role_credentials(role_arn)}

    def _role_credentials(self, role_arn: str) -> dict:
        if self._sts is None:
            self._sts = self.aws.client("sts", aws_access_key_id=self._seed.access_key_id,
                                        aws_secret_access_key=self._seed.secret_access_key)
        credentials = self._sts.assume_role(RoleArn=role_arn, RoleSessionName=PERSON,
                                            DurationSeconds=self.role_duration)["Credentials"]
        expiration = self.clock() + timedelta(seconds=self.role_duration)
        self._issued.update((credentials["SecretAccessKey"], credentials["SessionToken"]))
        return {"accessKeyId": credentials["AccessKeyId"], "secretAccessKey": credentials["SecretAccessKey"],
                "sessionToken": credentials["SessionToken"], "expiration": int(expiration.timestamp() * 1000)}


def _oidc_error(error_type: str, error: str):
    return 400, {"__type": error_type, "error": error, "error_description": None}


def _portal_error(status: int, error_type: str, message: str):
    return status, {"__type": error_type, "message": message}


def _answer_json(handler, status: int, body: dict) -> None:
    # AWS names an error's type in a header too; botocore reads it from there first.
    headers = [("x-amzn-ErrorType", body["__type"])] if status >= 400 else []
    answer(handler, status, json.dumps(body).encode(), "application/json", headers)
