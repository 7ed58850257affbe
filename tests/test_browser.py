"""The role panel as a user meets it: JupyterLab in headless Chromium, a real kernel, moto for STS.

One JupyterLab server, browser and notebook serve every test here (starting them is most of the
cost). Each test puts the panel in the state it needs first, through the panel or a magic.
The kernel inherits the server's environment, which points every AWS call at the local moto server.

Skipped, with the reason, when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (CI).
UPDATE_SCREENSHOTS=1 rewrites docs/panel.png and docs/panel-dark.png from this run.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from jupyterlab_harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    JupyterLabServer,
    KernelTraffic,
    Notebook,
    StopOnSigterm,
    write_notebook,
)
from support import role_arn

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"
MFA_CODE = "314159"


def browser_missing(reason: str):
    """Skip visibly, unless CI says the browser must be there (REQUIRE_BROWSER=1)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class Lab:
    def __init__(self, server, page, notebook, traffic, secrets_file, base_secret):
        self.server = server
        self.page = page
        self.notebook = notebook
        self.traffic = traffic
        self.secrets_file = secrets_file
        self.base_secret = base_secret

    @property
    def panel(self):
        return self.page.locator(".jp-Notebook .tempcreds-panel").first

    def settle(self, panel=None) -> None:
        """Wait until the kernel has answered the last click (the view marks itself busy until)."""
        from playwright.sync_api import expect

        expect(panel or self.panel).not_to_have_class(re.compile(r"\btempcreds-busy\b"), timeout=20_000)


def server_environment(local_aws, home: Path) -> tuple[dict[str, str], str]:
    """The user's environment for the server and its kernels: AWS pointed at moto, nothing from
    the developer's own AWS setup (this module fixture starts before the per-test isolation)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "BOTO_CONFIG"}
    (home / "aws").mkdir()
    (home / "aws" / "config").write_text("")
    (home / "aws" / "credentials").write_text("")
    base = local_aws.create_user("browser-user")
    env.update(local_aws.client_environ())
    env.update(base.environ(), AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(home / "aws" / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / "aws" / "credentials"))
    return env, base.secret_access_key


@pytest.fixture(scope="module")
def lab(local_aws, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        browser_missing(f"{CHROMIUM} is missing (apt-get install -y --no-install-recommends chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("playwright is not installed (pip install -e '.[test]')")

    home = tmp_path_factory.mktemp("jupyterlab")
    env, base_secret = server_environment(local_aws, home)
    server = JupyterLabServer(home, env)
    secrets_file = home / "secrets.json"
    with StopOnSigterm() as on_sigterm:
        on_sigterm.cleanups.append(server.stop)
        try:
            server.start()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.set_default_timeout(30_000)
                    traffic = KernelTraffic(page)  # before the kernel's websocket opens
                    path = server.root / "panel.ipynb"
                    write_notebook(path)
                    page.goto(f"{server.url}/lab/tree/panel.ipynb?token={server.token}")
                    notebook = Notebook(page, path)
                    notebook.cells().first.wait_for()
                    notebook.wait_for_kernel_idle()
                    notebook.run("%load_ext ipy_tempcreds")
                    # The test learns every secret the kernel holds through a file, never an
                    # output (outputs are saved in the notebook the test then searches).
                    notebook.run(
                        "import json, os, time\n"
                        "import ipy_tempcreds.api as tc_api\n"
                        "seen_secrets = set()\n"
                        "def collect_secrets(grant):\n"
                        "    if grant is not None:\n"
                        "        seen_secrets.update((grant.credentials.secret_access_key, grant.credentials.session_token))\n"
                        f"        json.dump(sorted(seen_secrets), open({str(secrets_file)!r}, 'w'))\n"
                        "tc_api.get_manager().subscribe(collect_secrets)\n"
                        "def aws_env():\n"
                        "    return {k: v for k, v in os.environ.items() if k.startswith('AWS_')}\n"
                        "base_env = aws_env()"
                    )
                    notebook.run(f"%config TempCreds.roles = {{'analytics-reader': {role_arn('AnalyticsReader')!r}, 'admin': {role_arn('Admin')!r}}}")
                    cell = notebook.run("%role_panel")
                    cell.locator(".tempcreds-panel").wait_for()
                    yield Lab(server, page, notebook, traffic, secrets_file, base_secret)
                finally:
                    browser.close()
        finally:
            server.stop()


def test_assume_countdown_refresh_and_release_from_the_panel(lab):
    from playwright.sync_api import expect

    panel, notebook = lab.panel, lab.notebook
    panel.locator(".tempcreds-role").fill(role_arn("Reader"))
    panel.locator(".tempcreds-duration").select_option("3600")
    panel.locator(".tempcreds-assume").click()
    lab.settle()
    expect(panel.locator(".tempcreds-identity")).to_contain_text("arn:aws:sts::123456789012:assumed-role/Reader/")
    expect(panel.locator(".tempcreds-identity")).to_contain_text("account 123456789012")
    expect(panel.locator(".tempcreds-remaining")).to_contain_text(re.compile(r"\b(59m|1h 0m) \d+s left"))
    assert notebook.output_of("print(os.environ['AWS_SESSION_TOKEN'] != base_env.get('AWS_SESSION_TOKEN'))") == "True"

    # The countdown is the browser's own: it goes on while a cell keeps the kernel busy.
    sleeping = notebook.run("time.sleep(3)", wait=False)
    expect(sleeping.locator(".jp-InputPrompt")).to_have_text("[*]:")
    before = panel.locator(".tempcreds-remaining-value").inner_text()
    lab.page.wait_for_timeout(1300)  # more than one tick, well inside the 3 s the cell runs
    after = panel.locator(".tempcreds-remaining-value").inner_text()
    assert notebook.is_running(sleeping), "the kernel should still be busy"
    assert after != before
    notebook.wait_for(sleeping)

    notebook.run("key_after_assume = os.environ['AWS_ACCESS_KEY_ID']")
    panel.locator(".tempcreds-refresh").click()
    lab.settle()
    assert notebook.output_of("print(os.environ['AWS_ACCESS_KEY_ID'] != key_after_assume)") == "True"
    expect(panel.locator(".tempcreds-error")).to_be_hidden()

    panel.locator(".tempcreds-release").click()
    lab.settle()
    expect(panel.locator(".tempcreds-identity")).to_contain_text("No role assumed")
    expect(panel.locator(".tempcreds-remaining")).to_be_hidden()
    expect(panel.locator(".tempcreds-refresh")).to_be_disabled()
    assert notebook.output_of("print(aws_env() == base_env)") == "True"


def test_a_bad_role_shows_the_error_and_changes_nothing(lab):
    from playwright.sync_api import expect

    panel, notebook = lab.panel, lab.notebook
    notebook.run(f"%assume_role {role_arn('Reader')} --session-name before-typo -q")
    notebook.run("env_before_typo = aws_env()")
    panel.locator(".tempcreds-role").fill("arn:aws:iam::123456789012:user/bob")
    panel.locator(".tempcreds-assume").click()
    lab.settle()
    expect(panel.locator(".tempcreds-error")).to_be_visible()
    expect(panel.locator(".tempcreds-error")).to_contain_text("is an IAM user ARN, not a role ARN")
    expect(panel.locator(".tempcreds-identity")).to_contain_text("assumed-role/Reader/before-typo")
    assert notebook.output_of("print(aws_env() == env_before_typo)") == "True"


def test_the_panel_follows_a_magic_and_is_silent_while_counting_down(lab):
    from playwright.sync_api import expect

    panel, notebook = lab.panel, lab.notebook
    notebook.run(f"%assume_role {role_arn('Writer')} --session-name from-cell --duration 2h -q")
    expect(panel.locator(".tempcreds-identity")).to_contain_text("assumed-role/Writer/from-cell")
    expect(panel.locator(".tempcreds-remaining")).to_contain_text(re.compile(r"\b(1h 59m|2h 0m) \d+s left"))
    # The magic's success also cleared the previous test's error in the panel.
    expect(panel.locator(".tempcreds-error")).to_be_hidden()

    mark = lab.traffic.mark()
    before = panel.locator(".tempcreds-remaining-value").inner_text()
    lab.page.wait_for_timeout(5000)
    after = panel.locator(".tempcreds-remaining-value").inner_text()
    idle_traffic = lab.traffic.since(mark)
    assert after != before
    assert [m for m in idle_traffic if m[2].startswith("comm")] == [], idle_traffic

    # The same counter does see the panel's messages when there are some.
    mark = lab.traffic.mark()
    panel.locator(".tempcreds-refresh").click()
    lab.settle()
    clicked = lab.traffic.since(mark)
    assert ("sent", "shell", "comm_msg") in clicked and ("received", "iopub", "comm_msg") in clicked


def test_an_mfa_code_is_asked_in_the_panel_when_a_refresh_needs_one(lab):
    from playwright.sync_api import expect

    panel, notebook = lab.panel, lab.notebook
    notebook.run("%config TempCreds.mfa_session_duration = 0")  # every renewal needs a new code
    notebook.run(f"%assume_role {role_arn('Admin')} --session-name with-mfa --mfa-serial {MFA_SERIAL} --mfa-code 123456 -q")
    notebook.run("key_before_mfa = os.environ['AWS_ACCESS_KEY_ID']")
    expect(panel.locator(".tempcreds-mfa")).to_be_hidden()

    panel.locator(".tempcreds-refresh").click()
    lab.settle()
    expect(panel.locator(".tempcreds-mfa")).to_be_visible()
    expect(panel.locator(".tempcreds-mfa")).to_contain_text(MFA_SERIAL)
    expect(panel.locator(".tempcreds-mfa-code")).to_be_focused()
    lab.page.keyboard.type(MFA_CODE)
    lab.page.keyboard.press("Enter")
    lab.settle()
    expect(panel.locator(".tempcreds-mfa")).to_be_hidden()
    expect(panel.locator(".tempcreds-mfa-code")).to_have_value("")
    expect(panel.locator(".tempcreds-error")).to_be_hidden()
    assert notebook.output_of("print(os.environ['AWS_ACCESS_KEY_ID'] != key_before_mfa)") == "True"
    notebook.run("%config TempCreds.mfa_session_duration = 43200")


def test_the_sidebar_panel_shows_the_same_state_and_fits(lab):
    from playwright.sync_api import expect

    notebook, page = lab.notebook, lab.page
    notebook.run("%assume_role analytics-reader --session-name sidebar-user -q")
    notebook.run("%role_panel --sidebar")
    side = page.locator("#jp-right-stack .jupyterlab-sidecar .tempcreds-panel")
    side.wait_for()
    expect(side.locator(".tempcreds-identity")).to_contain_text("assumed-role/AnalyticsReader/sidebar-user")
    expect(side.locator(".tempcreds-role")).to_have_value("analytics-reader")

    # A click in the sidebar shows in the notebook's panel too.
    side.locator(".tempcreds-release").click()
    lab.settle(side)
    expect(lab.panel.locator(".tempcreds-identity")).to_contain_text("No role assumed")
    side.locator(".tempcreds-assume").click()
    lab.settle(side)
    expect(lab.panel.locator(".tempcreds-identity")).to_contain_text("assumed-role/AnalyticsReader/")

    width = side.evaluate("el => el.getBoundingClientRect().width")
    assert width <= 400, f"the sidebar is {width}px wide; the check below is meant for a narrow one"
    overflowing = side.evaluate(
        """panel => [panel, ...panel.querySelectorAll('button, input, .tempcreds-remaining-row, .tempcreds-identity, .tempcreds-fields')]
             .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
             .map(el => el.className)"""
    )
    assert overflowing == []
    arn = side.locator(".tempcreds-identity-arn")
    assert arn.get_attribute("title") == arn.inner_text() and "assumed-role/AnalyticsReader/" in arn.inner_text()
    page.locator("#jp-right-stack").screenshot(path=str(lab.server.workdir / "sidebar.png"))


def test_the_saved_notebook_holds_the_widget_state_but_no_secret(lab):
    notebook = lab.notebook
    if "No role" in lab.panel.locator(".tempcreds-identity").inner_text():
        notebook.run(f"%assume_role {role_arn('Reader')} -q")
    saved = notebook.save()

    state = json.loads(saved)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    panels = [m["state"] for m in state.values() if m["state"].get("_anywidget_id") == "ipy_tempcreds.role_panel.RolePanel"]
    assert panels and any("assumed-role/" in p["identity"] for p in panels)

    held = json.loads(lab.secrets_file.read_text())
    assert len(held) >= 2  # at least the active role's secret key and token were collected
    secrets = held + [lab.base_secret, MFA_CODE]
    for secret in secrets:
        assert secret not in saved, "a secret is in the saved notebook"


def test_the_bar_changes_colour_as_expiry_nears(lab):
    from playwright.sync_api import expect

    panel, page = lab.panel, lab.page
    lab.notebook.run(f"%assume_role {role_arn('Reader')} --session-name colours --duration 1h -q")
    expect(panel.locator(".tempcreds-identity")).to_contain_text("colours")
    remaining = panel.locator(".tempcreds-remaining")
    seen = {}
    try:
        # Move the page's clock forward (only Date.now, which the countdown reads) instead of
        # waiting an hour; the kernel is not involved in the countdown at all.
        for minutes, level, words in [(0, "ok", "left"), (52, "warn", "left"), (58, "danger", "left"),
                                      (61, "expired", "ago")]:
            page.evaluate("m => { window.__tcNow ??= Date.now; Date.now = () => window.__tcNow() + m * 60000; }", minutes)
            expect(remaining).to_have_attribute("data-level", level)
            expect(remaining.locator(".tempcreds-remaining-value")).to_contain_text(words)
            page.wait_for_timeout(400)  # let the colour transition (0.3 s) finish
            seen[level] = panel.locator(".tempcreds-bar-fill").evaluate("el => getComputedStyle(el).backgroundColor")
    finally:
        page.evaluate("() => { if (window.__tcNow) Date.now = window.__tcNow; }")
    assert len({seen["ok"], seen["warn"], seen["danger"]}) == 3, seen
    expect(panel.locator(".tempcreds-status")).to_have_text("active")


def test_the_countdown_runs_on_the_kernels_clock_when_the_browsers_is_off(lab):
    """A browser talking to a remote kernel can be minutes off. A view asks the kernel for its time
    once, when drawn, and counts on the kernel's clock: with this page's clock 30 minutes fast, a
    new panel still shows the two hours the kernel sees (the page's own clock would say 1h 29m)."""
    from playwright.sync_api import expect

    page, notebook = lab.page, lab.notebook
    notebook.run(f"%assume_role {role_arn('Reader')} --session-name skew --duration 2h -q")
    try:
        page.evaluate("() => { window.__tcNow ??= Date.now; Date.now = () => window.__tcNow() + 30 * 60000; }")
        fresh = notebook.run("skewed_panel = tc_api.panel(); skewed_panel").locator(".tempcreds-panel")
        expect(fresh.locator(".tempcreds-remaining-value")).to_contain_text(re.compile(r"\b(1h 59m|2h 0m) \d+s left"))
    finally:
        page.evaluate("() => { if (window.__tcNow) Date.now = window.__tcNow; }")
        notebook.run("skewed_panel.close()")


def screenshot_paths(workdir: Path) -> tuple[Path, Path]:
    """docs/panel.png and docs/panel-dark.png (the README's pictures) when UPDATE_SCREENSHOTS=1
    or when they are missing; otherwise the test's own folder, so a test run leaves the tracked
    files alone."""
    light, dark = DOCS / "panel.png", DOCS / "panel-dark.png"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not (light.exists() and dark.exists()):
        DOCS.mkdir(exist_ok=True)
        return light, dark
    return workdir / "panel.png", workdir / "panel-dark.png"


def test_screenshots_in_light_and_dark_themes(lab):
    from playwright.sync_api import expect

    panel, notebook, page = lab.panel, lab.notebook, lab.page
    light_png, dark_png = screenshot_paths(lab.server.workdir)
    notebook.run("%assume_role analytics-reader --session-name alice -q")
    panel.locator(".tempcreds-role").fill("analytics-reader")
    panel.locator(".tempcreds-role").blur()  # no focus ring in the picture
    expect(panel.locator(".tempcreds-remaining")).to_be_visible()
    panel.scroll_into_view_if_needed()
    page.mouse.move(0, 0)  # no hover effects in the picture
    panel.screenshot(path=str(light_png))
    light = colours(panel)

    use_theme(page, "JupyterLab Dark")
    try:
        page.mouse.move(0, 0)
        panel.screenshot(path=str(dark_png))
        dark = colours(panel)
    finally:
        use_theme(page, "JupyterLab Light")

    # Light text on a dark panel and the reverse: the panel follows the theme's variables.
    assert luminance(light["background"]) > 0.6 > luminance(light["text"])
    assert luminance(dark["background"]) < 0.3 < luminance(dark["text"])


def use_theme(page, name: str) -> None:
    """Switch the theme the way a user does: Settings > Theme > NAME."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{name}$")).click()
    page.wait_for_function("light => document.body.dataset.jpThemeLight === light", arg=str("Light" in name).lower())
    page.wait_for_timeout(500)  # the theme's stylesheet applies after the attribute changes


def colours(panel) -> dict:
    return panel.evaluate(
        "el => ({background: getComputedStyle(el).backgroundColor,"
        " text: getComputedStyle(el.querySelector('.tempcreds-identity-name')).color})"
    )


def luminance(css_colour: str) -> float:
    red, green, blue = (int(v) / 255 for v in re.findall(r"\d+(?:\.\d+)?", css_colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
