"""Every use of botocore internals the readers' followers make, each in one small function.

botocore has no public hook that hands a session's clients credentials that change on demand; each
function below names what it relies on and the botocore versions it was checked on. The test
``tests/test_readers_boto3.py::test_the_botocore_internals_the_followers_use_still_exist`` fails
loudly when a botocore release moves any of them. Nothing here imports botocore at module import:
each function runs only once botocore is imported.

Checked on botocore 1.43.117 (with boto3 1.43.117 and aiobotocore 3.10.0).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

_WRAPPED = "_ipy_tempcreds_wraps"


def wrap_credential_resolvers(wrap: Callable) -> bool:
    """Make ``wrap(session, resolver)`` see every default credential resolver botocore creates.

    Relies on ``botocore.session.Session._create_credential_resolver``, the factory registered as
    the lazy ``credential_provider`` component of each session (botocore 1.x to 1.43 at least).
    aiobotocore's ``AioSession`` overrides that method, so its sessions are left alone (s3fs is
    followed by s3fs_support.py). A resolver a user registered with ``register_component`` is
    not created by this factory and is left alone too. Returns False if the method is missing.
    """
    session_class = sys.modules["botocore.session"].Session
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


def unwrap_credential_resolvers() -> None:
    """Put botocore's factory back (unload); sessions created meanwhile keep what they have."""
    module = sys.modules.get("botocore.session")
    if module is None:
        return
    current = module.Session._create_credential_resolver
    original = getattr(current, _WRAPPED, None)
    if original is not None:
        module.Session._create_credential_resolver = original


def reads_kernel_environment(session, resolver) -> bool:
    """True if ``session``'s credentials come from the kernel's environment chain: no profile
    chosen for the session, and an environment provider reading ``os.environ`` itself (the STS
    source clients pin a copy of the environment as it was before the first assume).

    Relies on ``Session.instance_variables()`` (public) and ``EnvProvider.environ`` (an instance
    attribute since botocore 1.x).
    """
    if session.instance_variables().get("profile") is not None:
        return False
    env_provider = sys.modules["botocore.credentials"].EnvProvider
    return any(isinstance(p, env_provider) and p.environ is os.environ for p in getattr(resolver, "providers", ()))


def client_credentials(client):
    """The credentials object a botocore client signs with (its request signer's, which is the
    one its session handed out: ``client._request_signer._credentials``)."""
    return client._request_signer._credentials
