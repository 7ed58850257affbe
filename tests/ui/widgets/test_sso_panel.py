"""The panel's Sign in: offered while the config has SSO profiles and no valid sign-in; a click
starts the device sign-in without blocking the kernel and shows the link and code; afterwards an
SSO profile is assumed from the role field. Widget state (saved in the .ipynb) holds no token."""

from __future__ import annotations

import json
import os
import time

import pytest
from test_panel import click

import ipy_tempcreds
from aws_standin import ACCOUNT
from ipy_tempcreds import api
from sso_support import sso as sso_world  # noqa: F401


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.fixture
def panel(sso_world, shell):
    made = ipy_tempcreds.panel()
    yield made
    made.close()


def test_sign_in_from_the_panel_then_assume_an_sso_profile(sso_world, panel):
    assert panel.show_sso is True and panel.sso_prompt == {}
    click(panel, "sso")  # returns at once: the sign-in waits on its own thread
    wait_for(lambda: panel.sso_prompt.get("state") == "waiting")
    (code,) = sso_world.standin.user_codes()
    assert panel.sso_prompt["code"] == code and panel.sso_prompt["link"].endswith(f"user_code={code}")
    sso_world.standin.approve(code)
    wait_for(lambda: panel.sso_prompt.get("state") == "signed-in")
    assert panel.sso_prompt["message"].startswith("Signed in to https://corp.awsapps.com/start until")
    assert panel.show_sso is False  # a valid sign-in: nothing to offer

    click(panel, "assume", role="analyst", duration=7200)  # the picker's duration does not apply
    assert panel.error == ""
    assert panel.identity.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Reader_")
    assert os.environ["AWS_ACCESS_KEY_ID"] == api.current().access_key_id
    state = json.dumps(panel.get_state())
    grant = api.current()
    for value in sso_world.standin.secrets() | {grant.credentials.secret_access_key, grant.credentials.session_token}:
        assert value not in state, "a secret is in the widget state (it would be saved in the .ipynb)"


def test_a_denied_sign_in_says_so_in_the_panel(sso_world, panel):
    click(panel, "sso")
    wait_for(lambda: panel.sso_prompt.get("state") == "waiting")
    sso_world.standin.deny(panel.sso_prompt["code"])
    wait_for(lambda: panel.sso_prompt.get("state") == "failed")
    assert "denied" in panel.sso_prompt["message"] and panel.sso_prompt["link"] == ""
    assert panel.show_sso is True and sso_world.cache_files() == []


def test_no_sso_profiles_no_sign_in_button(sso_world, shell, isolated_environment):
    (isolated_environment / "config").write_text("[profile keys]\nregion = us-east-1\n")
    made = ipy_tempcreds.panel()
    try:
        assert made.show_sso is False
    finally:
        made.close()


def test_after_sign_in_the_picker_offers_every_account_and_role(sso_world, panel):
    sso_world.standin.aws.set_auth(False)  # seeding
    sso_world.standin.assign("Writer")
    sso_world.standin.aws.set_auth(True)
    assert {"label": "analyst", "arn": "analyst"} in panel.role_options  # the SSO profile, before any sign-in
    click(panel, "sso")
    wait_for(lambda: panel.sso_prompt.get("state") == "waiting")
    sso_world.standin.approve(panel.sso_prompt["code"])
    wait_for(lambda: panel.sso_prompt.get("state") == "signed-in")
    assert {"label": "analytics / Writer", "arn": f"Writer in {ACCOUNT} (IAM Identity Center)"} in panel.role_options
    assert "analytics / Reader" in [option["label"] for option in panel.role_options]

    click(panel, "assume", role="analytics / Writer", duration=3600)
    assert panel.error == ""
    assert "AWSReservedSSO_Writer_" in panel.identity
    assert api.current().source == "IAM Identity Center, corp" == panel.source
    # Renewal asks the portal again for the same pair.
    api.refresh()
    assert sso_world.standin.operations().count("GetRoleCredentials") == 2


def test_the_role_field_shows_the_active_sso_role(sso_world, panel, run, clock):
    """role_label (what the role field shows again) names an SSO grant as it was asked for: from a
    cell, from the panel's field, and for a pair the picker listed."""
    from ipy_tempcreds.sources.sso import device as sso

    sso.sign_in(sso.resolve_target("analyst"), show=lambda code: sso_world.standin.approve(code.user_code),
                clock=clock, sleep=clock.advance)
    assert panel.role_label == ""
    run("%assume_role analyst")
    assert panel.role_label == "analyst"
    click(panel, "release")
    assert panel.role_label == ""
    click(panel, "sso")
    wait_for(lambda: panel.sso_prompt.get("state") == "waiting")
    sso_world.standin.approve(panel.sso_prompt["code"])
    wait_for(lambda: panel.sso_prompt.get("state") == "signed-in")
    click(panel, "assume", role="analytics / Reader", duration=3600)
    assert panel.error == "" and panel.role_label == "analytics / Reader"


def test_an_sso_role_has_one_name_in_the_heading_the_picker_and_the_status(sso_world, panel, run):
    """The picker lists "analytics / Reader"; the heading, the magic's line and its status say the
    same, not the AWSReservedSSO_Reader_… role AWS made for the permission set."""
    click(panel, "sso")
    wait_for(lambda: panel.sso_prompt.get("state") == "waiting")
    sso_world.standin.approve(panel.sso_prompt["code"])
    wait_for(lambda: panel.sso_prompt.get("state") == "signed-in")
    click(panel, "assume", role="analytics / Reader", duration=3600)
    assert "AWSReservedSSO_Reader_" in panel.identity and panel.role_name == "analytics / Reader"
    assert "Role:         analytics / Reader\n" in run("%assume_role")
    # Its SSO profile is the same account and role: the same name.
    assert "(analytics / Reader) · expires" in run("%assume_role analyst")
    assert panel.role_name == "analytics / Reader" and panel.active_duration == 0  # the permission set decides
    run("%assume_role --clear -q")
    assert panel.role_name == ""


def test_before_the_accounts_are_listed_the_account_id_names_it(sso_world, panel, run, clock):
    from ipy_tempcreds.sources.sso import device as sso

    sso.sign_in(sso.resolve_target("analyst"), show=lambda code: sso_world.standin.approve(code.user_code),
                clock=clock, sleep=clock.advance)
    assert f"({ACCOUNT} / Reader) · expires" in run("%assume_role analyst")
    assert panel.role_name == f"{ACCOUNT} / Reader"
