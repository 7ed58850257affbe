"""The widget panel (placeholder until the panel lands)."""

from __future__ import annotations

from .errors import TempCredsError


class RolePanel:
    def __init__(self, manager):
        raise TempCredsError("the role panel is not available yet.")


def show_panel(manager, *, sidebar: bool = False):
    raise TempCredsError("the role panel is not available yet.")
