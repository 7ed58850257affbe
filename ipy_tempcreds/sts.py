"""Calls to AWS STS, always signed with the source credentials unless chaining is asked for.

The *source* is what the kernel had before the first assume: a profile, environment variables,
SSO, a container or instance role. It is resolved by botocore's own credential chain, with its
environment provider reading a copy of the environment *as it was before injection*, so neither a
refresh nor a switch can sign with the injected role by accident.

STS clients are created once per (profile, region, source) and reused: creating one costs ~0.3 s,
a call to a nearby endpoint ~10 ms.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .credentials import TemporaryCredentials
from .errors import translate_sts_error
from .validation import DEFAULT_REGION_BY_PARTITION

USER_AGENT = "ipy_tempcreds"


@dataclass(frozen=True)
class StsResult:
    credentials: TemporaryCredentials
    arn: str
    account: str | None
    user_id: str | None


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


class StsGateway:
    """Creates and caches STS clients and turns botocore's failures into advice."""

    def __init__(self, settings, environment):
        self._settings = settings
        # The KernelEnvironment: its original() is the environment before injection.
        self._environment = environment
        self._clients: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    # -- clients ---------------------------------------------------------------------------------

    def _source(self, request):
        """(client, description, credentials) signing as the source of ``request``."""
        original = self._environment.original_key()
        key = (request.profile, request.credential_source, request.region or self._settings.region,
               request.partition, self._settings.sts_timeout, original)
        with self._lock:
            cached = self._clients.get(key)
            if cached is None:
                # A different source (say, AWS_PROFILE changed after a clear) retires old clients.
                self._clients = {k: v for k, v in self._clients.items() if k[-1] == original}
                cached = self._clients[key] = self._build_source(request, self._environment.original())
            return cached

    def _build_source(self, request, environ):
        import botocore.session

        from . import consistent_reads

        # botocore is imported now: readers in other threads take one whole set from here on,
        # before the first credentials are injected (consistent_reads.py).
        consistent_reads.install()

        session = botocore.session.Session(profile=request.profile)
        resolver = session.get_component("credential_provider")
        _pin_environment(resolver, environ)
        if request.credential_source:
            # A role profile's credential_source names one provider of the default chain.
            resolver.providers = [p for p in resolver.providers
                                  if getattr(p, "CANONICAL_NAME", None) == request.credential_source]
        region = self._region(request.region, session.get_config_variable("region"), request.partition)
        client = session.create_client("sts", region_name=region, config=self._client_config())
        credentials = session.get_credentials()
        method = getattr(credentials, "method", None) or "no credentials"
        if request.profile:
            where = f"profile {request.profile!r}"
        elif request.credential_source:
            where = f"credential_source {request.credential_source}"
        else:
            where = _METHOD_NAMES.get(method, method)
        return client, f"the source credentials ({where})", credentials

    def _signed_by(self, credentials: TemporaryCredentials, region: str | None, partition: str):
        import botocore.session

        session = botocore.session.Session()
        session.set_credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
        region = self._region(region, None, partition)
        return session.create_client("sts", region_name=region, config=self._client_config())

    def _region(self, explicit, configured, partition):
        return (
            explicit
            or self._settings.region
            or configured
            or DEFAULT_REGION_BY_PARTITION.get(partition, "us-east-1")
        )

    def _client_config(self):
        from botocore.config import Config

        timeout = self._settings.sts_timeout
        # Standard retry mode backs off on throttling and 5xx; three attempts keep a magic from
        # hanging for minutes when STS is down. total_max_attempts, not max_attempts: botocore
        # counts max_attempts as *retries*, which made four attempts (measured: tests/test_faults.py).
        return Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": 3, "mode": "standard"},
            user_agent_extra=USER_AGENT,
        )

    def source_is_temporary(self, request) -> bool:
        """True when the source credentials are themselves temporary (SSO, a role, a session).

        GetSessionToken refuses such credentials, so MFA sessions cannot be built on them.
        """
        credentials = self._translated(lambda: self._source(request)[2], request, False, "the source credentials")
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        return bool(frozen and frozen.token)

    def source_method(self, request) -> str | None:
        """botocore's name for the provider of the request's source credentials ("env", "sso",
        "iam-role", ...), with "+token" when they carry a session token (then they are not an IAM
        user's, whichever file or variable held them); None when they cannot be found."""
        try:
            credentials = self._source(request)[2]
            method = getattr(credentials, "method", None)
            if method and credentials.get_frozen_credentials().token:
                method += "+token"
            return method
        except Exception:  # only for display: a source that cannot be read says nothing here
            return None

    # -- calls -----------------------------------------------------------------------------------

    def obtain(self, request, *, mfa_code: str | None = None, signer: TemporaryCredentials | None = None,
               signer_name: str = "the active role", chained: bool = False) -> StsResult:
        """Call ``request.operation``; signed by ``signer`` if given, else by the source."""
        params = request.sts_parameters()
        if mfa_code:
            params["TokenCode"] = mfa_code
        if signer is not None:
            client, source = self._signed_by(signer, request.region, request.partition), signer_name
        else:
            client, source, _ = self._translated(lambda: self._source(request), request, False, "the source credentials")
        operation = {"AssumeRole": "assume_role", "GetFederationToken": "get_federation_token",
                     "GetSessionToken": "get_session_token"}[request.operation]
        response = self._translated(lambda: getattr(client, operation)(**params), request, chained, source)
        credentials = TemporaryCredentials.from_sts(response["Credentials"])
        user = response.get("AssumedRoleUser") or response.get("FederatedUser")
        if user is None:  # GetSessionToken says nothing of the identity: ask with the new keys
            user = self.caller_identity(credentials, request.region)
            return StsResult(credentials, user["Arn"], user.get("Account"), user.get("UserId"))
        user_id = user.get("AssumedRoleId") or user.get("FederatedUserId")
        return StsResult(credentials, user["Arn"], account_of(user["Arn"]), user_id)

    def caller_identity(self, credentials: TemporaryCredentials | None = None, region: str | None = None) -> dict:
        """GetCallerIdentity for ``credentials``, or for what a new boto3 client in the kernel uses."""
        def call():
            if credentials is not None:
                client = self._signed_by(credentials, region, "aws")
            else:
                import boto3

                default = boto3.DEFAULT_SESSION
                client = boto3.client("sts", region_name=self._region(region, default and default.region_name, "aws"),
                                      config=self._client_config())
            return client.get_caller_identity()

        response = _call_or_translate(call, "GetCallerIdentity", None, None, False, "the kernel's credentials")
        response.pop("ResponseMetadata", None)
        return response

    @staticmethod
    def _translated(call, request, chained, source):
        return _call_or_translate(call, request.operation, request.target, request.duration, chained, source)


def _call_or_translate(call, action, target, duration, chained, source):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except (BotoCoreError, ClientError) as exc:
        raise translate_sts_error(
            exc, action=action, target=target, duration=duration, chained=chained, source=source
        ) from None


_METHOD_NAMES = {
    "env": "environment variables",
    "shared-credentials-file": "shared credentials file",
    "config-file": "AWS config file",
    "sso": "SSO",
    "iam-role": "instance role",
    "container-role": "container role",
    "assume-role": "role profile",
    "custom-process": "credential_process",
}


def _pin_environment(resolver, environ: dict) -> None:
    """Make botocore's environment credential providers read ``environ`` instead of os.environ.

    botocore has no public way to give its default chain another environment. Its EnvProvider keeps
    the mapping in ``.environ``; the same instance also serves profiles with
    ``credential_source = Environment`` through the assume-role provider's sourcer, which keeps
    its providers in ``._providers`` (botocore 1.34-1.44).
    """
    from botocore.credentials import EnvProvider

    from .compat import sourced_providers

    providers = list(resolver.providers)
    for provider in list(providers):
        providers.extend(sourced_providers(provider))
    for provider in providers:
        if isinstance(provider, EnvProvider):
            provider.environ = environ
