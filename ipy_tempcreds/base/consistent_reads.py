"""botocore reads each credential set from one instant of the environment.

botocore's ``EnvProvider`` (and aiobotocore's, which inherits the same fetcher) reads
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN`` and
``AWS_CREDENTIAL_EXPIRATION`` with separate ``os.environ.get()`` calls, when a client is created
and again whenever its credentials near expiry. delivery/environment.py swaps the mapping behind
``os.environ`` in one assignment, but a reader whose four reads straddle a renewal combines the key
id of one set with the secret of another: every request of that client then fails with
SignatureDoesNotMatch until its next refresh window (tests/core/test_races.py measured 0-3 such mixes in
6,000 reads under continuous renewals).

No writer can close that gap, so the reader is given one: :func:`install` wraps
``EnvProvider._create_credentials_fetcher`` so that each fetch reads from the mapping behind
``os.environ`` taken once, at its start. Everything else is botocore's own code, and a provider
given another mapping (our pinned source environment among them) is left alone. One failure gets
better words: a client created while a role was active cannot renew after ``--clear`` (the
temporary set is gone), and botocore's "Partial credentials found in env" becomes what happened and
what to do, as the same exception type.

Both deliveries (delivery/switch.py) are followed across a switch while a client lives: a client created
with the key variables renews from the credential endpoint once the keys are set aside for it
(:func:`from_loopback_endpoint`), and one created from the endpoint takes the temporary set from
the environment once the delivery is back to "environment" (:func:`_follow_back_from_endpoint`).

It is installed when the manager is created (if botocore is imported already), when the first STS
client is built (before the first credentials are injected), and before every swap; never by
importing botocore. A fetcher botocore created before the wrapper existed reads piecemeal, so only a
client created in another thread during the very first assume of a kernel can still straddle that
one swap.
"""

from __future__ import annotations

import copy
import functools
import os
import sys
from collections.abc import Mapping

from .compat import (
    container_environ,
    container_fetcher,
    env_fetcher,
    environ_data,
    set_container_fetcher,
    set_env_fetcher,
)


class EnvironSnapshot(Mapping):
    """``os.environ`` as it was at one instant: its mapping is read once and kept.

    delivery/environment.py never changes a mapping it has swapped out, so this one holds one complete
    credential set (or none) for as long as it is used.
    """

    def __init__(self, environ=os.environ):
        self._environ = environ
        self._data = environ_data(environ)

    def __getitem__(self, key):
        return self._environ.decodevalue(self._data[self._environ.encodekey(key)])

    def __iter__(self):
        return (self._environ.decodekey(key) for key in list(self._data))

    def __len__(self):
        return len(self._data)


def install() -> bool:
    """Wrap botocore's EnvProvider fetcher (once); False if botocore is not imported or its
    EnvProvider no longer has the method this relies on (botocore 1.34-1.44 have it)."""
    module = sys.modules.get("botocore.credentials")
    provider = getattr(module, "EnvProvider", None)
    original = env_fetcher(provider)
    if original is None:
        return False
    if getattr(original, "_ipy_tempcreds", False):
        return True

    from botocore.exceptions import PartialCredentialsError

    class CredentialsGoneError(PartialCredentialsError):
        """A refresh found the set its client was created with gone (still a
        PartialCredentialsError, which is what botocore raised)."""

        fmt = ("The temporary credentials this client was created with are no longer in the "
               "environment (missing {cred_var}), so it cannot renew them: they were released "
               "(%assume_role --clear?) and the kernel's own credentials are not temporary ones. "
               "Create the client again: a new client uses the kernel's current credentials.")

    @functools.wraps(original)
    def _create_credentials_fetcher(self):
        if self.environ is not os.environ:
            return original(self)

        def fetch_credentials(*args, **kwargs):
            reader = copy.copy(self)
            reader.environ = EnvironSnapshot(os.environ)
            try:
                return original(reader)(*args, **kwargs)
            except PartialCredentialsError as exc:
                # require_expiry is False only in load() (creating a client); a refresh asks for a
                # whole temporary set, and botocore's own words for its absence are cryptic.
                if not kwargs.get("require_expiry", args[0] if args else True):
                    raise
                # Delivery "endpoint" took the keys out of the environment (a switch while this
                # client lived): renew from the endpoint the environment now points to instead.
                served = from_loopback_endpoint(reader.environ)
                if served is not None:
                    return served
                raise CredentialsGoneError(**exc.kwargs) from None

        return fetch_credentials

    # Marks the wrapper, so that installing again leaves it alone (a function's attributes live in
    # its __dict__; written there, type checkers know the wrapper has one).
    _create_credentials_fetcher.__dict__["_ipy_tempcreds"] = True
    set_env_fetcher(provider, _create_credentials_fetcher)
    _follow_back_from_endpoint(module)
    return True


_TEMPORARY_SET = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION")


def _follow_back_from_endpoint(module) -> None:
    """A client created while delivery "endpoint" served keeps the endpoint's URL for its life; after
    a switch back to "environment" the endpoint is gone, so its next refresh takes the temporary set
    now in the environment (as one created then would) instead of failing to connect."""
    container = getattr(module, "ContainerProvider", None)
    original = container_fetcher(container)
    if original is None or getattr(original, "_ipy_tempcreds", False):
        return

    @functools.wraps(original)
    def _create_fetcher(self, full_uri, *args, **kwargs):
        fetch = original(self, full_uri, *args, **kwargs)
        if container_environ(self) is not os.environ:
            return fetch

        def fetch_credentials():
            snapshot = EnvironSnapshot(os.environ)
            values = [snapshot.get(name) for name in _TEMPORARY_SET]
            if snapshot.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") == full_uri or not all(values):
                return fetch()  # the endpoint is still the one named, or no temporary set replaced it
            # Not asked first: botocore tries a gone endpoint three times, a second apart.
            return dict(zip(("access_key", "secret_key", "token", "expiry_time"), values, strict=True))

        return fetch_credentials

    _create_fetcher.__dict__["_ipy_tempcreds"] = True  # the marker, written where a function keeps it
    set_container_fetcher(container, _create_fetcher)


def from_loopback_endpoint(environ) -> dict | None:
    """The set a loopback container-credentials endpoint named in ``environ`` serves, in the form
    botocore's refresh functions return; None if there is none or it does not answer."""
    import ipaddress
    import json
    import urllib.parse
    import urllib.request

    url = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not url:
        return None
    try:
        if not ipaddress.ip_address(urllib.parse.urlsplit(url).hostname or "").is_loopback:
            return None
        token_file = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        if token_file:
            with open(token_file) as handle:
                token = handle.read()
        else:
            token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")
        request = urllib.request.Request(url, headers={"Authorization": token})
        with urllib.request.urlopen(request, timeout=2) as answer:
            served = json.load(answer)
        return {"access_key": served["AccessKeyId"], "secret_key": served["SecretAccessKey"],
                "token": served["Token"], "expiry_time": served["Expiration"]}
    except (OSError, ValueError, KeyError):
        return None
