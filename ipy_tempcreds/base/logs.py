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

from .errors import scrub

LOGGER_NAME = "ipy_tempcreds"


class ScrubSecrets(logging.Filter):
    """Replace secret-shaped text in a record's message, arguments, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record_factory_installed():
            return True  # redacted already when it was made (this logger is among redaction.SDK_LOGGERS)
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

class _Factory:
    """The record factory in force when installed, wrapped: each record it makes is redacted."""

    def __init__(self, previous):
        self.previous = previous
        self.active = True

    def __call__(self, *args, **kwargs):
        record = self.previous(*args, **kwargs)
        if self.active:
            from .redaction import redact_record  # imported by the first record, not at load

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
