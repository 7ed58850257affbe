"""Calls to AWS STS, always signed with the source credentials unless chaining is asked for.

The *source* is what the kernel had before the first assume: a profile, environment variables,
SSO, a container or instance role. It is resolved by botocore's own credential chain, with its
environment provider reading a copy of the environment *as it was before injection*, so neither a
refresh nor a switch can sign with the injected role by accident.

STS clients are created once per (profile, region, source) and reused: creating one costs ~0.3 s,
a call to a nearby endpoint ~10 ms.
"""

from __future__ import annotations

import os
import threading

from ..base import forks
from ..base.errors import Hint, StsError, translatable
from ..base.times import now_utc
from ..base.validation import CHAINED_MAX_DURATION, DEFAULT_REGION_BY_PARTITION
from ..model.credentials import Issued, TemporaryCredentials, account_of, refuse_expired
from .sts_advice import translate_sts_error

USER_AGENT = "ipy_tempcreds"


class StsGateway:
    """The STS credential source: creates and caches STS clients and turns botocore's failures
    into advice. It serves the requests whose ``source`` is ``"sts"``."""

    name = "sts"
    service = "STS"
    mfa_note = None  # STS takes MFA codes (with the request's mfa_serial)

    def __init__(self, settings, environment, clock=now_utc):
        self._settings = settings
        self._clock = clock  # the manager's: an answer is checked for expiry on it
        # The KernelEnvironment: its original() is the environment before injection.
        self._environment = environment
        self._clients: dict[tuple, tuple] = {}
        self._lock = threading.Lock()
        forks.renew_in_child(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # a fork copies it as it was: perhaps held while building a client

    # -- clients ---------------------------------------------------------------------------------

    def _source(self, request):
        """(client, description, credentials) signing as the source of ``request``."""
        original = self._environment.original_key()
        # The AWS config and credentials files' stamps are part of the key: `aws configure`,
        # saml2aws or gimme-aws-creds rewrite the keys there, and a client built before would sign
        # with the deleted key until the kernel restarts (~2 us for two stats per call).
        stamp = (original, _files_stamp(self._environment.environ))
        key = (request.profile, request.credential_source, request.region or self._settings.region,
               request.partition, self._settings.sts_timeout, stamp)
        with self._lock:
            cached = self._clients.get(key)
            if cached is None:
                # A different source (say, AWS_PROFILE changed after a clear, or a rewritten
                # credentials file) retires old clients.
                self._clients = {k: v for k, v in self._clients.items() if k[-1] == stamp}
                cached = self._clients[key] = self._build_source(request, self._environment.original())
            return cached

    def forget_sources(self) -> None:
        """Drop every cached source client: the next call resolves the source credentials anew."""
        with self._lock:
            self._clients = {}

    def _build_source(self, request, environ):
        import botocore.session

        from ..base import consistent_reads

        # botocore is imported now: readers in other threads take one whole set from here on,
        # before the first credentials are injected (base/consistent_reads.py).
        consistent_reads.install()

        # The profile named in the original environment: the endpoint delivery sets AWS_PROFILE
        # aside while it serves, and a client built then must still sign as the source.
        profile = request.profile or environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE")
        session = botocore.session.Session(profile=profile)
        resolver = session.get_component("credential_provider")
        _pin_environment(resolver, environ)
        _pin_process_environment(resolver, environ)
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
        # counts max_attempts as *retries*, which made four attempts (measured: tests/sources/test_faults.py).
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

    def _check_one_hour_cap(self, request) -> None:
        """Refuse, before calling STS, more than 1 hour from temporary source credentials.

        AWS caps a role assumed with any temporary credentials (a role session, SSO, an instance or
        container role, an MFA session) at 1 hour, and says so only after the call, in words about
        "role chaining" that a user who never chained does not recognise.
        """
        if not self.source_is_temporary(request):
            return
        where = self._translated(lambda: self._source(request)[1], request, False, "the source credentials")
        raise StsError(
            f"{request.operation} {request.target} was not asked for {request.duration} s: {where} are "
            "temporary (a role session, SSO, an instance or container role), and AWS lets a role "
            "assumed from temporary credentials last at most 1 hour. Use {hint} or less, or start "
            "the kernel with long-term credentials (an IAM user's keys).",
            "OneHourCap", hint=Hint("duration", "1h"),
        )

    # -- calls -----------------------------------------------------------------------------------

    def obtain(self, request, *, mfa_code: str | None = None, signer: TemporaryCredentials | None = None,
               signer_name: str = "the active role", chained: bool = False) -> Issued:
        """Call ``request.operation``; signed by ``signer`` if given, else by the source."""
        params = request.sts_parameters()
        if mfa_code:
            params["TokenCode"] = mfa_code
        operation = {"AssumeRole": "assume_role", "GetFederationToken": "get_federation_token",
                     "GetSessionToken": "get_session_token"}[request.operation]
        asked_at = self._clock()
        if signer is None and request.operation == "AssumeRole" and request.duration > CHAINED_MAX_DURATION:
            self._check_one_hour_cap(request)
        for attempt in (1, 2):
            if signer is not None:
                client, source = self._signed_by(signer, request.region, request.partition), signer_name
            else:
                client, source, _ = self._translated(lambda: self._source(request), request, False, "the source credentials")
            try:
                response = self._translated(lambda client=client: getattr(client, operation)(**params),
                                           request, chained, source)
                break
            except StsError as exc:
                # The source's key was refused: it may have been rotated where no file stamp shows
                # it (a credential_process, an SSO cache). Resolve the source once more, then give up.
                if signer is not None or attempt == 2 or exc.code not in _SOURCE_REFUSED:
                    raise
                self.forget_sources()
        what = f"{request.operation} {request.target}"
        credentials = TemporaryCredentials.from_sts(response.get("Credentials"), action=what)
        user = response.get("AssumedRoleUser") or response.get("FederatedUser")
        if user is None:  # GetSessionToken says nothing of the identity: ask with the new keys
            # ...which must not have expired already: the issuer checks every answer, but only after
            # this call, which would fail with words about the keys instead of the answer.
            refuse_expired(credentials, asked_at=asked_at, what=what, service=self.service,
                           zone=self._settings.time_zone)
            user = self.caller_identity(credentials, request.region)
            return Issued(credentials, user["Arn"], user.get("Account"), user.get("UserId"))
        user_id = user.get("AssumedRoleId") or user.get("FederatedUserId")
        return Issued(credentials, user["Arn"], account_of(user["Arn"]), user_id)

    @staticmethod
    def describe(request) -> str:
        """Where the credentials that call STS for ``request`` come from, in words."""
        if request.profile:
            return f"profile {request.profile!r}"
        if request.credential_source:
            return f"credential_source {request.credential_source}"
        return "the kernel's original credentials"

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
    try:
        return call()
    except Exception as exc:
        # Not only botocore's errors: an answer botocore cannot parse raises others, with the raw
        # answer (and the new secrets in it) in their message (errors.translatable).
        if not translatable(exc):
            raise
        raise translate_sts_error(
            exc, action=action, target=target, duration=duration, chained=chained, source=source
        ) from None


# STS codes that say the source's key itself was refused (rotated, deleted, expired).
_SOURCE_REFUSED = {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException"}


def _files_stamp(environ) -> tuple:
    """(mtime_ns, size) of the AWS config and credentials files (None where absent)."""
    stamps: list[tuple[int, int] | None] = []
    for name, default in (("AWS_CONFIG_FILE", "~/.aws/config"), ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")):
        try:
            info = os.stat(os.path.expanduser(environ.get(name) or default))
            stamps.append((info.st_mtime_ns, info.st_size))
        except (OSError, ValueError):
            stamps.append(None)
    return tuple(stamps)


def _pin_process_environment(resolver, environ: dict) -> None:
    """Run a ``credential_process`` source with ``environ``, the kernel's environment before
    injection. botocore starts it with os.environ, which holds the injected role: a tool that
    prefers credentials it finds in its environment then returned the role's, and the next
    refresh was signed as the role (accidental chaining)."""
    import functools
    import subprocess

    from botocore.credentials import ProcessProvider

    from ..base.compat import set_process_popen

    for provider in resolver.providers:
        if isinstance(provider, ProcessProvider):
            set_process_popen(provider, functools.partial(subprocess.Popen, env=dict(environ)))


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
    the mapping in ``.environ`` (ContainerProvider in ``._environ``); the same instance also serves profiles with
    ``credential_source = Environment`` through the assume-role provider's sourcer, which keeps
    its providers in ``._providers`` (botocore 1.34-1.44).
    """
    from botocore.credentials import ContainerProvider, EnvProvider

    from ..base.compat import set_container_environ, sourced_providers

    providers = list(resolver.providers)
    for provider in list(providers):
        providers.extend(sourced_providers(provider))
    for provider in providers:
        if isinstance(provider, EnvProvider):
            provider.environ = environ
        elif isinstance(provider, ContainerProvider):
            # Reading os.environ, it would find the kernel's own credential endpoint (delivery
            # "endpoint") and sign as the injected role.
            set_container_environ(provider, environ)
