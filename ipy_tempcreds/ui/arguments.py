"""How a magic's line becomes its arguments, and how an error becomes one line.

The parsers are IPython's ``@magic_arguments`` (so ``%magic?`` shows the generated help), built on
first use; the options the core knows are declared once in base/options.py and added here with
:func:`declared`. A TempCredsError from the core becomes IPython's UsageError (:func:`usage_errors`),
shown as one line without a traceback, its fix worded as a magic's option.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import os
import shlex

from IPython.core import magic_arguments as _ipython_arguments
from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic_arguments import argument

from ..base.errors import MfaCodeNeeded, TempCredsError
from . import mistyped
from .hints import magic_words


class magic_arguments(_ipython_arguments.magic_arguments):
    """IPython's ``@magic_arguments()``, with the parser and the help text built on first use.

    IPython builds both when the class is defined: for the first four magics that was ~30 ms of the
    ~90 ms `%load_ext ipy_tempcreds` took (benchmarks/bench_load.py). ``%assume_role?`` still shows
    the full help: IPython's inspector asks ``getdoc()`` first, which builds it.
    """

    def __call__(self, func):
        if not getattr(func, "has_arguments", False):
            func.has_arguments = True
            func.decorators = []
        if self.name is not None:
            func.argcmd_name = self.name
        func.getdoc = lambda: parser_of(func) and func.__doc__
        return func


def parser_of(func):
    """The argument parser of a magic (built once, on first use)."""
    func = getattr(func, "__func__", func)
    parser = func.__dict__.get("parser")
    if parser is None:
        # construct_parser also replaces the docstring with the full help text.
        parser = func.parser = _ipython_arguments.construct_parser(func)
    return parser


def ask_mfa_code(prompt: str) -> str:
    """getpass through the frontend; says how to pass the code where the frontend cannot prompt."""
    try:
        return getpass.getpass(prompt)
    except StdinNotImplementedError:
        raise MfaCodeNeeded(
            "this frontend cannot ask for input (nbclient, papermill and Voilà cannot); "
            "pass the code on the line: --mfa-code 123456."
        ) from None


def usage_errors(magic):
    """A TempCredsError from the core becomes IPython's UsageError (one line, no traceback), its
    hint worded as a magic's option (``--duration 1h``)."""

    @functools.wraps(magic)
    def run(*args, **kwargs):
        try:
            return magic(*args, **kwargs)
        except TempCredsError as exc:
            raise UsageError(exc.worded(magic_words)) from None

    return run


def code_or_prompt(code: str | None):
    """The MFA prompter of a magic: the code given on the line, else getpass through the frontend."""
    if code:
        from ..core.issuer import GivenCode

        return GivenCode(code)
    return ask_mfa_code


def split_line(line: str) -> list[str]:
    """Split like a POSIX shell, so quotes around JSON or paths are removed as users expect.

    (IPython's parse_argstring keeps the quotes: ``--policy '{...}'`` would arrive quoted.)
    """
    if line.isascii() and line.isprintable() and not any(c in line for c in "'\"\\"):
        # Nothing for shlex to do (no quotes, no escapes, only spaces between words): a plain split
        # gives the same words ~50 times faster, ~50 us of every %assume_role (bench_switch.py).
        return line.split()
    try:
        return shlex.split(line, posix=os.name != "nt")
    except ValueError as exc:
        raise UsageError(f"cannot split the line: {exc} (check the quotes).") from None


def parse_line(magic, line: str):
    """The magic's arguments from ``line``, as its argparse parser reads them; None after printing
    the help for ``-h`` or ``--help`` (IPython's parsers have no help option: ``%magic?`` is
    IPython's way, but users type --help)."""
    argv = split_line(line)
    parser = parser_of(magic)
    if len(argv) <= 1 and not (argv and argv[0].startswith("-")):
        # Nothing, or one bare word (`%assume_role reader`, the common switch): what argparse
        # returns is its answer to an empty line plus that word. Right after the STS call, with the
        # CPU caches cold, argparse cost ~0.09 ms of each switch (benchmarks/bench_switch.py).
        plain = _plain_answers(parser)
        if plain is not None:
            empty, dest = plain
            if not argv:
                return argparse.Namespace(**vars(empty))
            if dest is not None:
                args = argparse.Namespace(**vars(empty))
                setattr(args, dest, argv[0])
                return args
    if "-h" in argv or "--help" in argv:
        print(parser.format_help().removeprefix("::").strip())  # "::" marks reST for %magic?
        return None
    try:
        return parser.parse_args(argv)
    except UsageError as refusal:
        # argparse's "unrecognized arguments: --durtion 1h" becomes "unknown option --durtion:
        # did you mean --duration?" (ui/mistyped.py); asked only once a line is refused.
        raise UsageError(mistyped.explain(magic, parser, argv, str(refusal), parser_of)) from None


_PROBES = ("probe", "Probe-2.x")


@functools.cache
def _plain_answers(parser) -> tuple[argparse.Namespace, str | None] | None:
    """(the parser's answer to an empty line, the attribute a bare word lands in, or None), found
    once per parser with its public ``parse_args`` only; None if an empty line is refused."""
    try:
        empty = parser.parse_args([])
    except (UsageError, SystemExit):
        return None
    dest = None
    try:
        answers = [vars(parser.parse_args([word])) for word in _PROBES]
    except (UsageError, SystemExit):  # no positional takes a bare word: argparse refuses it
        return empty, None
    before = vars(empty)
    changed = [{k for k, v in answer.items() if before.get(k, v) != v or k not in before} for answer in answers]
    if len(changed[0]) == 1 and changed[0] == changed[1]:
        (name,) = changed[0]
        # Taken as typed (no type conversion, no choices), as a role, an alias or a profile is.
        if all(answer[name] == word for answer, word in zip(answers, _PROBES, strict=True)):
            dest = name
    return empty, dest


def declared(declaration):
    """Add the declared options (base/options.py) as the magic's arguments, in their order."""
    def decorate(func):
        for option in reversed(declaration):
            flags, kwargs = option.argparse_args()
            func = argument(*flags, **kwargs)(func)
        return func

    return decorate
