"""`make demo`: a local AWS and the quickstart notebook in JupyterLab, no AWS account needed.

Starts the demo's AWS on 127.0.0.1 (demo/standins.py: moto behind the strict STS stand-in, and the
Identity Center, console sign-in and AWS Sign-In stand-ins), seeds demo/world.py, points the kernel
at it, then opens JupyterLab on a copy of notebooks/quickstart.ipynb, or with HEADLESS=1 runs that
copy in a real kernel and prints what each step showed. The notebooks, the kernel's HOME and
IPython profile live in a scratch folder (demo/scratch.py), deleted at the end: the checkout stays
as it was. Ctrl-C stops everything it started.

--short: every credential set lives 3 minutes (expiry and renewal within minutes).
DEMO_REAL=1: no stand-ins; the kernel gets this environment as it is (your AWS config and
credentials), and the DEMO_* variables name your roles and buckets (never run by the tests).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The demo's world and the stand-ins (tests/: test helpers, not in the wheel).
sys.path[:0] = [str(HERE), str(ROOT / "tests")]

import scratch as scratch_folder  # noqa: E402
import welcome  # noqa: E402

SHORT_LIFETIME = 180
QUICKSTART = "quickstart.ipynb"


def local_environment(aws, scratch: Path) -> dict[str, str]:
    """The kernel's environment in the demo's world: this process's, less any AWS setting of the
    user's, pointed at the demo's AWS; HOME and the IPython profile in ``scratch`` (SSO and login
    caches land there), and the MFA helper beside the notebooks."""
    import world

    scratch_folder.add_mfa_code(scratch, aws.analyst.mfa_seed, world.MFA_SERIAL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "BOTO_CONFIG"}
    env.update(aws.environ(scratch))
    env.update(AWS_EC2_METADATA_DISABLED="true", HOME=str(scratch / "home"),
               IPYTHONDIR=str(scratch_folder.add_profile(scratch, aws.ipython_config())))
    return with_tools(env)


def with_tools(env: dict[str, str]) -> dict[str, str]:
    # `!aws` and `!python` in the notebook must find this environment's first.
    return dict(env, PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")


def run_headless(env: dict[str, str], notebook: Path) -> int:
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    failed = None
    with tempfile.TemporaryDirectory(prefix="ipy_tempcreds-kernel-") as sockets:
        # IPC sockets in a private directory, not TCP: ipykernel warns that TCP is unencrypted,
        # and the kernel holds live credentials.
        kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=kernel, timeout=180, allow_errors=False,
                                resources={"metadata": {"path": str(notebook.parent)}})
        try:
            client.execute(env=env)
        except CellExecutionError as exc:
            failed = exc
        finally:
            # nbclient shuts down only a kernel it started itself; this one is ours. Without this
            # the kernel outlives the demo and later prints "Parent appears to have exited".
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=False)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        print(f"\n>>> {cell.source}")
        for output in cell.get("outputs", []):
            print(_output_text(output), end="")
    if failed is not None:
        print(f"\nA step failed:\n{failed}", file=sys.stderr)
        return 1
    print("\nEvery step of the quickstart worked.")
    return 0


def _output_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return f"{output.ename}: {output.evalue}\n"
    data = output.get("data", {})
    if "application/vnd.jupyter.widget-view+json" in data:
        return "[widget panel]\n"
    text = data.get("text/plain", "")
    return text + ("\n" if text and not text.endswith("\n") else "")


def run_jupyterlab(env: dict[str, str], scratch: Path, greeting) -> int:
    token = secrets.token_hex(16)
    port = int(os.environ.get("DEMO_PORT") or free_port(8888))
    for name in ("config", "data", "runtime"):
        (scratch / f"jupyter-{name}").mkdir(exist_ok=True)
    env = dict(env, JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"),
               JUPYTER_DATA_DIR=str(scratch / "jupyter-data"),
               JUPYTER_RUNTIME_DIR=str(scratch / "jupyter-runtime"))
    # Keep the kernel spec of this environment reachable after moving JUPYTER_DATA_DIR.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    log = scratch / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={scratch / 'notebooks'}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    # The server's log goes to a file: a pipe nobody reads would fill up and stall the server.
    with open(log, "w") as log_file:
        # Its own session: Ctrl-C reaches only this script, which then stops the server cleanly
        # (JupyterLab would otherwise answer the terminal's SIGINT with a y/n prompt).
        server = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/lab/tree/{QUICKSTART}?token={token}"
    if not wait_until_serving(f"http://127.0.0.1:{port}/api/status?token={token}", server):
        print(f"JupyterLab did not start; its log:\n{log.read_text()[-3000:]}", file=sys.stderr)
        server.kill()
        return 1
    print(greeting(url))
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.25)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="3-minute credentials: expiry and renewal within minutes")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    headless = os.environ.get("HEADLESS", "") not in ("", "0")
    scratch = scratch_folder.make()
    notebook = scratch / "notebooks" / QUICKSTART
    try:
        if os.environ.get("DEMO_REAL", "") not in ("", "0"):
            print("DEMO_REAL=1: your own AWS environment, config and credentials; no stand-ins.")
            env = with_tools(dict(os.environ))
            return run_headless(env, notebook) if headless else run_jupyterlab(env, scratch, welcome.real)
        return run_local(scratch, notebook, headless, SHORT_LIFETIME if args.short else None)
    finally:
        scratch_folder.remove(scratch)


def run_local(scratch: Path, notebook: Path, headless: bool, lifetime: float | None) -> int:
    from standins import DemoAws

    aws = DemoAws(lifetime=lifetime).start()
    try:
        env = local_environment(aws, scratch)
        if headless:
            print("A local AWS on 127.0.0.1 (no AWS account): the quickstart, step by step.")
            return run_headless(env, notebook)
        return run_jupyterlab(env, scratch, lambda url: welcome.local(url, seed=aws.analyst.mfa_seed, short=lifetime))
    finally:
        aws.stop()


if __name__ == "__main__":
    sys.exit(main())
