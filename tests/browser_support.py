"""For tests/ui/widgets/test_browser.py: the two frontends, the test user's environment, page-level checks
and the documentation's pictures."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from jupyterlab_harness import CHROMIUM, JupyterLabServer
from notebook7_harness import Notebook7Server

DOCS = Path(__file__).resolve().parent.parent / "docs"


def browser_missing(reason: str):
    """Skip visibly, unless CI says the browser must be there (REQUIRE_BROWSER=1)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def require_browser() -> None:
    """Chromium and Playwright are there, or the test is skipped visibly (see browser_missing)."""
    if not Path(CHROMIUM).exists():
        browser_missing(f"{CHROMIUM} is missing (apt-get install -y --no-install-recommends chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        browser_missing("playwright is not installed (pip install -e '.[test]')")


# frontend -> (server class, the browser's time zone)
FRONTENDS = {
    "lab": (JupyterLabServer, "America/New_York"),
    "notebook7": (Notebook7Server, "Pacific/Kiritimati"),
}


class Lab:
    def __init__(self, frontend, server, page, notebook, traffic, secrets_file, base_secret):
        self.frontend = frontend
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


def server_environment(local_aws, home: Path, user: str) -> tuple[dict[str, str], str]:
    """The user's environment for the server and its kernels: AWS pointed at moto, nothing from
    the developer's own AWS setup (this module fixture starts before the per-test isolation)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "BOTO_CONFIG"}
    (home / "aws").mkdir()
    (home / "aws" / "config").write_text("")
    (home / "aws" / "credentials").write_text("")
    base = local_aws.create_user(user)
    env.update(local_aws.client_environ())
    env.update(base.environ(), AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(home / "aws" / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / "aws" / "credentials"))
    return env, base.secret_access_key



def screenshot_paths(workdir: Path, *names: str) -> list[Path]:
    """docs/NAME for each name (the documentation's pictures) when UPDATE_SCREENSHOTS=1 or when one is
    missing; otherwise the test's own folder, so a test run leaves the tracked files alone."""
    tracked = [DOCS / name for name in names]
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not all(path.exists() for path in tracked):
        DOCS.mkdir(exist_ok=True)
        return tracked
    return [workdir / name for name in names]


# Every element and every piece of text of the card that shows lies inside the card: text clipped
# on purpose (an ellipsis) counts only as far as it shows.
OUTSIDE_THE_CARD = """card => {
  const box = card.getBoundingClientRect();
  const clipped = (node, rect) => {
    let { left, right } = rect;
    for (let el = node.parentElement; el && el !== card; el = el.parentElement) {
      if (getComputedStyle(el).overflowX !== "visible") {
        const r = el.getBoundingClientRect();
        left = Math.max(left, r.left);
        right = Math.min(right, r.right);
      }
    }
    return { left, right };
  };
  const out = [];
  const walker = document.createTreeWalker(card, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    if (!element.checkVisibility() || (node.nodeType === Node.TEXT_NODE && !node.textContent.trim())) continue;
    let rects;
    if (node.nodeType === Node.TEXT_NODE) {
      const range = document.createRange();
      range.selectNodeContents(node);
      rects = [...range.getClientRects()];
    } else {
      rects = [node.getBoundingClientRect()];
    }
    for (const rect of rects) {
      if (rect.width === 0) continue;
      const { left, right } = clipped(node, rect);
      if (right > left && (left < box.left - 0.5 || right > box.right + 0.5)) {
        out.push(`${element.className || element.tagName}: ${(node.textContent || "").slice(0, 40)}`);
        break;
      }
    }
  }
  return out;
}"""



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
