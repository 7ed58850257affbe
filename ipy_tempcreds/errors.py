"""Errors a user can cause or fix, and the translation of STS's refusals into plain advice.

Every message says what failed, the likely cause and what to try. None contains a secret: messages
are built from our own text plus fields STS returns (codes, ARNs), and AWS's own wording passes
through :func:`scrub` first.
"""

from __future__ import annotations

import re
from typing import ClassVar

__all__ = [
    "Hint",
    "TempCredsError",
    "InvalidInput",
    "StsError",
    "NotActive",
    "MfaCodeNeeded",
    "scrub",
    "translatable",
    "translate_sts_error",
    "unreadable_answer",
]


class Hint:
    """Which option (its Python name, as in options.py) and which value would fix an error.

    The message says ``{hint}`` where the hint goes; each frontend words it its own way:
    ``--duration 1h`` in a magic, ``duration="1h"`` in Python, the field in the panel.
    """

    __slots__ = ("option", "value")

    # The panel's own fields; other options are not in the panel, so it words them as Python does.
    PANEL_FIELDS: ClassVar[dict[str, str]] = {"duration": "the duration picker", "mfa_code": "the MFA code field", "role": "the role field"}

    def __init__(self, option: str, value=None):
        self.option = option
        self.value = value

    def words(self, frontend: str = "python") -> str:
        if frontend == "magic":
            from .options import flag_of

            flag, switch = flag_of(self.option)
            return flag if switch or self.value is None else f"{flag} {self.value}"
        if frontend == "panel" and self.option in self.PANEL_FIELDS:
            field = self.PANEL_FIELDS[self.option]
            # A value is an example for the duration picker; an example MFA code would only confuse.
            return field if self.value is None or self.option == "mfa_code" else f"{field} ({self.value})"
        if self.value is None:
            return f"the {self.option} argument"
        return f"{self.option}=\"{self.value}\"" if isinstance(self.value, str) else f"{self.option}={self.value}"

    def __repr__(self) -> str:
        return f"Hint(option={self.option!r}, value={self.value!r})"


class TempCredsError(Exception):
    """Something the user can fix; shown as one message, never with a traceback.

    With ``hint``, the message's ``{hint}`` is worded by the frontend (:meth:`worded`); ``str()``
    words it for Python.
    """

    def __init__(self, message: str = "", *args, hint: Hint | None = None):
        super().__init__(message, *args)
        self.hint = hint

    def worded(self, frontend: str = "python") -> str:
        """The message with its hint in the words of ``frontend`` ("magic", "python", "panel")."""
        message = str(self.args[0]) if self.args else ""
        if self.hint is None:
            return message
        return message.replace("{hint}", self.hint.words(frontend))

    def __str__(self) -> str:
        return self.worded("python")


class InvalidInput(TempCredsError, ValueError):
    """An argument was refused before any call to AWS."""


class StsError(TempCredsError):
    """AWS STS (or the way to it) refused or failed; ``code`` is STS's error code when there is one."""

    def __init__(self, message: str, code: str | None = None, *, hint: Hint | None = None):
        super().__init__(message, hint=hint)
        self.code = code


class NotActive(TempCredsError):
    """An operation needs active temporary credentials and there are none."""


class MfaCodeNeeded(TempCredsError):
    """A call needs an MFA code and none can be asked for here."""


# Secret access keys are 40 characters of base64; session tokens are hundreds. Anything that long
# and that shaped in a third-party message is replaced, whatever it is.
_SECRET_SHAPED = re.compile(r"[A-Za-z0-9/+=]{40,}")


def scrub(text: str) -> str:
    """Remove anything shaped like a secret access key or session token from ``text``."""
    return _SECRET_SHAPED.sub("[hidden]", text)


# Exceptions botocore's response parser lets escape when an answer is not what the STS model says
# (measured with botocore 1.43: a captive portal's HTML page parsed as XML raised
# KeyError('AssumeRoleResult') from parsers.py). Only these types, and only when parsers.py raised
# them: the same types from anywhere else are bugs and must keep their traceback.
_PARSER_SLIPS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def _raised_by_parser(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    filename = tb.tb_frame.f_code.co_filename.replace("\\", "/")
    return filename.endswith("botocore/parsers.py") or "/xml/" in filename


def translatable(exc: BaseException) -> bool:
    """True when :func:`translate_sts_error` can word ``exc``: botocore's own errors, and an answer
    that botocore could not parse (``ResponseParserError``, or a parser slip, see above)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    if isinstance(exc, (BotoCoreError, ClientError, ResponseParserError)):
        return True
    return isinstance(exc, _PARSER_SLIPS) and _raised_by_parser(exc)


def unreadable_answer(what: str, detail: str = "could not be read") -> StsError:
    """The error for an answer from STS that is cut short, garbled or not STS's at all.

    Such an answer may hold a whole new set of credentials (a cut one usually holds the secret
    access key and part of the session token), so neither its body nor botocore's message, which
    quotes the body, is ever part of the message: only ``detail``, which is our own words.
    """
    return StsError(
        f"{what} failed: STS's answer {detail} (cut short, garbled, or not from STS: a proxy, a "
        "captive portal or a network fault in the way). Check the network, proxy settings and "
        "AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS, then try again.",
        "MalformedResponse",
    )


def _aws_message(exc) -> str:
    message = exc.response.get("Error", {}).get("Message") or ""
    return scrub(message.strip())


def translate_sts_error(
    exc: BaseException,
    *,
    action: str,
    target: str | None = None,
    duration: int | None = None,
    chained: bool = False,
    source: str = "the source credentials",
) -> TempCredsError:
    """Turn an exception from botocore into a :class:`TempCredsError` with advice.

    ``action`` is the STS operation ("AssumeRole"), ``target`` what it was for (a role ARN),
    ``source`` a description of the credentials that signed the call. Unknown exceptions that are
    not botocore's are returned unchanged by the caller's choice: this function only translates.
    """
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    what = f"{action} {target}" if target else action
    if isinstance(exc, ResponseParserError) or (isinstance(exc, _PARSER_SLIPS) and _raised_by_parser(exc)):
        return unreadable_answer(what)
    if isinstance(exc, bx.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        aws = _aws_message(exc)
        message = _client_error_advice(code, aws, what, duration, chained, source, status)
        return StsError(message, code, hint=_ADVICE_HINTS.get(code, _SERVER_ERROR_HINT) if "{hint}" in message else None)
    if isinstance(exc, bx.NoCredentialsError):
        return StsError(
            f"{what} failed: no source credentials were found (no AWS_ACCESS_KEY_ID in the kernel's "
            "environment, no default profile, no SSO session, no instance role). Configure a "
            "profile (`aws configure` or `aws configure sso`) and pass {hint}, or set "
            "credentials in the environment before starting the kernel.",
            "NoCredentials", hint=Hint("profile", "NAME"),
        )
    if isinstance(exc, bx.PartialCredentialsError):
        return StsError(f"{what} failed: the source credentials are incomplete ({scrub(str(exc))}).")
    if isinstance(exc, bx.ProfileNotFound):
        return StsError(
            f"{what} failed: {scrub(str(exc))}. `aws configure list-profiles` shows the profiles "
            "in your AWS config files.",
            "ProfileNotFound",
        )
    if isinstance(exc, (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError)):
        return StsError(
            f"{what} failed: the SSO session of the source profile has expired or is missing. "
            "Run `%sso_login NAME` (or `aws sso login --profile NAME` in a terminal), then try again.",
            "SSOTokenExpired",
        )
    if isinstance(exc, (bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return StsError(
            f"{what} failed: the STS endpoint did not answer in time. Check the network or proxy, "
            "or choose another regional endpoint with {hint}.",
            "Timeout", hint=Hint("region"),
        )
    if isinstance(exc, bx.EndpointConnectionError):
        return StsError(
            f"{what} failed: could not connect to the STS endpoint ({scrub(str(exc))}). Check the "
            "network, proxy settings, {hint}, and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS.",
            "EndpointUnreachable", hint=Hint("region"),
        )
    if isinstance(exc, bx.ConnectionClosedError):
        # A reset or a close before any answer (a proxy or firewall in the way, an endpoint that
        # is not STS): botocore's own words give the URL but no advice.
        return StsError(
            f"{what} failed: the STS endpoint closed the connection without answering. Check the "
            "network and proxy settings and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS, or try again.",
            "ConnectionClosed",
        )
    if isinstance(exc, bx.ConfigParseError):
        # Same words as a role profile lookup in a broken file (profiles.all_profiles).
        return StsError(
            f"{what} failed: the AWS config file cannot be read ({scrub(str(exc))}). Fix or move it.",
            "ConfigParseError",
        )
    if isinstance(exc, bx.NoRegionError):
        return StsError(f"{what} failed: no region is configured. Pass {{hint}}.", "NoRegion",
                        hint=Hint("region", "REGION"))
    if isinstance(exc, (bx.IncompleteReadError, bx.ResponseStreamingError)):
        return unreadable_answer(what, "was cut short")
    if isinstance(exc, bx.BotoCoreError):
        # First line only: a message is one line, and whatever follows it in botocore's text
        # (a quoted body, a nested traceback) is not advice.
        first = scrub(str(exc)).strip().splitlines()
        return StsError(f"{what} failed: {first[0] if first else type(exc).__name__}")
    raise TypeError(f"not a botocore error: {type(exc).__name__}")


# The option that each refusal's advice names ("{hint}" in its message).
_ADVICE_HINTS = {
    "AccessDenied": Hint("mfa_code"),
    "ValidationError": Hint("duration", "1h"),
    "MalformedPolicyDocument": Hint("policy"),
    "PackedPolicyTooLarge": Hint("policy_arns"),
    "RegionDisabledException": Hint("region"),
}
_SERVER_ERROR_HINT = Hint("region")


def _client_error_advice(code, aws, what, duration, chained, source, status=0) -> str:
    said = f" (AWS: {aws})" if aws else ""
    if code == "AccessDenied" and "multifactorauthentication" in aws.lower().replace(" ", ""):
        return (
            f"{what} was denied{said}: the MFA code was wrong, expired or already used. Wait for "
            "the next code of the device and try again with {hint}."
        )
    if code == "AccessDenied":
        return (
            f"{what} was denied{said}. Likely causes: the role's trust policy does not allow "
            f"{source}, they lack sts:AssumeRole permission for this role, the external ID is "
            "wrong, or the MFA code was wrong or already used. Check with `%aws_whoami` who is "
            "calling, and ask the role's owner to trust that identity."
        )
    if code == "ValidationError" and duration and ("duration" in aws.lower() or "DurationSeconds" in aws):
        # AWS also applies the chaining cap when the *source* credentials are a role session (a
        # role assumed outside the kernel), without --chain: its message says so.
        if chained or "chaining" in aws.lower():
            return (
                f"{what} failed: a role assumed from another role (role chaining) lasts at most 1 "
                "hour. Use {hint} or less."
                f"{said}"
            )
        return (
            f"{what} failed: {duration} s is more than the role's maximum session duration"
            f"{said}. Ask for less ({{hint}}), or ask the role's owner to raise "
            "MaxSessionDuration."
        )
    if code == "ValidationError":
        return f"{what} failed: STS refused a parameter{said}. Check the values on the line."
    if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
        return (
            f"{what} failed: {source} have expired{said}. Renew them (`aws sso login`, re-run your "
            "credential process, or restart the kernel with fresh credentials), then try again."
        )
    if code in ("InvalidClientTokenId", "UnrecognizedClientException"):
        return (
            f"{what} failed: AWS does not recognise the access key of {source}{said}. It was "
            "deleted, deactivated, or belongs to another partition; check the profile or "
            "environment the kernel started with."
        )
    if code == "SignatureDoesNotMatch":
        return (
            f"{what} failed: the secret access key of {source} does not match its access key id. "
            "Check the profile or environment the kernel started with."
        )
    if code in ("Throttling", "ThrottlingException", "RequestLimitExceeded"):
        return f"{what} failed: STS is throttling requests{said}. Wait a few seconds and try again."
    if code == "MalformedPolicyDocument":
        return f"{what} failed: the session policy is not a valid IAM policy{said}. Check {{hint}}."
    if code == "PackedPolicyTooLarge":
        return (
            f"{what} failed: the session policy and tags are too large once packed{said}. Use "
            "fewer or shorter tags, or a shorter policy (or {hint})."
        )
    if code == "RegionDisabledException":
        return (
            f"{what} failed: STS is not activated in this region for the account{said}. Activate "
            "it in IAM account settings, or choose another region with {hint}."
        )
    if status >= 500 or code in ("InternalFailure", "InternalError", "ServiceUnavailable"):
        # An HTML 503 from a load balancer has no STS code: botocore reports the status as the code.
        label = code if code and code != str(status) else "a server error"
        detail = "; ".join(part for part in (f"HTTP {status}" if status else "", aws) if part)
        return (
            f"{what} failed: STS answered with {label}{f' ({detail})' if detail else ''}. This is on "
            "AWS's side and usually temporary: try again in a minute, or use another regional "
            "endpoint with {hint}."
        )
    if code == "IDPCommunicationError":
        return f"{what} failed: the identity provider did not answer{said}. Try again shortly."
    return f"{what} failed with {code or 'an unknown error'}{said}."
