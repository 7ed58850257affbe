"""Errors a user can cause or fix, and the checks that keep secrets out of their messages.

Every message says what failed, the likely cause and what to try. None contains a secret: messages
are built from our own text plus fields a service returns (codes, ARNs), and a service's own wording
passes through :func:`scrub` first. What each STS refusal means is sources/sts_advice.py; how a fix is
worded in a magic or the panel is the frontend's (ui hints): here, only Python's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "Hint",
    "TempCredsError",
    "InvalidInput",
    "StsError",
    "NotActive",
    "MfaCodeNeeded",
    "scrub",
    "parser_slip",
    "translatable",
    "unreadable_answer",
]


class Hint:
    """Which option (its Python name, as in base/options.py) and which value would fix an error,
    or which action (``"assume"``: assume a role first).

    The message says ``{hint}`` where the hint goes; each frontend words it its own way:
    ``--duration 1h`` in a magic, ``duration="1h"`` in Python, the field in the panel. Python's
    words are here (:meth:`python_words`); the others are the frontends' (``TempCredsError.worded``).
    """

    __slots__ = ("option", "value")

    def __init__(self, option: str, value=None):
        self.option = option
        self.value = value

    def python_words(self) -> str:
        if self.option in _PYTHON_ACTIONS:
            return _PYTHON_ACTIONS[self.option]
        if self.value is None:
            return f"the {self.option} argument"
        return f"{self.option}=\"{self.value}\"" if isinstance(self.value, str) else f"{self.option}={self.value}"

    def __repr__(self) -> str:
        return f"Hint(option={self.option!r}, value={self.value!r})"


# Hints that name an action rather than an option ("assume a role first"), in Python's words.
_PYTHON_ACTIONS = {"assume": "ipy_tempcreds.assume_role(ROLE)"}


class TempCredsError(Exception):
    """What every operation raises for something the user can fix.

    The message says what failed, the likely cause and what to do, and never holds a secret. A magic
    shows it as one line without a traceback. When one is raised, nothing was changed.
    """

    def __init__(self, message: str = "", *args, hint: Hint | None = None):
        super().__init__(message, *args)
        self.hint = hint

    def worded(self, words: Callable[[Hint], str] = Hint.python_words) -> str:
        """The message with its hint worded by ``words`` (a frontend's: the magics', the panel's)."""
        message = str(self.args[0]) if self.args else ""
        if self.hint is None:
            return message
        return message.replace("{hint}", words(self.hint))

    def __str__(self) -> str:
        return self.worded()


class InvalidInput(TempCredsError, ValueError):
    """An argument was refused before any call to AWS."""


class StsError(TempCredsError):
    """AWS STS (or the way to it) refused or failed; ``code`` is STS's error code when there is one."""

    def __init__(self, message: str, code: str | None = None, *, hint: Hint | None = None):
        super().__init__(message, hint=hint)
        self.code = code


class NotActive(TempCredsError):
    """An operation needs active temporary credentials and there are none."""


class MfaCodeNeeded(TempCredsError):
    """A call needs an MFA code and none can be asked for here."""


# Secret access keys are 40 characters of base64; session tokens are hundreds. Anything that long
# and that shaped in a third-party message is replaced, whatever it is.
_SECRET_SHAPED = re.compile(r"[A-Za-z0-9/+=]{40,}")


def scrub(text: str) -> str:
    """Remove anything shaped like a secret access key or session token from ``text``."""
    return _SECRET_SHAPED.sub("[hidden]", text)


def one_line_words(text) -> str:
    """``text`` (an AWS error message) scrubbed when it is one short line of words; '' when it is
    long, several lines or looks like markup or JSON (a body quoted back, which may hold secrets)."""
    message = scrub(str(text or "").strip())
    if not message or len(message) > 200 or any(c in message for c in "\n<>{}"):
        return ""
    return message


# Exceptions botocore's response parser lets escape when an answer is not what the STS model says
# (measured with botocore 1.43: a captive portal's HTML page parsed as XML raised
# KeyError('AssumeRoleResult') from parsers.py). Only these types, and only when parsers.py raised
# them: the same types from anywhere else are bugs and must keep their traceback.
_PARSER_SLIPS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def _raised_by_parser(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    filename = tb.tb_frame.f_code.co_filename.replace("\\", "/")
    return filename.endswith("botocore/parsers.py") or "/xml/" in filename


def parser_slip(exc: BaseException) -> bool:
    """True for an exception botocore's parser let escape on an answer it could not read (above)."""
    return isinstance(exc, _PARSER_SLIPS) and _raised_by_parser(exc)


def translatable(exc: BaseException) -> bool:
    """True when ``sts_advice.translate_sts_error`` (or the SSO calls) can word ``exc``: botocore's
    own errors, and an answer that botocore could not parse (``ResponseParserError``, or a parser
    slip, see above)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    if isinstance(exc, (BotoCoreError, ClientError, ResponseParserError)):
        return True
    return parser_slip(exc)


def unreadable_answer(what: str, detail: str = "could not be read") -> StsError:
    """The error for an answer from STS that is cut short, garbled or not STS's at all.

    Such an answer may hold a whole new set of credentials (a cut one usually holds the secret
    access key and part of the session token), so neither its body nor botocore's message, which
    quotes the body, is ever part of the message: only ``detail``, which is our own words.
    """
    return StsError(
        f"{what} failed: STS's answer {detail} (cut short, garbled, or not from STS: a proxy, a "
        "captive portal or a network fault in the way). Check the network, proxy settings and "
        "AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS, then try again.",
        "MalformedResponse",
    )
