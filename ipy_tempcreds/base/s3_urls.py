"""``s3://bucket/key`` URLs as users type them: split and checked, one clear line when wrong."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import InvalidInput

# S3's rule for bucket names (3-63 lowercase letters, digits, dots and hyphens), loosened to the
# legacy names older buckets may still have (uppercase, underscores, up to 255).
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,254}")


def split_s3_url(url, *, needs_key: bool = False, example: str = "s3://BUCKET/KEY") -> tuple[str, str]:
    """(bucket, key or prefix) of ``s3://bucket/key``; the key may be '' unless ``needs_key``."""
    text = str(url).strip()
    parts = urlsplit(text)
    if parts.scheme != "s3":
        raise InvalidInput(f"{text!r} is not an s3:// URL; write it as {example}.")
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if not bucket:
        raise InvalidInput(f"{text!r} names no bucket; write it as {example}.")
    if not _BUCKET.fullmatch(bucket):
        raise InvalidInput(f"{bucket!r} is not an S3 bucket name (3-63 letters, digits, dots and hyphens).")
    if needs_key and not key:
        raise InvalidInput(f"{text!r} names no object; write it as {example}.")
    return bucket, key
