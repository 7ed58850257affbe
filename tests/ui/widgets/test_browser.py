"""The role panel as a user meets it: JupyterLab and Notebook 7 in headless Chromium, a real
kernel, moto for STS.

Every test runs in both frontends. One server, browser and notebook per frontend serve every test
(starting them is most of the cost). Each test puts the panel in the state it needs first, through
the panel or a magic. The kernel inherits the server's environment, which points every AWS call at
the local moto server. The browser's own zone is far from the kernel's (UTC): New York for
JupyterLab, Kiritimati (UTC+14) for Notebook 7, so any time drawn in the browser's zone shows.

Skipped, with the reason, when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (CI).
UPDATE_SCREENSHOTS=1 rewrites the pictures in docs/ (panel*.png) from this run.
"""

from __future__ import annotations

import json
import re

import pytest

from browser_support import (
    FRONTENDS,
    OUTSIDE_THE_CARD,
    Lab,
    colours,
    luminance,
    require_browser,
    screenshot_paths,
    server_environment,
    use_theme,
)
from jupyterlab_harness import KernelTraffic, running_browser
from support import role_arn

pytestmark = pytest.mark.browser

MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"
MFA_CODE = "314159"


@pytest.fixture(scope="module", params=list(FRONTENDS))
def lab(request, local_aws, tmp_path_factory):
    require_browser()
    frontend = request.param
    server_class, browser_zone = FRONTENDS[frontend]
    home = tmp_path_factory.mktemp(frontend)
    env, base_secret = server_environment(local_aws, home, f"browser-user-{frontend}")
    server = server_class(home, env)
    secrets_file = home / "secrets.json"
    with running_browser(server) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=browser_zone)
        page = context.new_page()
        page.set_default_timeout(30_000)
        traffic = KernelTraffic(page)  # before the kernel's websocket opens
        notebook = server.open_notebook(page, "panel.ipynb", traffic)
        notebook.run("%load_ext ipy_tempcreds")
        # The test learns every secret the kernel holds through a file, never an
        # output (outputs are saved in the notebook the test then searches).
        notebook.run(
            "import json, os, time\n"
            "import ipy_tempcreds.api as tc_api\n"
            "from ipy_tempcreds import panel as tc_api_panel\n"
            "seen_secrets = set()\n"
            "def collect_secrets(change):\n"
            "    grant = change.grant\n"
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
        yield Lab(frontend, server, page, notebook, traffic, secrets_file, base_secret)


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
    # Where the credentials come from (the server's IAM user keys) and how they are handed on.
    expect(panel.locator(".tempcreds-source")).to_have_text("IAM user keys")
    expect(panel.locator(".tempcreds-delivery")).to_have_text("environment")
    expect(panel.locator(".tempcreds-console")).to_be_visible()  # console sign-in (tests/test_console*.py)
    expect(panel.locator(".tempcreds-sso")).to_be_hidden()
    # The ARN in the role field reads as the role's name while not edited; the ARN stays its value.
    expect(panel.locator(".tempcreds-role-name")).to_have_text(re.compile(r"^Reader\s*123456789012$"))
    expect(panel.locator(".tempcreds-role")).to_have_attribute("title", role_arn("Reader"))
    panel.locator(".tempcreds-role").focus()
    expect(panel.locator(".tempcreds-role-name")).to_be_hidden()
    panel.locator(".tempcreds-role").blur()
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


# Each text the status badge shows, in order, from now on (a MutationObserver; no polling gaps).
WATCH_STATUS = """panel => { const status = panel.querySelector('.tempcreds-status'); window.__tcStatuses = [];
  new MutationObserver(() => window.__tcStatuses.push(status.textContent))
    .observe(status, {childList: true, characterData: true, subtree: true}); }"""


def test_the_first_hour_with_the_panel(lab):
    """Issue 29: the Console button waits for a role, and a console link that fails opens no tab;
    DURATION shows the active role's 15 minutes; Refresh says "renewed, expires 15:42 UTC" and
    "working…" shows only while STS is asked."""
    from playwright.sync_api import expect

    panel, notebook, page = lab.panel, lab.notebook, lab.page
    console = panel.locator(".tempcreds-console")
    notebook.run("%assume_role --clear -q")
    expect(console).to_be_disabled()
    expect(console).to_have_attribute("title", "Assume a role first: the console opens as the active role")

    notebook.run(f"%assume_role {role_arn('Reader')} --session-name first-hour --duration 15m -q")
    expect(panel.locator(".tempcreds-identity")).to_contain_text("assumed-role/Reader/first-hour")
    expect(panel.locator(".tempcreds-duration")).to_have_value("900")
    expect(panel.locator(".tempcreds-duration option:checked")).to_have_text("15m")
    expect(console).to_be_enabled()

    panel.evaluate(WATCH_STATUS)
    panel.locator(".tempcreds-refresh").click()
    lab.settle()
    expect(panel.locator(".tempcreds-notice")).to_have_text(re.compile(r"^renewed, expires \d\d:\d\d UTC$"))
    said = panel.locator(".tempcreds-notice").inner_text().removeprefix("renewed, ")
    expect(panel.locator(".tempcreds-remaining-expiry")).to_have_text(said)  # the countdown's own words
    # Waiting for the kernel, then working while STS answers, then the state it brought; nothing after.
    assert page.evaluate("window.__tcStatuses") == ["waiting for kernel…", "working…", "active"]

    # A console sign-in that fails (nothing listens at the endpoint): the reason in the panel, no tab.
    notebook.run("_endpoint = tc_api.get_settings().signin_endpoint\n"
                 "tc_api.get_settings().signin_endpoint = 'http://127.0.0.1:9/federation'")
    pages = len(page.context.pages)
    try:
        console.click()
        lab.settle()
        expect(panel.locator(".tempcreds-error")).to_contain_text("console sign-in at 127.0.0.1:9 failed")
        page.wait_for_timeout(300)
        assert len(page.context.pages) == pages, "a tab was opened for a console link that failed"
    finally:
        notebook.run("tc_api.get_settings().signin_endpoint = _endpoint")


def test_the_sidebar_panel_shows_the_same_state_and_fits(lab):
    from playwright.sync_api import expect

    if lab.frontend != "lab":
        pytest.skip("the sidebar (jupyterlab-sidecar) is JupyterLab's; Notebook 7 shows the panel in cells")
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
    assert side.evaluate(OUTSIDE_THE_CARD) == [], f"sidebar {width} px"
    arn = side.locator(".tempcreds-identity-arn")
    assert arn.get_attribute("title") == arn.inner_text() and "assumed-role/AnalyticsReader/" in arn.inner_text()
    page.locator("#jp-right-stack").screenshot(path=str(lab.server.workdir / "sidebar.png"))


def test_the_saved_notebook_holds_the_widget_state_but_no_secret(lab):
    notebook = lab.notebook
    if "No role" in lab.panel.locator(".tempcreds-identity").inner_text():
        notebook.run(f"%assume_role {role_arn('Reader')} -q")
    saved = notebook.save()

    state = json.loads(saved)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    panels = [m["state"] for m in state.values() if m["state"].get("_anywidget_id") == "ipy_tempcreds.ui.widgets.role_panel.RolePanel"]
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
        fresh = notebook.run("skewed_panel = tc_api_panel(); skewed_panel").locator(".tempcreds-panel")
        expect(fresh.locator(".tempcreds-remaining-value")).to_contain_text(re.compile(r"\b(1h 59m|2h 0m) \d+s left"))
    finally:
        page.evaluate("() => { if (window.__tcNow) Date.now = window.__tcNow; }")
        notebook.run("skewed_panel.close()")


def test_the_panel_and_the_cell_tell_the_same_time_in_the_kernels_zone(lab):
    """The browser's zone is far from UTC; the panel still writes the kernel's zone, named, and the
    same time as the magic's line, the status and the Grant's table."""
    from playwright.sync_api import expect

    panel, notebook, page = lab.panel, lab.notebook, lab.page
    assert page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone") == FRONTENDS[lab.frontend][1]
    line = notebook.output_of(f"%assume_role {role_arn('Reader')} --session-name zones --duration 1h")
    said = re.search(r"· expires (.+?) \(in ", line).group(1)
    # The date too when the expiry is another day in that zone (a run an hour before midnight).
    assert re.fullmatch(r"(\d{4}-\d\d-\d\d )?\d\d:\d\d UTC", said), line
    expiry = panel.locator(".tempcreds-remaining-expiry")
    expect(expiry).to_have_text(f"expires {said}")
    table = notebook.run("tc_api.current()").locator("table.tempcreds-grant tr", has_text="Expires").locator("td")
    full = table.inner_text().strip()  # "2026-11-29 14:59:07 UTC"
    assert f" {said.split()[-2]}:" in full and full.endswith(" UTC"), full
    expect(expiry).to_have_attribute("title", f"Expires {full}")

    # A zone of the user's choosing (neither the kernel's nor the browser's): everything follows.
    notebook.run('%config TempCreds.time_zone = "Asia/Kolkata"')
    try:
        status = notebook.output_of("%assume_role --status")
        said = re.search(r"Lifetime: +expires (.+?) \(in ", status).group(1)
        assert re.fullmatch(r"(\d{4}-\d\d-\d\d )?\d\d:\d\d IST", said), status
        expect(expiry).to_have_text(f"expires {said}")
        table = notebook.run("tc_api.current()").locator("table.tempcreds-grant tr", has_text="Expires").locator("td")
        expect(expiry).to_have_attribute("title", f"Expires {table.inner_text().strip()}")
    finally:
        notebook.run('%config TempCreds.time_zone = "UTC"')
    expect(expiry).to_have_text(re.compile(r"^expires (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC$"))


def test_narrow_columns_keep_every_element_inside_the_card(lab):
    """A 100 px column and a 332 px sidebar-wide one: the badge, the duration picker, the meta text
    and the role's name stay inside the card; JupyterLab also photographs them, light and dark."""
    from playwright.sync_api import expect

    notebook, page = lab.notebook, lab.page
    notebook.run(f"%assume_role {role_arn('AnalyticsReader')} --session-name narrow-column-user -q")
    cards = {}
    for width in (100, 332):
        cell = notebook.run(f"import ipywidgets\nnarrow_{width} = tc_api_panel()\n"
                            f"ipywidgets.Box([narrow_{width}], layout=ipywidgets.Layout(width='{width}px'))")
        card = cards[width] = cell.locator(".tempcreds-panel")
        expect(card.locator(".tempcreds-identity")).to_contain_text("narrow-column-user")
        # The role's name (here its alias) reads in the field; the ARN is the field's value.
        expect(card.locator(".tempcreds-role-name")).to_contain_text("analytics-reader")
        assert card.locator(".tempcreds-role").input_value() == role_arn("AnalyticsReader")
        for part in (".tempcreds-status", ".tempcreds-duration", ".tempcreds-meta >> nth=0", ".tempcreds-role-name",
                     ".tempcreds-source", ".tempcreds-remaining-expiry", ".tempcreds-release"):
            expect(card.locator(part)).to_be_visible()
        assert card.bounding_box()["width"] <= width + 0.5
        assert card.evaluate(OUTSIDE_THE_CARD) == [], f"{width} px"
    try:
        if lab.frontend == "lab":
            names = [f"panel-{w}{theme}.png" for theme in ("", "-dark") for w in (100, 332)]
            paths = dict(zip(names, screenshot_paths(lab.server.workdir, *names), strict=True))
            page.mouse.move(0, 0)  # no hover effects in the pictures
            for width in (100, 332):
                cards[width].scroll_into_view_if_needed()
                cards[width].screenshot(path=str(paths[f"panel-{width}.png"]))
            use_theme(page, "JupyterLab Dark")
            try:
                for width in (100, 332):
                    assert cards[width].evaluate(OUTSIDE_THE_CARD) == [], f"{width} px, dark"
                    cards[width].scroll_into_view_if_needed()
                    page.mouse.move(0, 0)
                    cards[width].screenshot(path=str(paths[f"panel-{width}-dark.png"]))
            finally:
                use_theme(page, "JupyterLab Light")
    finally:
        notebook.run("narrow_100.close(); narrow_332.close()")


def test_screenshots_in_light_and_dark_themes(lab):
    from playwright.sync_api import expect

    if lab.frontend != "lab":
        pytest.skip("the documentation's pictures are taken in JupyterLab")
    panel, notebook, page = lab.panel, lab.notebook, lab.page
    light_png, dark_png = screenshot_paths(lab.server.workdir, "panel.png", "panel-dark.png")
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


def test_a_cell_running_as_another_role_shows_in_the_panel(lab):
    from playwright.sync_api import expect

    panel, notebook = lab.panel, lab.notebook
    notebook.run("%assume_role --clear -q")
    cell = notebook.run(f"%%as_role {role_arn('Writer')} --session-name in-cell\nimport time\ntime.sleep(4)",
                        wait=False)
    banner = panel.locator(".tempcreds-cell-role")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("This cell runs as")
    expect(banner).to_contain_text("Writer")
    expect(panel.locator(".tempcreds-identity")).to_contain_text("No role assumed")  # the kernel's own
    notebook.wait_for(cell)
    expect(banner).to_be_hidden()
    expect(panel.locator(".tempcreds-identity")).to_contain_text("No role assumed")
