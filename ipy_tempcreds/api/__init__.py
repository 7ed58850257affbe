"""The plain Python API: the same operations as the magics, for scripts, tests and other tools.

    import ipy_tempcreds as tc
    tc.assume_role("arn:aws:iam::123456789012:role/Reader", duration="2h")
    s3 = tc.session().client("s3")      # renews itself
    tc.current()                        # the active Grant (secrets masked in its repr)
    tc.clear()                          # environment exactly as before
"""

from __future__ import annotations

from .._kernel import manager as get_manager
from .._kernel import settings as get_settings
from .credentials import (
    assume_role,
    clear,
    current,
    federation_token,
    pins,
    refresh,
    session,
    session_token,
    unpin,
    whoami,
)
from .identity import as_role, can_read
from .readers import SigV4Auth, console_url, follow, presign, share_with, sign

__all__ = [
    "get_manager", "get_settings", "assume_role", "federation_token", "session_token", "as_role", "can_read",
    "current", "refresh", "clear", "pins", "unpin", "whoami", "session", "share_with", "sign", "SigV4Auth", "presign", "follow",
    "console_url",
]
