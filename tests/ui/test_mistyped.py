"""Mistyped input, as a newcomer types it, answered in one line with what was meant (issue 29):
an option (`--durtion`), a role, alias or profile (`analytics-reder`), a console service (`s4`).

Each case checks the words a user reads and that nothing changed: no credentials, no STS call.
"""

from __future__ import annotations

import os

import pytest

from ipy_tempcreds import api
from strict_sts import strict_aws  # noqa: F401 (the fixture)
from support import aws_environment, role_arn

READER = role_arn("Reader")
ANALYTICS = role_arn("AnalyticsReader")


@pytest.mark.parametrize("line, says", [
    # The four the first hour met, with argparse's bare "unrecognized arguments" before.
    (f"%assume_role {READER} --durtion 1h", "unknown option --durtion: did you mean --duration? "
                                            "`%assume_role?` lists the options."),
    (f"%assume_role {READER} --session_name alice", "unknown option --session_name: did you mean --session-name?"),
    (f"%assume_role -d 1h {READER}", "unknown option -d: did you mean --duration?"),
    ("%assume_role --refersh", "unknown option --refersh: did you mean --refresh?"),
    # Several at once: each named, each with its own answer.
    (f"%assume_role {READER} --durtion 1h --sesion-name alice",
     "unknown options --durtion (did you mean --duration?), --sesion-name (did you mean --session-name?)."),
    # An option of another magic is named as that magic's.
    (f"%assume_role {READER} --sidebar", "unknown option --sidebar: it is an option of %role_panel, not of %assume_role."),
    ("%sso_login --clear", "unknown option --clear: it is an option of %assume_role, not of %sso_login."),
    # Nothing close: still named, with where the options are.
    (f"%assume_role {READER} --frobnicate", "unknown option --frobnicate for %assume_role. `%assume_role?` lists"),
    # What argparse says well stays, with the pointer.
    (f"%assume_role {READER} --duration", "argument --duration: expected one argument. `%assume_role?` lists"),
])
def test_a_mistyped_option_names_the_closest_one_and_changes_nothing(run, line, says):
    before = aws_environment()
    message = run(line, expect_error=True)
    assert says in message and "\n" not in message
    assert aws_environment() == before and api.current() is None


@pytest.mark.parametrize("line, closest", [
    ("%federation_token analyst --durration 1h", "--duration"),
    ("%session_token --mfa-seriel arn:aws:iam::123456789012:mfa/alice", "--mfa-serial"),
    ("%role_panel --sidbar", "--sidebar"),
    ("%aws_console s3 --regoin eu-west-1", "--region"),
    ("%sso_login --logut", "--logout"),
    ("%assume_role --hlep", "--help"),
    ("%sso_login --start_url https://corp.awsapps.com/start", "--start-url"),
])
def test_every_magic_answers_a_mistyped_option(run, line, closest):
    name = line.split()[0]
    message = run(line, expect_error=True)
    assert f"did you mean {closest}? `{name}?` lists the options." in message


def test_a_cell_magic_is_named_as_it_is_typed(shell):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as refused:
        shell.run_cell_magic("as_role", f"{READER} --durtion 1h", "1 + 1")
    assert str(refused.value) == "unknown option --durtion: did you mean --duration? `%%as_role?` lists the options."
    with pytest.raises(UsageError, match="it is an option of %role_panel, not of %%as_role"):
        shell.run_cell_magic("as_role", f"{READER} --sidebar", "1 + 1")
    assert api.current() is None


def test_the_pointer_leads_to_the_options(shell, capsys):
    """`%assume_role?` (what every answer points to) shows them, --duration among them."""
    shell.run_line_magic("pinfo", "%assume_role")
    assert "--duration DUR" in capsys.readouterr().out


def test_a_magic_without_options_names_the_magic_that_has_it(run):
    message = run("%aws_whoami --status", expect_error=True)
    assert message == ("%aws_whoami takes no arguments (--status is an option of %assume_role). "
                       "`%aws_whoami?` describes it.")


def test_extra_words_say_what_the_magic_takes(run):
    assert "unexpected 'extra': %assume_role takes one ROLE besides its options (quote a value that has spaces)" \
        in run(f"%assume_role {READER} extra", expect_error=True)
    assert "unexpected 'x': %role_panel takes no words besides its options" in run("%role_panel x", expect_error=True)


# -- roles, aliases and profiles ---------------------------------------------------------------------

def test_a_role_close_to_an_alias_is_suggested_and_nothing_is_asked_of_sts(run, shell):
    shell.run_line_magic("config", f"TempCreds.roles = {{'analytics-reader': {ANALYTICS!r}}}")
    message = run("%assume_role analytics-reder", expect_error=True)
    assert message.endswith("did you mean analytics-reader?")
    assert api.current() is None


def test_a_profile_close_to_a_known_one_is_suggested(run, isolated_environment):
    (isolated_environment / "config").write_text(f"[profile data-eng]\nrole_arn = {ANALYTICS}\n"
                                                 "source_profile = default\n")
    assert run("%assume_role data_eng", expect_error=True).endswith("did you mean data-eng?")


def test_a_role_as_the_recent_list_shows_it_is_assumed(run, shell):
    """Assumed by its alias in an earlier session, the role is listed as "analytics-reader" (the
    panel's picker, Tab): that label works in a kernel that has no such alias."""
    shell.run_line_magic("config", f"TempCreds.roles = {{'analytics-reader': {ANALYTICS!r}}}")
    run("%assume_role analytics-reader -q")
    run("%assume_role --clear -q")
    shell.run_line_magic("config", "TempCreds.roles = {}")
    assert ("analytics-reader", ANALYTICS) in api.get_manager().roles.candidates()

    out = run("%assume_role analytics-reader --session-name recent")
    assert out.startswith("Assumed arn:aws:sts::123456789012:assumed-role/AnalyticsReader/recent · expires")
    # And by the role's own name, as the panel's field shows an ARN.
    out = run("%assume_role AnalyticsReader --session-name by-name")
    assert out.startswith("Assumed arn:aws:sts::123456789012:assumed-role/AnalyticsReader/by-name · expires")
    # Still one entry in the list, under the label it had.
    assert [label for label, arn in api.get_manager().roles.candidates() if arn == ANALYTICS] == ["analytics-reader"]


def test_a_role_name_in_two_accounts_is_not_guessed(run):
    other = "arn:aws:iam::210987654321:role/Reader"
    run(f"%assume_role {READER} -q")
    run(f"%assume_role {other} -q")
    message = run("%assume_role Reader", expect_error=True)
    assert f"'Reader' is the name of several known roles: {READER}, {other}" in message
    assert api.current().arn.startswith("arn:aws:sts::210987654321:assumed-role/Reader/")


def test_a_word_close_to_nothing_known_keeps_the_plain_answer(run):
    assert "is not a role ARN, an alias from TempCreds.roles, or a profile with role_arn" in \
        run("%assume_role zzzz", expect_error=True)


def test_the_panel_suggests_the_same(shell):
    from test_panel import click

    import ipy_tempcreds

    shell.run_line_magic("config", f"TempCreds.roles = {{'analytics-reader': {ANALYTICS!r}}}")
    panel = ipy_tempcreds.panel()
    try:
        click(panel, "assume", role="analytics-reder", duration=3600)
        assert panel.error.endswith("did you mean analytics-reader?") and panel.identity == ""
    finally:
        panel.close()


# -- console services --------------------------------------------------------------------------------

def test_an_unknown_console_service_suggests_the_closest_and_asks_nothing(run, aws):
    run(f"%assume_role {READER} -q")
    message = run("%aws_console s4", expect_error=True)
    assert message == "unknown console service 's4': did you mean s3?"
    message = run("%aws_console qwertyuiop", expect_error=True)
    assert "unknown console service 'qwertyuiop' (known: s3, athena" in message
    assert "opens as typed when its path ends with /: qwertyuiop/." in message
    assert os.environ.get("AWS_ENDPOINT_URL")  # still the test's loopback world


# -- a role ARN that STS refused --------------------------------------------------------------------

@pytest.fixture
def strict_world(aws, strict_aws):
    """moto behind the strict stand-in (tests/strict_sts.py), IAM auth on: AssumeRole of a role that
    does not exist, or does not trust the caller, is refused with AWS's AccessDenied."""
    alice = aws.base_user
    aws.create_role("AnalyticsReader", [alice.arn])
    aws.create_role("Untrusting", ["arn:aws:iam::123456789012:user/nobody"])
    aws.set_auth(True)
    return strict_aws


def test_a_refused_arn_close_to_a_known_role_names_the_role_meant(strict_world, run):
    run(f"%assume_role {ANALYTICS} -q")
    run("%assume_role --clear -q")
    before = aws_environment()
    typo = role_arn("AnalyticsReder")
    message = run(f"%assume_role {typo}", expect_error=True)
    assert f"AssumeRole {typo} was denied (AWS: User: " in message
    assert message.endswith(f"Did you mean {ANALYTICS}, a role this kernel knows?")
    assert aws_environment() == before and api.current() is None


def test_a_refusal_that_is_not_a_slip_is_not_second_guessed(strict_world, run):
    untrusting = role_arn("Untrusting")
    message = run(f"%assume_role {untrusting}", expect_error=True)
    assert "was denied" in message and "Did you mean" not in message
    # Still nothing close when another role is known: the name is far from every known one.
    run(f"%assume_role {ANALYTICS} -q")
    assert "Did you mean" not in run(f"%assume_role {untrusting}", expect_error=True)
