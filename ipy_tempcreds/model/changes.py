"""The change event: what every follower of the kernel's credentials receives.

A follower is any callable ``follower(change)``, subscribed with ``manager.subscribe(follower)``.
Followers are called after the environment has been written, outside the manager's lock, in
subscription order, possibly from the renewal thread. They must not block (slow work goes to a
thread of their own); an exception in one is logged, scrubbed, and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.errors import scrub

if TYPE_CHECKING:
    from .credentials import Grant

log = logging.getLogger("ipy_tempcreds")

KINDS = ("assume", "refresh", "renewal", "clear", "problem", "sessions", "sign-in", "closed")


@dataclass(frozen=True)
class Change:
    """What changed in the kernel's credentials; every follower receives one."""

    # "assume" | "refresh" | "renewal" | "clear" | "problem" | "sessions" | "closed", or "sign-in":
    # an IAM Identity Center sign-in began or ended (the credentials in force are the same).
    kind: str
    grant: Grant | None  # the grant in force after the change (None: the kernel's own credentials)
    previous: Grant | None  # the grant in force before it

    @property
    def credentials_changed(self) -> bool:
        """True when the credentials in force are not the ones before (key id differs, or one side is None)."""
        if self.grant is None or self.previous is None:
            return self.grant is not self.previous
        return self.grant.access_key_id != self.previous.access_key_id

    def __repr__(self) -> str:  # the grants' own reprs mask their secrets; keep it short anyway
        now = self.grant.arn if self.grant is not None else None
        return f"Change(kind={self.kind!r}, grant={now!r}, credentials_changed={self.credentials_changed})"


Follower = Callable[[Change], None]


class Followers:
    """The callables told of every change, in the order they subscribed."""

    def __init__(self):
        self._followers: list[Follower] = []

    def subscribe(self, follower: Follower) -> None:
        self._followers.append(follower)

    def unsubscribe(self, follower: Follower) -> None:
        if follower in self._followers:
            self._followers.remove(follower)

    def tell(self, change: Change) -> None:
        """Call every follower with ``change``; one that raises is logged (scrubbed), the rest go on."""
        for follower in list(self._followers):
            try:
                follower(change)
            except Exception as exc:  # a broken view must not break the credentials
                log.error("ipy_tempcreds: a follower of the credentials failed: %s: %s",
                          type(exc).__name__, scrub(str(exc)))
