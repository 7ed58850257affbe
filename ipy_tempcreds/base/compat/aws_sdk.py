"""botocore and boto3 internals: credentials set on sessions and clients, the default chain made to
read another environment, the SSO token provider for a sign-in no profile names, the credential
resolver factory every session calls (followers/boto3_clients.py), and the refresh machinery of
``RefreshableCredentials`` (subclassed there). Callers pass botocore's objects in: nothing is
imported here.
"""

from __future__ import annotations

import os
import threading

CHECKED_ON = {
    "botocore": "1.34-1.43.117",
    "boto3": "1.34-1.43.117",
    "botocore (endpoint rules)": "1.43.117 (BaseClient._ruleset_resolver.construct_endpoint)",
    "botocore (readers)": "1.43.117 (Session._create_credential_resolver, EnvProvider.environ)",
    "botocore (refreshable credentials)": (
        "1.43.117 (RefreshableCredentials._refresh, _protected_refresh, _refresh_lock, _frozen_credentials, "
        "_expiry_time, _time_fetcher)"),
}


# -- botocore ------------------------------------------------------------------------------------


def set_session_credentials(core_session, credentials) -> None:
    """Give a ``botocore.session.Session`` credentials object (refreshable ones included):
    ``Session.set_credentials`` takes only static keys."""
    core_session._credentials = credentials


def forget_session_credentials(core_session) -> None:
    """Make a botocore session resolve its credentials again (from the chain) on next use."""
    core_session._credentials = None


def forget_default_session_credentials(boto3_session) -> None:
    """Keep a ``boto3.Session`` (its region and profile choices) but drop the credentials it
    resolved (boto3 keeps its botocore session in ``._session``; no public accessor)."""
    forget_session_credentials(boto3_session._session)


def set_client_credentials(client, credentials) -> None:
    """Replace the credentials a live client signs with (kept by its request signer)."""
    client._request_signer._credentials = credentials


def env_fetcher(provider_class):
    """botocore ``EnvProvider``'s fetcher factory (``_create_credentials_fetcher``), or None."""
    return getattr(provider_class, "_create_credentials_fetcher", None)


def set_env_fetcher(provider_class, fetcher) -> None:
    provider_class._create_credentials_fetcher = fetcher


def container_fetcher(provider_class):
    """botocore ``ContainerProvider``'s fetcher factory (``_create_fetcher(full_uri)``), or None."""
    return getattr(provider_class, "_create_fetcher", None)


def set_container_fetcher(provider_class, fetcher) -> None:
    provider_class._create_fetcher = fetcher


def container_environ(provider):
    """The environment a ``ContainerProvider`` reads (``._environ``: a constructor argument)."""
    return provider._environ


def set_container_environ(provider, environ) -> None:
    provider._environ = environ


def sourced_providers(provider) -> tuple:
    """The providers an assume-role provider's credential sourcer holds (``credential_source =
    Environment`` uses an EnvProvider of its own), or ()."""
    sourcer = getattr(provider, "_credential_sourcer", None)
    return tuple(getattr(sourcer, "_providers", ()))


def set_process_popen(provider, popen) -> bool:
    """Make a ``ProcessProvider`` (credential_process) start its process with ``popen`` (kept in
    ``._popen``, its constructor argument); False if this botocore has no such attribute."""
    if not hasattr(provider, "_popen"):
        return False
    provider._popen = popen
    return True


def resolved_endpoint_url(client, operation_name: str) -> str:
    """The URL botocore's endpoint rules give ``client`` for ``operation_name``, with the client's
    region and any AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL or profile endpoint_url applied
    (``BaseClient._ruleset_resolver``). ``client.meta.endpoint_url`` is not it for AWS Sign-In: that
    is ``https://signin.REGION.amazonaws.com``, the rules' token host ``https://REGION.signin.aws.amazon.com``."""
    operation = client.meta.service_model.operation_model(operation_name)
    return client._ruleset_resolver.construct_endpoint(operation_model=operation, call_args={},
                                                       request_context={}).url


def sso_token_cache_dir(provider_class) -> str:
    """botocore's SSO token cache directory (``SSOTokenProvider._SSO_TOKEN_CACHE_DIR``): computed
    from HOME once, when botocore.tokens was imported, so it is where boto3 in this process reads."""
    return provider_class._SSO_TOKEN_CACHE_DIR


def sso_token_provider(provider_class, session, *, start_url: str, region: str, session_name, cache, clock):
    """botocore's ``SSOTokenProvider`` (its refresh with the refresh token, its cache writes) for a
    sign-in given directly. It reads the sign-in from a profile; a sign-in may have none (a start
    URL, a legacy profile), so the one method that reads the config (``_load_sso_config``) is given
    the answer. ``session_name`` None keys the cache by the start URL, as botocore does."""

    class GivenSignIn(provider_class):
        def _load_sso_config(self):
            return {"session_name": session_name, "sso_region": region, "sso_start_url": start_url}

    return GivenSignIn(session, cache=cache, time_fetcher=clock)


# -- the readers' followers (followers/boto3_clients.py, followers/polars.py) ----------------------

_WRAPPED = "_ipy_tempcreds_wraps"


def wrap_credential_resolvers(session_class, wrap) -> bool:
    """Make ``wrap(session, resolver)`` see every default credential resolver that sessions of
    ``session_class`` (``botocore.session.Session``) create from now on.

    Relies on ``Session._create_credential_resolver``, the factory each session registers, bound,
    as its lazy ``credential_provider`` component when it is created (so sessions created before
    keep theirs). aiobotocore's ``AioSession`` overrides it (its sessions are left alone); a
    resolver registered with ``register_component`` is not made by it. False if it is missing.
    """
    original = getattr(session_class, "_create_credential_resolver", None)
    if original is None:
        return False
    if getattr(original, _WRAPPED, None) is not None:
        return True

    def _create_credential_resolver(self):
        resolver = original(self)
        wrap(self, resolver)
        return resolver

    setattr(_create_credential_resolver, _WRAPPED, original)
    _create_credential_resolver.__doc__ = original.__doc__
    session_class._create_credential_resolver = _create_credential_resolver
    return True


def unwrap_credential_resolvers(session_class) -> None:
    """Put botocore's factory back (unload); sessions created meanwhile keep what they have."""
    original = getattr(session_class._create_credential_resolver, _WRAPPED, None)
    if original is not None:
        session_class._create_credential_resolver = original


def reads_kernel_environment(session, resolver, env_provider_class) -> bool:
    """True if ``session``'s credentials come from the kernel's environment chain: no profile
    chosen for the session, and an ``EnvProvider`` reading ``os.environ`` itself (the STS source
    clients pin a copy of the environment as it was before the first assume). Relies on
    ``EnvProvider.environ`` and ``CredentialResolver.providers``."""
    if session.instance_variables().get("profile") is not None:
        return False
    return any(isinstance(p, env_provider_class) and p.environ is os.environ
               for p in getattr(resolver, "providers", ()))


def client_credentials(client):
    """The credentials object a botocore client signs with (its request signer's, the one its
    session handed out)."""
    return client._request_signer._credentials


# -- botocore's RefreshableCredentials, subclassed (followers/boto3_clients.py) ---------------------

def refreshable_base(refreshable_class, read_only_class) -> type:
    """A subclass of botocore's ``RefreshableCredentials`` (``refreshable_class``) that owns the
    private fields and refresh machinery its subclasses need, behind the named methods below, so
    that they use public names only. ``read_only_class`` is botocore's ``ReadOnlyCredentials``.

    Two ways to use it: a set made with :meth:`start_unset` (no refresh function, no fixed set)
    whose answer is set with :meth:`set_fixed` or :meth:`follow_own`; or one made with botocore's
    constructor, whose :meth:`before_use` may force a mandatory refresh (:meth:`refresh_mandatory`).
    botocore calls ``_refresh`` before it reads the keys (the properties, ``get_frozen_credentials``):
    here that is :meth:`before_use`, by default botocore's own refresh inside its windows.
    """


    class RefreshableBase(refreshable_class):
        def start_unset(self, method: str) -> None:
            """Be usable without botocore's constructor: no refresh function, no keys, no expiry."""
            self.method = method
            self._refresh_lock = threading.Lock()
            self._time_fetcher = None
            self._expiry_time = None
            self._frozen_credentials = None

        def set_fixed(self, values: tuple, expiry) -> None:
            """Answer ``values`` (access key id, secret, token, account) until told otherwise;
            ``expiry`` (a datetime or None) is what readers of the expiry see (polars does)."""
            self._frozen_credentials = read_only_class(*values)
            self._expiry_time = expiry

        def follow_own(self, own) -> None:
            """Answer what ``own`` answers (botocore ``Credentials``, ``RefreshableCredentials``, or
            None for none): a refreshable set is asked on each use (:meth:`fixed` is then None), a
            static one is copied once."""
            refreshes = isinstance(own, refreshable_class)
            self._frozen_credentials = None if own is None or refreshes else own.get_frozen_credentials()
            self._expiry_time = getattr(own, "_expiry_time", None) if refreshes else None

        def fixed(self):
            """The set :meth:`set_fixed` or :meth:`follow_own` fixed (a ``ReadOnlyCredentials``), or
            None while following refreshable credentials of the kernel's own (or none)."""
            return self._frozen_credentials

        def refresh_lock(self):
            """botocore's refresh lock of this set: held while the answer changes."""
            return self._refresh_lock

        def refresh_in_windows(self) -> None:
            """botocore's own refresh: advisory, then mandatory, inside its windows before expiry."""
            refreshable_class._refresh(self)

        def refresh_mandatory(self) -> None:
            """Refresh now through the refresh function, raising if it fails; hold :meth:`refresh_lock`."""
            self._protected_refresh(is_mandatory=True)

        def before_use(self) -> None:
            """Called by botocore before it reads the keys; subclasses add their own checks."""
            self.refresh_in_windows()

        def _refresh(self):
            self.before_use()

    return RefreshableBase
