"""The change event: what every follower of the kernel's credentials receives.

A follower is any callable ``follower(change)``, subscribed with ``manager.subscribe(follower)``.
Followers are called after the environment has been written, outside the manager's lock, in
subscription order, possibly from the renewal thread. They must not block (slow work goes to a
thread of their own); an exception in one is logged, scrubbed, and does not stop the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .credentials import Grant

KINDS = ("assume", "refresh", "renewal", "clear", "problem", "sessions", "closed")


@dataclass(frozen=True)
class Change:
    """What changed in the kernel's credentials; every follower receives one."""

    kind: str  # "assume" | "refresh" | "renewal" | "clear" | "problem" | "sessions" | "closed"
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
