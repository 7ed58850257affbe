"""The notebook side of ``%sso_login``: show the link and the code, wait, say the outcome; and the
pre-cell notice of a lapsed sign-in. The sign-in itself is ipy_tempcreds.sources.sso.device (no IPython there).

Nothing here prints a token, a client secret or the device code: only the user code and the
verification link, which the person must see and which are worthless once the sign-in is over.
"""

from __future__ import annotations

import html
import logging
import sys
import time

from .. import _kernel

# The sign-in's wait between polls; a test replaces it to run without waiting.
sleep = time.sleep


def _show(code) -> None:
    from IPython.display import display

    url = code.verification_uri_complete
    text = f"To sign in, open {url}  (code {code.user_code})"
    link = html.escape(url, quote=True)
    markup = (f'To sign in, open <a href="{link}" target="_blank" rel="noopener noreferrer">{link}</a> '
              f"and check that it shows the code <b>{html.escape(code.user_code)}</b>.")
    # One display with both: JupyterLab and Notebook show the link, a terminal prints the text.
    display({"text/plain": text, "text/html": markup}, raw=True)
    print("Waiting for approval…", end=" ", flush=True)


def sso_login(args, clock, settings) -> None:
    """Run ``%sso_login`` for parsed ``args``; TempCredsError for anything the user must fix."""
    from .._kernel import STATE
    from ..sources.sso import device

    options = device.CallOptions.of(settings)
    target = device.resolve_target(args.profile, start_url=args.start_url, region=args.sso_region)
    if STATE.sso_watch is None:
        from ..sources.sso.watch import SignInWatch

        STATE.sso_watch = SignInWatch(settings, clock)
    watch = STATE.sso_watch
    if args.logout:
        watch.remove(target)  # a deliberate logout: no "lapsed" before the next cell
        # The picker's account/role pairs of that sign-in cannot be assumed any more.
        STATE.sso_roles = {label: role for label, role in STATE.sso_roles.items()
                           if role.target.cache_key != target.cache_key}
        try:
            ended = device.logout(target, options)
        finally:
            signed_in_or_out()
        if ended:
            print(f"Signed out of {target.label}: the portal ended the sign-in and its cached token is deleted.")
        else:
            print(f"Not signed in to {target.label}; nothing to end.")
        return
    shown = []

    def show(code):
        _show(code)
        shown.append(True)

    try:
        signed = device.sign_in(target, show=show, clock=clock, sleep=sleep, options=options)
    except KeyboardInterrupt:
        if shown:
            print()
        raise device.SignInFailed(f"Sign-in interrupted: nothing was written. Run `{target.login_line}` to start "
                               "again.") from None
    except device.SsoError:
        if shown:
            print()  # end the "Waiting for approval…" line before the message
        raise
    watch.add(target)
    signed_in_or_out()
    # In TempCreds.time_zone, named, as every other time (base/times.py).
    print(f"signed in to {target.start_url} until {device.hhmm(signed.expires_at, clock(), options.zone)}.")


def signed_in_or_out() -> None:
    """Tell the panels already drawn (any follower) that a sign-in began or ended, so that their
    Sign in button and their role picker follow a ``%sso_login`` in a cell."""
    manager = _kernel.STATE.manager
    if manager is not None:
        manager.announce("sign-in")


def before_cell(info=None) -> None:
    """Say, once, that a sign-in made in this kernel lapsed, with the magic that fixes it."""
    # _kernel is imported with this module: an import statement here cost ~2 us of every
    # cell, ten times the rest of the hook (benchmarks/bench_hook.py).
    watch = _kernel.STATE.sso_watch
    if not watch:
        return
    try:
        messages = watch.check()
    except Exception:  # a bug here must not break every cell
        logging.getLogger("ipy_tempcreds").exception("ipy_tempcreds: checking the IAM Identity Center sign-in failed")
        return
    for message in messages:
        print(f"ipy_tempcreds: {message}", file=sys.stderr)

