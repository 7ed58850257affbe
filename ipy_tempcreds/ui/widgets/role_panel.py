"""The role panel: one widget view of the kernel's CredentialManager.

    %role_panel              # in the notebook
    %role_panel --sidebar    # in JupyterLab's right sidebar (pip install sidecar)
    ipy_tempcreds.panel()    # the same panel as a Python object

The browser draws the panel and runs the countdown on its own (panel.js), so the remaining lifetime
ticks while a long cell keeps the kernel busy and costs no kernel message per tick. Synced traits
hold only what may be saved into the .ipynb (widget state is): identity, account, expiry,
error text, options, flags. Clicks arrive as custom messages; an MFA code travels only inside such a
message and is handed to the manager once, never stored. Imported on first use, not at extension
load (it imports ipywidgets).
"""

from __future__ import annotations

import contextlib
import pathlib
import threading
import time

import anywidget
import traitlets as t

from ...base.errors import MfaCodeNeeded, NotActive, TempCredsError
from ...core.issuer import GivenCode
from ...model.credentials import Grant, iso_utc
from ..display import expiry_phrase
from ..hints import panel_words
from . import login_panel, sso_panel
from .panel_state import DURATION_CHOICES, renewed_notice  # what the panel shows, from the manager
from .panel_state import epoch_ms as _epoch_ms
from .panel_state import grant_state as _grant_state
from .panel_state import option_state as _option_state

__all__ = ["RolePanel", "show_panel", "DURATION_CHOICES"]

SIDEBAR_MISSING = (
    "the sidebar needs jupyterlab-sidecar, which is not installed in this kernel's environment: "
    'pip install sidecar, then reload the JupyterLab page. '
    "Without it, `%role_panel` shows the panel in the notebook."
)


class RolePanel(anywidget.AnyWidget):
    """Pick a role, see who the kernel is and how long is left, Assume / Refresh / Release.

    Every panel subscribes to ``manager``: a ``%assume_role`` in a cell, a background renewal or a
    click in another panel shows in all of them at once. ``close()`` unsubscribes.
    """

    # panel_text.js (wording, formatting) then panel.js (drawing): anywidget takes one ES module.
    _esm = "\n".join(pathlib.Path(__file__).with_name(name).read_text()
                     for name in ("panel_text.js", "console_tab.js", "login_tab.js", "cell_role.js", "panel.js"))
    _css = pathlib.Path(__file__).with_name("panel.css")

    # Everything below is synced, so it ends up in the saved notebook: no secret may go here.
    role_options = t.List(t.Dict(), help="[{label, arn}] offered by the role picker.").tag(sync=True)
    duration_options = t.List(t.Dict(), help="[{label, seconds}] offered by the duration picker.").tag(sync=True)
    default_duration = t.Int(3600, help="Seconds preselected in the duration picker.").tag(sync=True)
    identity = t.Unicode("", help="ARN AWS sees for the active credentials; '' when none.").tag(sync=True)
    account = t.Unicode("", help="Account of the active identity.").tag(sync=True)
    role_label = t.Unicode("", help="What was typed to get the active role (alias, profile or ARN).").tag(sync=True)
    auto_refresh = t.Bool(False, help="Whether the active credentials renew themselves.").tag(sync=True)
    expires_at = t.Int(0, help="Expiry of the active credentials, epoch milliseconds; 0 when none.").tag(sync=True)
    obtained_at = t.Int(0, help="When the active credentials were obtained, epoch milliseconds.").tag(sync=True)
    other_sessions = t.List(t.Dict(), help="[{label, arn, expires_at}] of sessions opened with session(ROLE).").tag(sync=True)
    error = t.Unicode("", help="Why this panel's last action failed; '' after success.").tag(sync=True)
    problem = t.Unicode("", help="The manager's warning about the active credentials (a failed renewal).").tag(sync=True)
    busy = t.Bool(False, help="This panel's action is calling AWS now (the browser says \"working…\").").tag(sync=True)
    notice = t.Unicode("", help="What this panel's last action did, when it is worth saying: "
                           "'renewed, expires 15:42 UTC' after Refresh; '' otherwise.").tag(sync=True)
    role_name = t.Unicode("", help="The heading's name of the active role: 'analytics / Reader' for an IAM Identity "
                              "Center role; '' to take it from the identity ARN.").tag(sync=True)
    active_duration = t.Int(0, help="Seconds the active credentials were asked for (the duration picker shows "
                                "them); 0 when none, or when IAM Identity Center decides.").tag(sync=True)
    needs_mfa = t.Bool(False, help="The last action waits for an MFA code.").tag(sync=True)
    mfa_device = t.Unicode("", help="Serial (ARN) of the MFA device whose code is asked for.").tag(sync=True)
    time_zone = t.Unicode("UTC", help="Zone name (IANA) the panel shows times in: TempCreds.time_zone, resolved.").tag(sync=True)
    expires_zone = t.Unicode("", help="The zone's abbreviation at expires_at ('UTC', 'EST'), as the magics write it.").tag(sync=True)
    source = t.Unicode("", help="Where the credentials come from, in short ('IAM user keys', 'profile dev').").tag(sync=True)
    source_detail = t.Unicode("", help="The grant's own source text (the tooltip of source).").tag(sync=True)
    delivery = t.Unicode("environment", help="How the kernel hands the credentials on: TempCreds.delivery.").tag(sync=True)
    # Places kept in the layout for actions other modules add: True shows the button, whose click
    # arrives as {"action": "console"} / {"action": "sso"} (add a handler in handle_action).
    show_console = t.Bool(True, help="Show the Console button (class tempcreds-console): direct/console.py is here.").tag(sync=True)
    show_sso = t.Bool(False, help="Show the Sign in button (class tempcreds-sso).").tag(sync=True)
    show_login = t.Bool(True, help="Show the console Sign in button (class tempcreds-login): no %aws_login base identity.").tag(sync=True)
    login_prompt = t.Dict({}, help="The console sign-in started here: {state, message, link, remote} (never a code).").tag(sync=True)
    login_ends = t.Int(0, help="When the console login session ends at the latest, epoch ms; 0 without one.").tag(sync=True)
    cell_role = t.Dict({}, help="{label, identity} of the role a running cell uses (%%as_role); {} otherwise.").tag(sync=True)
    sso_prompt = t.Dict({}, help="The IAM Identity Center sign-in started here: {state, message, link, code} "
                                 "(the user code and its link, never a token).").tag(sync=True)

    def __init__(self, manager, **kwargs):
        # The first state goes out with the widget itself rather than as a burst of updates.
        super().__init__(**_grant_state(manager, manager.current()), **_option_state(manager), **kwargs)
        self.manager = manager
        # The manager may call _on_change from its renewal thread while a click is handled here.
        self._lock = threading.RLock()
        # ("assume", RoleRequest) or ("refresh", None) while waiting for an MFA code; the code
        # itself is never kept.
        self._awaiting_code: tuple[str, object] | None = None
        self._notice_for = 0  # expires_at (epoch ms) that the notice names
        self.on_msg(self._on_custom_msg)
        manager.subscribe(self._on_change)
        manager.settings.observe(self._on_settings, names=["roles", "default_duration", "time_zone", "delivery"])
        self._subscribed = True
        # A change between reading the state above and subscribing would be missed otherwise;
        # unchanged traits send nothing.
        self._follow(manager.current())

    # -- the core's state -> traits -------------------------------------------------------------

    def _on_change(self, change) -> None:
        """Follower of the manager (receives a changes.Change)."""
        self._follow(change.grant)

    def _follow(self, grant: Grant | None) -> None:
        state = _grant_state(self.manager, grant)
        with self._lock, self.hold_sync():
            if state["identity"] != self.identity:
                # Another role (or none) is in force now: an old error or a pending MFA prompt
                # would describe a state that is gone.
                self.error = ""
                self._forget_code_prompt()
            if self.notice and state["expires_at"] != self._notice_for:
                self.notice = ""  # a renewal, switch or clear since: the confirmation is stale
            # A change arrives once the source has answered and the credentials are installed: what
            # is left of this panel's action (readers, pickers) is no longer "working…".
            self._set_traits({**state, "busy": False})
            if self._awaiting_code is None and getattr(self.manager, "needs_mfa_code", False):
                # A renewal stopped for want of a new code (it never prompts from its thread):
                # offer the field right away instead of only describing the fix.
                self._ask_code("refresh", None)
        # Recently used roles (and later profiles) change with assumes, so re-read the picker too.
        self._update_options()

    def _on_settings(self, _change) -> None:
        # The options, and the times in a new zone: everything is drawn again from the grant.
        self._follow(self.manager.current())

    def _update_options(self) -> None:
        with self._lock, self.hold_sync():
            self._set_traits(_option_state(self.manager))

    def _set_traits(self, values: dict) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    # -- browser -> kernel ----------------------------------------------------------------------

    def _on_custom_msg(self, _widget, content, _buffers) -> None:
        """Entry point for the messages panel.js sends with ``model.send``."""
        if isinstance(content, dict) and "clock" in content:
            # A view asks once, when drawn, so that its countdown runs on the kernel's clock.
            self.send({"type": "clock", "now": _epoch_ms(self.manager.clock())})
            return
        if not isinstance(content, dict) or "action" not in content:
            return  # anywidget's own command messages share this channel
        try:
            self.handle_action(content)
        finally:
            # The browser keeps its buttons disabled until this arrives (the click may wait
            # behind a running cell before the kernel even reads it).
            if "seq" in content:
                self.send({"type": "done", "seq": content["seq"]})

    def handle_action(self, content: dict) -> None:
        """Run one user action: ``{"action": "assume", "role": ..., "duration": ...}``,
        ``{"action": "refresh"}``, ``{"action": "release"}``, ``{"action": "mfa", "code": ...}``
        or ``{"action": "cancel_mfa"}``.

        A TempCredsError (bad input, STS refusal) becomes the error text and changes nothing;
        anything else is a bug and propagates.
        """
        action = content.get("action")
        handlers = {
            "assume": self._assume,
            "refresh": self._refresh,
            "release": self._release,
            "mfa": self._submit_code,
            "cancel_mfa": lambda _content: self._forget_code_prompt(),
            "console": self._console,
            "sso": lambda _content: sso_panel.start(self),
            "login": lambda content: login_panel.start(self, content),
            "login_code": lambda content: login_panel.submit_code(self, content),
            "login_cancel": lambda content: login_panel.cancel(self, content),
        }
        if action not in handlers:
            raise ValueError(f"unknown role panel action {action!r}")
        if action not in ("mfa", "cancel_mfa"):
            self._forget_code_prompt()  # a new intent replaces the one that waited for a code
        self.error = self.notice = ""
        try:
            handlers[action](content)
        except TempCredsError as exc:
            # Messages of TempCredsError are written to be shown and hold no secret; a hint is
            # worded as the panel's field.
            self.error = exc.worded(panel_words)
        finally:
            self.busy = False

    def _assume(self, content: dict) -> None:
        role = str(content.get("role") or "")
        # An SSO pair or profile: the permission set decides the lifetime, not the duration picker.
        request = sso_panel.picked_request(role.strip())
        if request is None:
            duration = None if sso_panel.is_sso_profile(role.strip()) else content.get("duration")
            request = self.manager.role_request(role, duration=duration)
        self._run("assume", request, None)

    def _refresh(self, _content: dict) -> None:
        self._run("refresh", None, None)

    def _release(self, _content: dict) -> None:
        self.manager.clear()

    def _console(self, content: dict) -> None:
        """The Console button: a sign-in URL as the role in force, sent to the view that asked in a
        custom message (console_tab.js opens a tab with it), never a trait: traits are saved."""
        from ...direct.console import console_url

        if self.manager.current() is None:  # the browser disables the button then; an old view may not
            raise NotActive("the console opens as the active role, and none is active: pick one in the role field "
                            "and click Assume first.")
        with self._calling():
            url = console_url(self.manager)
        self.send({"type": "console_url", "seq": content.get("seq"), "url": str(url), "identity": url.identity,
                   "expires_in_ms": int(max(0.0, url.expires_at - time.time()) * 1000)})

    def _submit_code(self, content: dict) -> None:
        if self._awaiting_code is None:
            raise NotActive("nothing is waiting for an MFA code any more; click Assume or Refresh again.")
        operation, request = self._awaiting_code
        # Out of the message dict, so no traceback or log of the message can show it afterwards.
        code = str(content.pop("code", None) or "").strip()
        try:
            self._run(operation, request, code)
        except NotActive:
            self._forget_code_prompt()  # the credentials to renew are gone: the prompt is moot
            raise

    def _run(self, operation: str, request, code: str | None) -> None:
        """Assume or refresh; with no code, a device that needs one opens the code field instead."""
        # The code field as an MFA prompter (core/issuer.py): none before the field was shown ("cannot
        # ask here": MfaCodeNeeded opens it), then one that answers with what was typed.
        prompter = GivenCode(code) if code is not None else None
        try:
            with self._calling():
                if operation == "assume":
                    self.manager.activate(request, mfa_code=prompter)
                else:
                    self.manager.refresh(mfa_code=prompter)
        except MfaCodeNeeded:
            if code is not None or not self._ask_code(operation, request):
                raise
            return
        self._forget_code_prompt()
        if operation == "refresh" and (grant := self.manager.current()) is not None:
            # Said, since a renewal changes nothing else one sees at a glance (the time left grows).
            self.notice, self._notice_for = renewed_notice(self.manager, grant), _epoch_ms(grant.expiration)

    @contextlib.contextmanager
    def _calling(self):
        """``busy`` (the browser's "working…") while AWS is called; the change that installs the
        answer ends it already (_follow), this only when no change comes (a failure)."""
        self.busy = True
        try:
            yield
        finally:
            self.busy = False

    def _ask_code(self, operation: str, request) -> bool:
        """Show the code field for ``operation``; False if there is no MFA device to name."""
        if request is None:
            grant = self.manager.current()
            request = grant.request if grant is not None else None
            device = getattr(request, "mfa_serial", None)
            request = None  # a refresh renews whatever is active when the code arrives
        else:
            device = request.mfa_serial
        if not device:
            return False
        with self._lock, self.hold_sync():
            self._awaiting_code = (operation, request)
            self.mfa_device = device
            self.needs_mfa = True
        return True

    def _forget_code_prompt(self) -> None:
        with self._lock, self.hold_sync():
            self._awaiting_code = None
            self.needs_mfa = False
            self.mfa_device = ""

    # -- lifecycle and text ---------------------------------------------------------------------

    def close(self) -> None:
        """Stop following the manager and close the widget in every view."""
        attempt = getattr(self, "_sso_attempt", None)
        if attempt is not None:
            attempt.cancel()
        if getattr(self, "_subscribed", False):
            self._subscribed = False
            self.manager.unsubscribe(self._on_change)
            self.manager.settings.unobserve(self._on_settings, names=["roles", "default_duration", "time_zone", "delivery"])
        super().close()

    def __repr__(self) -> str:
        # Also the text/plain fallback saved with the output: state, never secrets.
        grant = self.manager.current() if hasattr(self, "manager") else None
        if grant is None:
            return "<RolePanel: no temporary credentials active>"
        now = self.manager.clock()
        zone = getattr(self.manager.settings, "time_zone", None)
        return f"<RolePanel: {grant.arn} · {expiry_phrase(grant, now, zone)} ({iso_utc(grant.expiration)})>"


# The panel of the last `%role_panel --sidebar` is kept in _kernel.STATE.sidebar: a new one
# replaces it instead of stacking tabs, and _kernel.reset() closes it.


def panel() -> RolePanel:
    """The role panel, as `%role_panel` draws it.

    Pick a role, see who you are and how long is left (a countdown that ticks in the browser), and
    Assume, Refresh or Release. Every panel shows the same state; none holds a secret.

    Returns:
        A widget: display it, or make it the last expression of a cell.
    """
    from ... import api

    return RolePanel(api.get_manager())


def show_panel(manager, *, sidebar: bool = False) -> None:
    """Display a RolePanel for ``manager`` in the output, or in JupyterLab's right sidebar."""
    from IPython.display import display

    from ..._kernel import STATE

    if not sidebar:
        display(RolePanel(manager))
        return None
    try:
        from sidecar import Sidecar
    except ImportError:
        raise TempCredsError(SIDEBAR_MISSING) from None
    if STATE.sidebar is not None:
        old_sidecar, old_panel = STATE.sidebar
        old_panel.close()
        old_sidecar.close()
    panel = RolePanel(manager)
    sidecar = Sidecar(title="AWS role")
    # append_display_data rather than `with sidecar: display(...)`: it needs no kernel output
    # capture, so it behaves the same in a plain IPython shell.
    sidecar.append_display_data(panel)
    STATE.sidebar = (sidecar, panel)
    return None
