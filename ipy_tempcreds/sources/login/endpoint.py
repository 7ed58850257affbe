"""Where AWS Sign-In is, found as botocore finds the ``signin`` service: its endpoint rules for the
region, AWS_ENDPOINT_URL_SIGNIN, AWS_ENDPOINT_URL or the profile's ``endpoint_url`` (so a loopback
stand-in can take AWS's place). The browser's pages (``/v1/authorize``, the cross-device
confirmation page) are on the same host as the token endpoint, as the CLI assumes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallOptions:
    """How long to wait for AWS Sign-In (``TempCreds.sts_timeout``) and the zone times are worded in."""

    timeout: float = 10.0
    zone: str = "UTC"

    @classmethod
    def of(cls, settings) -> CallOptions:
        return cls(float(getattr(settings, "sts_timeout", None) or 10.0), getattr(settings, "time_zone", None) or "UTC")


DEFAULT_OPTIONS = CallOptions()
DEFAULT_REGION = "us-east-1"  # what `aws login` offers when no region is configured (and then writes)


def signin_client(region: str, profile: str | None = None, options: CallOptions = DEFAULT_OPTIONS):
    """An unsigned botocore client of ``signin`` (CreateOAuth2Token is public: the code, or the
    refresh token with its DPoP proof, is the proof); three attempts, the kernel's timeout."""
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    session = botocore.session.Session()
    if profile and profile in session.available_profiles:
        session = botocore.session.Session(profile=profile)  # its endpoint_url / services section apply
    config = Config(signature_version=UNSIGNED, connect_timeout=options.timeout, read_timeout=options.timeout,
                    retries={"total_max_attempts": 3, "mode": "standard"}, user_agent_extra="ipy_tempcreds")
    return session.create_client("signin", region_name=region, config=config)


def base_url(client) -> str:
    """``https://REGION.signin.aws.amazon.com`` (or the override): the token endpoint's scheme and
    host, where the authorization pages are too."""
    from urllib.parse import urlsplit

    from ...base.compat import resolved_endpoint_url

    parts = urlsplit(resolved_endpoint_url(client, "CreateOAuth2Token"))
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
