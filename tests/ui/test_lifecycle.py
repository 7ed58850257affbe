"""The extension's life: %unload_ext, kernel shutdown and kernel restart leave no ipy_tempcreds
thread or timer and give the environment back; loading again never registers anything twice.

Shutdown and restart use jupyter_client's KernelManager on a real kernel. What happens inside the
kernel as it exits is reported by an atexit handler registered *before* the extension is loaded:
atexit runs handlers last-in first-out, so it runs after the extension's own.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest

import ipy_tempcreds
from support import role_arn

READER = role_arn("Reader")


def product_threads() -> list[threading.Thread]:
    """Threads (timers are threads) that belong to ipy_tempcreds: by name or by target's module."""
    found = []
    for thread in threading.enumerate():
        target = getattr(thread, "_target", None)
        module = getattr(target, "__module__", "") or getattr(getattr(target, "__self__", None), "__module__", "") or ""
        if thread.name.startswith("ipy_tempcreds") or module.startswith("ipy_tempcreds"):
            found.append(thread)
    return found


def registrations(shell) -> dict[str, int]:
    """What loading registers in a shell, counted."""
    line_magics = shell.magics_manager.magics["line"]
    return {
        "pre_run_cell hooks": sum(getattr(cb, "__module__", "").startswith("ipy_tempcreds")
                                  for cb in shell.events.callbacks["pre_run_cell"]),
        "completion matchers": sum(getattr(m, "matcher_identifier", "") == "ipy_tempcreds.core.roles"
                                   for m in shell.Completer.custom_matchers),
        "configurables": sum(type(c).__module__.startswith("ipy_tempcreds") for c in shell.configurables),
        "magics": sum(name in line_magics for name in ("assume_role", "federation_token", "session_token",
                                                       "aws_whoami", "role_panel")),
    }


@pytest.fixture
def bare_shell(aws):
    """The test shell with the extension not loaded (and unloaded again afterwards)."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.extension_manager.unload_extension("ipy_tempcreds")
    yield ip
    ip.extension_manager.unload_extension("ipy_tempcreds")
    ip.config.pop("TempCreds", None)


def test_unload_ext_stops_every_thread_and_gives_the_environment_back(bare_shell, capsys):
    before = dict(os.environ._data)
    bare_shell.run_line_magic("load_ext", "ipy_tempcreds")
    bare_shell.run_line_magic("assume_role", f"{READER} --session-name lifecycle -q")
    assert len(product_threads()) == 1 and dict(os.environ._data) != before

    bare_shell.run_line_magic("unload_ext", "ipy_tempcreds")

    assert product_threads() == []
    assert dict(os.environ._data) == before
    assert registrations(bare_shell) == {"pre_run_cell hooks": 0, "completion matchers": 0, "configurables": 0, "magics": 0}
    bare_shell.run_cell("1 + 1")  # no hook left to run
    assert capsys.readouterr().err == ""


def test_loading_twice_or_reloading_registers_everything_once(bare_shell):
    nothing = registrations(bare_shell)
    assert nothing == {"pre_run_cell hooks": 0, "completion matchers": 0, "configurables": 0, "magics": 0}

    bare_shell.run_line_magic("load_ext", "ipy_tempcreds")
    once = registrations(bare_shell)
    assert once == {"pre_run_cell hooks": 1, "completion matchers": 1, "configurables": 2, "magics": 5}  # options + magics

    bare_shell.run_line_magic("load_ext", "ipy_tempcreds")
    assert registrations(bare_shell) == once
    bare_shell.run_line_magic("reload_ext", "ipy_tempcreds")
    assert registrations(bare_shell) == once
    for _ in range(3):
        bare_shell.run_line_magic("unload_ext", "ipy_tempcreds")
        assert registrations(bare_shell) == nothing
        bare_shell.run_line_magic("load_ext", "ipy_tempcreds")
        assert registrations(bare_shell) == once
    # Called directly (as some setups do) on top of %load_ext: still once.
    ipy_tempcreds.load_ipython_extension(bare_shell)
    assert registrations(bare_shell) == once
    bare_shell.run_line_magic("unload_ext", "ipy_tempcreds")
    assert registrations(bare_shell) == nothing


def test_a_reset_while_loaded_attaches_the_next_followers_and_unload_detaches_them(bare_shell):
    import boto3

    from ipy_tempcreds import _kernel as kernel_state
    from ipy_tempcreds.followers import imports

    def attached() -> set[int]:
        return {id(hook.followers) for hooks in imports._finder.callbacks.values() for hook in hooks
                if hasattr(hook, "followers")}

    bare_shell.run_line_magic("load_ext", "ipy_tempcreds")
    first = kernel_state.followers()
    assert attached() == {id(first)}
    kernel_state.reset()  # a new kernel's state; the extension stays loaded
    second = kernel_state.followers()
    assert second is not first and attached() == {id(second)}
    assert type(boto3.Session().get_credentials()).__name__ == "KernelCredentials"
    bare_shell.run_line_magic("unload_ext", "ipy_tempcreds")
    assert attached() == set() and kernel_state.STATE.followers is None
    assert type(boto3.Session().get_credentials()).__name__ != "KernelCredentials"


# -- a real kernel: shutdown and restart ------------------------------------------------------------------

def execute(client, code: str) -> str:
    """Run code in the kernel; return its stdout (errors fail the test)."""
    out, errors = [], []

    def hook(message):
        content = message["content"]
        if message["msg_type"] == "stream":
            out.append(content["text"])
        elif message["msg_type"] == "error":
            errors.append(f"{content['ename']}: {content['evalue']}")

    reply = client.execute_interactive(code, timeout=60, output_hook=hook)
    assert reply["content"]["status"] == "ok" and not errors, errors
    return "".join(out)


def exit_report_code(path: Path) -> str:
    """An atexit handler, registered first so it runs last, that writes what is left."""
    return (
        "import atexit, json, os, threading\n"
        "_start = dict(os.environ)\n"
        "def _report():\n"
        "    threads = [t.name for t in threading.enumerate() if t.name.startswith('ipy_tempcreds')]\n"
        "    changed = sorted(k for k in set(_start) | set(os.environ) if _start.get(k) != os.environ.get(k))\n"
        f"    with open({str(path)!r}, 'w') as handle:\n"
        "        json.dump({'threads': threads, 'changed': changed}, handle)\n"
        "atexit.register(_report)"
    )


def test_kernel_shutdown_and_restart_leave_nothing_behind(aws, tmp_path):
    from jupyter_client import KernelManager

    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               IPYTHONDIR=str(tmp_path / "ipython"))
    launch_aws = {k: v for k, v in env.items() if k.startswith("AWS_")}
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reports = [tmp_path / "first-exit.json", tmp_path / "second-exit.json"]
        for report in reports:
            execute(client, exit_report_code(report))
            execute(client, "%load_ext ipy_tempcreds")
            execute(client, f"%assume_role {READER} --session-name kernel-life -q")
            assert execute(client, "import threading; print([t.name for t in threading.enumerate() "
                                   "if t.name.startswith('ipy_tempcreds')])").strip() == "['ipy_tempcreds-renewal']"
            assert execute(client, "import os; print(os.environ['AWS_ACCESS_KEY_ID'][:4])").strip() == "ASIA"
            if report is reports[0]:
                manager.restart_kernel(now=False)
                client.wait_for_ready(timeout=60)
                # The new kernel starts clean: the launch environment, nothing loaded, no thread.
                state = json.loads(execute(client, (
                    "import json, os, sys, threading\n"
                    "print(json.dumps({'aws': {k: v for k, v in os.environ.items() if k.startswith('AWS_')},"
                    " 'loaded': 'ipy_tempcreds' in sys.modules,"
                    " 'threads': [t.name for t in threading.enumerate() if t.name.startswith('ipy_tempcreds')]}))"))
                )
                assert state == {"aws": launch_aws, "loaded": False, "threads": []}
            else:
                manager.shutdown_kernel(now=False)
    finally:
        client.stop_channels()
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)

    # As each kernel exited (restart, then shutdown), the extension had stopped its thread and
    # put back every variable it changed, before the process ended.
    for report in reports:
        assert json.loads(report.read_text()) == {"threads": [], "changed": []}, report.name
