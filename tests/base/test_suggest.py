"""The one closeness rule behind every "did you mean" (base/suggest.py)."""

from __future__ import annotations

import pytest

from ipy_tempcreds.base.suggest import closest, did_you_mean


@pytest.mark.parametrize("typed, candidates, expected", [
    ("analytics-reder", ["admin", "analytics-reader", "analytics-writer"], ["analytics-reader"]),
    ("durtion", ["duration", "dask", "region"], ["duration"]),
    ("refersh", ["refresh", "region", "clear"], ["refresh"]),
    ("session_name", ["session-name", "source-identity"], ["session-name"]),  # _ for -, whole
    ("READER", ["Reader", "Writer"], ["Reader"]),  # case-blind
    ("s4", ["s3", "sqs", "ec2"], ["s3"]),  # one letter in a short word, under difflib's cutoff
    ("dev", ["prod", "staging"], []),  # nothing close: nothing said
    ("", ["a"], []),
    ("s3", ["s3"], []),  # the word itself is never its own suggestion
])
def test_the_closest_candidate_or_none(typed, candidates, expected):
    assert closest(typed, candidates) == expected


def test_did_you_mean_words_one_or_several():
    assert did_you_mean("analytics-reder", ["analytics-reader"]) == "did you mean analytics-reader?"
    assert did_you_mean("durtion", ["duration", "direction"], limit=2) == "did you mean duration or direction?"
    assert did_you_mean("zzz", ["reader"]) == ""
