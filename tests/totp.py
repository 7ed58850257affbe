"""Time-based one-time passwords (RFC 6238, as AWS's virtual MFA devices and authenticator apps
make them: HMAC-SHA1, 30-second steps, 6 digits) for the strict stand-in and the demo.

``code(seed)`` is the code an authenticator app shows now for a device's Base32 seed (the
``Base32StringSeed`` of IAM's CreateVirtualMFADevice); ``accepts(seed, code, when)`` is AWS's check,
which also takes the codes of the steps just before and after (clocks drift).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP = 30
DIGITS = 6


def code(seed: str | bytes, when: float | None = None, *, offset: int = 0) -> str:
    """The code for ``when`` (epoch seconds; now by default), ``offset`` steps later or earlier."""
    key = base64.b32decode(seed.decode() if isinstance(seed, bytes) else seed, casefold=True)
    counter = int((time.time() if when is None else when) // STEP) + offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[start:start + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def step(when: float | None = None) -> int:
    """The 30-second step ``when`` falls in (a code is good for its step)."""
    return int((time.time() if when is None else when) // STEP)


def matching_step(seed: str | bytes, given: str, when: float | None = None) -> int | None:
    """The step whose code ``given`` is (now, or one step either side), or None: AWS's check."""
    now = step(when)
    for offset in (0, -1, 1):
        if hmac.compare_digest(code(seed, when, offset=offset), given):
            return now + offset
    return None


def seconds_left(when: float | None = None) -> int:
    """How long the current code stays the current one."""
    now = time.time() if when is None else when
    return STEP - int(now) % STEP
