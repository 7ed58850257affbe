"""Make s3fs (what pandas and Dask use for ``s3://`` URLs) follow the kernel's credentials at once.

s3fs keeps credentials in two places that outlive a change of the environment:

- fsspec caches filesystem instances by constructor arguments, and credentials taken from the
  environment are not among them: the next ``pd.read_csv("s3://...")`` after a switch would get
  the cached filesystem, signing as the previous identity;
- a filesystem the user holds (``fs = s3fs.S3FileSystem()``) keeps an aiobotocore client whose
  request signer holds the credentials resolved when it connected: static ones (the base user's)
  never change, and refreshable ones follow the environment only inside the 15 minutes before
  they expire.

:meth:`S3fsFilesystems.follow_environment` empties the cache and gives every live filesystem that
takes its credentials from the environment a freshly resolved set. Filesystems given explicit keys, a
profile, a session of their own or ``anon=True`` are left alone: they do not use the kernel's
credentials. Only called when s3fs is already imported; this module imports nothing heavy itself.
"""

from __future__ import annotations

import logging
import sys
import weakref

from ..base.compat import (
    s3fs_cached_instances,
    s3fs_client,
    s3fs_owns_session,
    set_client_credentials,
    set_session_credentials,
)
from .s3fs_versions import warn_if_s3fs_cannot_follow

log = logging.getLogger("ipy_tempcreds")

# Resolving credentials for a live filesystem runs on its event loop; the environment provider
# answers at once, but a profile or instance role after a clear may need I/O.
RESOLVE_TIMEOUT = 10.0


class S3fsFilesystems:
    """The S3 filesystems one kernel (or Dask worker) keeps current."""

    def __init__(self):
        # Filesystems seen in fsspec's cache, by id. The cache is emptied on every change, so a
        # filesystem the user still holds is found here the next time. Weak: a filesystem nobody
        # holds may go. Not a WeakSet: filesystems made with the same arguments compare equal.
        self.seen: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def follow_environment(self) -> None:
        """Empty fsspec's S3 instance cache and re-resolve credentials in live filesystems.

        Never raises: a filesystem that cannot be updated is logged and left as it was.
        """
        s3fs = sys.modules.get("s3fs")
        if s3fs is None:
            return
        # Once per process: an s3fs that no aiobotocore release matches with this botocore says so.
        warn_if_s3fs_cannot_follow()
        cls = s3fs.S3FileSystem
        for fs in s3fs_cached_instances(cls):
            self.seen[id(fs)] = fs
        cls.clear_instance_cache()
        for fs in list(self.seen.values()):
            if not _uses_environment(fs):
                continue
            try:
                _renew_credentials(fs)
            except Exception as exc:  # an s3fs internals change must not break the credentials
                log.warning("ipy_tempcreds: could not update the credentials of an open S3 filesystem "
                            "(%s); create a new one with s3fs.S3FileSystem()", type(exc).__name__)


def _uses_environment(fs) -> bool:
    """True for a filesystem whose credentials come from the default chain (the environment)."""
    if getattr(fs, "anon", False) or getattr(fs, "asynchronous", False):
        return False  # an asynchronous one lives on the caller's loop, which we cannot drive
    if any(getattr(fs, name, None) for name in ("key", "secret", "token")):
        return False
    if not s3fs_owns_session(fs) or (getattr(fs, "kwargs", None) or {}).get("profile"):
        return False
    client_kwargs = getattr(fs, "client_kwargs", None) or {}
    return not any(name in client_kwargs for name in ("aws_access_key_id", "aws_secret_access_key",
                                                       "aws_session_token"))


def _renew_credentials(fs) -> None:
    client, session = s3fs_client(fs), getattr(fs, "session", None)
    if client is None or session is None:
        return  # not connected yet: it resolves the credentials in force when it connects
    fs.invalidate_cache()  # listings seen by the previous identity
    from fsspec.asyn import sync

    async def resolve():
        return await session.get_component("credential_provider").load_credentials()

    credentials = sync(fs.loop, resolve, timeout=RESOLVE_TIMEOUT)
    # botocore keeps a client's credentials in its request signer; the session's copy is what
    # clients created later from this filesystem's session start from.
    set_client_credentials(client, credentials)
    set_session_credentials(session, credentials)
