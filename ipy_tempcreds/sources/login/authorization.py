"""The browser's part of a console sign-in: the authorization link (OAuth 2.0 with PKCE, as
`aws login` builds it) and the code the browser hands back.

Same-device: the browser is redirected to the kernel's loopback callback with ``code`` and
``state``. Cross-device: to AWS Sign-In's confirmation page, which shows base64("state=…&code=…")
for the person to paste. The state is checked either way: a code from another sign-in is refused.
The verifier never leaves the kernel; the link holds only its hash and the state.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import string
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from .errors import CodeRejected

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
CONFIRMATION = "/v1/sessions/confirmation"
VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"


@dataclass(frozen=True, repr=False)
class Authorization:
    """One authorization request: its link and what the exchange needs (the verifier is secret)."""

    client_id: str
    redirect_uri: str
    state: str
    verifier: str
    url: str

    @property
    def remote(self) -> bool:
        return self.client_id == CROSS_DEVICE

    def __repr__(self) -> str:
        return f"Authorization({'cross-device' if self.remote else 'same-device'}, state={self.state!r})"


def challenge_of(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without its '=' (what the CLI sends as code_challenge)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def authorization(base: str, *, remote: bool, callback_uri: str | None = None) -> Authorization:
    """A new request (new verifier and state): cross-device, or same-device to ``callback_uri``."""
    verifier = "".join(secrets.choice(VERIFIER_ALPHABET) for _ in range(64))
    state = str(uuid.uuid4())
    client_id = CROSS_DEVICE if remote else SAME_DEVICE
    redirect_uri = f"{base}{CONFIRMATION}" if remote else callback_uri
    if not redirect_uri:
        raise ValueError("a same-device sign-in needs its callback URI")
    params = {"response_type": "code", "client_id": client_id, "state": state, "code_challenge_method": "SHA-256",
              "scope": "openid", "redirect_uri": redirect_uri}
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params.items())
    url = f"{base}/v1/authorize?{query}&code_challenge={challenge_of(verifier)}"
    return Authorization(client_id, redirect_uri, state, verifier, url)


def parse_pasted(text: str) -> tuple[str, str]:
    """(code, state) from what the confirmation page showed; CodeRejected (never quoting it) if
    it is not such a code."""
    cleaned = "".join(str(text or "").split())
    if not cleaned:
        raise CodeRejected("No code was given: paste the code the sign-in page shows after you allowed access.")
    try:
        decoded = base64.b64decode(cleaned, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise CodeRejected("That is not the code the sign-in page shows (it is not in the page's format: "
                           "copy it whole, as one piece).") from None
    params = dict(parse_qsl(decoded))
    if not params.get("code") or not params.get("state"):
        raise CodeRejected("That is not the code the sign-in page shows (it names no sign-in): copy it whole.")
    return params["code"], params["state"]


def check_state(expected: Authorization, state: str) -> None:
    if not secrets.compare_digest(str(state), expected.state):
        raise CodeRejected("That code belongs to another sign-in (its state does not match this one's): use the "
                           "code shown after opening the link of this sign-in.")
