"""The console sign-in as a credential source: the issuer hands it the requests whose ``source`` is
``"login"`` (``%aws_login``'s :class:`~ipy_tempcreds.model.requests.LoginRequest`).

Credentials come from botocore's login cache. While the cached ones have more than
``FRESH_ENOUGH`` left (just signed in, or renewed meanwhile by another process through botocore's
LoginProvider) they are used as they are; otherwise the refresh token buys new ones
(CreateOAuth2Token, refresh_token grant, a DPoP proof from the cached key), and the cache entry is
rewritten as botocore rewrites it (new credentials and refresh token, the rest kept). The manager
renews a 15-minute grant half-way (core/renewal.py), so each renewal is one call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ...model.credentials import Issued, TemporaryCredentials, account_of
from ...model.requests import LoginRequest
from . import cache, calls
from .dpop import DpopKey
from .endpoint import DEFAULT_REGION, CallOptions, signin_client
from .errors import SessionEnded

FRESH_ENOUGH = 600.0  # seconds: cached credentials with more left are used without a call


class LoginSource:
    """Credentials of a console sign-in, renewed with its refresh token."""

    name = "login"
    service = "AWS Sign-In"
    mfa_note = "signs in at the AWS console, which asks for MFA in the browser at sign-in"

    def __init__(self, settings, clock: Callable[[], datetime]):
        self._settings = settings
        self._clock = clock

    def obtain(self, request: LoginRequest, **_signing) -> Issued:
        token = cache.read(request.session)
        if token is None:
            raise SessionEnded(f"The console sign-in of profile {request.login_profile} is no longer cached "
                               "(logged out, or the file was removed). Run %aws_login to sign in again.")
        expires = cache.expires_at(token)
        assert expires is not None  # cache.read checked it
        if (expires - self._clock()).total_seconds() <= FRESH_ENOUGH:
            token = self._renewed(request, token)
        access = token["accessToken"]
        credentials = TemporaryCredentials(access["accessKeyId"], access["secretAccessKey"], access["sessionToken"],
                                           cache.expires_at(token) or expires)
        return Issued(credentials, request.session, account_of(request.session), None)

    def _renewed(self, request: LoginRequest, token: dict) -> dict:
        options = CallOptions.of(self._settings)
        key = DpopKey.from_pem(token["dpopKey"])
        client = signin_client(request.region or DEFAULT_REGION, request.login_profile, options)
        tokens = calls.refresh(client, key, client_id=token["clientId"], refresh_token=token["refreshToken"],
                               clock=self._clock, options=options)
        new = tokens.credentials
        renewed = dict(token)
        renewed["accessToken"] = {"accessKeyId": new.access_key_id, "secretAccessKey": new.secret_access_key,
                                  "sessionToken": new.session_token,
                                  "accountId": token["accessToken"].get("accountId") or account_of(request.session) or "",
                                  "expiresAt": cache.stamp(new.expiration)}
        renewed["refreshToken"] = tokens.refresh_token
        cache.write(request.session, renewed)
        return renewed

    @staticmethod
    def describe(request: LoginRequest) -> str:
        return request.source_text
