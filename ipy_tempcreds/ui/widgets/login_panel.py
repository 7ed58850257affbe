"""The panel's console sign-in (``%aws_login``): the Sign in button, the link, the code field of a
cross-device sign-in, Cancel, and the login session's remaining lifetime beside the credentials'.

A click starts a sign-in (sources/login/signin.py) without blocking the kernel: a same-device one
waits for the browser on a thread of its own; a cross-device one waits for the code, which arrives
in a custom message (never a trait: traits are saved with the notebook) and is handed over once.
``login_prompt`` (synced, so saved) holds only the state, a message, the link (the state and the
code challenge, worthless once the sign-in is over, and cleared then) and whether a code is asked.
"""

from __future__ import annotations

import logging
import threading
import webbrowser

from ..._kernel import STATE
from ...base.errors import TempCredsError
from .. import login_magic

log = logging.getLogger("ipy_tempcreds")



def state(manager, grant) -> dict:
    """The synced traits of the login: when its session ends (epoch ms; 0 without one), and
    whether to offer Sign in (no login is the base identity)."""
    base = manager.base
    ends = getattr(base.request, "session_ends", None) if base is not None else None
    return {"login_ends": int(ends.timestamp() * 1000) if ends is not None else 0, "show_login": base is None}


def _report(panel, signin, error: str = "") -> None:
    waiting = signin is not None and signin.open
    panel.login_prompt = {} if signin is None else {
        "state": signin.state,
        "message": error or signin.message or ("Paste the code the sign-in page shows after you allow access."
                                               if signin.remote else "Sign in in the browser; this panel follows."),
        "link": signin.link if waiting else "",
        "remote": bool(signin.remote) if waiting else False,
    }


def start(panel, content: dict) -> None:
    """The Sign in button: a new sign-in for the default profile (or ``content["profile"]``)."""
    manager = panel.manager
    signin, _why = login_magic.start(content.get("profile"), bool(content.get("remote")), manager)
    _report(panel, signin)
    if signin.remote:
        return
    try:
        webbrowser.open(signin.link)
    except Exception:  # no browser here after all: the link in the panel is the way
        pass

    def wait() -> None:
        try:
            signed = signin.wait_for_browser()
            manager.activate(login_magic.login_request(signed))
            _report(panel, signin)
        except TempCredsError as exc:
            _report(panel, signin, str(exc))
        except Exception:  # a bug must not die silently on a thread nobody watches
            log.exception("ipy_tempcreds: the console sign-in failed unexpectedly")
            _report(panel, signin, "The sign-in failed unexpectedly (see the log); nothing was written.")

    threading.Thread(target=wait, daemon=True, name="ipy_tempcreds-login-wait").start()


def submit_code(panel, content: dict) -> None:
    """The code field: complete the waiting cross-device sign-in; a wrong code keeps it waiting."""
    from ...sources.login.errors import CodeRejected, LoginError

    # Out of the message dict, so no traceback or log of the message can show it afterwards.
    code = str(content.pop("code", None) or "")
    signin = STATE.login
    if signin is None or not signin.open:
        raise LoginError("No console sign-in is waiting for a code: click Sign in again.")
    try:
        signed = signin.complete(code)
    except CodeRejected:
        _report(panel, signin)
        raise
    except LoginError:
        _report(panel, signin)
        raise
    panel.manager.activate(login_magic.login_request(signed))
    _report(panel, signin)


def cancel(panel, _content: dict) -> None:
    signin = STATE.login
    if signin is not None:
        signin.cancel()
    _report(panel, signin)
