"""%aws_console where people meet it: a real kernel (nbclient) and JupyterLab in headless Chromium.

The sign-in URL is a bearer secret: the saved notebook must hold no sign-in token and no session
credentials, while the page shows a working link to the federation stand-in.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient
from test_console import READER, follow_login, query_of, secrets_of, standin, world  # noqa: F401 (fixtures)

from support import kernel_environment, new_notebook


def wait_for_logins(standin, count: int, page) -> None:
    """Wait (at most 15 s) until the stand-in has signed in ``count`` browsers."""
    for _ in range(150):
        if len(standin.logins) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the stand-in saw {len(standin.logins)} sign-ins, not {count}")


def assert_no_secret(text: str, found: set[str]) -> None:
    for secret in found:
        assert secret not in text, "a secret or sign-in token was saved with the notebook"


@pytest.mark.kernel
def test_a_notebook_saved_after_aws_console_holds_no_token(world, aws, tmp_path):
    nb = new_notebook([
        "%load_ext ipy_tempcreds",
        f"%config TempCreds.signin_endpoint = {world.endpoint!r}",
        f"%assume_role {READER} --session-name nb-console",
        "%aws_console s3",
    ])
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=kernel_environment(tmp_path / "ipython"))
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = path.read_text()
    # The magic fetched a link when it ran (so there was a token to leak), and showed the widget,
    # whose state nbclient saves.
    assert len(world.tokens) == 1 and [r.status for r in world.requests] == [200]
    assert_no_secret(saved, secrets_of(world, aws.base_user.secret_access_key))
    assert "application/vnd.jupyter.widget-view+json" in saved
    assert "https://us-east-1.console.aws.amazon.com/s3/home?region=us-east-1" in saved  # widget state


@pytest.mark.browser
def test_the_link_appears_in_the_page_points_at_the_endpoint_and_is_not_saved(world, aws, tmp_path):
    import os

    from browser_support import require_browser
    from jupyterlab_harness import JupyterLabServer, Notebook, running_browser, write_notebook

    require_browser()  # a skip, or a failure where REQUIRE_BROWSER=1 (CI)
    from playwright.sync_api import expect

    env = dict(os.environ)  # alice's keys, moto, STS through the stand-in (the world fixture's)
    server = JupyterLabServer(tmp_path, env)
    destination = "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
    with running_browser(server) as browser:
        context = browser.new_context()
        # Nothing leaves loopback: the console the stand-in redirects to is never asked.
        context.route(re.compile(r"^https://"), lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(30_000)
        path = server.root / "console.ipynb"
        write_notebook(path)
        page.goto(f"{server.url}/lab/tree/console.ipynb?token={server.token}")
        notebook = Notebook(page, path)
        notebook.cells().first.wait_for()
        notebook.wait_for_kernel_idle()
        notebook.run("%load_ext ipy_tempcreds")
        notebook.run(f"%config TempCreds.signin_endpoint = {world.endpoint!r}")
        notebook.run(f"%assume_role {READER} --session-name browser -q")
        cell = notebook.run("%aws_console s3 --region eu-west-1")
        link = cell.locator(".tempcreds-console-link")
        link.wait_for()
        href = link.get_attribute("href")
        assert href.startswith(world.endpoint + "?Action=login&")
        assert query_of(href)["Destination"] == destination and link.get_attribute("target") == "_blank"
        expect(cell.locator(".tempcreds-console-note")).to_contain_text("link expires in 15 min")
        expect(cell.locator(".tempcreds-console-identity")).to_contain_text("assumed-role/Reader/browser")

        with page.expect_popup() as opened:  # the user clicks: the stand-in signs them in
            link.click()
        wait_for_logins(world, 1, page)
        opened.value.close()
        signed_in = [(who.rsplit("/", 1)[-1], where) for who, where in world.logins]
        assert signed_in == [("browser", destination)]

        # The panel's Console button: a tab opens at the click and goes to the sign-in URL.
        panel = notebook.run("%role_panel").locator(".tempcreds-panel")
        with page.expect_popup() as opened:
            panel.locator(".tempcreds-console").click()
        wait_for_logins(world, 2, page)
        opened.value.close()
        assert world.logins[1][0].endswith("assumed-role/Reader/browser")
        assert world.logins[1][1] == "https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1"
        expect(panel.locator(".tempcreds-error")).to_be_hidden()

        # A browser that keeps the tab from opening by itself (the answer came long after the
        # click): the panel offers the link instead, and a click on it signs in.
        page.evaluate("() => { window.__open = window.open; window.open = () => null; }")
        try:
            panel.locator(".tempcreds-console").click()
            offered = panel.locator(".tempcreds-console-open")
            expect(offered).to_be_visible()
        finally:
            page.evaluate("() => { window.open = window.__open; }")
        assert offered.get_attribute("href").startswith(world.endpoint + "?Action=login&")
        assert offered.get_attribute("target") == "_blank" and "noopener" in offered.get_attribute("rel")
        with page.expect_popup() as opened:
            offered.click()
        wait_for_logins(world, 3, page)
        opened.value.close()
        expect(offered).to_have_count(0)  # one use: gone once clicked

        saved = notebook.save()
        assert "SigninToken" not in saved
        assert destination in saved  # the widget's state was saved: and it holds nothing secret
        assert_no_secret(saved, secrets_of(world, aws.base_user.secret_access_key))
