"""Wiring into an IPython shell: configuration, magics, hooks; and undoing all of it on unload."""

from __future__ import annotations

from . import api
from .magics import TempCredsMagics


def load(shell) -> None:
    manager = api.get_manager()
    settings = manager.settings
    # c.TempCreds.* from the profile's config; %config later updates it through shell.configurables.
    settings.update_config(shell.config)
    if settings not in shell.configurables:
        shell.configurables.append(settings)
    shell.register_magics(TempCredsMagics(shell, manager))


def unload(shell) -> None:
    settings = api.get_manager().settings
    api._reset_manager()  # clears: stops renewal and restores the environment
    if settings in shell.configurables:
        shell.configurables.remove(settings)
    line_magics = shell.magics_manager.magics["line"]
    for name in ("assume_role", "aws_whoami", "role_panel"):
        line_magics.pop(name, None)
