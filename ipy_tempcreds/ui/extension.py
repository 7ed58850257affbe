"""Wiring into an IPython shell: configuration, magics, completion, the pre-cell check; and
undoing all of it on unload."""

from __future__ import annotations

import atexit
import sys

from .. import _kernel, api
from ..base import logs
from . import access_hook, login_magic, sso_magic
from .completion import role_matcher
from .magics import TempCredsMagics

_MAGICS = ("assume_role", "federation_token", "session_token", "aws_whoami", "role_panel", "aws_console", "sso_login",
           "aws_login", "aws_can")
_CELL_MAGICS = ("as_role",)
# A Grant's table shows times in TempCreds.time_zone, as the magics do (named lazily: nothing of the
# core is imported at load).
_GRANT = "ipy_tempcreds.model.credentials.Grant"
_installed: dict = {}


def _grant_html(grant) -> str:
    return grant._repr_html_(api.get_settings().time_zone)


def load(shell) -> None:
    if id(shell) in _installed:
        # Loaded already (load_ipython_extension called directly after %load_ext): a second set
        # of hooks would outlive unload, which removes one (tests/ui/test_lifecycle.py).
        return
    # No manager yet: it (and the core it imports) is created by the first magic that needs it.
    settings = api.get_settings()
    # c.TempCreds.* from the profile's config; %config later updates it through shell.configurables.
    settings.update_config(shell.config)
    if settings not in shell.configurables:
        shell.configurables.append(settings)
    shell.register_magics(TempCredsMagics(shell))
    logs.install_record_factory()  # no log record of the kernel shows a secret (base/logs.py)

    state = _kernel.STATE

    def before_cell(info=None):
        _kernel.keep_modules()  # after `%reset -f --aggressive`, the same manager goes on
        sso_magic.before_cell()  # a sign-in made with %sso_login that lapsed, said once
        login_magic.before_cell()  # the console login session of %aws_login about to end, said once
        _kernel.followers().before_cell()  # DuckDB connections that loaded httpfs since a change
        manager = state.manager
        if manager is None:  # nothing was ever assumed in this kernel
            return
        message = manager.before_cell()
        if message:
            print(f"ipy_tempcreds: {message}", file=sys.stderr)

    matcher = role_matcher(api.get_manager)
    shell.events.register("pre_run_cell", before_cell)
    shell.events.register("post_run_cell", access_hook.after_cell)
    shell.Completer.custom_matchers.append(matcher)
    # Kernel shutdown: stop the renewal thread (the environment dies with the process).
    atexit.register(_kernel.close_at_exit)
    # The readers (boto3 clients, polars, DuckDB) attach when the user imports them: nothing is
    # imported here. Their followers are subscribed when the manager is created (api.py).
    state.attach_followers = True
    _kernel.followers().install()
    module, _, name = _GRANT.rpartition(".")
    shell.display_formatter.formatters["text/html"].for_type_by_name(module, name, _grant_html)
    _installed[id(shell)] = (before_cell, matcher, settings)


def unload(shell) -> None:
    before_cell, matcher, registered = _installed.pop(id(shell), (None, None, None))
    if before_cell is not None:
        shell.events.unregister("pre_run_cell", before_cell)
        shell.events.unregister("post_run_cell", access_hook.after_cell)
        if matcher in shell.Completer.custom_matchers:
            shell.Completer.custom_matchers.remove(matcher)
        atexit.unregister(_kernel.close_at_exit)
        shell.display_formatter.formatters["text/html"].pop(_GRANT, None)
    settings = api.get_settings()
    _kernel.STATE.attach_followers = False
    # Clears (stops renewal, restores the environment), then detaches the readers' followers:
    # they hear the clear first.
    _kernel.reset()
    # The options registered at load, and the current ones if a new manager replaced them since.
    for options in {id(o): o for o in (registered, settings) if o is not None}.values():
        if options in shell.configurables:
            shell.configurables.remove(options)
    line_magics = shell.magics_manager.magics["line"]
    for name in _MAGICS:
        line_magics.pop(name, None)
    for name in _CELL_MAGICS:
        shell.magics_manager.magics["cell"].pop(name, None)
    # IPython's Magics.__init__ appended the magics object to shell.configurables: without this,
    # each reload left one more behind (holding its manager alive).
    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, TempCredsMagics)]
    shell.magics_manager.registry.pop(TempCredsMagics.__name__, None)
    logs.uninstall_record_factory()
