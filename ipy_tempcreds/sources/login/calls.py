"""CreateOAuth2Token (AWS Sign-In) for both grants, its answers checked and its refusals worded.

An answer may be damaged on the way (cut, garbled, a proxy's HTML page with HTTP 200, a field
missing); botocore then hands back an answer without its fields or puts the body into an error's
message, and the body may hold the new secret key or refresh token. So every answer is checked
field by field (named, never quoted) and every error is worded here; AWS's own message is kept only
when it is one short line of words. The refusals users know from `aws login` keep its words.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...base import redaction
from ...base.errors import one_line_words, scrub, translatable
from ...model.credentials import ACCESS_KEY_ID, TemporaryCredentials
from .dpop import DpopKey
from .endpoint import DEFAULT_OPTIONS, CallOptions
from .errors import CodeRejected, LoginError, SessionEnded

WHERE = "Check the network or proxy, and AWS_ENDPOINT_URL_SIGNIN if it is set, then try again."
INSUFFICIENT = ("Unable to complete the login process due to insufficient permissions. You may be missing "
                "permission for the 'signin:CreateOAuth2Token' action.")


@dataclass(frozen=True, repr=False)
class Tokens:
    """What CreateOAuth2Token gave: credentials, the refresh token, and (code grant) the id token."""

    credentials: TemporaryCredentials
    refresh_token: str
    id_token: str | None

    def __repr__(self) -> str:
        return f"Tokens({self.credentials!r}, refresh_token=<hidden>)"


def exchange(client, key: DpopKey, *, client_id: str, code: str, verifier: str, redirect_uri: str,
             clock: Callable[[], datetime], options: CallOptions = DEFAULT_OPTIONS) -> Tokens:
    """The authorization_code grant: the code the browser brought back, for tokens."""
    redaction.remember(code, verifier)  # botocore logs the request's body at DEBUG
    body = {"clientId": client_id, "grantType": "authorization_code", "code": code, "codeVerifier": verifier,
            "redirectUri": redirect_uri}
    return _call(client, key, body, "Completing the console sign-in", clock, options, needs_id_token=True)


def refresh(client, key: DpopKey, *, client_id: str, refresh_token: str, clock: Callable[[], datetime],
            options: CallOptions = DEFAULT_OPTIONS) -> Tokens:
    """The refresh_token grant: new credentials and a new (rotated) refresh token."""
    redaction.remember(refresh_token)
    body = {"clientId": client_id, "grantType": "refresh_token", "refreshToken": refresh_token}
    return _call(client, key, body, "Renewing the console sign-in", clock, options, needs_id_token=False)


def _call(client, key: DpopKey, body: dict, what: str, clock, options: CallOptions, *, needs_id_token: bool) -> Tokens:
    key.attach(client, clock)
    asked_at = clock()
    try:
        answer = client.create_o_auth2_token(tokenInput=body)
    except Exception as exc:
        if not translatable(exc):
            raise
        raise translate(exc, what, body["grantType"], options) from None
    return _checked(answer, what, asked_at, needs_id_token)


def unreadable(what: str, detail: str = "could not be read") -> LoginError:
    return LoginError(f"{what} failed: AWS Sign-In's answer {detail} (cut short, garbled, or not from AWS: a "
                      f"proxy, a captive portal or a network fault in the way); nothing was written. {WHERE}")


def _checked(answer, what: str, asked_at: datetime, needs_id_token: bool) -> Tokens:
    output = answer.get("tokenOutput") if isinstance(answer, dict) else None
    if not isinstance(output, dict):
        raise unreadable(what, "holds no tokens")
    given = output.get("accessToken")
    if not isinstance(given, dict):
        raise unreadable(what, "has no accessToken")
    for name in ("accessKeyId", "secretAccessKey", "sessionToken"):
        if not isinstance(given.get(name), str) or not given[name].strip():
            raise unreadable(what, f"has no {name}")
    if not ACCESS_KEY_ID.fullmatch(given["accessKeyId"]):
        raise unreadable(what, "holds an access key that is not one")
    lifetime = output.get("expiresIn")
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
        raise unreadable(what, "has no expiresIn" if lifetime is None else "holds an expiresIn that is not a lifetime")
    if not isinstance(output.get("refreshToken"), str) or not output["refreshToken"].strip():
        raise unreadable(what, "has no refreshToken")
    id_token = output.get("idToken")
    if needs_id_token and login_session_of(id_token) is None:
        raise unreadable(what, "has no idToken naming the login session")
    redaction.remember(output["refreshToken"], id_token if isinstance(id_token, str) else None)
    credentials = TemporaryCredentials(given["accessKeyId"], given["secretAccessKey"], given["sessionToken"],
                                       asked_at + timedelta(seconds=float(lifetime)))
    return Tokens(credentials, output["refreshToken"], id_token if needs_id_token else None)


def claims(id_token) -> dict | None:
    """The id token's claims, unverified (as the CLI reads them); None if it is not a JWT."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return None
    payload = id_token.split(".")[1]
    try:
        value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def login_session_of(id_token) -> str | None:
    """The login session the id token names (its ``sub``, an ARN with an account), or None."""
    sub = (claims(id_token) or {}).get("sub")
    if not isinstance(sub, str) or not sub.startswith("arn:") or len(sub.split(":")) < 6 \
            or not sub.split(":")[4].isdigit():
        return None
    return sub


def signed_in_at(id_token) -> datetime | None:
    """When the sign-in happened: the id token's ``iat`` (it is not renewed with the credentials)."""
    from datetime import timezone

    iat = (claims(id_token) or {}).get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(iat, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _aws_words(exc) -> str:
    return one_line_words(exc.response.get("message") or exc.response.get("Error", {}).get("Message"))


def translate(exc: BaseException, what: str, grant: str, options: CallOptions = DEFAULT_OPTIONS) -> LoginError:
    """A LoginError for a botocore failure (no token, key or body in it), its ``code`` set."""
    error = _translate(exc, what, grant, options)
    response = getattr(exc, "response", None)
    error.code = str(response.get("error") or "") if isinstance(response, dict) else ""
    return error


def _translate(exc: BaseException, what: str, grant: str, options: CallOptions) -> LoginError:
    from botocore import exceptions as bx

    if translatable(exc) and not isinstance(exc, (bx.BotoCoreError, bx.ClientError)):
        return unreadable(what)  # a parser slip: its text quotes the body
    if isinstance(exc, bx.ClientError):
        error = str(exc.response.get("error") or "")
        kind = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if error == "AUTHCODE_EXPIRED":
            return CodeRejected("Unable to complete the login process due to an expired authorization code "
                                "(it expired or was used already): open the sign-in link again for a new code.")
        if error == "INSUFFICIENT_PERMISSIONS":
            return LoginError(INSUFFICIENT)
        if error in ("TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED"):
            why = "has expired" if error == "TOKEN_EXPIRED" else "was ended because the user's credentials changed"
            return SessionEnded(f"{what} failed: the console login session {why}. Run %aws_login to sign in again.")
        if status == 429 or kind in ("TooManyRequestsError", "ThrottlingException"):
            return LoginError(f"{what} failed: AWS Sign-In is throttling requests. Wait a moment and retry.")
        if status >= 500 or kind == "InternalServerException":
            return LoginError(f"{what} failed: AWS Sign-In answered with a server error (HTTP {status or '5xx'}). "
                              "This is on AWS's side (or a proxy's) and usually temporary: try again in a minute.")
        words = _aws_words(exc)
        label = error or (kind if kind.replace("_", "").isalnum() and not kind.isdigit() else f"HTTP {status}")
        if grant == "authorization_code":
            return CodeRejected(f"{what} failed: AWS Sign-In refused the code ({label}{f': {words}' if words else ''}).")
        return LoginError(f"{what} failed with {label}{f' ({words})' if words else ''}.")
    if isinstance(exc, (bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return LoginError(f"{what} failed: AWS Sign-In did not answer in time ({options.timeout:g} s, "
                          f"TempCreds.sts_timeout). {WHERE}")
    if isinstance(exc, (bx.IncompleteReadError, bx.ResponseStreamingError, bx.ConnectionClosedError)):
        return unreadable(what, "was cut short")
    if isinstance(exc, bx.EndpointConnectionError):
        return LoginError(f"{what} failed: AWS Sign-In could not be reached. {WHERE}")
    first = scrub(str(exc)).strip().splitlines()
    return LoginError(f"{what} failed: {first[0] if first else type(exc).__name__}")
