"""The DPoP key of a console sign-in and its proofs (RFC 9449), with awscrt as botocore uses it.

The key is P-256, made by awscrt (``EC.new_generate``) and kept in botocore's login cache as a SEC1
PEM, which botocore's LoginProvider reads back with awscrt to renew. Two faults of awscrt are
worked around here (both pinned by tests/standins/test_signin_standin.py):

- its SEC1 export drops leading zero bytes of the private scalar (about 1 key in 256), and such a
  key cannot be read back: botocore's refresh would fail later with an awscrt RuntimeError. A new
  key is checked to round-trip and made again if not;
- its public coordinates lose a leading zero byte too (about 1 key in 128): RFC 7518 wants 32
  bytes, so they are left-padded in the proof's ``jwk``.

A proof is made for every attempt of a call (``before-send``), never reused: botocore builds its
own once per call (``before-call``) and sends it again on a retry, which a server that checks
``jti`` refuses. awscrt is imported on first use, never at extension load; the key never appears in
a repr, a log or an error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
import uuid
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from .errors import LoginError, missing_crt

KEY_ATTEMPTS = 64  # a key fails the round trip about once in 256: 64 failures in a row never happen
PEM_HEAD, PEM_TAIL = "-----BEGIN EC PRIVATE KEY-----", "-----END EC PRIVATE KEY-----"


def _crt():
    try:
        from awscrt.crypto import EC, ECExportFormat, ECType  # type: ignore[import-untyped]
    except ImportError:
        raise missing_crt() from None
    return EC, ECExportFormat, ECType


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class DpopKey:
    """A P-256 private key (awscrt's ``EC``); shown nowhere."""

    __slots__ = ("_key",)

    def __init__(self, key):
        self._key = key

    @classmethod
    def generate(cls) -> DpopKey:
        """A new key that botocore (awscrt) can read back from the PEM written to the cache."""
        ec, export, curve = _crt()
        for _ in range(KEY_ATTEMPTS):
            key = ec.new_generate(curve.P_256)
            try:
                ec.new_key_from_der_data(key.export_key(export.SEC1))
            except (RuntimeError, ValueError):
                continue  # awscrt dropped a leading zero of the scalar: botocore could not load it
            return cls(key)
        raise LoginError("awscrt made no P-256 key that it can read back; update awscrt "
                         '(pip install -U "botocore[crt]") and try again.')

    @classmethod
    def from_pem(cls, pem: str) -> DpopKey:
        """The key of a cache entry's ``dpopKey`` (LoginError if it cannot be read: never quoted)."""
        ec, _, _ = _crt()
        body = "".join(line for line in str(pem).splitlines() if not line.startswith("-----")).strip()
        try:
            return cls(ec.new_key_from_der_data(base64.b64decode(body, validate=True)))
        except (RuntimeError, ValueError):
            raise LoginError("the cached console sign-in holds a DPoP key that cannot be read") from None

    def pem(self) -> str:
        """SEC1 DER in base64, 64 characters a line, as `aws login` writes ``dpopKey``."""
        _, export, _ = _crt()
        body = base64.b64encode(self._key.export_key(export.SEC1)).decode("ascii")
        return f"{PEM_HEAD}\n{textwrap.fill(body, width=64)}\n{PEM_TAIL}\n"

    def jwk(self) -> dict:
        """The public key as a JWK, each coordinate 32 bytes (RFC 7518 6.2.1.2)."""
        x, y = self._key.get_public_coords()
        return {"kty": "EC", "crv": "P-256", "x": b64url(bytes(x).rjust(32, b"\0")),
                "y": b64url(bytes(y).rjust(32, b"\0"))}

    def proof(self, url: str, now: datetime) -> str:
        """A DPoP proof (an ES256 JWT) for a POST to ``url`` at ``now``, with a new ``jti``."""
        ec, _, _ = _crt()
        parts = urlsplit(url)
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()}
        claims = {"htm": "POST", "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
                  "iat": int(now.timestamp()), "jti": str(uuid.uuid4())}
        signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
        signature = self._key.sign(hashlib.sha256(signing_input.encode()).digest())
        return f"{signing_input}.{b64url(ec.decode_der_signature_to_padded_pair(signature, pad_to=32))}"

    def attach(self, client, clock: Callable[[], datetime]) -> None:
        """Give every attempt of ``client``'s CreateOAuth2Token a proof of its own."""

        def add_proof(request, **_kwargs):
            request.headers["DPoP"] = self.proof(request.url, clock())

        client.meta.events.register("before-send.signin.CreateOAuth2Token", add_proof)

    def __repr__(self) -> str:
        return "DpopKey(<hidden>)"

    __str__ = __repr__
