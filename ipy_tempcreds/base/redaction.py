"""The secrets this process has handled, so that no log record carries one (base/logs.py).

Every place that receives a secret registers it here: a credential set when it is made
(model/credentials.py: secret access key and session token, whatever the source), the IAM
Identity Center tokens when they are read or written (sources/sso/device.py: access, refresh and
device tokens, the client secret), a console sign-in token and its URL (direct/console.py), the
credential endpoint's tokens (delivery/endpoint_delivery.py). A new source calls :func:`remember`
with what it receives, once; nothing else changes.

:func:`redact` replaces each remembered value, raw and in the encodings the libraries that log
would show it in (URL-encoded in a query string, JSON-escaped), with ``[hidden]``. Only the most
recent ``KEEP`` values are kept: each renewal adds two, and an expired one is worthless (an SSO
refresh token, long-lived, is registered again at every use, so it stays among the recent ones).
Imports nothing heavy; a lock-free read path (the tuple of forms is replaced whole).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

KEEP = 64
MIN_LENGTH = 12  # shorter values (a user code, a region) are not secrets worth hunting in text
HIDDEN = "[hidden]"

_values: OrderedDict[str, tuple[str, ...] | None] = OrderedDict()  # value -> its forms (made on first use)
_forms: tuple[str, ...] | None = ()  # every form of every value, longest first; None: to be made again
_lock = threading.Lock()


def _forms_of(value: str) -> tuple[str, ...]:
    import json  # here: the extension's load imports this module, and most kernels log nothing
    from urllib.parse import quote, quote_plus

    return tuple({value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]})


def remember(*values) -> None:
    """Hide these values (strings; others are ignored) from every log record from now on.

    Cheap (a few microseconds: every credential set calls it as it is made, inside a switch); the
    forms are worked out when a record is next checked."""
    global _forms
    fresh = [v for v in values if isinstance(v, str) and len(v) >= MIN_LENGTH]
    if not fresh:
        return
    with _lock:
        for value in fresh:
            if value in _values:
                _values.move_to_end(value)
            else:
                _values[value] = None
                _forms = None
        while len(_values) > KEEP:
            _values.popitem(last=False)
            _forms = None


def forget_all() -> None:
    """Tests: start from nothing."""
    global _forms
    with _lock:
        _values.clear()
        _forms = ()


def _current_forms() -> tuple[str, ...]:
    global _forms
    forms = _forms
    if forms is not None:
        return forms
    with _lock:
        for value, known in _values.items():
            if known is None:
                _values[value] = _forms_of(value)
        made = {form for known in _values.values() if known for form in known}
        _forms = forms = tuple(sorted(made, key=len, reverse=True))
    return forms


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by ``[hidden]``."""
    for form in _current_forms():
        if form in text:
            text = text.replace(form, HIDDEN)
    return text


def remembered() -> int:
    """How many values are remembered now (tests, diagnostics)."""
    return len(_values)
