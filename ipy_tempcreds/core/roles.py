"""Roles to offer: aliases, role profiles of the AWS config, then recently used roles.

``core/recent.py`` is the file store of recently used roles; this module decides what pickers and
completion offer, and keeps one :class:`~ipy_tempcreds.core.recent.RecentRoles` per settings.
"""

from __future__ import annotations

import threading

from ..base import aws_config
from ..base.errors import InvalidInput
from ..sources.sso import config
from .recent import RecentRoles


class Roles:
    """The roles a kernel knows of, for pickers and completion; remembers the roles assumed."""

    def __init__(self, settings):
        self.settings = settings
        self._recent: tuple[tuple, RecentRoles] | None = None  # (settings it was made for, it)
        self._lock = threading.Lock()

    def recent(self) -> RecentRoles:
        """The recent-roles store for the current settings (file and limit)."""
        where = (self.settings.recent_roles_file or None, self.settings.recent_roles_limit)
        with self._lock:
            if self._recent is None or self._recent[0] != where:
                # One object while the settings stay: building its Path on every assume was part of
                # the cost a switch adds to its STS call (benchmarks/bench_switch.py).
                self._recent = (where, RecentRoles(*where))
            return self._recent[1]

    def candidates(self) -> list[tuple[str, str]]:
        """(label, role ARN) pairs: aliases, role profiles (SSO profiles as (name, name)), then
        recently used roles, without repeats."""
        return [(label, arn) for label, arn, _ in self.known()]

    def known(self) -> list[tuple[str, str, str]]:
        """(label, role ARN, where it is known from: "alias", "AWS config", "SSO profile" or
        "remembered") of :meth:`candidates`, in the same order."""
        seen: set[str] = set()
        out = []
        try:
            profile_roles = [(name, section["role_arn"], "AWS config")
                             for name, section in sorted(aws_config.role_profiles().items())]
            # SSO profiles have no role ARN before the portal is asked: they stand for themselves.
            profile_roles += [(name, name, "SSO profile") for name in config.sso_role_profiles()]
        except InvalidInput:
            profile_roles = []
        aliases = [(label, arn, "alias") for label, arn in sorted(self.settings.roles.items())]
        recent = [(label, arn, "remembered") for label, arn in self.recent().load()]
        for label, arn, origin in aliases + profile_roles + recent:
            if label not in seen:
                seen.add(label)
                out.append((label, arn, origin))
        return out

    def remember(self, label: str, arn: str) -> None:
        self.recent().remember(label, arn)

    def flush(self) -> None:
        self.recent().flush()
