"""One cell as another role, then back: ``%%as_role ROLE`` and ``with ipy_tempcreds.as_role(ROLE):``.

Entering puts the role's grant in force through the manager (:meth:`CredentialManager.reinstate`),
so every reader that follows a switch follows this one: the environment or the endpoint, boto3's
default session and kept clients, s3fs, polars, DuckDB, pyarrow, subprocesses. Leaving puts back
exactly what was there: the same grant object with its renewal state (its schedule, a failure
being retried, a wait for an MFA code), or the kernel's own credentials, also when the cell
raised or was interrupted. Scopes nest: each one restores what its own entry replaced.

The role's credentials come from the named sessions' cache (core/named_sessions.py): a loop of
cells as the same role calls STS once, and again only when the cached grant reaches its renewal
margin. A failure to obtain them (an unknown role, a trust policy that refuses, an MFA code
needed) raises before anything changes.

Renewal while a cell runs as a role: the renewal thread renews the grant in force, the role's;
the kernel's own grant waits (its renewal state is saved with it, and renewed as soon as it is back
if it fell due meanwhile). Every swap moves the manager's generation on, so a renewal in flight
for either never lands after the swap (tests/core/test_cell_roles.py). The swaps hold off a
KeyboardInterrupt (base/interrupts.py): an interrupt never leaves the kernel half switched.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ..base.errors import Hint, NotActive
from ..base.interrupts import interrupts_held
from ..model.credentials import Grant
from ..model.requests import Request
from .named_sessions import NamedSessions, attached
from .renewal import RenewalState


@dataclass(eq=False)
class Scope:
    """One cell (or ``with`` block) run as a role."""

    request: Request
    grant: Grant  # what was put in force for it
    saved: tuple[Grant | None, RenewalState]  # what was in force before: put back at the end
    done: bool = False

    @property
    def label(self) -> str:
        return self.request.label or self.request.target


class CellRoles:
    """The scopes open on one manager, innermost last; and which identity a failed one ran as."""

    def __init__(self, manager):
        self.manager = manager
        self._stack: list[Scope] = []
        self._lock = threading.Lock()
        # (the exception that ended a scope, the grant in force when it did): the AccessDenied note
        # names that identity, not the one put back after.
        self._failure: tuple[BaseException, Grant | None] | None = None

    @classmethod
    def of(cls, manager) -> CellRoles:
        """The scopes of ``manager`` (created on first use)."""
        return attached(manager, "cell_roles", cls)

    def enter(self, request: Request, *, mfa_code=None, auto_refresh: bool | None = None) -> Scope:
        """Put ``request``'s role in force for a cell. On any failure nothing changed."""
        manager = self.manager
        if manager.closed:
            raise NotActive("ipy_tempcreds was unloaded in this kernel; `%load_ext ipy_tempcreds` again "
                            "to run cells as a role.")
        parent = manager.current() if request.chain else None
        if request.chain and parent is None:
            raise NotActive("{hint} assumes the role from the active role, and none is active.",
                            hint=Hint("chain", True))
        grant = NamedSessions.of(manager).grant(request, mfa_code=mfa_code, parent=parent)
        if auto_refresh is not None:
            grant = grant.with_auto_refresh(auto_refresh)
        if request.remembered_as is not None:
            manager.roles.remember(*request.remembered_as)
        with interrupts_held() as held:
            saved = manager.reinstate(grant, announce=False)
            scope = Scope(request, grant, saved)
            with self._lock:
                self._stack.append(scope)
            manager.announce("assume", saved[0])  # views see the scope open (kernel_grant, active)
            if held.interrupted:  # the cell will not run: put everything back before the interrupt
                self.leave(scope)
        return scope

    def leave(self, scope: Scope, error: BaseException | None = None) -> None:
        """Put back what ``scope`` replaced (and end scopes opened inside it and never left)."""
        with interrupts_held():
            with self._lock:
                if scope.done or scope not in self._stack:
                    return
                index = self._stack.index(scope)
                for inner in self._stack[index:]:
                    inner.done = True
                del self._stack[index:]
            if error is not None:
                self._failure = (error, self.manager.current())
            if self.manager.closed:
                return  # unloaded inside the cell: the environment is the kernel's own already
            replaced, _ = self.manager.reinstate(*scope.saved, announce=False)
            self.manager.announce("assume" if scope.saved[0] is not None else "clear", replaced)

    def active(self) -> Scope | None:
        """The innermost scope open now, or None."""
        with self._lock:
            return self._stack[-1] if self._stack else None

    def kernel_grant(self) -> Grant | None:
        """The kernel's own grant (None: its own credentials): what is in force once every scope
        has ended, which is what the panel shows as the kernel's identity."""
        with self._lock:
            if self._stack:
                return self._stack[0].saved[0]
        return self.manager.current()

    def signed_as(self, error: BaseException) -> tuple[bool, Grant | None]:
        """(True, the grant in force) if ``error`` (or an exception it was chained from) ended a
        scope; (False, None) otherwise."""
        failure = self._failure
        if failure is not None:
            seen = 0
            current: BaseException | None = error
            while current is not None and seen < 16:
                if current is failure[0]:
                    return True, failure[1]
                current = current.__cause__ if current.__cause__ is not None else current.__context__
                seen += 1
        return False, None


def refuse_inside_scope(manager, what: str) -> None:
    """Refuse ``what`` (a switch, a release) while a cell runs as a role: the scope puts back what it
    replaced when the cell ends, so the change would be undone without a word."""
    scope = active_scope(manager)
    if scope is not None:
        raise NotActive(f"this cell runs as {scope.label} (%%as_role, or an as_role() block) until it ends, "
                        f"and then puts the kernel's identity back: {what} here would be undone. Do it in a "
                        "cell of its own, after this one.")


def active_scope(manager) -> Scope | None:
    """The innermost cell role open on ``manager``; None if none (or none was ever opened)."""
    roles = getattr(manager, "cell_roles", None)
    return roles.active() if roles is not None else None

