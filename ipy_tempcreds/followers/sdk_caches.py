"""SDK objects that cache credentials resolve them again after every change: boto3's default
session, and s3fs/fsspec's filesystems (what pandas and Dask use for ``s3://``).

The first follower to hear a change (followers.Followers orders them): the readers after it may
resolve the kernel's credentials through these. Only libraries already imported are touched:
nothing is imported here.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..base.compat import forget_default_session_credentials

if TYPE_CHECKING:
    from ..model.changes import Change


class SdkCachesFollower:
    """boto3's default session and the kernel's s3fs filesystems, renewed on every change of keys."""

    def __init__(self):
        self._s3fs = None  # followers.s3fs.S3fsFilesystems, made when s3fs is first seen

    def on_change(self, change: Change) -> None:
        if change.credentials_changed:
            self.reset()

    def reset(self) -> None:
        """Resolve again now (a Dask worker calls this: it has no manager to hear changes from)."""
        reset_boto3_default_session()
        if "s3fs" in sys.modules:
            if self._s3fs is None:
                from .s3fs import S3fsFilesystems

                self._s3fs = S3fsFilesystems()
            self._s3fs.follow_environment()

    def attach(self, library) -> None:
        """Nothing to attach to: the caches are reset on each change (followers.Followers' hook)."""

    def uninstall(self) -> None:
        self._s3fs = None


def reset_boto3_default_session() -> None:
    boto3 = sys.modules.get("boto3")
    default_session = getattr(boto3, "DEFAULT_SESSION", None)
    if default_session is not None:
        # Keep the user's default session (its region and profile choices); only drop the
        # credentials it resolved, so the next client resolves them again through the env provider.
        forget_default_session_credentials(default_session)
