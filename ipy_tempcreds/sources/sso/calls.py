"""Calls to IAM Identity Center (SSO OIDC and the portal): clients, checked answers, errors in words.

An answer may be damaged on the way (cut mid-body, garbled, a captive portal's HTML page with
HTTP 200, a field missing or empty, an expiry already past). botocore parses a JSON body it cannot
read as ``{"message": body}`` and hands back an answer without its fields, or puts the body into an
error's message; such a body may hold an access token, a refresh token, a client secret or a role's
secret key. So every answer is checked field by field here (:func:`require`), and an error's text
is never the body: :func:`translate` words each failure itself and keeps AWS's message only when
it is one short line. Imports nothing from IPython; botocore on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...base.errors import TempCredsError, one_line_words, scrub, translatable

WHERE = ("Check the network or proxy settings, and AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC if "
         "they are set, then try again.")


class SsoError(TempCredsError):
    """IAM Identity Center refused, or could not be reached."""

    code = ""  # the service's error code, when it gave one


class SignInNeeded(SsoError):
    """There is no valid sign-in for what was asked (none yet, lapsed, or logged out)."""


class SignInFailed(SsoError):
    """The device sign-in did not complete: denied, the code expired, or the service refused."""


@dataclass(frozen=True)
class CallOptions:
    """What the callers know from the kernel's settings and pass in: how long to wait for IAM
    Identity Center (``TempCreds.sts_timeout``) and the zone times are worded in (``time_zone``)."""

    timeout: float = 10.0
    zone: str = "UTC"

    @classmethod
    def of(cls, settings) -> CallOptions:
        return cls(float(settings.sts_timeout or 10.0), settings.time_zone or "UTC")


DEFAULT_OPTIONS = CallOptions()


def client_config(region: str | None = None, *, options: CallOptions = DEFAULT_OPTIONS, unsigned: bool = True):
    """botocore's Config for IAM Identity Center calls: the kernel's timeout, three attempts."""
    from botocore import UNSIGNED
    from botocore.config import Config

    seconds = options.timeout
    # Unsigned, as botocore's own SSO calls are: the bearer token or the client secret is the proof,
    # and no AWS credentials may exist yet.
    extra = {"signature_version": UNSIGNED} if unsigned else {}
    return Config(region_name=region, connect_timeout=seconds, read_timeout=seconds,
                  retries={"total_max_attempts": 3, "mode": "standard"}, user_agent_extra="ipy_tempcreds", **extra)


def client(service: str, region: str, options: CallOptions = DEFAULT_OPTIONS):
    """An unsigned botocore client of ``service`` ("sso-oidc", "sso"); AWS_ENDPOINT_URL_SSO(_OIDC) honoured."""
    import botocore.session

    return botocore.session.Session().create_client(service, region_name=region,
                                                    config=client_config(region, options=options))


def error_code(exc) -> str:
    response = getattr(exc, "response", None)  # botocore's timeouts carry response=None
    return (response.get("Error") or {}).get("Code", "") if isinstance(response, dict) else ""


def unreadable(what: str, detail: str = "could not be read") -> SsoError:
    """The error for an answer that is cut, garbled, incomplete or not IAM Identity Center's: our
    words only (the answer may hold a token or a role's secret key)."""
    return SsoError(f"{what} failed: IAM Identity Center's answer {detail} (cut short, garbled, or not from "
                    f"AWS: a proxy, a captive portal or a network fault in the way). {WHERE}")


def _aws_words(exc) -> str:
    """AWS's own message when it is one short line of words; '' otherwise (a body quoted back)."""
    return one_line_words(exc.response.get("Error", {}).get("Message"))


def translate(exc: BaseException, what: str, target, options: CallOptions = DEFAULT_OPTIONS) -> SsoError:
    """An SsoError with advice for a botocore failure of ``what`` (no token, secret or body in it);
    its ``code`` is the service's error code ('' when there is none)."""
    error = _translate(exc, what, target, options)
    error.code = error_code(exc)
    return error


def _translate(exc: BaseException, what: str, target, options: CallOptions) -> SsoError:
    from botocore import exceptions as bx

    if translatable(exc) and not isinstance(exc, (bx.BotoCoreError, bx.ClientError)):
        return unreadable(what)  # ResponseParserError or a parser slip: its text quotes the body
    if isinstance(exc, bx.ClientError):
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in ("UnauthorizedException", "InvalidGrantException", "ExpiredTokenException"):
            return SignInNeeded(f"{what} failed: the IAM Identity Center sign-in to {target.label} has expired "
                                f"or was ended. Run `{target.login_line}` to sign in again.")
        if code in ("TooManyRequestsException", "SlowDownException"):
            return SsoError(f"{what} failed: IAM Identity Center is throttling requests. Wait a moment and retry.")
        if status >= 500 or code in ("InternalServerException", "ServiceUnavailableException"):
            return SsoError(f"{what} failed: IAM Identity Center answered with a server error (HTTP {status or '5xx'}). "
                            "This is on AWS's side (or a proxy's) and usually temporary: try again in a minute.")
        message = _aws_words(exc)
        label = code if code and code.replace("_", "").isalnum() and not code.isdigit() else f"HTTP {status or 'error'}"
        return SsoError(f"{what} failed with {label}{f' ({message})' if message else ''}.")
    if isinstance(exc, (bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return SsoError(f"{what} failed: IAM Identity Center in {target.region} did not answer in time "
                        f"({options.timeout:g} s, TempCreds.sts_timeout). {WHERE}")
    if isinstance(exc, (bx.IncompleteReadError, bx.ResponseStreamingError, bx.ConnectionClosedError)):
        return unreadable(what, "was cut short")
    if isinstance(exc, bx.EndpointConnectionError):
        return SsoError(f"{what} failed: IAM Identity Center in {target.region} could not be reached. Check "
                        "sso_region, the network or proxy, and AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC.")
    first = scrub(str(exc)).strip().splitlines()  # one line: whatever follows is not advice
    return SsoError(f"{what} failed: {first[0] if first else type(exc).__name__}")


def call(function, what: str, target, options: CallOptions = DEFAULT_OPTIONS, **params):
    """``function(**params)`` with botocore's failures (an unreadable answer included) turned into SsoError."""
    try:
        return function(**params)
    except Exception as exc:
        if not translatable(exc):
            raise
        raise translate(exc, what, target, options) from None


def require(answer, what: str, *, text=(), numbers=(), optional_text=()) -> dict:
    """``answer`` if each of ``text`` is a non-empty string and each of ``numbers`` a positive
    number (``optional_text`` a string when present); else the unreadable-answer SsoError naming
    the field, never its value."""
    if not isinstance(answer, dict):
        raise unreadable(what, "holds nothing")
    for name in text:
        if not isinstance(answer.get(name), str) or not answer[name].strip():
            raise unreadable(what, f"has no {name}" if not answer.get(name) else f"holds a {name} that is not text")
    for name in numbers:
        value = answer.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise unreadable(what, f"has no {name}" if value is None else f"holds a {name} that is not a number")
        if value <= 0:
            raise unreadable(what, f"holds a {name} of {value:g}, already past")
    for name in optional_text:
        if answer.get(name) is not None and not isinstance(answer[name], str):
            raise unreadable(what, f"holds a {name} that is not text")
    return answer


class DamagedToken(Exception):
    """A renewed token that must not be written (empty, or expired already)."""


def inside_botocore_tokens(exc: BaseException) -> bool:
    """True when ``exc`` came out of botocore's token code (a field missing from CreateToken's answer)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith("botocore/tokens.py"):
            return True
        tb = tb.tb_next
    return False


def positive(value) -> bool:
    """True for a number above zero (not a bool: JSON true is no lifetime)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
