"""A line argparse refused, answered in one line: which option is unknown, the closest valid one,
and where the options are listed.

    %assume_role reader --durtion 1h   ->  unknown option --durtion: did you mean --duration?
                                           `%assume_role?` lists the options.

argparse alone says "unrecognized arguments: --durtion 1h". This module is asked only after
argparse refused a line (ui/arguments.py), so a line that parses costs nothing more. The closeness
rule is base/suggest.py's; the options are read from the magic's own parser, and those of the
other magics of the same extension from theirs, so ``--sidebar`` given to ``%assume_role`` is named
as ``%role_panel``'s.
"""

from __future__ import annotations

import re

from ..base import compat

_NUMBER = re.compile(r"-\d+(\.\d*)?")


def _words(argv: list[str]) -> list[tuple[str, str | None]]:
    """(option as typed without ``=value``, the word after it) for each word that looks like an
    option, up to a lone ``--``."""
    found = []
    for index, word in enumerate(argv):
        if word == "--":
            break
        if word.startswith("-") and word != "-" and not _NUMBER.fullmatch(word):
            flag, has_value, _ = word.partition("=")
            following = None if has_value or index + 1 >= len(argv) else argv[index + 1]
            found.append((flag, following))
    return found


def _known(flag: str, options: dict[str, bool]) -> bool:
    """Whether argparse takes ``flag``: an option, or an unambiguous start of a long one (argparse
    allows those; an ambiguous one it refuses with its own clear message)."""
    if flag in options:
        return True
    return flag.startswith("--") and any(o.startswith(flag) for o in options if o.startswith("--"))


def _suggestion(flag: str, following: str | None, options: dict[str, bool]) -> list[str]:
    """The magic's own options closest to ``flag``: ``-d`` -> ``--duration`` (the long options of
    that letter; with a value after it, those that take one), else by spelling (the dashes left
    out: every long option has them, so they would make any two alike)."""
    longs = [o for o in options if o.startswith("--")]
    longs += ["--help"] if "--help" not in longs else []  # parse_line answers it, as %magic? does
    if re.fullmatch(r"-[A-Za-z]", flag):
        same = [o for o in longs if o[2:3] == flag[1].lower()]
        if following is not None and not following.startswith("-"):
            same = [o for o in same if options[o]] or same
        return same[:2]
    from ..base.suggest import closest  # difflib: only once a line was refused

    return ["--" + o for o in closest(flag.lstrip("-"), [o[2:] for o in longs])]


def _magics(magic) -> dict[str, object]:
    """``%name`` (or ``%%name`` for a cell magic) -> function of each magic with a parser in the
    same Magics object as ``magic``, ``magic`` itself included."""
    table = getattr(getattr(magic, "__self__", None), "magics", None)
    if not isinstance(table, dict):
        return {}
    return {prefix + name: function for kind, prefix in (("line", "%"), ("cell", "%%"))
            for name, function in (table.get(kind) or {}).items() if getattr(function, "has_arguments", False)}


def _spelled(magic, name: str) -> str:
    """How the user types ``magic``: ``%assume_role``, or ``%%as_role`` for a cell magic."""
    own = getattr(magic, "__func__", magic)
    return next((spelled for spelled, function in _magics(magic).items()
                 if getattr(function, "__func__", function) is own), "%" + name)


def _owner_of(flag: str, magic, parser_of) -> str | None:
    """The other magic (as typed: ``%role_panel``) that has ``flag`` (spelled as typed, or with
    ``_`` for ``-``)."""
    wanted = "--" + flag.lstrip("-").replace("_", "-") if flag.startswith("--") else flag
    own = getattr(magic, "__func__", magic)
    for spelled, function in _magics(magic).items():
        if getattr(function, "__func__", function) is not own and wanted in compat.parser_options(parser_of(function)):
            return spelled
    return None


def explain(magic, parser, argv: list[str], refusal: str, parser_of) -> str:
    """One line for argparse's ``refusal`` of ``argv``: the unknown options named, each with the
    closest valid one or the magic it belongs to, else argparse's own words; always with the
    pointer to the magic's help. ``parser_of(function)`` gives another magic's parser."""
    name = _spelled(magic, parser.prog)
    pointer = f"`{name}?` lists the options."
    options = compat.parser_options(parser)
    unknown = [(flag, following) for flag, following in _words(argv) if not _known(flag, options)]
    if not unknown:
        refusal = refusal.rstrip(".")
        if refusal.startswith("unrecognized arguments:"):
            extra = refusal.partition(":")[2].strip()
            words = compat.parser_positionals(parser)
            takes = f"one {words[0]} besides its options" if len(words) == 1 else \
                "no words besides its options" if not words else "only " + " ".join(words)
            return f"unexpected {extra!r}: {name} takes {takes} (quote a value that has spaces). {pointer}"
        return f"{refusal}. {pointer}"
    answers = []
    for flag, following in unknown:
        mine = _suggestion(flag, following, options)
        other = _owner_of(flag, magic, parser_of)
        if other is not None and not (mine and mine[0].lstrip("-") == flag.lstrip("-").replace("_", "-")):
            answers.append((flag, f"it is an option of {other}, not of {name}."))
        elif mine:
            answers.append((flag, f"did you mean {' or '.join(mine)}?"))
        else:
            answers.append((flag, ""))
    if len(answers) == 1:
        flag, answer = answers[0]
        return f"unknown option {flag}: {answer} {pointer}" if answer else f"unknown option {flag} for {name}. {pointer}"
    listed = ", ".join(f"{flag} ({answer.rstrip('.')})" if answer else flag for flag, answer in answers)
    return f"unknown options {listed}. {pointer}"


def takes_nothing(magic, name: str, argv: list[str], parser_of) -> str:
    """The line for a magic without arguments that was given some (an option of another magic is
    named as that magic's)."""
    owners = [(flag, _owner_of(flag, magic, parser_of)) for flag, _ in _words(argv)]
    named = "; ".join(f"{flag} is an option of {other}" for flag, other in owners if other)
    return f"%{name} takes no arguments" + (f" ({named})" if named else "") + f". `%{name}?` describes it."
