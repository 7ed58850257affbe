"""Sign in from the panel in JupyterLab (headless Chromium): the button while no sign-in is valid,
the link and code, approval at the SSO stand-in, then an account/role pair from the picker assumed;
the saved notebook holds no token, client secret, device code or key."""

from __future__ import annotations

import json
import os
import re

import pytest

from browser_support import require_browser
from jupyterlab_harness import JupyterLabServer, KernelTraffic, running_browser
from sso_standin import SsoStandin
from sso_support import CONFIG, bucket_policy

pytestmark = pytest.mark.browser


def test_sign_in_and_assume_from_the_panel(local_aws, tmp_path):
    require_browser()
    from playwright.sync_api import expect

    local_aws.reset()
    standin = SsoStandin(local_aws).start()
    try:
        standin.assign("Reader", bucket_policy("bucket-r"))
        local_aws.set_auth(True)
        (tmp_path / "aws").mkdir()
        (tmp_path / "aws" / "config").write_text(CONFIG)
        (tmp_path / "aws" / "credentials").write_text("")
        # No keys at all: the kernel's only way in is the sign-in. HOME places botocore's cache.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "BOTO_CONFIG"}
        env.update(**local_aws.client_environ(), **standin.environ(), HOME=str(tmp_path), AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE=str(tmp_path / "aws" / "config"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws" / "credentials"))
        server = JupyterLabServer(tmp_path, env)
        with running_browser(server) as browser:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(30_000)
            notebook = server.open_notebook(page, "sso.ipynb", KernelTraffic(page))
            notebook.run("%load_ext ipy_tempcreds")
            panel = notebook.run("%role_panel").locator(".tempcreds-panel")
            panel.wait_for()

            sign_in = panel.locator(".tempcreds-sso")
            expect(sign_in).to_be_visible()
            sign_in.click()
            code = panel.locator(".tempcreds-sso-code")
            expect(code).to_have_text(re.compile(r"^[0-9A-F]{4}-[0-9A-F]{4}$"))
            user_code = code.inner_text()
            link = panel.locator(".tempcreds-sso-link")
            assert link.get_attribute("href") == f"{standin.url}/device?user_code={user_code}"
            assert link.get_attribute("target") == "_blank"
            standin.approve(user_code)
            expect(panel.locator(".tempcreds-sso-message")).to_contain_text(
                "Signed in to https://corp.awsapps.com/start until", timeout=20_000)
            expect(sign_in).to_be_hidden()

            # The picker offers the SSO profile and, after the sign-in, each account/role pair.
            expect(panel.locator('option[value="analyst"]')).to_have_count(1)
            expect(panel.locator('option[value="analytics / Reader"]')).to_have_count(1)
            panel.locator(".tempcreds-role").fill("analytics / Reader")
            panel.locator(".tempcreds-assume").click()
            expect(panel.locator(".tempcreds-identity")).to_contain_text("AWSReservedSSO_Reader_", timeout=20_000)
            expect(panel.locator(".tempcreds-error")).to_be_hidden()
            expect(panel.locator(".tempcreds-source")).to_have_text("IAM Identity Center, corp")
            # One name for the role: the heading says what the picker said, not AWSReservedSSO_Reader_….
            expect(panel.locator(".tempcreds-identity-name")).to_have_text("analytics / Reader")
            # The role's secrets reach the test through a file, never an output.
            held = tmp_path / "held.json"
            notebook.run("import json, os\njson.dump([os.environ['AWS_SECRET_ACCESS_KEY'], "
                         f"os.environ['AWS_SESSION_TOKEN']], open({str(held)!r}, 'w'))")
            saved = notebook.save()
            assert '"sso_prompt"' in saved  # the widget state was saved...
            for value in standin.secrets() | set(json.loads(held.read_text())):
                assert value not in saved, "a secret reached the saved notebook"  # ...without secrets

            # The panel drawn above follows a sign-out and a sign-in made in cells (issue 29).
            assert "Signed out of corp" in notebook.output_of("%sso_login --logout")
            expect(sign_in).to_be_visible()
            asked = len(standin.user_codes())
            cell = notebook.run("%sso_login analyst", wait=False)
            for _ in range(200):
                if len(standin.user_codes()) > asked:
                    break
                page.wait_for_timeout(50)
            standin.approve(standin.user_codes()[-1])
            notebook.wait_for(cell)
            assert "signed in to https://corp.awsapps.com/start until" in notebook.output(cell)
            expect(sign_in).to_be_hidden()
    finally:
        local_aws.set_auth(False)
        standin.stop()

