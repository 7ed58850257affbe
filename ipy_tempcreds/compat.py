"""Every use of another project's private internals, in one place, each with the versions it was
checked on. tests/test_compat.py fails loudly, naming the accessor, when a new version breaks one.

Each is used only where no documented API does the job (not to save time): an atomic swap of the
environment, refreshable credentials on a botocore session, a default chain reading another
environment, and s3fs filesystems that keep credentials after the environment changed.
Imports nothing heavy: callers pass the objects in.
"""

from __future__ import annotations

import os
from typing import TypeGuard

CHECKED_ON = {
    "python": "3.10-3.13 (os.environ._data, os._Environ)",
    "botocore": "1.34-1.43.117",
    "boto3": "1.34-1.43.117",
    "s3fs": "2024.x-2026.9.0 (aiobotocore 2.x-3.10)",
}

# -- os.environ (CPython: os._Environ keeps encoded keys and values in ._data) ---------------------


def is_os_environ(environ: object) -> TypeGuard[os._Environ[str]]:
    """True for ``os.environ`` (or another ``os._Environ``), whose mapping can be swapped whole."""
    return isinstance(environ, os._Environ)


def environ_data(environ) -> dict:
    """The mapping behind ``os.environ`` (encoded bytes keys and values); one read, so a copy of it
    is one instant of the environment (``dict(os.environ)`` reads key by key)."""
    return environ._data


def swap_environ_data(environ, data: dict) -> None:
    """Replace the mapping behind ``os.environ`` in one assignment (readers see old or new)."""
    environ._data = data


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


# -- s3fs / fsspec ---------------------------------------------------------------------------------


def s3fs_cached_instances(filesystem_class) -> list:
    """The filesystems in fsspec's instance cache of ``filesystem_class``."""
    return list((getattr(filesystem_class, "_cache", None) or {}).values())


def s3fs_client(fs):
    """The aiobotocore client a connected s3fs filesystem uses, or None before it connects."""
    return getattr(fs, "_s3", None)


def s3fs_owns_session(fs) -> bool:
    """False when the filesystem was given an aiobotocore session of the user's."""
    return getattr(fs, "_session_is_owned", True)
