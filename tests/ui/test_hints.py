"""Errors carry a structured hint (which option, which value); each frontend words it its own way:
``--duration 1h`` in a magic, ``duration="1h"`` in Python, the field in the panel."""

from __future__ import annotations

import pytest

import ipy_tempcreds
from ipy_tempcreds import api
from ipy_tempcreds.base import policies
from ipy_tempcreds.base.errors import Hint, InvalidInput, NotActive, StsError
from ipy_tempcreds.ui.hints import magic_words, panel_words
from support import role_arn

READER = role_arn("Reader")


def test_a_hint_in_each_frontends_words():
    hint = Hint("duration", "1h")
    assert magic_words(hint) == "--duration 1h"
    assert hint.python_words() == 'duration="1h"'
    assert panel_words(hint) == "the duration picker (1h)"
    assert magic_words(Hint("policy_arns")) == "--policy-arn"  # the declared flag, not a guess
    assert magic_words(Hint("chain", True)) == "--chain" and Hint("chain", True).python_words() == "chain=True"
    assert panel_words(Hint("region")) == "the region argument"  # not a panel field: Python's words


def test_the_message_names_the_hint_where_it_says_so():
    exc = InvalidInput("Ask for a longer lifetime ({hint}).", hint=Hint("duration"))
    assert str(exc) == "Ask for a longer lifetime (the duration argument)."
    assert exc.worded(magic_words) == "Ask for a longer lifetime (--duration)."
    assert InvalidInput("no hint here").worded(magic_words) == "no hint here"
    assert StsError("Use {hint} or less.", "ValidationError", hint=Hint("duration", "1h")).code == "ValidationError"


def test_python_and_magic_word_the_same_refusal_each_their_way(aws, run):
    with pytest.raises(NotActive) as caught:
        api.assume_role(READER, chain=True)
    assert str(caught.value).startswith("chain=True assumes the role from the active role")
    message = run(f"%assume_role {READER} --chain", expect_error=True)
    assert message.startswith("--chain assumes the role from the active role") and "chain=True" not in message


def test_the_panel_words_a_hint_as_its_field(aws, shell):
    from test_panel import click

    api.get_settings().refresh_margin = 1000
    panel = ipy_tempcreds.panel()
    try:
        click(panel, "assume", role=READER, duration=900)
        assert "Ask for a longer lifetime (the duration picker)" in panel.error and "--duration" not in panel.error
    finally:
        panel.close()


def test_one_prompter_protocol_for_mfa_codes(aws):
    """A prompter is a callable prompt -> code, or None meaning "cannot ask" (as botocore's
    mfa_prompter); a code given as text is wrapped into one, and never shown."""
    from ipy_tempcreds.base.errors import MfaCodeNeeded
    from ipy_tempcreds.core.issuer import GivenCode, prompter_for

    assert prompter_for(None) is None and prompter_for(print) is print
    given = prompter_for("012345")
    assert isinstance(given, GivenCode) and given("MFA code: ") == "012345" and "012345" not in repr(given)
    with pytest.raises(InvalidInput, match="must be text"):
        prompter_for(12345)
    manager = api.get_manager()
    request = manager.role_request(READER, mfa_serial="arn:aws:iam::123456789012:mfa/alice")
    with pytest.raises(MfaCodeNeeded) as caught:
        manager.activate(request)  # None: cannot ask, and says how to pass the code
    assert 'mfa_code="123456"' in str(caught.value) and "--mfa-code 123456" in caught.value.worded(magic_words)
    assert manager.current() is None
    asked = []
    with pytest.raises(InvalidInput):  # the prompter was asked, with the device named
        manager.activate(request, mfa_code=lambda prompt: asked.append(prompt) or "not-a-code")
    assert asked == ["MFA code for arn:aws:iam::123456789012:mfa/alice: "]


@pytest.mark.parametrize("refuse, magic, python", [
    (lambda v: policies.parse_tags(["project"]), "--tag project=churn", 'tags="project=churn"'),
    (lambda v: policies.check_transitive_tags(["team"], {}), "--tag team=VALUE", 'tags="team=VALUE"'),
    (lambda v: policies.load_policy({"Statement": [{"Sid": "x" * 3000}]}), "--policy-arn", "the policy_arns argument"),
    (lambda v: v.parse_role_arn("123456"), "--mfa-code", "the mfa_code argument"),
])
def test_input_checks_name_the_fix_in_each_frontends_words(refuse, magic, python):
    from ipy_tempcreds.base import validation

    with pytest.raises(InvalidInput) as caught:
        refuse(validation)
    assert magic in caught.value.worded(magic_words) and magic not in str(caught.value)
    assert python in str(caught.value)
