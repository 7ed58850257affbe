"""What each refusal or failure of an STS call means, in plain advice.

botocore raises its own exceptions (a ClientError with STS's code, a timeout, no credentials at all);
:func:`translate_sts_error` turns each into a :class:`~ipy_tempcreds.base.errors.StsError` that says what
failed, the likely cause and what to try. AWS's own words pass through ``scrub`` first.
"""

from __future__ import annotations

from ..base.errors import Hint, StsError, TempCredsError, parser_slip, scrub, unreadable_answer


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
    if isinstance(exc, ResponseParserError) or parser_slip(exc):
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
        # Same words as a role profile lookup in a broken file (base/aws_config.all_profiles).
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
