"""Role profiles from the AWS config file as ROLE, Tab completion, and recently used roles."""

from __future__ import annotations

import json
import os
import stat

import boto3
import pytest

from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api
from support import aws_environment, role_arn


@pytest.fixture
def profiles(aws, isolated_environment):
    """A base user profile, role profiles on top of it, and a profile that is not a role."""
    alice = aws.base_user
    (isolated_environment / "credentials").write_text(
        f"[base]\naws_access_key_id = {alice.access_key_id}\naws_secret_access_key = {alice.secret_access_key}\n"
    )
    (isolated_environment / "config").write_text(
        "[profile base]\nregion = us-east-1\n\n"
        f"[profile research]\nrole_arn = {role_arn('Research')}\nsource_profile = base\n"
        "duration_seconds = 7200\nrole_session_name = from-profile\nregion = eu-west-1\nexternal_id = ext-42\n\n"
        f"[profile envrole]\nrole_arn = {role_arn('EnvRole')}\ncredential_source = Environment\n\n"
        f"[profile orphan]\nrole_arn = {role_arn('Orphan')}\n\n"
        f"[profile loop-a]\nrole_arn = {role_arn('A')}\nsource_profile = loop-b\n\n"
        f"[profile loop-b]\nrole_arn = {role_arn('B')}\nsource_profile = loop-a\n"
    )
    aws.set_auth(True)  # the base profile's keys must really be the ones that sign
    return aws


def identity():
    return boto3.client("sts").get_caller_identity()["Arn"]


def test_a_role_profile_applies_its_settings_unless_the_line_overrides(profiles, run):
    del os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]  # only the profile can sign
    out = run("%assume_role research")
    assert "assumed-role/Research/from-profile" in out and "(in 1h 59m" in out
    request = api.current().request
    assert (request.profile, request.region, request.external_id) == ("base", "eu-west-1", "ext-42")
    assert identity().endswith("assumed-role/Research/from-profile")

    out = run("%assume_role research --duration 1h --session-name override")
    assert "assumed-role/Research/override" in out and "(in 59m" in out


def test_credential_source_environment_uses_the_original_environment(profiles, run):
    run("%assume_role envrole --session-name env-src")
    assert identity().endswith("assumed-role/EnvRole/env-src")
    run("%assume_role envrole --session-name again")  # signed by alice's env keys, not EnvRole's
    assert identity().endswith("assumed-role/EnvRole/again")


@pytest.mark.parametrize(
    "line, message",
    [
        ("%assume_role orphan", "neither source_profile nor credential_source"),
        ("%assume_role base", "not a role ARN, an alias from TempCreds.roles, or a profile with role_arn"),
        ("%assume_role loop-a", "Infinite loop"),
    ],
)
def test_broken_profiles_give_one_message(profiles, run, line, message):
    before = aws_environment()
    assert message in run(line, expect_error=True)
    assert aws_environment() == before


def test_a_broken_config_file_gives_one_message(aws, run, isolated_environment):
    (isolated_environment / "config").write_text("[profile broken\nrole_arn = x\n")
    error = run("%assume_role research", expect_error=True)
    assert "AWS config file cannot be read" in error


def completions(shell, line):
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [(c.start, c.text, c.type) for c in shell.Completer.completions(line, len(line))]


def test_tab_offers_roles_only_aliases_profiles_and_recent(profiles, shell):
    shell.run_line_magic("config", f'TempCreds.roles = {{"reader": "{role_arn("Reader")}", "reporting": "{role_arn("Reporting")}"}}')
    found = completions(shell, "%assume_role re")
    assert [text for _, text, _ in found] == ["reader", "reporting", "research"]
    assert {kind for _, _, kind in found} == {"role"}  # no keywords, no Jedi names

    everything = [text for _, text, _ in completions(shell, "%assume_role ")]
    assert "research" in everything and "envrole" in everything and "base" not in everything
    assert role_arn("Reader") in everything and "import" not in everything


def test_tab_completes_the_tail_of_an_arn(aws, shell):
    shell.run_line_magic("config", f'TempCreds.roles = {{"reader": "{role_arn("Reader")}"}}')
    line = "%assume_role arn:aws:iam::123456789012:role/Re"
    start, text, _ = completions(shell, line)[0]
    assert line[:start] + text == "%assume_role " + role_arn("Reader")


def test_tab_leaves_options_and_other_code_alone(aws, shell):
    assert all(kind != "role" for _, _, kind in completions(shell, "%assume_role reader --dur"))
    assert all(kind != "role" for _, _, kind in completions(shell, "impo"))


def test_recent_roles_are_remembered_across_kernels_privately(aws, run, isolated_environment):
    run(f"%assume_role {role_arn('Reader')} -q")
    run(f"%assume_role {role_arn('Other')} -q")
    path = api.get_manager().roles.recent().path
    assert str(path).startswith(str(isolated_environment))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    content = path.read_text()
    assert [e["arn"] for e in json.loads(content)["roles"]] == [role_arn("Other"), role_arn("Reader")]
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in content and os.environ["AWS_SESSION_TOKEN"] not in content

    kernel_state.reset()  # a new kernel
    assert (role_arn("Other"), role_arn("Other")) in api.get_manager().roles.candidates()
