"""The standard library's internals: the arguments an ``argparse`` parser was given.

IPython builds each magic's parser from its ``@argument`` decorators; argparse has no public way
to list the options of a parser it did not build itself (``format_usage()`` is text for people).
A mistyped option is answered with the closest valid one (ui/mistyped.py), which needs that list.
"""

from __future__ import annotations

import argparse

CHECKED_ON = {
    "argparse": "Python 3.10-3.13 (ArgumentParser._actions, Action.option_strings, nargs, metavar, dest)",
}


def parser_options(parser: argparse.ArgumentParser) -> dict[str, bool]:
    """Every option string of ``parser`` (``--duration``, ``-q``), in declaration order, and whether
    it takes a value (False for switches such as ``store_true``)."""
    options: dict[str, bool] = {}
    for action in parser._actions:
        for flag in action.option_strings:
            options[flag] = action.nargs != 0
    return options


def parser_positionals(parser: argparse.ArgumentParser) -> list[str]:
    """The names of ``parser``'s positional arguments as its help shows them (``ROLE``, ``PROFILE``)."""
    return [str(action.metavar or action.dest).upper() for action in parser._actions if not action.option_strings]
