"""The secrets this process has handled, so that no log record carries one (base/logs.py).

Every place that receives a secret registers it here: a credential set when it is made
(model/credentials.py: secret access key and session token, whatever the source), the IAM
Identity Center tokens when they are read or written (sources/sso/device.py: access, refresh and
device tokens, the client secret), a console sign-in token and its URL (direct/console.py), AWS Sign-In's
tokens, code, verifier and DPoP key (sources/login/), the credential endpoint's tokens
(delivery/endpoint_delivery.py). A new source calls :func:`remember`
with what it receives, once; nothing else changes.

:func:`redact` replaces each remembered value, raw and in the encodings the libraries that log
would show it in (URL-encoded in a query string, JSON-escaped), with ``[hidden]``. Only the most
recent ``KEEP`` values are kept: each renewal adds two, and an expired one is worthless (an SSO
refresh token, long-lived, is registered again at every use, so it stays among the recent ones).
:func:`redact_record` applies it to a log record (base/logs.py's record factory); in records of
the AWS SDK and HTTP libraries it also hides secret fields' values and key-shaped text. Imported with
the first credential set (model/credentials.py registers its secrets), not when the extension
loads; its patterns are compiled by the first record checked. Lock-free reads (the tuple of forms is
replaced whole).
"""

from __future__ import annotations

import functools
import logging
import re
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


# -- log records (base/logs.py's record factory calls redact_record) ---------------------------------

# Libraries whose DEBUG records quote requests and answers. There, a record may carry a secret
# before the product has seen it (botocore logs an answer's body before parsing it), so two more
# rules apply, registered or not: the value of any field that holds a secret (in JSON, XML, a
# header or a query), and anything shaped like a key or token (also URL-encoded).
SDK_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "aiobotocore", "s3fs", "awscrt", "ipy_tempcreds")


# Key-shaped: base64 (a secret key, a session token), raw or URL-encoded, with its padding; not a
# run of hex digits alone (SigV4 signatures and payload hashes are no secret, and hiding them would
# take from the user what they turned DEBUG on to see).
@functools.cache
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """(key-shaped runs, hex alone, secret fields), compiled by the first record checked: every
    credential set imports this module (model/credentials.py), and most kernels log nothing."""
    shaped = re.compile(r"(?:[A-Za-z0-9/+]|%2[BbFf]){40,}(?:=|%3[Dd]){0,2}")
    fields = re.compile(
        r"""(?P<key>(?:secret_?access_?key|session_?token|security_?token|access_?token|refresh_?token|id_?token
                      |client_?secret|device_?code|signin_?token|code_?verifier|dpop_?key|private_?key
                      |sso_bearer_token|\btoken|sessionKey)
                    (?:\\?["']?\s*[:=]\s*b?\\?["']?|>)        # "key": "v", 'key': b'v', key=v, <Key>v
                  |bearer\s+)                                  # Authorization: Bearer v
            (?P<value>[^"'<>&\s,}\\]{8,})""",
        re.IGNORECASE | re.VERBOSE,
    )
    return shaped, re.compile(r"[0-9a-f]+"), fields


def _shaped(name: str) -> bool:
    return name.split(".", 1)[0] in SDK_LOGGERS


_FIELD_WORDS = ("token", "secret", "key", "code", "verifier", "bearer")  # one of them in every _FIELDS key


def _hidden_field(match: re.Match) -> str:
    remember(match["value"])  # later records that quote it elsewhere hide it too
    return f"{match['key']}[hidden]"


def _hidden_run(match: re.Match) -> str:
    run = match.group()
    return run if _patterns()[1].fullmatch(run) else "[hidden]"


def hide(text: str, shaped: bool) -> str:
    """``text`` without the secrets the product handled; for the SDKs' records, also without any
    secret field's value and anything shaped like a key or token."""
    text = redact(text)  # first: the rules below could cut a remembered value in pieces
    if shaped:
        runs, _, fields = _patterns()
        lowered = text.lower()
        if any(word in lowered for word in _FIELD_WORDS):  # most records name none: skip the slow part
            text = fields.sub(_hidden_field, text)
        text = runs.sub(_hidden_run, text)
    return text


def redact_record(record: logging.LogRecord) -> None:
    """Hide secrets in ``record`` (message, traceback, stack); left as it was when it holds none."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format: logging would print the arguments raw in its complaint
        message = str(record.msg)
        record.msg, record.args = hide(message, False), None
    shaped = _shaped(record.name)
    clean = hide(message, shaped)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        hidden = hide(text, shaped)
        if hidden != text:
            # A formatter uses exc_text as it is; exc_info goes, so no handler formats the raw one.
            record.exc_text, record.exc_info = hidden, None
    if record.stack_info:
        record.stack_info = hide(record.stack_info, shaped)


def remembered() -> int:
    """How many values are remembered now (tests, diagnostics)."""
    return len(_values)
