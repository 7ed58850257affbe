"""The notebook side of ``%aws_login``: start a console sign-in, show its link, wait or take the
pasted code, make the login the kernel's base identity; ``--code``, ``--cancel``, ``--logout``; and
the pre-cell notice that the login session is about to end.

The sign-in itself is sources/login/ (no IPython there). Same-device (the browser is on the
kernel's machine) or cross-device (a remote kernel, JupyterHub: :func:`remote_kernel`, or
``--remote``). Nothing here prints a code, a token or the key: the link holds only the state and the
code challenge, and a pasted code is read with getpass (never echoed into the saved notebook).
"""

from __future__ import annotations

import getpass
import html
import os
import sys
from datetime import timedelta

from IPython.core.error import StdinNotImplementedError

from .. import _kernel
from ..base.times import clock_text, format_remaining

NOTICE_BEFORE = timedelta(minutes=30)  # the login session's end is said this long before


def remote_kernel(environ=None, platform: str | None = None) -> tuple[bool, str]:
    """(True, why) when the person's browser is not on the kernel's machine, as far as the kernel can
    tell: JupyterHub, an SSH session, a container service, or Linux with no display and no BROWSER."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if any(name.startswith("JUPYTERHUB_") for name in environ):
        return True, "JupyterHub runs this kernel"
    if environ.get("SSH_CONNECTION") or environ.get("SSH_CLIENT"):
        return True, "the kernel runs in an SSH session"
    if environ.get("KUBERNETES_SERVICE_HOST") or environ.get("CODESPACES") or environ.get("COLAB_RELEASE_TAG"):
        return True, "the kernel runs in a hosted container"
    if environ.get("BROWSER"):
        return False, "BROWSER names a browser on the kernel's machine"
    if platform in ("darwin", "win32") or environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return False, "the kernel's machine has a desktop"
    return True, "the kernel's machine has no display or browser"


def _show_link(signin, why: str) -> None:
    from IPython.display import display

    url = signin.link
    link = html.escape(url, quote=True)
    if signin.remote:
        text = (f"Open this link in your browser, sign in and allow access, then paste the code it shows ({why}):\n{url}")
        markup = (f'<a href="{link}" target="_blank" rel="noopener noreferrer">Open the AWS sign-in page</a>, sign in '
                  "and allow access, then paste the code it shows below (or run <code>%aws_login --code CODE</code>). "
                  f"<small>Cross-device sign-in: {html.escape(why)}.</small>")
    else:
        text = f"Sign in to AWS in the browser that opened, or open {url}"
        markup = (f'Sign in to AWS in the browser tab that opened, or <a href="{link}" target="_blank" '
                  'rel="noopener noreferrer">open the AWS sign-in page</a>.')
    display({"text/plain": text, "text/html": markup}, raw=True)


def aws_login(args, manager) -> None:
    """Run ``%aws_login`` for parsed ``args``; TempCredsError for anything the user must fix."""
    from ..sources.login import errors

    if args.logout:
        return logout(args.profile, manager)
    if args.cancel:
        pending = _kernel.STATE.login
        if pending is None or not pending.open:
            print("No console sign-in is waiting; nothing to cancel.")
            return None
        pending.cancel()
        print(pending.message)
        return None
    if args.code is not None:
        pending = _kernel.STATE.login
        if pending is None or not pending.open:
            raise errors.LoginError("No console sign-in is waiting for a code: run %aws_login --remote first, open "
                                    "its link, then pass the code it shows with --code.")
        return finish(manager, pending.complete(args.code))
    signin, why = start(args.profile, args.remote, manager)
    _show_link(signin, why)
    if not signin.remote:
        return _wait_for_browser(signin, manager)
    return _ask_for_code(signin, manager)


def start(profile, remote: bool, manager):
    """A new sign-in (replacing one still waiting), kept in the kernel's state: (SignIn, why)."""
    from ..sources.login.endpoint import CallOptions
    from ..sources.login.signin import SignIn, resolve_target

    target = resolve_target(profile, manager.environment.original(), manager.settings.region)
    detected, why = remote_kernel()
    remote = bool(remote) or detected
    why = "--remote" if remote and not detected else why
    old = _kernel.STATE.login
    if old is not None:
        old.close()
    signin = SignIn(target, remote=remote, clock=manager.clock, options=CallOptions.of(manager.settings))
    _kernel.STATE.login = signin
    return signin, why


def _wait_for_browser(signin, manager) -> None:
    from ..sources.login.errors import LoginError

    try:
        import webbrowser  # ~2 ms: imported when a sign-in opens a browser, not at %load_ext

        opened = webbrowser.open(signin.link)
    except Exception:  # no usable browser: the link shown is the way
        opened = False
    print("Waiting for the browser… (interrupt the kernel to cancel)" if opened else
          "No browser could be opened here: open the link above in a browser on this machine. Waiting…",
          flush=True)
    try:
        result = signin.wait_for_browser()
    except KeyboardInterrupt:
        signin.cancel()
        raise LoginError("Sign-in cancelled; nothing was written.") from None
    return finish(manager, result)


def _ask_for_code(signin, manager) -> None:
    from ..sources.login.errors import CodeRejected

    while signin.open:
        try:
            pasted = getpass.getpass("Code from the sign-in page (empty to cancel): ")
        except StdinNotImplementedError:
            print("This frontend cannot ask for input: when the page shows the code, run "
                  "`%aws_login --code CODE` (or paste it in the panel's Sign in field).")
            return None
        if not pasted.strip():
            signin.cancel()
            print(signin.message)
            return None
        try:
            return finish(manager, signin.complete(pasted))
        except CodeRejected as exc:
            print(f"{exc} Try again.", flush=True)
    return None


def finish(manager, signed) -> None:
    """Make the completed sign-in the kernel's base identity and say so in one line."""
    grant = manager.activate(login_request(signed))
    print(signed_in_line(signed, grant, manager))


def login_request(signed):
    from ..model.requests import LoginRequest

    return LoginRequest(signed.session, signed.profile, signed.region, signed.session_ends, label=signed.profile)


def signed_in_line(signed, grant, manager) -> str:
    from .display import expiry_phrase

    now, zone = manager.clock(), manager.settings.time_zone
    replaced = f"; it replaced {signed.replaced}" if signed.replaced else ""
    return (f"Signed in as {signed.session} · credentials {expiry_phrase(grant, now, zone)}, renewed automatically · "
            f"login session until {clock_text(signed.session_ends, now, zone)} at the latest · profile "
            f"{signed.profile} has login_session{replaced}")


def logout(profile, manager) -> None:
    """Remove the cached login of ``profile`` (or of the base identity) and restore the environment."""
    from ..sources.login import cache
    from ..sources.login import profile as profiles_file

    base = manager.base
    if profile is None and base is not None:
        session, name = base.request.session, base.request.login_profile
    else:
        name = profiles_file.check_name(profile or manager.environment.original().get("AWS_PROFILE") or "default")
        session = profiles_file.login_session(name)
    pending = _kernel.STATE.login
    if pending is not None:
        pending.close()
    restored = False
    if base is not None and base.request.session == session:
        restored = manager.forget_base()
    if session is None:
        print(f"No login session found for profile '{name}'; nothing was removed.")
        return
    removed = cache.delete(session)
    said = (f"Removed cached login credentials for profile '{name}'" if removed else
            f"No cached login credentials for profile '{name}' were left")
    print(f"{said}{'; the environment is as it was before the sign-in' if restored else ''}. Tools that loaded "
          "the credentials already may use them until they expire (15 minutes).")


def before_cell() -> None:
    """Say once, in the last ``NOTICE_BEFORE`` of the login session, that a new sign-in is due."""
    state = _kernel.STATE
    manager = state.manager
    if manager is None or manager.base is None:
        return
    base = manager.base
    ends = getattr(base.request, "session_ends", None)
    now = manager.clock()
    if ends is None or state.login_notice == ends or ends - now > NOTICE_BEFORE:
        return
    state.login_notice = ends
    print(f"ipy_tempcreds: the console login session ends {clock_text(ends, now, manager.settings.time_zone)} "
          f"(in {format_remaining((ends - now).total_seconds())}): run %aws_login to sign in again before then.",
          file=sys.stderr)
