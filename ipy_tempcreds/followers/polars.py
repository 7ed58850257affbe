"""polars reading ``s3://`` with no options follows every change, through polars' own hook.

polars caches credentials twice: its boto3-based provider until the credentials' reported expiry
(forever for fixed keys), and one object store per bucket that asks again only after a 403, so
each bucket kept the identity that last worked on it. While a grant is active, this module makes
:meth:`PolarsFollower.credentials` polars' default credential provider
(``pl.Config.set_default_credential_provider``, marked unstable by polars: every use is guarded).
It answers the grant in force with an expiry of "now", so polars asks again for every read; that
costs a tuple read (benchmarks/bench_readers.py). At a clear the default polars had is put back,
and polars' own provider resolves the kernel's own identity again.

Installed when the user imports polars (a post-import hook) or at the next change, never by
importing polars here. A default provider the user set themselves is left alone. polars' default
provider is one per process; the keys it answers are those of the kernel's :class:`PolarsFollower`
that installed it (a bound method), never a module global.

Limit: polars uses its default provider for every cloud, so while a role is active a ``gs://`` or
``az://`` read without options of its own would be handed AWS keys; pass ``credential_provider=``
or ``storage_options=`` for those.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from typing import TYPE_CHECKING

from ..base import compat
from .imports import forget, when_imported

if TYPE_CHECKING:
    from ..model.changes import Change

log = logging.getLogger("ipy_tempcreds")

_NOTHING = object()


class PolarsFollower:
    """polars' follower of one kernel: the grant's keys while one is active, and polars' default
    provider that ours replaced."""

    def __init__(self):
        self._current: tuple[str, str, str] | None = None  # the grant's key id, secret and token
        self._replaced = _NOTHING  # polars' default before ours; _NOTHING while ours is not installed
        # The one callable handed to polars, kept: each `self.credentials` is a new bound method,
        # and attach() must recognise ours in polars' default by identity.
        self.provider = self.credentials

    def credentials(self) -> tuple[dict[str, str], int]:
        """polars' credential provider: the keys in force, valid until "now" so every read asks again."""
        held: tuple[str, str, str | None] | None = self._current
        if held is None:
            # Only between a clear and the moment polars' own default is back: the kernel's own keys.
            environ = os.environ
            held = (environ.get("AWS_ACCESS_KEY_ID", ""), environ.get("AWS_SECRET_ACCESS_KEY", ""),
                    environ.get("AWS_SESSION_TOKEN"))
        answer = {"aws_access_key_id": held[0], "aws_secret_access_key": held[1]}
        if held[2]:
            answer["aws_session_token"] = held[2]
        return answer, int(time.time())

    def on_change(self, change: Change) -> None:
        """The follower: remember the keys in force; install or take back the provider in polars."""
        grant = change.grant
        if grant is None:
            self._current = None
        else:
            held = grant.credentials
            self._current = (held.access_key_id, held.secret_access_key, held.session_token)
        module = sys.modules.get("polars")
        if module is not None:
            self.attach(module)

    def install(self) -> None:
        when_imported("polars", self.attach)

    def uninstall(self) -> None:
        forget("polars", self.attach)
        self._current = None
        module = sys.modules.get("polars")
        if module is not None:
            self.attach(module)

    def attach(self, polars) -> None:
        """Called with polars once imported, and at each change: our provider while a grant is
        active, polars' previous default otherwise."""
        if self._current is not None and self._replaced is _NOTHING:
            previous = _default_provider()
            if previous != "auto":
                return  # the user chose a provider (or None: no provider at all): theirs wins
            if _set_default(polars, self.provider):
                self._replaced = previous
        elif self._current is None and self._replaced is not _NOTHING:
            if _default_provider() is self.provider:
                _set_default(polars, self._replaced)
            self._replaced = _NOTHING

    def __repr__(self) -> str:  # never the keys
        return f"<PolarsFollower {'installed' if self._replaced is not _NOTHING else 'idle'}>"


def _set_default(polars, provider) -> bool:
    setter = getattr(getattr(polars, "Config", None), "set_default_credential_provider", None)
    if setter is None:
        log.warning("ipy_tempcreds: this polars has no Config.set_default_credential_provider; "
                    "polars reads of s3:// will keep the identity each bucket first used. Pass "
                    "storage_options or create the reads again after a change.")
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # polars marks the hook unstable
            setter(provider)
    except Exception as exc:
        log.warning("ipy_tempcreds: polars refused the credential provider (%s)", type(exc).__name__)
        return False
    return True


def _default_provider():
    """polars' current default provider ("auto" if unknown)."""
    return compat.polars_default_credential_provider(sys.modules.get("polars.io.cloud.credential_provider._builder"))
