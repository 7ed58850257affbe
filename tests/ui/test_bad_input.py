"""Bad input, typed as an adversary would: every magic and option, the Python API with wrong types,
and the role panel's fields.

Each case must give one clear message (a UsageError for magics, a TempCredsError from the Python API,
the error text in the panel) with no traceback, print nothing else, and leave the whole environment
byte-identical (``os.environ``'s bytes, not only AWS_*) and the active grant untouched, with and
without a role active. test_magics.py and test_mfa_and_tokens.py hold the first ~30 cases; these
add to them without repeating them.

Speed: few cases reach STS, so the module resets moto once, and the role made active in the
"role-active" cases was issued by moto once for the module and is replayed to each test's manager
(ReplayActive): building a manager's STS client costs 0.1-0.5 s, which 150 tests would pay for
nothing. Each test still loads the extension, gets a new manager, and starts with nothing active.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from IPython.core.error import UsageError

from ipy_tempcreds import api
from ipy_tempcreds.base.errors import TempCredsError
from support import SecretWatch, role_arn

READER = role_arn("Reader")
OTHER = role_arn("Other")
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
NO_ROLE = object()  # a case that only makes sense without an active role


@dataclass
class Case:
    line: str
    expect: str  # a phrase of the one message
    expect_active: str | None = None  # another phrase when a role is active (else the same)
    config: str | None = None  # content of the AWS config file for this case
    drop: tuple[str, ...] = ()  # variables removed before the case (e.g. every source credential)
    only_without_role: bool = False

    @property
    def id(self) -> str:
        return self.line if len(self.line) < 90 else self.line[:87] + "..."


LOOP = "[profile loop]\nrole_arn = arn:aws:iam::123456789012:role/Loop\nsource_profile = loop\n"
LOOP2 = ("[profile ping]\nrole_arn = arn:aws:iam::123456789012:role/Ping\nsource_profile = pong\n"
         "[profile pong]\nrole_arn = arn:aws:iam::123456789012:role/Pong\nsource_profile = ping\n")
BIG_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": f"s3:GetObject{i}", "Resource": f"arn:aws:s3:::bucket-{i}/*"} for i in range(40)]})
MANY_TAGS = " ".join(f"--tag k{i}=v" for i in range(51))
MANY_POLICY_ARNS = " ".join(f"--policy-arn arn:aws:iam::aws:policy/P{i}" for i in range(11))

MAGIC_CASES = [
    # -- role ARNs of the wrong kind, malformed, or in other partitions --
    Case("%assume_role arn:aws:iam::123456789012:group/devs", "IAM group ARN, not a role ARN"),
    Case("%assume_role arn:aws:iam::123456789012:policy/ReadOnly", "IAM policy ARN, not a role ARN"),
    Case("%assume_role arn:aws:iam::123456789012:mfa/alice", "IAM mfa ARN, not a role ARN"),
    Case("%assume_role arn:aws:s3:::team-data", "ARN of the s3 service"),
    Case("%assume_role arn:aws:iam:us-east-1:123456789012:role/Reader", "IAM ARNs have no region"),
    Case("%assume_role arn:aws:iam::123456789012:role/", "the role name must be 1-64 characters"),
    Case("%assume_role arn:aws:iam::123456789012:role/Pay$roll", "the role name must be 1-64 characters"),
    Case("%assume_role arn:aws:iam::123456789012:role/" + "R" * 65, "the role name must be 1-64 characters"),
    Case("%assume_role arn:aws:iam::123456789012:role/Rôle", "the role name must be 1-64 characters"),
    Case("%assume_role arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/Reader", "the account id must be 12 digits"),
    Case("%assume_role arn:AWS:iam::123456789012:role/Reader", "unknown partition 'AWS'"),
    Case("%assume_role arn:aws-cn:iam::12345678901x:role/Reader", "the account id must be 12 digits"),
    Case("%assume_role arn:aws-us-gov:sts::123456789012:assumed-role/Reader/s",
         "Assume the role itself: arn:aws-us-gov:iam::123456789012:role/Reader"),
    Case(f"%assume_role {READER} extra", "unexpected 'extra': %assume_role takes one ROLE besides its options"),
    # -- durations --
    Case(f"%assume_role {READER} --duration 0", "outside what AssumeRole allows"),
    Case(f"%assume_role {READER} --duration -1", "is not understood"),
    Case(f"%assume_role {READER} --duration 1.5h", "is not understood"),
    Case(f"%assume_role {READER} --duration 1d", "is not understood"),
    Case(f"%assume_role {READER} --duration ''", "is not understood"),
    Case(f"%assume_role {READER} --duration ³", "is not understood"),
    Case(f"%assume_role {READER} --duration 43201", "outside what AssumeRole allows (15m to 12h)"),
    Case(f"%assume_role {READER} --duration 99999999999999999999999", "outside what AssumeRole allows"),
    Case(f"%assume_role {READER} --duration", "argument --duration: expected one argument"),
    # -- session names --
    Case(f"%assume_role {READER} --session-name a", "must be 2-64 characters"),
    Case(f"%assume_role {READER} --session-name {'s' * 65}", "must be 2-64 characters"),
    Case(f"%assume_role {READER} --session-name alice/eda", "must be 2-64 characters"),
    Case(f"%assume_role {READER} --session-name élise", "must be 2-64 characters"),
    # -- tags --
    Case(f"%assume_role {READER} --tag =churn", "has an empty key"),
    Case(f"%assume_role {READER} --tag 'pro*ject=churn'", "tag key 'pro*ject' must be"),
    Case(f"%assume_role {READER} --tag 'project=churn;drop'", "the value of tag 'project' must be"),
    Case(f"%assume_role {READER} --tag 'project=churn\tx'", "the value of tag 'project' must be"),
    Case(f"%assume_role {READER} --tag {'k' * 129}=v", "must be 1-128 characters"),
    Case(f"%assume_role {READER} --tag project={'v' * 257}", "at most 256 characters"),
    Case(f"%assume_role {READER} {MANY_TAGS}", "51 session tags given; STS allows at most 50"),
    Case(f"%assume_role {READER} --tag aws:team=ds", "the prefix aws: is reserved"),
    Case(f"%assume_role {READER} --tag team=ds --tag Team=ml", "given twice"),
    # -- session policies --
    Case(f"%assume_role {READER} --policy '[]'", "must be a JSON object"),
    Case(f"%assume_role {READER} --policy null", "must be a JSON object"),
    Case(f"%assume_role {READER} --policy '{{}}'", 'has no "Statement"'),
    Case(f"%assume_role {READER} --policy '{{\"Statement\": NaN}}'", "cannot be written as JSON"),
    Case(f"%assume_role {READER} --policy '{BIG_POLICY}'", "characters without spaces; STS allows 2048"),
    Case(f"%assume_role {READER} --policy @{{tmp}}", "Is a directory"),
    Case(f"%assume_role {READER} --policy @{{tmp}}/latin1.json", "is not UTF-8 text"),
    Case(f"%assume_role {READER} --policy @{{tmp}}/huge.json", "larger than 64 KiB"),
    Case(f"%assume_role {READER} --policy @{{tmp}}/broken.json", "not valid JSON"),
    Case(f"%assume_role {READER} {MANY_POLICY_ARNS}", "11 policy ARNs given; STS allows at most 10"),
    Case(f"%assume_role {READER} --policy-arn arn:aws:iam::aws:policy/", "not a managed policy ARN"),
    # -- external id, source identity, region --
    Case(f"%assume_role {READER} --external-id x", "the external ID must be 2-1224 characters"),
    Case(f"%assume_role {READER} --external-id 'a b'", "the external ID must be 2-1224 characters"),
    Case(f"%assume_role {READER} --source-identity a", "source identity 'a' must be"),
    Case(f"%assume_role {READER} --source-identity aws:me", "source identity 'aws:me' must be"),
    Case(f"%assume_role {READER} --region US-EAST-1", "not a region name"),
    Case(f"%assume_role {READER} --region us-east-1a", "not a region name"),
    # -- MFA --
    Case(f"%assume_role {READER} --mfa-serial {SERIAL} --mfa-code 1234567", "exactly 6 digits"),
    Case(f"%assume_role {READER} --mfa-serial {SERIAL} --mfa-code ١٢٣٤٥٦", "exactly 6 digits"),
    Case(f"%assume_role {READER} --mfa-serial 'arn:aws:iam::123456789012:mfa/a b'", "MFA serial"),
    Case(f"%assume_role {READER} --mfa-serial short --mfa-code 123456", "MFA serial"),
    # -- profiles, aliases and the AWS config file --
    Case("%assume_role loop", "Infinite loop in credential configuration", config=LOOP),
    Case("%assume_role ping", "Infinite loop in credential configuration", config=LOOP2),
    Case("%assume_role orphan", "neither source_profile nor credential_source",
         config="[profile orphan]\nrole_arn = arn:aws:iam::123456789012:role/Orphan\n"),
    Case("%assume_role odd", "credential_source 'Laptop' is not one of",
         config="[profile odd]\nrole_arn = arn:aws:iam::123456789012:role/Odd\ncredential_source = Laptop\n"),
    Case("%assume_role both", "keep one",
         config="[profile both]\nrole_arn = arn:aws:iam::123456789012:role/Both\nsource_profile = x\n"
                "credential_source = Environment\n"),
    Case("%assume_role slow", "duration 'forever' is not understood",
         config="[profile slow]\nrole_arn = arn:aws:iam::123456789012:role/Slow\nsource_profile = default\n"
                "duration_seconds = forever\n"),
    Case("%assume_role junk", "'nonsense' is not a role ARN",
         config="[profile junk]\nrole_arn = nonsense\nsource_profile = default\n"),
    Case("%assume_role lost", "The config profile (missing) could not be found",
         config="[profile lost]\nrole_arn = arn:aws:iam::123456789012:role/Lost\nsource_profile = missing\n"),
    Case(f"%assume_role {READER} --profile nobody", "The config profile (nobody) could not be found"),
    Case("%assume_role reader", "the AWS config file cannot be read", config="[profile reader\nrole_arn = x\n"),
    Case(f"%assume_role {READER} --region eu-west-3", "the AWS config file cannot be read",
         config="[profile reader\nrole_arn = x\n"),
    Case("%assume_role reader", "the AWS config file cannot be read", config="\udcff\udcfe[profile reader]\x00"),
    Case("%assume_role reader", "is not a role ARN, an alias from TempCreds.roles, or a profile", config=""),
    # -- no source credentials at all --
    Case(f"%assume_role {READER}", "no source credentials were found",
         drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), only_without_role=True),
    Case("%aws_whoami", "no source credentials were found",
         drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), only_without_role=True),
    Case("%session_token", "no source credentials were found",
         drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), only_without_role=True),
    Case("%federation_token analyst", "no source credentials were found",
         drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), only_without_role=True),
    # -- conflicting and unknown flags, unbalanced quotes --
    Case("%assume_role --status --clear", "cannot be combined"),
    Case("%assume_role --refresh --tag team=ds", "only apply when assuming a role, not with --refresh"),
    Case("%assume_role --clear --chain", "only apply when assuming a role, not with --clear"),
    Case("%assume_role --status --mfa-code 123456", "--mfa-code does not apply to --status"),
    Case(f"%assume_role --refresh {READER}", "--refresh takes no ROLE"),
    Case("%assume_role --refresh --mfa-code 123456", "nothing to refresh", expect_active="without an MFA serial"),
    Case(f"%assume_role {READER} --policy '{{\"Statement\"", "cannot split the line: No closing quotation"),
    Case(f"%assume_role \"{READER}", "cannot split the line"),
    Case("%assume_role -x", "unknown option -x for %assume_role. `%assume_role?` lists the options."),
    # -- %federation_token --
    Case("%federation_token 'data team'", "federated user name 'data team' must be 2-32"),
    Case("%federation_token data/team", "must be 2-32 characters"),
    Case("%federation_token élise", "must be 2-32 characters"),
    Case("%federation_token analyst --policy '{'", "not valid JSON"),
    Case("%federation_token analyst --policy-arn arn:aws:iam::123456789012:user/x", "not a managed policy ARN"),
    Case("%federation_token analyst --duration 10m", "outside what GetFederationToken allows"),
    Case("%federation_token analyst --region EU", "not a region name"),
    Case("%federation_token analyst --mfa-code 123456", "unknown option --mfa-code: it is an option of %assume_role"),
    Case("%federation_token analyst --profile nobody", "The config profile (nobody) could not be found"),
    Case("%federation_token 'analyst", "cannot split the line"),
    # -- %session_token --
    Case("%session_token --duration 37h", "outside what GetSessionToken allows (15m to 36h)"),
    Case(f"%session_token --mfa-serial {SERIAL} --mfa-code 12345", "exactly 6 digits"),
    Case("%session_token --region mars", "not a region name"),
    Case("%session_token analyst", "unexpected 'analyst': %session_token takes no words besides its options"),
    Case("%session_token --profile nobody", "The config profile (nobody) could not be found"),
    Case("%session_token --duration \"1h", "cannot split the line"),
    # -- %aws_whoami, %role_panel --
    Case("%aws_whoami --json", "takes no arguments"),
    Case("%aws_whoami", "the AWS config file cannot be read", config="[default\nregion = x\n"),
    Case("%role_panel --bogus", "unknown option --bogus for %role_panel"),
    Case("%role_panel extra", "unexpected 'extra': %role_panel takes no words besides its options"),
    Case("%role_panel 'x", "cannot split the line"),
    # -- %sso_login (nothing is asked of IAM Identity Center, nothing is written) --
    Case("%sso_login nobody", "no profile or sso-session named 'nobody'"),
    Case("%sso_login --start-url https://corp.awsapps.com/start", "--start-url and --sso-region go together"),
    Case("%sso_login --sso-region us-east-1", "--start-url and --sso-region go together"),
    Case("%sso_login --start-url ftp://corp/start --sso-region us-east-1", "is not an https:// URL"),
    Case("%sso_login --start-url https://corp.awsapps.com/start --sso-region MARS", "not a region name"),
    Case("%sso_login --logout --start-url https://corp.awsapps.com/start", "go together"),
    Case("%sso_login analyst extra", "unexpected 'extra': %sso_login takes one PROFILE"),
    Case("%sso_login 'x", "cannot split the line"),
    # -- %aws_console (no sign-in token is asked for) --
    Case("%aws_console 'bad service!'", "is not a console service name"),
    Case("%aws_console s3 --region US-EAST-1", "not a region name"),
    Case("%aws_console s3 extra", "unexpected 'extra': %aws_console takes one SERVICE"),
    Case("%aws_console --bogus", "unknown option --bogus for %aws_console"),
    Case("%aws_console 's3", "cannot split the line"),
    # -- the endpoint options (--pin needs the endpoint delivery; %config's own refusal: test_endpoint_pins.py) --
    Case(f"%assume_role {READER} --pin", "only the endpoint delivery does"),
    Case("%assume_role --status --pin", "--pin only apply when assuming a role, not with --status"),
    Case("%assume_role --clear --pin", "--pin only apply when assuming a role, not with --clear"),
]


# -- fixtures -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(local_aws, tmp_path_factory):
    """One moto reset and one base user for the module; files the cases point at."""
    local_aws.reset()
    base = local_aws.create_user("alice")
    home = tmp_path_factory.mktemp("bad-input")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    files = home / "files"
    files.mkdir()
    (files / "latin1.json").write_bytes('{"Statement": [], "Sid": "café"}'.encode("latin-1"))
    (files / "huge.json").write_text(" " * (65 * 1024) + '{"Statement": []}')
    (files / "broken.json").write_text('{"Version": "2012-10-17", "Statement": [')
    environ = {
        **local_aws.client_environ(), **base.environ(),
        "AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true", "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
    }
    return SimpleNamespace(aws=local_aws, base=base, home=home, files=files, environ=environ, active=None)


class ReplayActive:
    """The kernel's StsGateway, except that the AssumeRole of the "active" session returns the
    set moto issued for it once in this module (real credentials; only the repeat is skipped)."""

    def __init__(self, gateway, world):
        self.gateway, self.world = gateway, world

    def obtain(self, request, **kwargs):
        if getattr(request, "session_name", None) != "active":
            return self.gateway.obtain(request, **kwargs)
        if self.world.active is None:
            self.world.active = self.gateway.obtain(request, **kwargs)
        return self.world.active

    def __getattr__(self, name):
        return getattr(self.gateway, name)


@pytest.fixture
def kernel(world, isolated_environment):
    """A shell with the extension loaded and its manager created; nothing active."""
    from IPython.testing.globalipapp import get_ipython

    os.environ.update(world.environ)
    (world.home / "config").write_text("")
    ip = get_ipython()
    ip.extension_manager.load_extension("ipy_tempcreds")
    manager = api.get_manager()
    manager.sts = ReplayActive(manager.sts, world)
    watch = SecretWatch(manager)
    yield SimpleNamespace(shell=ip, manager=manager, secrets=watch, world=world)
    watch.close()
    ip.extension_manager.unload_extension("ipy_tempcreds")  # clears the manager
    ip.config.pop("TempCreds", None)


def activate(kernel) -> object:
    manager = kernel.manager
    return manager.activate(manager.role_request(OTHER, session_name="active"))


def environment_bytes() -> dict[bytes, bytes]:
    """os.environ as the bytes it holds: what child processes and every reader get."""
    return dict(os.environ._data)


def assert_one_clean_message(message: str, expect: str, kernel) -> None:
    assert expect in message, f"expected {expect!r} in {message!r}"
    assert message.strip() and "\n" not in message.strip(), f"not one line: {message!r}"
    assert "Traceback" not in message
    kernel.secrets.assert_absent(message, where=message)


# -- magics ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("with_role", [False, True], ids=["no-role", "role-active"])
@pytest.mark.parametrize("case", MAGIC_CASES, ids=[c.id for c in MAGIC_CASES])
def test_a_bad_magic_line_gives_one_message_and_changes_nothing(kernel, capsys, case, with_role):
    if with_role and case.only_without_role:
        pytest.skip("needs the kernel's own credentials gone, which an active role was assumed with")
    if with_role:
        activate(kernel)
    if case.config is not None:
        with open(os.environ["AWS_CONFIG_FILE"], "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(case.config)
    for name in case.drop:
        del os.environ[name]
    before, grant = environment_bytes(), kernel.manager.current()
    line = case.line.replace("{tmp}", str(kernel.world.files))
    name, _, rest = line.lstrip("%").partition(" ")
    capsys.readouterr()

    with pytest.raises(UsageError) as raised:
        kernel.shell.run_line_magic(name, rest)

    printed = capsys.readouterr()
    expect = case.expect_active if (with_role and case.expect_active) else case.expect
    assert_one_clean_message(str(raised.value), expect, kernel)
    assert printed.out == "" and printed.err == "", "printed more than the one message"
    assert environment_bytes() == before
    assert kernel.manager.current() is grant


# -- the Python API -------------------------------------------------------------------------------------

API_CASES = [
    ("assume_role", (None,), {}, "no role given"),
    ("assume_role", ("",), {}, "no role given"),
    ("assume_role", (42,), {}, "'42' is not a role ARN"),
    ("assume_role", (READER,), {"duration": True}, "duration True is not a number of seconds"),
    ("assume_role", (READER,), {"duration": 3600.5}, "not a whole number of seconds"),
    ("assume_role", (READER,), {"duration": float("nan")}, "not a whole number of seconds"),
    ("assume_role", (READER,), {"duration": [3600]}, "is not a number of seconds"),
    ("assume_role", (READER,), {"duration": timedelta(minutes=-5)}, "outside what AssumeRole allows"),
    ("assume_role", (READER,), {"duration": timedelta(seconds=900.5)}, "fraction of a second"),
    ("assume_role", (READER,), {"tags": [1, 2]}, "tags must be strings such as 'project=churn', not int"),
    ("assume_role", (READER,), {"tags": 42}, "tags must be a list of strings"),
    ("assume_role", (READER,), {"tags": {"project": None}}, "the value of tag 'project' must be text"),
    ("assume_role", (READER,), {"tags": {"AWS:team": "ds"}}, "the prefix aws: is reserved"),
    ("assume_role", (READER,), {"tags": {"project": "x"}, "transitive_tags": [1]}, "transitive tags must be strings"),
    ("assume_role", (READER,), {"tags": "project"}, "must be KEY=VALUE"),
    ("assume_role", (READER,), {"policy": 42}, "must be a JSON object"),
    ("assume_role", (READER,), {"policy": {"Statement": {"s3:*"}}}, "cannot be written as JSON"),
    ("assume_role", (READER,), {"policy": {"Version": "2012-10-17"}}, 'has no "Statement"'),
    ("assume_role", (READER,), {"policy_arns": [None]}, "policy ARNs must be strings"),
    ("assume_role", (READER,), {"policy_arns": 42}, "policy ARNs must be a list of strings"),
    ("assume_role", (READER,), {"session_name": 42}, "the session name must be text, not int"),
    ("assume_role", (READER,), {"session_name": "alice\n"}, "session name 'alice\\n' must be"),
    ("assume_role", (READER,), {"external_id": 12345678}, "the external ID must be text"),
    ("assume_role", (READER,), {"region": 1}, "the region must be text"),
    ("assume_role", (READER,), {"region": "us-east-1\n"}, "not a region name"),
    ("assume_role", (READER,), {"source_identity": ["me"]}, "the source identity must be text"),
    ("assume_role", (READER,), {"mfa_serial": 123456789012}, "the MFA serial must be text"),
    ("assume_role", (READER,), {"mfa_serial": SERIAL, "mfa_code": 123456}, "the MFA code must be text"),
    ("assume_role", (READER,), {"mfa_code": 12345}, "the MFA code must be text"),
    ("federation_token", (42,), {}, "the federated user name must be text"),
    ("federation_token", ("analyst",), {"duration": "1d"}, "is not understood"),
    ("federation_token", ("analyst",), {"policy_arns": "arn:aws:iam::aws:policy/"}, "not a managed policy ARN"),
    ("session_token", (), {"duration": 10 ** 10}, "outside what GetSessionToken allows"),
    ("session_token", (), {"mfa_serial": SERIAL, "mfa_code": 12}, "the MFA code must be text"),
    ("session_token", (), {"mfa_serial": SERIAL, "mfa_code": "12 34 56"}, "exactly 6 digits"),
]


@pytest.mark.parametrize("with_role", [False, True], ids=["no-role", "role-active"])
@pytest.mark.parametrize("function, args, kwargs, expect", API_CASES,
                         ids=[f"{f}{a!r:.30}{k!r:.60}" for f, a, k, _ in API_CASES])
def test_the_python_api_refuses_wrong_values_and_types_with_one_message(kernel, capsys, function, args,
                                                                       kwargs, expect, with_role):
    import ipy_tempcreds

    if with_role:
        activate(kernel)
    before, grant = environment_bytes(), kernel.manager.current()
    capsys.readouterr()

    with pytest.raises(TempCredsError) as raised:
        getattr(ipy_tempcreds, function)(*args, **kwargs)

    assert_one_clean_message(str(raised.value), expect, kernel)
    assert capsys.readouterr() == ("", "")
    assert environment_bytes() == before
    assert kernel.manager.current() is grant


def test_the_python_api_without_an_active_role(kernel):
    import ipy_tempcreds

    before = environment_bytes()
    for call, expect in [(ipy_tempcreds.refresh, "nothing to refresh"),
                         (ipy_tempcreds.session, "no temporary credentials are active")]:
        with pytest.raises(TempCredsError) as raised:
            call()
        assert_one_clean_message(str(raised.value), expect, kernel)
    assert environment_bytes() == before


# -- the panel's fields ---------------------------------------------------------------------------------

def _panel_class():
    """The panel is built by another engineer; test it only where it takes submissions."""
    try:
        from ipy_tempcreds.ui.widgets.role_panel import RolePanel
    except ImportError:
        return None
    return RolePanel if hasattr(RolePanel, "handle_action") else None


PANEL_CASES = [
    ({"action": "assume", "role": "arn:aws:iam::123456789012:user/alice"}, "user ARN, not a role ARN", None),
    ({"action": "assume", "role": ""}, "no role given", None),
    ({"action": "assume", "role": "   "}, "no role given", None),
    ({"action": "assume", "role": {"arn": READER}}, "is not a role ARN", None),
    ({"action": "assume", "role": READER, "duration": "5m"}, "outside what AssumeRole allows", None),
    ({"action": "assume", "role": READER, "duration": True}, "is not a number of seconds", None),
    ({"action": "assume", "role": READER, "duration": [3600]}, "is not a number of seconds", None),
    ({"action": "assume", "role": READER, "duration": "1h; rm -rf /"}, "is not understood", None),
    ({"action": "mfa", "code": "12"}, "nothing is waiting for an MFA code", None),
    ({"action": "refresh"}, "nothing to refresh", NO_ROLE),
]


@pytest.mark.skipif(_panel_class() is None, reason="ipy_tempcreds.ui.widgets.role_panel has no RolePanel.handle_action yet")
@pytest.mark.parametrize("with_role", [False, True], ids=["no-role", "role-active"])
@pytest.mark.parametrize("content, expect, only", PANEL_CASES, ids=[json.dumps(c)[:70] for c, _, _ in PANEL_CASES])
def test_the_panel_shows_one_message_for_bad_fields_and_changes_nothing(kernel, capsys, content, expect, only,
                                                                        with_role):
    if with_role and only is NO_ROLE:
        pytest.skip("valid once a role is active")
    if with_role:
        activate(kernel)
    panel = _panel_class()(kernel.manager)
    try:
        before, grant = environment_bytes(), kernel.manager.current()
        capsys.readouterr()
        panel.handle_action(dict(content))
        assert_one_clean_message(panel.error, expect, kernel)
        assert capsys.readouterr() == ("", "")
        assert environment_bytes() == before
        assert kernel.manager.current() is grant
        assert panel.identity == (grant.arn if grant else "")
    finally:
        panel.close()
