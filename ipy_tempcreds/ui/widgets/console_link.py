"""``%aws_console``'s view: a sign-in link that lives only in the page, never in the notebook file.

A notebook saves cell outputs and widget state, and a sign-in URL is a bearer secret for 15
minutes. So the widget's synced state holds nothing secret (service, region, identity, the console
page), and the URL travels only in custom messages, which no frontend saves: each view, when drawn,
asks the kernel (``{"type": "console_url", "request": id}``) and the kernel answers
(``{"type": "console_url", "request": id, "url": ..., "expires_in_ms": ...}``) or
(``{"type": "console_error", ...}``). The view draws an ``<a target=_blank>`` and the time left, and
offers a new link once it has expired.

In a terminal IPython there is no page: ``--print`` prints the URL there. It does not open a web
browser by itself: kernels often run where no browser is (SSH, containers, JupyterHub), and
``webbrowser`` would hand the URL to another program on a command line that other local users can
read. Imported on first use (it imports anywidget).
"""

from __future__ import annotations

import pathlib
import time

import anywidget
import traitlets as t

from ...base.errors import InvalidInput, TempCredsError
from ...base.validation import check_region
from ...direct.console import SigninUrl, check_service, console_url

__all__ = ["ConsoleLink", "show_console_link"]

# A URL fetched when the magic ran goes to the first view that asks, if it asks this soon (the
# "expires in 15 min" it shows stays true); later views fetch their own.
FIRST_URL_FRESH_FOR = 60.0


class ConsoleLink(anywidget.AnyWidget):
    """A link to the AWS console as the credentials in force, fetched by each view as it is drawn."""

    _esm = pathlib.Path(__file__).with_name("console_link.js")

    # Synced, so saved with the notebook: none of these is secret.
    service = t.Unicode("", help="Console service asked for ('' for the console home).").tag(sync=True)
    region = t.Unicode("", help="Region asked for ('' for the default).").tag(sync=True)
    identity = t.Unicode("", help="ARN signed in when the link was made.").tag(sync=True)
    destination = t.Unicode("", help="The console page the link opens.").tag(sync=True)

    def __init__(self, manager, service: str | None = None, region: str | None = None, *,
                 first: SigninUrl | None = None):
        super().__init__(service=service or "", region=region or "",
                         identity=first.identity if first is not None else "",
                         destination=first.destination if first is not None else "")
        self._manager = manager
        self._first = (first, time.monotonic()) if first is not None else None
        self.on_msg(self._on_custom_msg)

    def _on_custom_msg(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict) or content.get("type") != "console_url":
            return  # anywidget's own messages share this channel
        request = str(content.get("request", ""))[:64]
        try:
            url = self._take_first() or console_url(self._manager, self.service or None, self.region or None)
        except TempCredsError as exc:  # worded for users, holds no secret
            self.send({"type": "console_error", "request": request, "message": str(exc)})
            return
        self.identity, self.destination = url.identity, url.destination
        self.send({"type": "console_url", "request": request, "url": str(url), "identity": url.identity,
                   "destination": url.destination,
                   "expires_in_ms": int(max(0.0, url.expires_at - time.time()) * 1000)})

    def _take_first(self) -> SigninUrl | None:
        first, self._first = self._first, None  # handed out once at most
        if first is not None and time.monotonic() - first[1] < FIRST_URL_FRESH_FOR:
            return first[0]
        return None

    def __repr__(self) -> str:
        # Also the text/plain saved with the output: no URL.
        where = f"{self.service or 'home'}" + (f" in {self.region}" if self.region else "")
        return (f"<AWS console link ({where}) as {self.identity or 'the active credentials'}: shown in a live "
                "notebook page only; ipy_tempcreds.console_url() returns the URL itself>")


def show_console_link(shell, manager, service: str | None, region: str | None, *, print_url: bool = False) -> None:
    """What ``%aws_console`` does: a live link in a notebook page, or a note (or, asked, the URL) in a
    terminal. Everything is checked, and the first URL fetched, before anything is shown."""
    from IPython.display import display

    service, region = check_service(service), check_region(region) if region else None
    in_kernel = getattr(shell, "kernel", None) is not None
    if in_kernel and print_url:
        raise InvalidInput(
            "--print would put the sign-in URL (a bearer secret for 15 minutes) into the cell's output, which "
            "is saved with the notebook. `%aws_console` without it shows a link that lives only in the page; "
            "`url = ipy_tempcreds.console_url(...)` gives your code the URL."
        )
    words = " ".join(["%aws_console", *(w for w in (service, region and f"--region {region}") if w)])
    if not in_kernel and not print_url:
        print(f"No notebook page here to show the link in. `{words} --print` prints the sign-in URL (a bearer "
              "secret for 15 minutes: whoever opens it is signed in as your role), or "
              "`ipy_tempcreds.console_url()` returns it to your code.")
        return None
    url = console_url(manager, service, region)
    if not in_kernel:
        print(f"Sign-in URL for the AWS console as {url.identity}, valid for 15 minutes; whoever opens it is "
              f"signed in as that identity, so do not share or save it:\n{url}")
        return None
    display(ConsoleLink(manager, service, region, first=url))
    return None
