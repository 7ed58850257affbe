"""Target 4: the role panel displayed in a real kernel, then idle for 10 s: kernel messages per tick.

The countdown ticks in the browser (panel.js, once a second); the kernel should say nothing while
nothing changes. The physical limit is 0. We count every iopub message (what a frontend would
receive) from a real kernel (jupyter_client) after `%role_panel` has finished.
"""

from __future__ import annotations

import os
import queue
import sys
import time

import common
from common import READER

TICK_SECONDS = 1.0  # panel.js redraws the countdown once a second


def run_cell(client, code: str, timeout: float = 120) -> dict:
    """Execute ``code`` and collect its outputs until the kernel is idle again."""
    msg_id = client.execute(code)
    outputs = []
    deadline = time.monotonic() + timeout
    while True:
        message = client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.1))
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind = message["msg_type"]
        if kind == "status" and message["content"]["execution_state"] == "idle":
            break
        outputs.append(message)
    reply = client.get_shell_msg(timeout=timeout)
    return {"reply": reply["content"], "outputs": outputs}


def count_idle(client, seconds: float) -> list[str]:
    """Every iopub message type that arrives within ``seconds``."""
    seen = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = client.get_iopub_msg(timeout=left)
        except queue.Empty:
            break
        seen.append(message["msg_type"])
    return seen


def main(seconds: float) -> None:
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=dict(os.environ))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        for code in ("%load_ext ipy_tempcreds", f"%assume_role {READER} -q"):
            result = run_cell(client, code)
            if result["reply"]["status"] != "ok":
                raise SystemExit(f"{code}: {result['reply']}")
        baseline = count_idle(client, seconds)  # the same kernel, no panel yet
        shown = run_cell(client, "%role_panel")
        if shown["reply"]["status"] != "ok":
            common.report({"available": False, "error": f"{shown['reply'].get('ename')}: {shown['reply'].get('evalue')}"})
            return
        display = [m["msg_type"] for m in shown["outputs"]]
        idle = count_idle(client, seconds)
        common.report({
            "available": True, "seconds": seconds, "ticks": seconds / TICK_SECONDS,
            "messages": len(idle), "types": sorted(set(idle)), "baseline": len(baseline),
            "display_messages": display,
        })
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
