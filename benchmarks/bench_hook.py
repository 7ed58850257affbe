"""Target 3: the pre_run_cell hook with credentials active, against an empty hook; 3c: the
post_run_cell hook (the AccessDenied note) after a cell that succeeded, against an empty hook.

The physical limit of a pre-cell check is a Python call that does nothing: IPython calls every
registered callback before every cell anyway. We time blocks of calls (timeit), interleaving ours
and a no-op, and also whole ``shell.events.trigger("pre_run_cell", info)`` dispatches with our hook
registered versus a no-op registered in its place.
"""

from __future__ import annotations

import sys
import timeit

import common
from common import READER


def per_call(function, number: int) -> float:
    return timeit.Timer(function).timeit(number) / number


def blocks(a, b, repetitions: int, number: int) -> tuple[list[float], list[float]]:
    """Per-call seconds of ``a`` and ``b``, one block of ``number`` calls each, alternately."""
    out_a, out_b = [], []
    for i in range(repetitions):
        first, second = ((a, out_a), (b, out_b)) if i % 2 == 0 else ((b, out_b), (a, out_a))
        for function, sink in (first, second):
            sink.append(per_call(function, number))
    return out_a, out_b


def main(repetitions: int, number: int) -> None:
    from IPython.core.interactiveshell import ExecutionInfo

    shell = common.ipython_shell()
    shell.run_line_magic("load_ext", "ipy_tempcreds")
    from ipy_tempcreds.ui import extension

    ours = extension._installed[id(shell)][0]
    info = ExecutionInfo("x = 1", store_history=True, silent=False, shell_futures=True, cell_id=None)

    def noop(info=None):
        pass

    # Before any assume: the hook of a kernel that loaded the extension and never used it.
    idle_ours, idle_noop = blocks(lambda: ours(info), lambda: noop(info), repetitions, number)

    shell.run_line_magic("assume_role", f"{READER} -q")  # credentials active, renewal thread running
    from ipy_tempcreds import api

    manager = api.get_manager()
    assert manager.current() is not None and manager.before_cell() is None
    active_ours, active_noop = blocks(lambda: ours(info), lambda: noop(info), repetitions, number)
    core, _ = blocks(manager.before_cell, lambda: None, repetitions, number)

    # The whole dispatch: our hook registered, or a no-op in its place.
    def trigger():
        shell.events.trigger("pre_run_cell", info)

    callbacks = shell.events.callbacks["pre_run_cell"]

    def only(callback):
        for registered in (ours, noop):
            if registered in callbacks and registered is not callback:
                shell.events.unregister("pre_run_cell", registered)
        if callback not in callbacks:
            shell.events.register("pre_run_cell", callback)

    with_ours, with_noop = [], []
    for i in range(repetitions):
        for callback, sink in (((ours, with_ours), (noop, with_noop)) if i % 2 == 0
                               else ((noop, with_noop), (ours, with_ours))):
            only(callback)
            sink.append(per_call(trigger, number))
    only(ours)
    assert manager.current() is not None  # still active: every call above was the active path

    # The post_run_cell hook (the AccessDenied note) after a cell that succeeded, against a no-op.
    from IPython.core.interactiveshell import ExecutionResult

    from ipy_tempcreds.ui import access_hook

    succeeded = ExecutionResult(info)
    assert access_hook.after_cell in shell.events.callbacks["post_run_cell"]
    after_ours, after_noop = blocks(lambda: access_hook.after_cell(succeeded), lambda: noop(succeeded),
                                    repetitions, number)

    common.report({
        "idle": common.summary(idle_ours, 1e6), "idle_noop": common.summary(idle_noop, 1e6),
        "active": common.summary(active_ours, 1e6), "active_noop": common.summary(active_noop, 1e6),
        "before_cell": common.summary(core, 1e6),
        "trigger": common.summary(with_ours, 1e6), "trigger_noop": common.summary(with_noop, 1e6),
        "after_cell": common.summary(after_ours, 1e6), "after_cell_noop": common.summary(after_noop, 1e6),
        "callbacks": [getattr(c, "__qualname__", repr(c)) for c in shell.events.callbacks["pre_run_cell"]],
    })


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40, int(sys.argv[2]) if len(sys.argv) > 2 else 20000)
