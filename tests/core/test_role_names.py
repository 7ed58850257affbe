"""A role ARN that STS refused is compared with the roles the kernel knows: a slip in the name (or
in a digit of the account) is answered with the ARN that was meant; a known ARN, or one close to
nothing known, is left to STS's own answer (core/role_names.py)."""

from __future__ import annotations

import pytest

from ipy_tempcreds.core.role_names import near_arn

ANALYTICS = "arn:aws:iam::123456789012:role/analytics-reader"
FINANCE = "arn:aws:iam::123456789012:role/finance-reader"
OTHER_ACCOUNT = "arn:aws:iam::210987654321:role/Auditor"
KNOWN = [("analytics-reader", ANALYTICS), ("finance", FINANCE), ("audit", OTHER_ACCOUNT),
         ("sso-profile", "arn:aws:sso:::not-a-role")]


@pytest.mark.parametrize("refused, meant", [
    ("arn:aws:iam::123456789012:role/analytics-reder", ANALYTICS),  # a letter left out
    ("arn:aws:iam::123456789012:role/Analytics_Reader", ANALYTICS),  # case and _ for -
    ("arn:aws:iam::123456789012:role/finanse-reader", FINANCE),
    ("arn:aws:iam::210987654312:role/Auditor", OTHER_ACCOUNT),  # two digits of the account swapped
])
def test_a_slip_of_a_known_role_names_the_role_meant(refused, meant):
    assert near_arn(refused, KNOWN) == meant


@pytest.mark.parametrize("refused", [
    ANALYTICS,  # known: the refusal is about trust or permissions, not spelling
    "arn:aws:iam::123456789012:role/Admin",  # close to nothing known
    "arn:aws:iam::999999999999:role/analytics-reder",  # a close name, but in an account nobody used
    "arn:aws:iam::123456789012:user/analyst",  # not a role
])
def test_anything_else_is_left_to_sts(refused):
    assert near_arn(refused, KNOWN) == ""


def test_with_nothing_known_there_is_nothing_to_suggest():
    assert near_arn("arn:aws:iam::123456789012:role/analytics-reder", []) == ""
