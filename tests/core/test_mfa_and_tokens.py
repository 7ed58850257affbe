"""MFA asked once (MFA sessions), renewals that need a code, %federation_token and %session_token.

moto's GetSessionToken always returns the same fixed key and checks no MFA code, so these run with
IAM auth off and assert which STS operations were called, and with what, through the recording
gateway (tests/support.py).
"""

from __future__ import annotations

import os

import pytest

from ipy_tempcreds import api
from support import aws_environment, role_arn

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


@pytest.fixture
def asked(monkeypatch):
    """getpass answers 123456 and records each prompt (a notebook's getpass, minus the human)."""
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or "123456")
    return prompts


def test_an_mfa_session_means_one_code_for_renewals_and_switches(timed, shell, clock, asked):
    manager, gateway = timed
    shell.run_line_magic("assume_role", f"{role_arn('Reader')} --mfa-serial {SERIAL} -q")
    assert asked == [f"MFA code for {SERIAL}: "]
    assert gateway.calls == ["GetSessionToken", "AssumeRole"]
    assert "through an MFA session" in manager.current().source

    clock.advance(45 * 60)
    assert manager.renew_if_due()
    shell.run_line_magic("assume_role", f"{role_arn('Other')} --mfa-serial {SERIAL} -q")
    shell.run_line_magic("assume_role", "--refresh -q")
    assert asked == [f"MFA code for {SERIAL}: "]  # still the one code
    assert gateway.calls == ["GetSessionToken"] + ["AssumeRole"] * 4


def test_without_an_mfa_session_a_renewal_waits_for_a_code_without_blocking(timed, shell, clock, asked, capsys):
    manager, gateway = timed
    manager.settings.mfa_session_duration = 0
    shell.run_line_magic("assume_role", f"{role_arn('Reader')} --mfa-serial {SERIAL} -q")
    assert gateway.calls == ["AssumeRole"] and len(asked) == 1
    key = os.environ["AWS_ACCESS_KEY_ID"]

    clock.advance(45 * 60)
    assert manager.renew_if_due() is False  # no prompt from a background renewal
    assert len(asked) == 1 and manager.needs_mfa_code and os.environ["AWS_ACCESS_KEY_ID"] == key
    shell.run_cell("1")
    err = capsys.readouterr().err
    assert "needs a new MFA code" in err and "--refresh --mfa-code 123456" in err
    shell.run_cell("1")
    assert capsys.readouterr().err == ""  # said once

    shell.run_line_magic("assume_role", "--refresh --mfa-code 654321 -q")
    assert manager.problem is None and not manager.needs_mfa_code
    assert os.environ["AWS_ACCESS_KEY_ID"] != key and gateway.calls == ["AssumeRole", "AssumeRole"]


def test_temporary_source_credentials_cannot_make_an_mfa_session(timed, shell, asked):
    _, gateway = timed
    os.environ["AWS_SESSION_TOKEN"] = "source-session-token"  # e.g. SSO or a role outside the kernel
    shell.run_line_magic("assume_role", f"{role_arn('Reader')} --mfa-serial {SERIAL} -q")
    assert gateway.calls == ["AssumeRole"]


def test_federation_token_is_injected_renewed_and_cleared(timed, shell, run, clock):
    manager, gateway = timed
    before = aws_environment()
    out = run("%federation_token alice-fed --duration 2h --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert out.startswith("Obtained arn:aws:sts::123456789012:federated-user/alice-fed · expires")
    assert "federated user alice-fed" in run("%assume_role --status")
    key = os.environ["AWS_ACCESS_KEY_ID"]
    clock.advance(101 * 60)
    assert manager.renew_if_due()
    assert gateway.calls == ["GetFederationToken", "GetFederationToken"]
    assert os.environ["AWS_CREDENTIAL_EXPIRATION"] != before.get("AWS_CREDENTIAL_EXPIRATION")
    run("%assume_role --clear")
    assert aws_environment() == before and key


def test_session_token_identity_and_clear(timed, run):
    _, gateway = timed
    before = aws_environment()
    out = run("%session_token --duration 1h")
    # GetSessionToken names no identity; it is read with the new keys (moto answers user/moto).
    assert out.startswith("Obtained arn:aws:sts::123456789012:user/moto")
    assert gateway.calls == ["GetSessionToken"]
    run("%assume_role --clear")
    assert aws_environment() == before


@pytest.mark.parametrize(
    "line, message",
    [
        ("%federation_token x", "2-32 characters"),
        ("%federation_token " + "n" * 33, "2-32 characters"),
        ("%federation_token fed --duration 37h", "GetFederationToken allows (15m to 36h)"),
        ("%federation_token", "needs a NAME"),
        ("%session_token --duration 10m", "GetSessionToken allows"),
        ("%session_token --mfa-code 123456", "without an MFA serial"),
        ("%session_token --mfa-serial bad", "MFA serial"),
    ],
)
def test_token_magics_refuse_bad_input(run, line, message):
    before = aws_environment()
    assert message in run(line, expect_error=True)
    assert aws_environment() == before and api.current() is None


def test_python_api_for_tokens(timed):
    import ipy_tempcreds as tc

    grant = tc.federation_token("api-fed", duration=3600)
    assert grant.arn.endswith("federated-user/api-fed")
    assert grant.credentials.secret_access_key not in repr(grant) + str(grant) + grant._repr_html_()
    tc.clear()
