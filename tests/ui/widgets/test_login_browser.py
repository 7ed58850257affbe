"""The panel's console sign-in in JupyterLab (headless Chromium): Sign in shows the link as a
clickable link and, on a kernel with no browser of its own, a field for the code; the person signs
in at the AWS Sign-In stand-in and pastes the code; the panel shows the console identity and the
login session's hours beside the credentials' minutes. Its pictures go to docs/ (screenshot_paths)."""

from __future__ import annotations

import os

import pytest

from browser_support import require_browser, screenshot_paths
from jupyterlab_harness import JupyterLabServer, KernelTraffic, running_browser
from login_support import SESSION, assert_no_secret
from login_support import login_world as world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser


def test_sign_in_from_the_panel_with_the_code_from_another_device(world, tmp_path):
    require_browser()
    from playwright.sync_api import expect

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    (tmp_path / "lab").mkdir()
    server = JupyterLabServer(tmp_path / "lab", env)
    with running_browser(server) as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(30_000)
        notebook = server.open_notebook(page, "login.ipynb", KernelTraffic(page))
        notebook.run("%load_ext ipy_tempcreds")
        panel = notebook.run("%role_panel").locator(".tempcreds-panel")
        panel.wait_for()

        sign_in = panel.locator(".tempcreds-login")
        expect(sign_in).to_be_visible()
        sign_in.click()
        link = panel.locator(".tempcreds-login-link")
        expect(link).to_be_visible()
        href = link.get_attribute("href")
        assert href.startswith(f"{world.standin.url}/v1/authorize?") and link.get_attribute("target") == "_blank"
        code_field = panel.locator(".tempcreds-login-code")
        expect(code_field).to_be_visible()
        page.mouse.move(0, 0)
        waiting, signed = screenshot_paths(server.workdir, "login-panel-code.png", "login-panel-signed-in.png")
        panel.screenshot(path=str(waiting))

        code = world.standin.sign_in(href).paste_code  # the person, on another device
        code_field.fill("not the code")
        panel.locator(".tempcreds-login-submit").click()
        expect(panel.locator(".tempcreds-error")).to_contain_text("not the code the sign-in page shows")
        expect(code_field).to_have_value("")
        # The panel takes the next code once the kernel has answered the last one (it ignores Enter before).
        expect(panel.locator(".tempcreds-login-submit")).to_be_enabled()
        code_field.fill(code)
        code_field.press("Enter")
        expect(panel.locator(".tempcreds-identity-arn")).to_contain_text("assumed-role/Admin/alice", timeout=30_000)
        expect(panel.locator(".tempcreds-login-session")).to_contain_text("Login session: 11h 59m")
        expect(panel.locator(".tempcreds-remaining-value")).to_contain_text("m")
        expect(sign_in).to_be_hidden()
        expect(panel.locator(".tempcreds-login-code")).to_be_hidden()
        page.mouse.move(0, 0)
        panel.screenshot(path=str(signed))
        assert world.cache_entry(SESSION)["clientId"].endswith("/cross-device")
        assert_no_secret(page.content(), world)
