"""%assume_role and %aws_whoami in a real IPython shell against the local STS (IAM auth off here;
test_trust.py switches it on)."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest

from ipy_tempcreds import api
from support import aws_environment, role_arn

READER = role_arn("Reader")
OTHER = role_arn("Other")


def test_assume_role_injects_credentials_that_boto3_and_subprocesses_use(run):
    before = aws_environment()
    out = run(f"%assume_role {READER} --duration 2h --session-name alice-eda")

    assert out.startswith("Assumed arn:aws:sts::123456789012:assumed-role/Reader/alice-eda · expires ")
    assert "(in 1h 59m" in out and out.rstrip().endswith("auto-refresh on")
    assert os.environ["AWS_ACCESS_KEY_ID"] != before["AWS_ACCESS_KEY_ID"]
    assert os.environ["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert os.environ["AWS_CREDENTIAL_EXPIRATION"].endswith("Z")
    # A new boto3 client (default session) and a child process both act as the role.
    assert boto3.client("sts").get_caller_identity()["Arn"].endswith("assumed-role/Reader/alice-eda")
    child = subprocess.run(
        [sys.executable, "-c", "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"],
        capture_output=True, text=True, check=True,
    )
    assert child.stdout.strip().endswith("assumed-role/Reader/alice-eda")


def test_clear_restores_the_environment_exactly(run):
    os.environ["AWS_SECURITY_TOKEN"] = "stale-token-from-an-old-tool"
    os.environ["AWS_ACCOUNT_ID"] = "999999999999"
    before = aws_environment()

    run(f"%assume_role {READER}")
    assert os.environ["AWS_SECURITY_TOKEN"] == os.environ["AWS_SESSION_TOKEN"]  # cannot outrank it
    assert os.environ["AWS_ACCOUNT_ID"] == "123456789012"  # follows the new identity
    run(f"%assume_role {OTHER}")
    out = run("%assume_role --clear")

    assert "environment is as it was" in out
    assert aws_environment() == before
    assert run("%assume_role --clear") .startswith("No temporary credentials were active")


def test_follower_variables_stay_absent_when_the_user_had_none(run):
    run(f"%assume_role {READER}")
    assert "AWS_SECURITY_TOKEN" not in os.environ
    assert "AWS_ACCOUNT_ID" not in os.environ
    assert set(aws_environment()) >= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION"}


def test_status_whoami_and_refresh(run):
    assert run("%assume_role").startswith("No temporary credentials from ipy_tempcreds are active")
    assert "user/alice" in run("%aws_whoami")
    run(f"%assume_role {READER} --session-name eda-1")
    first_key = os.environ["AWS_ACCESS_KEY_ID"]

    status = run("%assume_role --status")
    assert "assumed-role/Reader/eda-1" in status
    assert first_key[-4:] in status and first_key not in status  # the key id is masked
    assert run("%assume_role") == status

    who = run("%aws_whoami")
    assert "ARN:" in who and "assumed-role/Reader/eda-1" in who and "from ipy_tempcreds" in who

    renewed = run("%assume_role --refresh")
    assert renewed.startswith("Renewed arn:aws:sts::123456789012:assumed-role/Reader/eda-1")
    assert os.environ["AWS_ACCESS_KEY_ID"] != first_key


def test_switch_roles_and_aliases(shell, run):
    shell.run_line_magic("config", f'TempCreds.roles = {{"reader": "{READER}", "other": "{OTHER}"}}')
    run("%assume_role reader --session-name s-one")
    run("%assume_role other --session-name s-two")
    assert boto3.client("sts").get_caller_identity()["Arn"].endswith("assumed-role/Other/s-two")
    assert api.current().request.label == "other"


def test_quiet_prints_nothing(run):
    assert run(f"%assume_role {READER} --quiet") == ""
    assert run("%assume_role --refresh -q") == ""
    assert api.current() is not None


def test_every_option_reaches_sts(run, aws):
    """moto records tags and source identity: read them back through the session's identity."""
    out = run(
        f"%assume_role {READER} --session-name opts --duration 1h30m --region eu-west-1 "
        f"--external-id ext-123 --tag project=churn --tag team=ds --transitive-tag project "
        f"--policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess --source-identity alice "
        """--policy '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'"""
    )
    assert "(in 1h 29m" in out
    request = api.current().request
    assert request.tags == (("project", "churn"), ("team", "ds"))
    assert request.transitive_tag_keys == ("project",)
    assert request.region == "eu-west-1" and request.external_id == "ext-123"
    assert request.source_identity == "alice"


def test_policy_from_file(run, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    run(f"%assume_role {READER} --policy @{policy}")
    assert '"s3:GetObject"' in api.current().request.policy


BAD_INPUT = [
        ("%assume_role arn:aws:iam::123456789012:user/alice", "user ARN, not a role ARN"),
        ("%assume_role arn:aws:sts::123456789012:assumed-role/Reader/s", "arn:aws:iam::123456789012:role/Reader"),
        ("%assume_role arn:aws:iam::12345:role/Reader", "12 digits"),
        ("%assume_role arn:aws-moon:iam::123456789012:role/Reader", "unknown partition"),
        ("%assume_role not-an-alias", "not a role ARN, an alias"),
        (f"%assume_role {READER} --duration 5m", "outside what AssumeRole allows (15m to 12h)"),
        (f"%assume_role {READER} --duration 13h", "outside what AssumeRole allows"),
        (f"%assume_role {READER} --duration soon", "not understood"),
        (f"%assume_role {READER} --session-name 'has space'", "session name"),
        (f"%assume_role {READER} --tag novalue", "KEY=VALUE"),
        (f"%assume_role {READER} --tag a=1 --tag A=2", "given twice"),
        (f"%assume_role {READER} --transitive-tag team", "not among the session tags"),
        (f"%assume_role {READER} --policy '{{not json'", "not valid JSON"),
        (f"%assume_role {READER} --policy @/nonexistent/policy.json", "cannot read the policy file"),
        (f"%assume_role {READER} --policy-arn arn:aws:iam::123456789012:role/X", "not a managed policy ARN"),
        (f"%assume_role {READER} --mfa-code 123456", "without an MFA serial"),
        (f"%assume_role {READER} --mfa-serial arn:aws:iam::123456789012:mfa/alice --mfa-code 12ab56", "exactly 6 digits"),
        (f"%assume_role {READER} --region mars-1", "not a region name"),
        (f"%assume_role {READER} --chain", "none is active"),
        (f"%assume_role {READER} --frobnicate", "unknown option --frobnicate"),
        ("%assume_role --clear --refresh", "cannot be combined"),
        (f"%assume_role --clear {READER}", "takes no ROLE"),
        ("%assume_role --refresh", "nothing to refresh"),
        ("%assume_role --status --duration 1h", "only apply when assuming"),
        ("%aws_whoami extra", "takes no arguments"),
]
# Valid once a role is active, so only checked without one.
NEEDS_NO_ROLE = {"nothing to refresh", "none is active"}


@pytest.mark.parametrize(
    "line, message, with_active_role",
    [(line, message, False) for line, message in BAD_INPUT]
    + [(line, message, True) for line, message in BAD_INPUT if message not in NEEDS_NO_ROLE],
)
def test_bad_input_gives_one_message_and_changes_nothing(run, line, message, with_active_role):
    if with_active_role:
        run(f"%assume_role {OTHER} --session-name active")
    before, grant = aws_environment(), api.current()

    error = run(line, expect_error=True)

    assert message in error
    assert "Traceback" not in error and "\n" not in error.strip()
    assert aws_environment() == before
    assert api.current() is grant


def test_mfa_without_a_prompt_says_how_to_pass_the_code(run, monkeypatch):
    from IPython.core.error import StdinNotImplementedError

    def no_stdin(prompt=""):  # what ipykernel does under nbclient/papermill/Voilà
        raise StdinNotImplementedError("getpass was called, but this frontend does not support input requests.")

    monkeypatch.setattr("getpass.getpass", no_stdin)
    before = aws_environment()
    error = run(f"%assume_role {READER} --mfa-serial arn:aws:iam::123456789012:mfa/alice", expect_error=True)
    assert "--mfa-code 123456" in error and "cannot ask for input" in error
    assert aws_environment() == before


def test_mfa_code_is_asked_once_with_getpass(run, monkeypatch):
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or "123456")
    run(f"%assume_role {READER} --mfa-serial arn:aws:iam::123456789012:mfa/alice")
    assert asked == ["MFA code for arn:aws:iam::123456789012:mfa/alice: "]
    assert api.current().request.mfa_serial.endswith("mfa/alice")


def test_config_lists_every_option_with_help(shell, capsys):
    shell.run_line_magic("config", "TempCreds")
    listing = capsys.readouterr().out
    for name in ("default_duration", "roles", "session_name", "region", "auto_refresh", "refresh_margin", "sts_timeout"):
        assert f"TempCreds.{name}=" in listing
    shell.run_line_magic("config", "TempCreds.default_duration = 7200")
    assert api.get_manager().settings.default_duration == 7200


def test_config_refuses_bad_values(shell, caplog):
    shell.run_line_magic("config", "TempCreds.default_duration = 60")
    assert "outside what AssumeRole allows" in caplog.text  # %config reports through logging
    assert api.get_manager().settings.default_duration == 3600


def test_default_duration_and_session_name_from_config(shell, run):
    shell.run_line_magic("config", "TempCreds.default_duration = 7200")
    shell.run_line_magic("config", "TempCreds.session_name = 'nb-{user}'")
    out = run(f"%assume_role {READER}")
    assert "(in 1h 59m" in out
    assert api.current().request.session_name.startswith("nb-")


def test_unload_restores_the_environment_and_removes_the_magics(shell, run):
    before = aws_environment()
    run(f"%assume_role {READER}")
    shell.extension_manager.unload_extension("ipy_tempcreds")
    try:
        assert aws_environment() == before
        assert "assume_role" not in shell.magics_manager.magics["line"]
        assert not [c for c in shell.configurables if type(c).__name__ == "TempCreds"]
    finally:
        shell.extension_manager.load_extension("ipy_tempcreds")


def test_loading_imports_neither_boto3_nor_ipywidgets():
    # Nor the core (manager, STS, value objects): the first magic that needs it imports it. A cell
    # runs too, so the pre-cell check is covered (benchmarks/bench_load.py has the timings).
    # Nor the browser module a sign-in needs. (ctypes and difflib, also left to first use, are imported
    # by IPython's test shell itself: benchmarks/bench_load.py lists what loading adds to a plain one.)
    heavy = ("boto3", "botocore", "ipywidgets", "anywidget", "awscrt", "ipy_tempcreds.sources.login.dpop",
             "ipy_tempcreds.sources.sts", "ipy_tempcreds.model.credentials", "ipy_tempcreds.delivery",
             "webbrowser")
    code = (
        "import sys; from IPython.testing.globalipapp import start_ipython; ip = start_ipython(); "
        "ip.run_line_magic('load_ext', 'ipy_tempcreds'); ip.run_cell('1 + 1'); "
        f"print(sorted(m for m in sys.modules if m in {heavy!r} or m.startswith('ipy_tempcreds.core')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_cell_that_fails_for_another_reason_builds_no_core():
    """The post-run hook reads a failed cell's error first: a NameError in a kernel that never
    used AWS neither builds the manager nor imports boto3 (it cost ~120 ms and ~50 modules)."""
    code = (
        "import sys; from IPython.testing.globalipapp import start_ipython; ip = start_ipython(); "
        "ip.run_line_magic('load_ext', 'ipy_tempcreds'); ip.run_cell('no_such_name'); "
        "print(sorted(m for m in ('boto3', 'ipy_tempcreds.core.manager', 'ipy_tempcreds.followers.duckdb') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_boto3_default_session_keeps_the_users_region(run):
    boto3.setup_default_session(region_name="eu-central-1")
    run(f"%assume_role {READER} --session-name regional")
    client = boto3.client("sts")
    assert client.meta.region_name == "eu-central-1"
    assert client.get_caller_identity()["Arn"].endswith("Reader/regional")
    run("%assume_role --clear")
    assert boto3.client("sts").get_caller_identity()["Arn"].endswith("user/alice")
    assert boto3.DEFAULT_SESSION.region_name == "eu-central-1"


@pytest.mark.parametrize("line", ["%assume_role -h", "%assume_role --help", "%federation_token --help",
                                  "%session_token -h", "%role_panel --help", "%assume_role reader --duration 1h -h",
                                  "%aws_whoami --help"])
def test_help_option_prints_the_usage_and_changes_nothing(aws, run, line):
    before = dict(os.environ)
    out = run(line)
    magic = line.split()[0]
    assert out.startswith(magic) and ("--quiet" in out or "--sidebar" in out or "GetCallerIdentity" in out), out
    assert "::" not in out.splitlines()[0]
    assert dict(os.environ) == before and api.get_manager().current() is None
