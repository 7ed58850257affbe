"""DEBUG logging turned on by the user, the two ways users do, shows no secret (base/logs.py's record
factory, base/redaction.py's registry).

``logging.basicConfig(level=logging.DEBUG)`` and ``boto3.set_stream_logger("")`` each make botocore
print STS, SSO OIDC and portal answers (bodies with SecretAccessKey, SessionToken, accessToken,
refreshToken, clientSecret) and request headers (X-Amz-Security-Token, x-amz-sso_bearer_token).
Each test checks the log really holds those requests and answers, then that no secret the session
handled appears in it. tests/base/test_logs_debug_kernel.py does the same in a real kernel.
"""

from __future__ import annotations

import io
import logging
import os
from datetime import datetime, timedelta, timezone

import pytest

from ipy_tempcreds import api
from ipy_tempcreds.base import logs, redaction
from login_support import login_world  # noqa: F401 (the fixture)
from sso_support import sso as sso_world  # noqa: F401 (the fixture)
from support import role_arn, served_token

WAYS = ("basicConfig", "set_stream_logger")


@pytest.fixture(params=WAYS)
def debug_log(request):
    """DEBUG for every logger, to a stream, as a user turns it on; returns a function that gives
    what was logged so far. The root logger's handlers and levels are put back afterwards."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), {n: logging.getLogger(n).level for n in ("botocore", "boto3", "urllib3")})
    buffer = io.StringIO()
    if request.param == "basicConfig":
        logging.basicConfig(level=logging.DEBUG, stream=buffer, force=True)  # force: pytest's handler is there
    else:
        import contextlib

        import boto3

        root.handlers = []
        with contextlib.redirect_stderr(buffer):  # its StreamHandler takes sys.stderr as it is made
            boto3.set_stream_logger("", logging.DEBUG)
    yield buffer.getvalue
    root.setLevel(saved[0])
    root.handlers = saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def collected(manager) -> set[str]:
    """Every grant's secrets from now on (a follower of the manager)."""
    values: set[str] = set()

    def grab(change):
        grant = change.grant
        while grant is not None:
            values.update((grant.credentials.secret_access_key, grant.credentials.session_token))
            grant = grant.parent

    manager.subscribe(grab)
    return values


def leaks(text: str, secrets: set[str]) -> list[str]:
    # Named by length, not shown: a failing test's output is an artefact too.
    return [f"a secret of {len(s)} characters" for s in secrets if s and s in text]


def test_sts_answers_and_signed_requests_at_debug_show_no_secret(shell, aws, debug_log):
    for name in ("Reader", "Other"):
        aws.create_role(name, [aws.base_user.arn])
    secrets = collected(api.get_manager())
    secrets.add(aws.base_user.secret_access_key)
    shell.run_line_magic("assume_role", f"{role_arn('Reader')} -q")
    shell.run_line_magic("assume_role", "--refresh -q")
    import boto3

    boto3.client("s3").list_buckets()  # signed with the role: X-Amz-Security-Token in the headers
    shell.run_line_magic("aws_whoami", "")
    shell.run_line_magic("config", 'TempCreds.delivery = "endpoint"')
    shell.run_line_magic("assume_role", f"{role_arn('Other')} -q")
    secrets.add(served_token())
    boto3.client("sts").get_caller_identity()  # the kernel's own client, through the endpoint
    shell.run_line_magic("assume_role", "--clear")
    text = debug_log()
    # The log holds what botocore prints at DEBUG (else finding nothing would prove nothing).
    assert "<SecretAccessKey>[hidden]</SecretAccessKey>" in text and "<SessionToken>[hidden]</SessionToken>" in text
    assert "X-Amz-Security-Token" in text or "x-amz-security-token" in text.lower()
    assert len(secrets) >= 7
    assert leaks(text, secrets) == []


def test_a_handler_added_later_and_a_child_logger_show_no_secret(shell, aws, tmp_path):
    """A filter on the handlers there are would miss these; the record factory does not."""
    aws.create_role("Reader", [aws.base_user.arn])
    secrets = collected(api.get_manager())
    shell.run_line_magic("assume_role", f"{role_arn('Reader')} -q")
    path = tmp_path / "later.log"
    handler = logging.FileHandler(path)
    botocore = logging.getLogger("botocore")
    level = botocore.level
    botocore.setLevel(logging.DEBUG)
    botocore.addHandler(handler)
    try:
        shell.run_line_magic("assume_role", "--refresh -q")
        grant = api.current()
        # A user's own code, careless: the secret in a message, in arguments, in an exception.
        user = logging.getLogger("analysis.step")
        user.warning("keys: %s / %s", grant.credentials.secret_access_key, grant.credentials.session_token)
        try:
            raise RuntimeError(f"failed with {grant.credentials.session_token}")
        except RuntimeError:
            botocore.exception("unexpected")
    finally:
        botocore.removeHandler(handler)
        botocore.setLevel(level)
        handler.close()
    text = path.read_text()
    assert "Response body" in text and "RuntimeError: failed with [hidden]" in text
    assert leaks(text, secrets) == []


def test_iam_identity_center_tokens_at_debug_show_no_secret(sso_world, clock, debug_log, shell):
    from ipy_tempcreds.sources.sso import device

    target = device.resolve_target("analyst")
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        clock.advance(seconds)
        if len(waits) == 2:
            sso_world.approve_latest()

    device.sign_in(target, show=lambda code: None, clock=clock, sleep=sleep)
    shell.run_line_magic("assume_role", "analyst -q")  # GetRoleCredentials with the bearer token
    text = debug_log()
    assert "CreateToken" in text and "x-amz-sso_bearer_token" in text.lower() and "roleCredentials" in text
    secrets = sso_world.standin.secrets()
    assert len(secrets) >= 5  # client secret, device code, access and refresh tokens, role credentials
    assert leaks(text, secrets) == []


def test_a_console_sign_in_url_logged_by_the_user_shows_no_token(shell, aws, debug_log, local_aws):
    from federation_standin import Standin

    standin = Standin(local_aws.url).start()
    try:
        aws.create_role("Reader", [aws.base_user.arn])
        os.environ["AWS_ENDPOINT_URL_STS"] = standin.url
        api.get_settings().signin_endpoint = standin.endpoint
        shell.run_line_magic("assume_role", f"{role_arn('Reader')} -q")
        url = api.console_url("s3")
        logging.getLogger("notebook").info("opening %s", url)
        logging.getLogger("notebook").info("opening %s", str(url))
        (token,) = standin.tokens
        text = debug_log()
        assert "opening" in text and str(url) not in text and token not in text
        assert leaks(text, {api.current().credentials.secret_access_key, api.current().credentials.session_token}) == []
    finally:
        standin.stop()


# -- the factory's life --------------------------------------------------------------------------------

def test_unload_puts_the_previous_factory_back_and_a_later_wrapper_keeps_working(shell):
    assert logs.record_factory_installed()
    ours = logging.getLogRecordFactory()
    shell.extension_manager.unload_extension("ipy_tempcreds")
    try:
        assert not logs.record_factory_installed() and logging.getLogRecordFactory() is not ours
    finally:
        shell.extension_manager.load_extension("ipy_tempcreds")
    # Another library wraps ours after the load: the unload cannot take ours out of its chain, so it
    # switches it off; the other library's factory still runs.
    ours = logging.getLogRecordFactory()
    seen = []

    def theirs(*args, **kwargs):
        record = ours(*args, **kwargs)
        seen.append(record.getMessage())
        return record

    logging.setLogRecordFactory(theirs)
    redaction.remember("SECRET-VALUE-0123456789")
    try:
        shell.extension_manager.unload_extension("ipy_tempcreds")
        logging.getLogger("x").warning("shown as is: SECRET-VALUE-0123456789")
        assert seen[-1] == "shown as is: SECRET-VALUE-0123456789"
    finally:
        logging.setLogRecordFactory(ours.previous)
        shell.extension_manager.load_extension("ipy_tempcreds")


def test_remembered_values_are_hidden_in_every_encoding_and_only_the_recent_ones_are_kept():
    redaction.forget_all()
    value = "abc/def+ghi=jkl_mno-pqr"
    redaction.remember(value, "short", None, 42)
    from urllib.parse import quote, quote_plus

    for form in (value, quote(value, safe=""), quote_plus(value)):
        assert redaction.redact(f"x{form}y") == "x[hidden]y"
    assert redaction.remembered() == 1  # too short to be a secret, or not text: ignored
    for number in range(redaction.KEEP + 5):
        redaction.remember(f"value-number-{number:06d}")
    assert redaction.remembered() == redaction.KEEP
    assert value in redaction.redact(value)  # the oldest went first
    redaction.forget_all()


def test_credentials_register_themselves_whatever_their_source():
    from ipy_tempcreds.model.credentials import TemporaryCredentials

    made = TemporaryCredentials("ASIAREGISTERED00001", "s3cr3t" * 7, "t0k3n" * 30, datetime.now(timezone.utc) + timedelta(hours=1))
    assert redaction.redact(f"{made.secret_access_key} {made.session_token}") == "[hidden] [hidden]"


def test_an_aws_login_sign_in_and_its_renewal_at_debug_show_no_token(login_world, timed, run, debug_log, monkeypatch):
    """AWS Sign-In (%aws_login): the authorization code and verifier, the DPoP-bound access and
    refresh tokens, the id token, the console credentials; then a renewal with the refresh token."""
    import getpass
    import re

    from IPython.core.error import StdinNotImplementedError

    def refuse(prompt=""):
        raise StdinNotImplementedError("raw_input was called, but this frontend does not support input requests.")

    monkeypatch.setattr(getpass, "getpass", refuse)
    out = run("%aws_login --remote --profile console")
    link = re.search(r"(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)", out).group(1)
    code = login_world.standin.sign_in(link).paste_code
    assert run(f"%aws_login --code {code}").startswith("Signed in as")
    run("%assume_role --refresh")
    text = debug_log()
    assert '"refreshToken": "[hidden]"' in text and '"code": "[hidden]"' in text  # botocore's records of Sign-In
    secrets = login_world.secrets() | {code}
    assert len(secrets) >= 4
    assert leaks(text, secrets) == []
