"""IAM Identity Center (SSO) sign-in: what to sign in to, the device flow, and botocore's token cache.

The sign-in is OAuth's device authorization flow against SSO OIDC (botocore's ``sso-oidc``
client): register a public client, start a device authorization, show the person a link and a
code, and poll for the token. The token goes to botocore's own SSO token cache, in botocore's
format and file name, so boto3 profiles and ``aws --profile`` in the kernel use the same sign-in.
A token near its expiry is renewed with the refresh token by botocore's own ``SSOTokenProvider``.

No secret (access token, refresh token, client secret, device code) is kept in an object that
can be printed, logged or shown: they travel only between botocore and the cache file.
Imports nothing from IPython; botocore is imported on first use.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ...base import compat, redaction, times
from ...model.requests import SsoTarget
from .calls import (
    DEFAULT_OPTIONS,
    CallOptions,
    DamagedToken,
    SignInFailed,
    SignInNeeded,
    SsoError,
    call,
    client,
    client_config,
    error_code,
    inside_botocore_tokens,
    positive,
    require,
    translate,
    unreadable,
)
from .config import resolve_target, sso_profiles  # noqa: F401  (re-exported)

__all__ = ["SsoError", "SignInNeeded", "SignInFailed", "SsoTarget", "DeviceCode", "SignIn", "resolve_target",
           "cache_directory", "token_status", "sign_in", "access_token", "logout", "CallOptions", "DEFAULT_OPTIONS"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5  # seconds added to the poll interval on SlowDown (RFC 8628, section 3.5)
REFRESH_WINDOW = 15 * 60  # botocore's SSOTokenProvider refreshes inside this window too


now_utc = times.now_utc


def hhmm(moment: datetime, now: datetime | None = None, zone: str | None = None) -> str:
    """``14:32 UTC`` in ``zone`` (``TempCreds.time_zone``), dated when not ``now``'s day (base/times.py)."""
    return times.clock_text(moment, now or now_utc(), zone)


@dataclass(frozen=True)
class DeviceCode:
    """What the person needs to approve the sign-in (no secret: the device code stays inside)."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: datetime


@dataclass(frozen=True)
class SignIn:
    """A cached sign-in as the cache file describes it (the tokens themselves are not kept here)."""

    target: SsoTarget
    expires_at: datetime
    refreshable: bool

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


# -- botocore's token cache --------------------------------------------------------------------------

def cache_directory() -> Path:
    """botocore's SSO token cache directory, as botocore in this process will read it.

    botocore computes it from HOME once, when botocore.tokens is imported: computing it again from
    today's HOME could write where boto3 in this kernel never looks.
    """
    from botocore.tokens import SSOTokenProvider

    return Path(compat.sso_token_cache_dir(SSOTokenProvider))


def cache_path(target: SsoTarget) -> Path:
    return cache_directory() / f"{target.cache_key}.json"


def _stamp(moment: datetime) -> str:
    # botocore's own format for expiresAt (tokens._serialize_utc_timestamp).
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("UTC", "+00:00"))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _read(target: SsoTarget) -> dict | None:
    try:
        with open(cache_path(target), encoding="utf-8") as file:
            token = json.load(file)
    except (OSError, ValueError):
        return None
    if not (isinstance(token, dict) and "accessToken" in token and "expiresAt" in token):
        return None
    _remember(token)
    return token


def _remember(token: dict) -> None:
    """The secrets of a cached sign-in (base/redaction.py: no log record shows them)."""
    redaction.remember(*(token.get(name) for name in ("accessToken", "refreshToken", "clientSecret")))


def _write(target: SsoTarget, token: dict) -> Path:
    """Write the cache file atomically, readable by its owner only from its first byte, in a
    directory only its owner can list (botocore and the CLI make it with the umask's mode: 0755)."""
    _remember(token)
    directory = cache_directory()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(directory)
    path = cache_path(target)
    # mkstemp creates the file 0600 (never a moment with umask's 0644), and os.replace swaps it in
    # whole: a reader (the CLI, boto3) sees the old file or the new one, never half of one.
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".ipy_tempcreds-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)
            json.dump(token, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _owner_only(directory: Path) -> None:
    try:
        if directory.stat().st_mode & 0o077 and directory.stat().st_uid == os.getuid():
            directory.chmod(0o700)
    except (OSError, AttributeError):  # not ours to change; Windows has no getuid
        pass


def token_status(target: SsoTarget, now: datetime | None = None) -> SignIn | None:
    """The cached sign-in of ``target`` (read from the file, no network), or None."""
    now = now or now_utc()
    token = _read(target)
    if token is None:
        return None
    try:
        expires = _parse(token["expiresAt"])
        registration = _parse(token["registrationExpiresAt"]) if token.get("registrationExpiresAt") else None
    except (TypeError, ValueError):
        return None
    refreshable = bool(token.get("refreshToken") and token.get("clientSecret"))
    return SignIn(target, expires, refreshable and registration is not None and registration > now)


# -- the device flow ---------------------------------------------------------------------------------

def sign_in(target: SsoTarget, *, show: Callable[[DeviceCode], None], clock: Callable[[], datetime] = now_utc,
            sleep: Callable[[float], None] = time.sleep, options: CallOptions = DEFAULT_OPTIONS) -> SignIn:
    """Sign in with the device flow, write botocore's token cache, and return the sign-in.

    ``show`` receives the link and code for the person. Polling honours the service's interval,
    adds 5 s on SlowDown and stops when the device code expires. KeyboardInterrupt (Ctrl-C)
    propagates: nothing is written unless the token arrived.
    """
    from botocore.exceptions import ClientError

    from ...base.errors import translatable

    oidc = client("sso-oidc", target.region, options)
    registration, registration_expires, reused = _registration(oidc, target, clock, options)
    registered = {"clientId": registration["clientId"], "clientSecret": registration["clientSecret"]}
    redaction.remember(registration["clientSecret"])
    what = "Starting the IAM Identity Center sign-in"

    def start():
        return require(call(oidc.start_device_authorization, what, target, options, startUrl=target.start_url,
                            **registered),
                       what, text=("deviceCode", "userCode", "verificationUri"), optional_text=("verificationUriComplete",))

    try:
        authorization = start()
    except SsoError as exc:
        if not reused or exc.code not in ("InvalidClientException", "UnauthorizedClientException"):
            raise
        # The cached registration was refused (revoked, or the service forgot it): register anew, once.
        registration, registration_expires, reused = _registration(oidc, target, clock, options, reuse=False)
        registered = {"clientId": registration["clientId"], "clientSecret": registration["clientSecret"]}
        authorization = start()
    redaction.remember(authorization["deviceCode"])
    started = clock()
    lifetime, interval = authorization.get("expiresIn"), authorization.get("interval")
    deadline = started + timedelta(seconds=lifetime if positive(lifetime) else 600)
    show(DeviceCode(authorization["userCode"], authorization["verificationUri"],
                    authorization.get("verificationUriComplete") or authorization["verificationUri"], deadline))
    # A missing, zero or absurd interval must not make a tight polling loop (RFC 8628: 5 s default).
    interval = min(max(interval, 1), 60) if positive(interval) else 5
    what = "The IAM Identity Center sign-in"
    while True:
        sleep(interval)
        if clock() >= deadline:
            raise _expired(target, deadline, clock(), options.zone)
        try:
            answer = oidc.create_token(grantType=DEVICE_GRANT, deviceCode=authorization["deviceCode"], **registered)
        except Exception as exc:
            if not translatable(exc):
                raise
            if not isinstance(exc, ClientError):
                raise translate(exc, what, target, options) from None
            code = error_code(exc)
            if code == "AuthorizationPendingException":
                continue
            if code == "SlowDownException":
                interval += SLOW_DOWN_STEP
                continue
            if code == "ExpiredTokenException":
                raise _expired(target, deadline, clock(), options.zone) from None
            if code == "AccessDeniedException":
                raise SignInFailed(f"The sign-in to {target.label} was denied in the browser; nothing was written. "
                                   f"Run `{target.login_line}` to try again.") from None
            raise translate(exc, what, target, options) from None
        break
    # Checked before anything is written: a damaged answer must not replace a working sign-in.
    answer = require(answer, what, text=("accessToken",), numbers=("expiresIn",), optional_text=("refreshToken",))
    _remember(answer)
    now = clock()
    token = {
        "startUrl": target.start_url,
        "region": target.region,
        "accessToken": answer["accessToken"],
        "expiresAt": _stamp(now + timedelta(seconds=answer["expiresIn"])),
        "clientId": registered["clientId"],
        "clientSecret": registered["clientSecret"],
        "registrationExpiresAt": _stamp(registration_expires),
    }
    if answer.get("refreshToken"):
        token["refreshToken"] = answer["refreshToken"]
    _write(target, token)
    return SignIn(target, _parse(token["expiresAt"]), "refreshToken" in token)


REGISTRATION_KEEP = 15 * 60  # a cached registration is reused while it lasts longer than this (as the CLI)


def _cached_registration(target: SsoTarget, now: datetime) -> tuple[dict, datetime] | None:
    """The client registration kept in the token cache, if whole and lasting more than 15 minutes."""
    token = _read(target) or {}
    client_id, secret = token.get("clientId"), token.get("clientSecret")
    if not (isinstance(client_id, str) and client_id and isinstance(secret, str) and secret):
        return None
    try:
        expires = _parse(token["registrationExpiresAt"])
    except (KeyError, TypeError, ValueError):
        return None
    if (expires - now).total_seconds() <= REGISTRATION_KEEP:
        return None
    return {"clientId": client_id, "clientSecret": secret}, expires


def _registration(oidc, target: SsoTarget, clock, options: CallOptions,
                  reuse: bool = True) -> tuple[dict, datetime, bool]:
    """A client registration (clientId, clientSecret), when it expires, and whether it was reused
    from the cache (as the CLI does: registering at every sign-in would pile up clients)."""
    cached = _cached_registration(target, clock()) if reuse else None
    if cached is not None:
        return (*cached, True)
    what = "Registering a sign-in client with IAM Identity Center"
    registration = require(call(oidc.register_client, what, target, options, clientName="ipy_tempcreds", clientType="public",
                                scopes=list(target.scopes)), what, text=("clientId", "clientSecret"),
                           numbers=("clientSecretExpiresAt",))
    try:
        expires = datetime.fromtimestamp(registration["clientSecretExpiresAt"], timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise unreadable(what, "holds a clientSecretExpiresAt that is not a time") from None
    if expires <= clock():
        raise unreadable(what, "holds a registration that has expired already")
    return registration, expires, False


def _expired(target: SsoTarget, deadline: datetime, now: datetime, zone: str) -> SignInFailed:
    return SignInFailed(f"The sign-in code for {target.label} expired at {hhmm(deadline, now, zone)} before it was approved; "
                        f"nothing was written. Run `{target.login_line}` for a new code.")


# -- using the sign-in ---------------------------------------------------------------------------------

def _checked_cache(clock: Callable[[], datetime]):
    """botocore's JSONFileCache (mkstemp, 0600, os.replace), refusing to write a damaged token:
    botocore's SSOTokenProvider writes whatever CreateToken answered, an empty or expired one too."""
    from botocore.utils import JSONFileCache

    class CheckedCache(JSONFileCache):
        def __setitem__(self, key, token):
            given = token.get("expiresAt") if isinstance(token, dict) else None
            if isinstance(given, datetime):
                expires = given.astimezone(timezone.utc)
            elif isinstance(given, str):
                try:
                    expires = _parse(given)
                except (TypeError, ValueError):
                    raise DamagedToken from None
            else:
                raise DamagedToken
            access = token.get("accessToken")
            if not isinstance(access, str) or not access.strip() or expires <= clock():
                raise DamagedToken
            _remember(token)
            super().__setitem__(key, token)
            _owner_only(cache_directory())

    # Datetimes in botocore's own format for expiresAt.
    return CheckedCache(str(cache_directory()), dumps_func=lambda token: json.dumps(token, default=_stamp))


def access_token(target: SsoTarget, *, clock: Callable[[], datetime] = now_utc,
                 options: CallOptions = DEFAULT_OPTIONS) -> str:
    """The access token, renewed with the refresh token inside the last 15 minutes (by botocore's
    SSOTokenProvider, which writes the cache as the CLI does). SignInNeeded if there is none valid.

    A renewal whose answer is damaged writes nothing; the cached token is used while it lasts.
    """
    import botocore.session
    from botocore.exceptions import SSOTokenLoadError, TokenRetrievalError
    from botocore.tokens import SSOTokenProvider

    from ...base.errors import translatable

    session = botocore.session.Session()
    session.set_default_client_config(client_config(target.region, options=options))  # the kernel's timeout
    provider = compat.sso_token_provider(SSOTokenProvider, session, start_url=target.start_url,
                                         region=target.region, session_name=target.session_name,
                                         cache=_checked_cache(clock), clock=clock)
    what = "Renewing the IAM Identity Center sign-in"
    try:
        token = provider.load_token().get_frozen_token().token
        redaction.remember(token)
        return token
    except SSOTokenLoadError:
        raise SignInNeeded(f"You are not signed in to IAM Identity Center ({target.label}). "
                           f"Run `{target.login_line}`.") from None
    except TokenRetrievalError:
        status = token_status(target, clock())
        when = f" at {hhmm(status.expires_at, clock(), options.zone)}" if status else ""
        raise SignInNeeded(f"The IAM Identity Center sign-in to {target.label} expired{when} and could not be "
                           f"renewed. Run `{target.login_line}` to sign in again.") from None
    except Exception as exc:
        damaged = isinstance(exc, DamagedToken) or (
            isinstance(exc, (KeyError, TypeError, ValueError, AttributeError)) and inside_botocore_tokens(exc))
        if not damaged and not translatable(exc):
            raise
        error = unreadable(what) if damaged else translate(exc, what, target, options)
    # The renewal failed, and nothing was written: the cached token serves while it lasts.
    cached = _read(target)
    try:
        if cached is not None and isinstance(cached["accessToken"], str) and _parse(cached["expiresAt"]) > clock():
            return cached["accessToken"]
    except (TypeError, ValueError):
        pass
    raise error


def logout(target: SsoTarget, options: CallOptions = DEFAULT_OPTIONS) -> bool:
    """End the sign-in: the portal's Logout (so the token stops working) and the cache file removed.

    False if there was no cached sign-in. The file goes even when the portal cannot be reached.
    """
    token = _read(target)
    if token is None:
        return False
    try:
        portal = client("sso", target.region, options)
        call(portal.logout, "Logging out of IAM Identity Center", target, options, accessToken=token["accessToken"])
    except SignInNeeded:
        pass  # the token was dead already: nothing to end on the portal's side
    except SsoError as exc:
        raise SsoError(f"{exc} The cached token of {target.label} was deleted anyway; the portal may keep the "
                       "sign-in until it expires.") from None
    finally:
        cache_path(target).unlink(missing_ok=True)
    return True
