"""Pages a person's browser sees at the loopback stand-ins, for the demo (`make demo`), where a
person clicks the links the product shows:

- IAM Identity Center's verification page (``GET /device?user_code=...`` at the SSO stand-in): the
  code and Allow / Deny, as the real portal asks after signing in; the answer (``POST /device``)
  approves or denies that sign-in, exactly as the stand-in's ``approve``/``deny`` do.
- The console a federation sign-in lands on (``landing`` of the federation stand-in): the real
  console is not there, so a page names who signed in and which console page AWS would open.

Plain HTML, no script; every value shown is escaped. Only 127.0.0.1 is bound or contacted.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlparse

from proxy_support import answer, read_body

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;line-height:1.5}}
code{{font-size:1.4rem;letter-spacing:.1em}} button{{font-size:1rem;margin-right:.5rem;padding:.3rem 1rem}}
small{{color:#666}}</style></head><body><h1>{title}</h1>{body}
<p><small>A local stand-in on 127.0.0.1 (ipy_tempcreds demo): no AWS account was used.</small></p></body></html>"""


def page(title: str, body: str) -> bytes:
    return _PAGE.format(title=html.escape(title), body=body).encode()


def serve_device_page(standin, handler) -> bool:
    """Answer the SSO verification page if ``handler`` asks for it; True if it did."""
    url = urlparse(handler.path)
    if url.path != "/device":
        return False
    if handler.command == "POST":
        form = {k: v[0] for k, v in parse_qs(read_body(handler).decode("utf-8", "replace")).items()}
        code, decision = form.get("user_code", ""), form.get("decision", "")
    else:
        code, decision = parse_qs(url.query).get("user_code", [""])[0], ""
    known = code in standin.user_codes()
    shown = html.escape(code)
    if not known:
        body = page("Sign-in request not found", f"<p>No sign-in is waiting for the code <code>{shown}</code>.</p>")
    elif decision in ("allow", "deny"):
        (standin.approve if decision == "allow" else standin.deny)(code)
        done = "allowed: go back to the notebook" if decision == "allow" else "denied"
        body = page(f"Request {done.split(':')[0]}", f"<p>The sign-in with the code <code>{shown}</code> was {done}.</p>")
    else:
        body = page("Authorize request", (
            f"<p>A notebook asks to sign in to IAM Identity Center. Check that it shows the code</p>"
            f"<p><code>{shown}</code></p><form method=\"post\" action=\"/device\">"
            f"<input type=\"hidden\" name=\"user_code\" value=\"{shown}\">"
            "<button name=\"decision\" value=\"allow\">Allow</button>"
            "<button name=\"decision\" value=\"deny\">Deny</button></form>"))
    answer(handler, 200 if known else 404, body, "text/html; charset=utf-8")
    return True


def console_landing(identity: str, destination: str) -> bytes:
    """The page a console sign-in lands on at the federation stand-in."""
    return page("Signed in to the AWS console", (
        f"<p>Signed in as <b>{html.escape(identity)}</b>.</p>"
        f"<p>The real console would now open <a href=\"{html.escape(destination, quote=True)}\">"
        f"{html.escape(destination)}</a>.</p>"))
