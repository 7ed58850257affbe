"""Closeness of a mistyped word to the words it could have been: "did you mean --duration?".

One rule for every suggestion the package makes (a magic's option, a role, an alias or a profile,
a console service), so they behave alike: a word is compared case-blind, with ``_`` and ``-`` taken
as the same letter, by :func:`difflib.get_close_matches` (Ratcliff/Obershelp similarity, at least
``CUTOFF``); a candidate that differs only by case or by ``_``/``-`` is the answer on its own.
Imports nothing else of the package.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# difflib's own default: "analytics-reder" scores 0.97 against "analytics-reader", "--refersh" 0.89
# against "--refresh", "dev" 0.29 against "prod"; "s4" 0.5 against "s3" (a slip in a short word:
# closest() takes those apart).
CUTOFF = 0.6


def _folded(word: str) -> str:
    return word.casefold().replace("_", "-")


def closest(word: str, candidates: Iterable[str], *, limit: int = 1, cutoff: float = CUTOFF) -> list[str]:
    """Up to ``limit`` candidates closest to ``word``, best first; [] when none is close.

    Candidates keep their own spelling in the answer. ``word`` itself is never suggested.
    """
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        if candidate and candidate != word:
            by_folded.setdefault(_folded(candidate), candidate)
    folded = _folded(word)
    if not folded or not by_folded:
        return []
    if folded in by_folded:  # "--session_name" for "--session-name", "Reader" for "reader"
        return [by_folded[folded]]
    found = difflib.get_close_matches(folded, list(by_folded), n=limit, cutoff=cutoff)
    if not found and len(folded) <= 3:
        # A short word with one letter changed ("s4" for "s3", "ec3" for "ec2") scores under the
        # cutoff only because it is short: one substitution among equally short candidates counts.
        found = [c for c in by_folded if len(c) == len(folded) and sum(a != b for a, b in zip(c, folded, strict=True)) == 1][:limit]
    return [by_folded[c] for c in found]


def did_you_mean(word: str, candidates: Iterable[str], *, limit: int = 1) -> str:
    """``"did you mean X?"`` (or ``"did you mean X or Y?"``) for the closest candidates; "" for none."""
    found = closest(word, candidates, limit=limit)
    return f"did you mean {' or '.join(found)}?" if found else ""
