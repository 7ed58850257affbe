"""No log record carries a secret: the package's own logger, and every other logger of the process.

Messages are built from our own words, but some records carry text we did not write: the
traceback of an unexpected error during a background renewal (``log.exception``), whose exception
message may quote a raw answer from STS with a new secret access key and session token in it.
Records go to stderr, to log files and, in a notebook, into the saved .ipynb. The filter rewrites
each record before any handler sees it: the formatted message, the traceback text and the stack
text all pass through :func:`errors.scrub`.

Other libraries log secrets too once a user turns DEBUG on to chase an S3 problem
(``logging.basicConfig(level=logging.DEBUG)``, ``boto3.set_stream_logger("")``): botocore prints
STS, SSO and Sign-In answers and the ``X-Amz-Security-Token`` header, urllib3 request lines. A
filter on the handlers there are now would miss a handler added later, and a filter on those
loggers misses records propagated from children. :func:`install_record_factory` wraps
``logging``'s record factory instead, so every record of the process, whoever logs it and
wherever it goes, is redacted when it is made: every secret the product handled
(base/redaction.py) and, in records of the AWS SDK and HTTP libraries, anything shaped like a key
or a token. The extension installs it at load and puts the previous factory back at unload.
"""

from __future__ import annotations

import logging
import re

from . import redaction
from .errors import scrub

LOGGER_NAME = "ipy_tempcreds"


class ScrubSecrets(logging.Filter):
    """Replace secret-shaped text in a record's message, arguments, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatted here, once, the way logging.Formatter would; a formatter finding exc_text
            # set uses it as it is. exc_info is dropped so no handler formats the raw one again.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_FILTER = ScrubSecrets()


def install() -> logging.Logger:
    """Put the filter on the package logger (once; every module logs through this one logger)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(f, ScrubSecrets) for f in logger.filters):
        logger.addFilter(_FILTER)
    return logger


# -- every record of the process ----------------------------------------------------------------------

# Libraries whose DEBUG records quote requests and answers. There, a record may carry a secret
# before the product has seen it (botocore logs an answer's body before parsing it), so two more
# rules apply, registered or not: the value of any field that holds a secret (in JSON, XML, a
# header or a query), and anything shaped like a key or token (also URL-encoded).
SDK_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "aiobotocore", "s3fs", "awscrt", LOGGER_NAME)
# Base64 (a secret key, a session token), raw or URL-encoded, with its padding; not a run of hex
# digits alone (SigV4 signatures and payload hashes are no secret, and hiding them would take from
# the user what they turned DEBUG on to see).
_SHAPED = re.compile(r"(?:[A-Za-z0-9/+]|%2[BbFf]){40,}(?:=|%3[Dd]){0,2}")
_HEX = re.compile(r"[0-9a-f]+")
_FIELDS = re.compile(
    r"""(?P<key>(?:secret_?access_?key|session_?token|security_?token|access_?token|refresh_?token|id_?token
                  |client_?secret|device_?code|signin_?token|code_?verifier|dpop_?key|private_?key
                  |sso_bearer_token|\btoken|sessionKey)
                (?:\\?["']?\s*[:=]\s*b?\\?["']?|>)        # "key": "v", 'key': b'v', key=v, <Key>v
              |bearer\s+)                                  # Authorization: Bearer v
        (?P<value>[^"'<>&\s,}\\]{8,})""",
    re.IGNORECASE | re.VERBOSE,
)


def _shaped(name: str) -> bool:
    return name.split(".", 1)[0] in SDK_LOGGERS


_FIELD_WORDS = ("token", "secret", "key", "code", "verifier", "bearer")  # one of them in every _FIELDS key


def _hidden_field(match: re.Match) -> str:
    redaction.remember(match["value"])  # later records that quote it elsewhere hide it too
    return f"{match['key']}[hidden]"


def _hidden_run(match: re.Match) -> str:
    run = match.group()
    return run if _HEX.fullmatch(run) else "[hidden]"


def hide(text: str, shaped: bool) -> str:
    """``text`` without the secrets the product handled; for the SDKs' records, also without any
    secret field's value and anything shaped like a key or token."""
    text = redaction.redact(text)  # first: the rules below could cut a remembered value in pieces
    if shaped:
        lowered = text.lower()
        if any(word in lowered for word in _FIELD_WORDS):  # most records name none: skip the slow part
            text = _FIELDS.sub(_hidden_field, text)
        text = _SHAPED.sub(_hidden_run, text)
    return text


def redact_record(record: logging.LogRecord) -> None:
    """Hide secrets in ``record`` (message, traceback, stack); left as it was when it holds none."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format: logging would print the arguments raw in its complaint
        message = str(record.msg)
        record.msg, record.args = redaction.redact(message), None
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


class _Factory:
    """The record factory in force when installed, wrapped: each record it makes is redacted."""

    def __init__(self, previous):
        self.previous = previous
        self.active = True

    def __call__(self, *args, **kwargs):
        record = self.previous(*args, **kwargs)
        if self.active:
            try:
                redact_record(record)
            except Exception:  # never break a program's logging; the record goes out without text
                record.msg, record.args, record.exc_info, record.exc_text = "[a log record could not be checked for secrets]", None, None, None
        return record


_installed: _Factory | None = None


def install_record_factory() -> None:
    """Redact every log record of the process from now on (once; the extension's load)."""
    global _installed
    if _installed is not None and _installed.active:
        return
    _installed = _Factory(logging.getLogRecordFactory())
    logging.setLogRecordFactory(_installed)


def uninstall_record_factory() -> None:
    """Put the previous factory back (the extension's unload). If another library wrapped ours
    since, ours stays in its chain, switched off: taking it out would drop that library's too."""
    global _installed
    factory, _installed = _installed, None
    if factory is None:
        return
    factory.active = False
    if logging.getLogRecordFactory() is factory:
        logging.setLogRecordFactory(factory.previous)


def record_factory_installed() -> bool:
    return _installed is not None and _installed.active
