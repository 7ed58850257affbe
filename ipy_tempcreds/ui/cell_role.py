"""``%%as_role ROLE [options]``: run the cell's body as ROLE, then put the kernel's identity back.

The body runs through ``shell.run_cell`` (as ``%%capture`` does), so it behaves as a cell of its
own: ``!cmd`` and ``%magic`` lines, the last expression displayed, IPython's own traceback on an
error, and the post-run events (the AccessDenied note names ROLE, in force when the body failed).
A body that failed or was interrupted makes the whole cell fail too (so "Run All" stops there), with
one line saying which identity the kernel is back to; the role not being assumable stops the cell
before its body runs, with one line saying why (core/cell_roles.py changes nothing then).

A body with top-level ``await`` cannot run this way in a kernel (ipykernel): the kernel's event
loop is running the cell already, and ``run_cell`` would need it for the body ("This event loop is
already running", as under ``%%capture``). Such a cell is refused before anything changes, with
the form that works: ``with ipy_tempcreds.as_role(ROLE):`` inside the cell, around the awaits.
"""

from __future__ import annotations

import asyncio

from IPython.core.error import UsageError

from ..base import options
from ..core.cell_roles import CellRoles
from ..core.identities import grant_words
from .arguments import code_or_prompt


def run_cell_as(shell, manager, args, body: str) -> None:
    if not args.role:
        raise UsageError("%%as_role needs a ROLE on its first line (a role ARN, an alias from "
                         "TempCreds.roles or a role profile), e.g. `%%as_role reader`.")
    if not body.strip():
        raise UsageError(f"the cell under `%%as_role {args.role}` is empty: nothing to run.")
    if _awaits_in_a_running_loop(shell, body):
        raise UsageError(f"the cell under `%%as_role {args.role}` uses top-level await, which a cell magic "
                         "cannot run in a kernel (its event loop is busy with this cell); nothing changed. "
                         f"Write the cell as `with ipy_tempcreds.as_role({args.role!r}):` around the code instead.")
    request = manager.role_request(args.role, **options.request_options(options.ROLE_OPTIONS, args))
    roles = CellRoles.of(manager)
    scope = roles.enter(request, mfa_code=code_or_prompt(args.mfa_code),
                        auto_refresh=False if args.no_auto_refresh else None)
    error: BaseException | None = None
    try:
        result = shell.run_cell(body, store_history=False)
        error = result.error_before_exec or result.error_in_exec
    except BaseException as exc:  # an interrupt outside the body's own code
        error = exc
        raise
    finally:
        roles.leave(scope, error)
    if error is not None:
        what = "was interrupted" if isinstance(error, KeyboardInterrupt) else f"failed ({type(error).__name__})"
        back = manager.current()
        raise UsageError(f"the cell {what} while running as {scope.label}; the kernel is back to "
                         f"{grant_words(back) if back is not None else 'its own credentials'}.")


def _awaits_in_a_running_loop(shell, body: str) -> bool:
    """True when ``body`` needs IPython's async runner and an event loop runs this cell already."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # a terminal IPython: run_cell runs an awaiting body on a loop of its own
        return False
    try:
        return bool(shell.should_run_async(body, transformed_cell=shell.transform_cell(body)))
    except Exception:  # a body IPython cannot parse: run_cell reports it as for any cell
        return False
