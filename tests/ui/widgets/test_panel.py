"""The role panel's kernel side: what each click does to the credentials and to what the panel shows.

No browser here: the panel's JavaScript talks to the kernel only through custom messages
(``model.send({action, seq, ...})``), so these tests deliver the same messages through ipywidgets'
own custom-message dispatch and read the synced traits the browser would draw. The browser side is
tests/ui/widgets/test_browser.py.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import pytest

import ipy_tempcreds
from ipy_tempcreds import api
from ipy_tempcreds.ui.widgets.role_panel import RolePanel, show_panel
from support import aws_environment, role_arn

MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def click(panel: RolePanel, action: str, **fields) -> list:
    """Deliver what panel.js sends for a click; return the messages the kernel sent back."""
    replies = []
    original = panel.send
    panel.send = lambda content, buffers=None: replies.append(content)
    try:
        # Same path as a real comm message: Widget._handle_msg hands "custom" content to this.
        panel._handle_custom_msg({"action": action, "seq": f"view:{action}", **fields}, [])
    finally:
        panel.send = original
    return replies


@pytest.fixture
def panels(shell):
    """Panels made by a test, closed afterwards so no listener outlives the test's manager."""
    made = []

    def make() -> RolePanel:
        panel = ipy_tempcreds.panel()
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.close()


def secrets_in_use() -> set[str]:
    grant = api.get_manager().current()
    assert grant is not None
    return {grant.credentials.secret_access_key, grant.credentials.session_token}


def assert_no_secret_in_state(panel: RolePanel, secrets: set[str]) -> None:
    state = json.dumps(panel.get_state())
    for secret in secrets:
        assert secret not in state, "a secret is in the widget state (it would be saved in the .ipynb)"


def test_assume_from_the_panel_shows_the_identity_and_its_lifetime(panels):
    panel = panels()
    assert panel.identity == "" and panel.expires_at == 0
    before = os.environ["AWS_ACCESS_KEY_ID"]

    replies = click(panel, "assume", role=role_arn("Reader"), duration=7200)

    grant = api.current()
    assert grant is not None and grant.request.duration == 7200
    assert os.environ["AWS_ACCESS_KEY_ID"] == grant.access_key_id != before
    assert panel.identity == grant.arn and grant.arn.startswith("arn:aws:sts::123456789012:assumed-role/Reader/")
    assert panel.account == "123456789012"
    assert panel.role_label == role_arn("Reader")
    # The browser computes the countdown and the bar from these two numbers alone.
    assert panel.expires_at - panel.obtained_at == pytest.approx(7200 * 1000, abs=2000)
    assert panel.error == "" and not panel.busy and not panel.needs_mfa
    # The browser re-enables its buttons when the kernel says the click was handled.
    assert replies == [{"type": "done", "seq": "view:assume"}]


def test_refresh_renews_and_release_restores_the_environment(panels):
    panel = panels()
    before = aws_environment()
    click(panel, "assume", role=role_arn("Reader"), duration=3600)
    first_key = os.environ["AWS_ACCESS_KEY_ID"]
    first_obtained = panel.obtained_at

    click(panel, "refresh")
    assert panel.error == ""
    assert os.environ["AWS_ACCESS_KEY_ID"] not in (first_key, before["AWS_ACCESS_KEY_ID"])
    assert panel.obtained_at >= first_obtained and panel.identity == api.current().arn

    click(panel, "release")
    assert api.current() is None
    assert aws_environment() == before
    assert (panel.identity, panel.account, panel.expires_at, panel.error) == ("", "", 0, "")


@pytest.mark.parametrize("typed, says", [
    ("arn:aws:iam::123456789012:user/bob", "arn:aws:iam::123456789012:user/bob"),
    ("not-an-alias", "not a role ARN"),
    ("", "no role given"),
])
def test_bad_input_shows_an_error_and_changes_nothing(panels, typed, says):
    panel = panels()
    click(panel, "assume", role=role_arn("Reader"))
    active = aws_environment()
    identity = panel.identity

    replies = click(panel, "assume", role=typed, duration=3600)

    assert says in panel.error
    assert aws_environment() == active and panel.identity == identity == api.current().arn
    assert not panel.busy and replies == [{"type": "done", "seq": "view:assume"}]
    # The next successful action clears the message.
    click(panel, "refresh")
    assert panel.error == ""


def test_sts_refusal_shows_an_error_and_changes_nothing(aws, panels):
    # Only with IAM auth on does moto refuse: a role whose trust policy names someone else.
    stranger = aws.create_user("mallory")
    locked = aws.create_role("Locked", trusted=[stranger.arn])
    panel = panels()
    before = aws_environment()
    aws.set_auth(True)

    click(panel, "assume", role=locked, duration=3600)

    assert "denied" in panel.error and "trust policy" in panel.error
    assert aws_environment() == before and api.current() is None and panel.identity == ""


def test_refresh_and_release_with_nothing_active(panels):
    panel = panels()
    click(panel, "refresh")
    assert "nothing to refresh" in panel.error
    click(panel, "release")  # nothing to drop is not an error
    assert panel.error == "" and panel.identity == ""


def test_a_magic_in_a_cell_shows_in_an_open_panel(panels, run):
    panel = panels()
    run(f"%assume_role {role_arn('Writer')} --session-name from-cell -q")
    assert panel.identity == "arn:aws:sts::123456789012:assumed-role/Writer/from-cell"
    assert panel.expires_at == int(api.current().expiration.timestamp() * 1000)

    run("%assume_role --clear -q")
    assert panel.identity == "" and panel.expires_at == 0


def test_sessions_for_other_roles_are_listed_with_their_lifetimes(panels, run):
    panel = panels()
    run(f"%assume_role {role_arn('Reader')} -q")
    session = api.session(role_arn("Writer"), session_name="beside", duration="2h")
    session.client("sts").get_caller_identity()  # a named session obtains its credentials on use
    [listed] = panel.other_sessions
    assert listed["arn"] == "arn:aws:sts::123456789012:assumed-role/Writer/beside"
    assert 7100_000 < listed["expires_at"] - int(time.time() * 1000) <= 7200_000
    assert panel.identity == api.current().arn and "assumed-role/Reader/" in panel.identity  # the env role stays
    run("%assume_role --clear -q")
    assert panel.other_sessions == []


def test_a_federation_token_shows_but_is_not_put_into_the_role_picker(panels, run):
    panel = panels()
    run("%federation_token analyst --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess -q")
    assert panel.identity == api.current().arn and panel.expires_at > 0
    # The picker holds roles to assume; a federated user's name is not one.
    assert panel.role_label == ""
    click(panel, "refresh")
    assert panel.error == "" and panel.identity == api.current().arn


def test_a_change_of_role_elsewhere_clears_a_stale_error(panels, run):
    panel = panels()
    click(panel, "assume", role="typo")
    assert panel.error
    run(f"%assume_role {role_arn('Reader')} -q")
    assert panel.error == ""


def test_two_panels_stay_in_sync_and_keep_their_own_errors(panels):
    first, second = panels(), panels()
    click(first, "assume", role=role_arn("Reader"), duration=900)
    assert second.identity == first.identity != ""
    assert second.expires_at == first.expires_at

    click(second, "assume", role="arn:aws:iam::123456789012:group/Readers")
    assert second.error and first.error == ""  # only the panel that was used says what went wrong

    click(second, "release")
    assert first.identity == "" and second.identity == ""


def test_a_closed_panel_stops_following(panels, run):
    panel, other = panels(), panels()
    panel.close()
    run(f"%assume_role {role_arn('Reader')} -q")
    assert panel.identity == "" and other.identity != ""
    assert panel.comm is None


def test_a_renewal_from_a_background_thread_reaches_the_panel(panels):
    panel = panels()
    click(panel, "assume", role=role_arn("Reader"))
    obtained = panel.obtained_at
    manager = api.get_manager()
    # The manager renews on its own thread; the panel must take the notification from there.
    worker = threading.Thread(target=manager.refresh)
    worker.start()
    worker.join(30)
    assert panel.identity == api.current().arn and panel.obtained_at >= obtained
    assert panel.expires_at == int(api.current().expiration.timestamp() * 1000)


def test_no_secret_is_ever_widget_state(aws, panels, run):
    panel = panels()
    seen = {aws.base_user.secret_access_key}
    click(panel, "assume", role=role_arn("Reader"))
    seen |= secrets_in_use()
    click(panel, "refresh")
    seen |= secrets_in_use()
    run(f"%assume_role {role_arn('Writer')} --mfa-serial {MFA_SERIAL} --mfa-code 111111 -q")
    seen |= secrets_in_use()
    click(panel, "refresh")
    click(panel, "mfa", code="222222")
    # The MFA codes too, and not even the (unmasked) access key id.
    seen |= secrets_in_use() | {"111111", "222222", os.environ["AWS_ACCESS_KEY_ID"]}
    assert panel.needs_mfa is False and panel.identity.endswith(api.current().request.session_name)
    assert_no_secret_in_state(panel, seen)


def test_refresh_of_an_mfa_role_asks_for_a_code_in_the_panel(panels, run):
    # Without an MFA session every renewal needs a fresh code.
    run("%config TempCreds.mfa_session_duration = 0")
    panel = panels()
    run(f"%assume_role {role_arn('Admin')} --mfa-serial {MFA_SERIAL} --mfa-code 123456 -q")
    key = os.environ["AWS_ACCESS_KEY_ID"]

    click(panel, "refresh")
    assert panel.needs_mfa and panel.mfa_device == MFA_SERIAL
    assert panel.error == "" and os.environ["AWS_ACCESS_KEY_ID"] == key

    click(panel, "mfa", code="12")  # a typo: the field stays for another try
    assert "6" in panel.error and panel.needs_mfa and os.environ["AWS_ACCESS_KEY_ID"] == key

    click(panel, "mfa", code="654321")
    assert not panel.needs_mfa and panel.mfa_device == "" and panel.error == ""
    assert os.environ["AWS_ACCESS_KEY_ID"] != key

    # The code was used once: a second submission has nothing to continue.
    click(panel, "mfa", code="654321")
    assert "nothing is waiting for an MFA code" in panel.error


def test_with_an_mfa_session_refresh_needs_no_new_code(panels, run):
    panel = panels()
    run(f"%assume_role {role_arn('Admin')} --mfa-serial {MFA_SERIAL} --mfa-code 123456 -q")
    key = os.environ["AWS_ACCESS_KEY_ID"]
    click(panel, "refresh")
    assert not panel.needs_mfa and panel.error == "" and os.environ["AWS_ACCESS_KEY_ID"] != key


def test_a_renewal_that_needs_a_code_opens_the_code_field(timed, clock):
    manager, _ = timed
    manager.settings.mfa_session_duration = 0
    manager.activate(manager.role_request(role_arn("Admin"), mfa_serial=MFA_SERIAL), mfa_code="123456")
    panel = RolePanel(manager)
    try:
        clock.advance(manager.seconds_until_due() + 1)
        manager.renew_if_due()  # what the renewal thread does; it cannot ask for a code

        assert panel.needs_mfa and panel.mfa_device == MFA_SERIAL
        assert "MFA code" in panel.problem
        key = os.environ["AWS_ACCESS_KEY_ID"]
        click(panel, "mfa", code="654321")
        assert not panel.needs_mfa and panel.problem == "" and panel.error == ""
        assert os.environ["AWS_ACCESS_KEY_ID"] != key
    finally:
        panel.close()


def test_assume_of_a_role_that_needs_mfa_asks_for_a_code(panels, monkeypatch):
    # The picker cannot yet name a role with an MFA device (profiles with mfa_serial will); give
    # every request one, as such a profile would.
    manager = api.get_manager()
    resolve = manager.role_request
    monkeypatch.setattr(manager, "role_request", lambda role, **kw: resolve(role, mfa_serial=MFA_SERIAL, **kw))
    panel = panels()
    before = aws_environment()

    click(panel, "assume", role=role_arn("Admin"), duration=3600)
    assert panel.needs_mfa and panel.mfa_device == MFA_SERIAL and aws_environment() == before

    click(panel, "cancel_mfa")
    assert not panel.needs_mfa and aws_environment() == before

    click(panel, "assume", role=role_arn("Admin"), duration=3600)
    click(panel, "mfa", code="246810")
    assert panel.identity.startswith("arn:aws:sts::123456789012:assumed-role/Admin/")
    assert api.current().request.mfa_serial == MFA_SERIAL and not panel.needs_mfa


def test_the_pickers_offer_aliases_and_the_configured_duration(panels, run):
    panel = panels()
    assert [o["seconds"] for o in panel.duration_options] == [900, 3600, 7200, 14400, 28800, 43200]
    assert panel.default_duration == 3600

    run(f"%config TempCreds.roles = {{'reader': '{role_arn('Reader')}'}}")
    run("%config TempCreds.default_duration = 5400")
    assert panel.role_options[0] == {"label": "reader", "arn": role_arn("Reader")}
    assert panel.default_duration == 5400
    assert {"label": "1h 30m", "seconds": 5400} in panel.duration_options

    click(panel, "assume", role="reader", duration=5400)
    assert panel.role_label == "reader" and "assumed-role/Reader/" in panel.identity
    # Whatever the manager offers after an assume (recently used roles) reaches the picker.
    click(panel, "assume", role=role_arn("Auditor"), duration=900)
    assert panel.role_options == [{"label": label, "arn": arn} for label, arn in api.get_manager().roles.candidates()]
    assert role_arn("Auditor") in [o["arn"] for o in panel.role_options]


def test_an_unknown_action_is_a_bug_not_a_user_error(panels):
    panel = panels()
    with pytest.raises(ValueError, match="unknown role panel action"):
        panel.handle_action({"action": "explode"})
    assert not panel.busy and panel.error == ""
    # Through the comm, ipywidgets shows the traceback; the browser still gets its answer.
    assert click(panel, "explode") == [{"type": "done", "seq": "view:explode"}]


def test_panel_stays_callable_after_the_panel_module_is_imported(panels, run):
    """Importing a submodule sets it as an attribute of the package: a module named like the
    public function would replace ipy_tempcreds.panel() by a module once %role_panel ran."""
    import ipy_tempcreds

    run("%role_panel")
    assert isinstance(ipy_tempcreds.panel(), RolePanel)


def test_role_panel_magic_displays_a_panel(run, capsys):
    # The terminal shell renders a widget as its text form, which says what is active.
    out = run("%role_panel")
    assert "<RolePanel: no temporary credentials active>" in out
    run(f"%assume_role {role_arn('Reader')} --session-name shown -q")
    assert "assumed-role/Reader/shown · expires" in run("%role_panel")


def test_sidebar_without_sidecar_says_what_to_install(run, monkeypatch):
    monkeypatch.setitem(sys.modules, "sidecar", None)  # makes `import sidecar` fail
    message = run("%role_panel --sidebar", expect_error=True)
    assert 'pip install sidecar, then reload' in message


def test_sidebar_shows_the_panel_in_a_sidecar_and_replaces_the_previous_one(shell):
    from ipy_tempcreds._kernel import STATE

    manager = api.get_manager()
    show_panel(manager, sidebar=True)
    sidecar, first = STATE.sidebar
    assert sidecar.title == "AWS role" and sidecar.anchor == "right"
    shown = sidecar.outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert shown == first.model_id

    show_panel(manager, sidebar=True)
    second_sidecar, second = STATE.sidebar
    assert first.comm is None and sidecar.comm is None  # the old tab is closed, not stacked
    second.close()
    second_sidecar.close()
    STATE.sidebar = None


def test_a_view_asking_for_the_time_gets_the_kernels_clock(panels, clock):
    """panel.js asks once, when a view is drawn, and counts down on the kernel's clock (a browser
    talking to a remote kernel can be minutes off). The kernel's clock is the fake one here."""
    panel = panels()
    api.get_manager().clock = clock
    clock.advance(1800)
    replies = []
    original = panel.send
    panel.send = lambda content, buffers=None: replies.append(content)
    try:
        panel._handle_custom_msg({"clock": True}, [])
    finally:
        panel.send = original
    assert replies == [{"type": "clock", "now": int(clock().timestamp() * 1000)}]
    assert not panel.busy and panel.error == ""


def test_the_panel_says_where_the_credentials_come_from_and_how_they_are_delivered(panels, run):
    panel = panels()
    assert (panel.source, panel.delivery) == ("", "environment")
    run(f"%assume_role {role_arn('Reader')} -q")
    # The base user's keys are in the kernel's environment: an IAM user's keys.
    assert panel.source == "IAM user keys"
    assert panel.source_detail == api.current().source
    # %config TempCreds.delivery while active: an open panel redraws, a new one starts with it.
    settings = api.get_settings()
    settings.delivery = "endpoint"
    assert panel.delivery == "endpoint" and panels().delivery == "endpoint"
    settings.delivery = "environment"
    assert panel.delivery == "environment"


def test_the_console_place_is_shown_and_sign_in_hidden_until_a_module_shows_it(panels):
    panel = panels()
    assert (panel.show_console, panel.show_sso) == (True, False)  # direct/console.py shows its button
    assert {"show_console", "show_sso"} <= set(panel.get_state())
