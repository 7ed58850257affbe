"""s3fs/fsspec and polars internals: the filesystems fsspec caches (and the clients they hold), and
polars' default credential provider, which has a setter but no getter.
"""

from __future__ import annotations

CHECKED_ON = {
    "s3fs": "2024.x-2026.9.0 (aiobotocore 2.x-3.10)",
    "polars": "2.1.0 (credential_provider._builder.DEFAULT_CREDENTIAL_PROVIDER)",
}


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


def polars_default_credential_provider(builder_module):
    """polars' current default credential provider (``"auto"`` if unknown): polars has a setter
    (``pl.Config.set_default_credential_provider``) but no getter; ``builder_module`` is
    ``polars.io.cloud.credential_provider._builder``, or None if not imported."""
    return getattr(builder_module, "DEFAULT_CREDENTIAL_PROVIDER", "auto")
