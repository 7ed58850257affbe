"""The package's logger, scrubbed: no record of ``ipy_tempcreds`` can carry a secret-shaped string.

Messages are built from our own words, but some records carry text we did not write: the
traceback of an unexpected error during a background renewal (``log.exception``), whose exception
message may quote a raw answer from STS with a new secret access key and session token in it.
Records go to stderr, to log files and, in a notebook, into the saved .ipynb. The filter rewrites
each record before any handler sees it: the formatted message, the traceback text and the stack
text all pass through :func:`errors.scrub`.
"""

from __future__ import annotations

import logging

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
