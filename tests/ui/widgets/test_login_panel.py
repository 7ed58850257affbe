"""The panel's console sign-in (ui/widgets/login_panel.py) without a browser: Sign in starts it, the
link and (cross-device) the code field appear, a wrong code keeps it waiting, the right one makes
the login the base identity; the login session's end is synced; no synced trait ever holds a code,
a token or a key."""

from __future__ import annotations

import json
import time
import webbrowser

import pytest

from ipy_tempcreds import api
from login_support import SESSION, assert_no_secret
from login_support import login_world as world  # noqa: F401 (the fixture)


@pytest.fixture
def panel(shell, world):
    from ipy_tempcreds.ui.widgets.role_panel import RolePanel

    widget = RolePanel(api.get_manager())
    yield widget
    widget.close()


def synced(panel) -> str:
    return json.dumps(panel.get_state(), default=str)


def test_cross_device_from_the_panel_with_a_wrong_code_then_the_right_one(world, panel):
    assert panel.show_login and panel.login_ends == 0
    panel.handle_action({"action": "login", "remote": True})
    prompt = panel.login_prompt
    assert prompt["state"] == "waiting" and prompt["remote"] and prompt["link"].startswith(world.standin.url)
    message = {"action": "login_code", "code": "c2FsdA=="}
    panel.handle_action(message)
    assert "names no sign-in" in panel.error and panel.login_prompt["state"] == "waiting"
    assert "code" not in message  # taken out of the message: no log or traceback can show it
    code = world.standin.sign_in(prompt["link"]).paste_code
    panel.handle_action({"action": "login_code", "code": code})
    assert panel.error == "" and panel.identity == SESSION and not panel.show_login
    assert panel.login_prompt == {"state": "signed-in", "message": f"Signed in as {SESSION}.", "link": "", "remote": False}
    manager = api.get_manager()
    assert panel.login_ends == int(manager.base.request.session_ends.timestamp() * 1000)
    assert_no_secret(synced(panel), world)
    assert code not in synced(panel)


def test_same_device_from_the_panel_follows_the_browser(world, panel, monkeypatch):
    monkeypatch.setenv("BROWSER", "a browser here")
    monkeypatch.setattr(webbrowser, "open", world.standin.browser())
    panel.handle_action({"action": "login"})
    assert panel.login_prompt["state"] == "waiting" and not panel.login_prompt["remote"]
    for _ in range(200):
        if panel.login_prompt.get("state") != "waiting":
            break
        time.sleep(0.05)
    assert panel.login_prompt["state"] == "signed-in" and panel.identity == SESSION


def test_cancel_from_the_panel(world, panel):
    panel.handle_action({"action": "login", "remote": True})
    panel.handle_action({"action": "login_cancel"})
    assert panel.login_prompt["state"] == "cancelled" and panel.login_prompt["link"] == ""
    assert world.cache_files() == []
