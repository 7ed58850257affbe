"""`make demo`: a local AWS stand-in and the quickstart notebook, no AWS account needed.

Starts moto on 127.0.0.1 with an analyst user, two roles and two buckets (demo/world.py), points
the kernel's environment at it, then either opens JupyterLab at notebooks/quickstart.ipynb or, with
HEADLESS=1, executes the notebook in a real kernel and prints what each step showed. Ctrl-C stops
everything it started. Nothing is written outside the project folder and one temp dir.

DEMO_REAL=1 skips the stand-in and runs the same notebook against real AWS with this environment's
credentials; DEMO_ANALYTICS_ROLE, DEMO_FINANCE_ROLE, DEMO_SALES_BUCKET and DEMO_FINANCE_BUCKET name
your own roles and buckets (not tested here: the tests never leave 127.0.0.1).
"""

from __future__ import annotations

import os
import secrets
import shutil
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
# The demo's world and the local AWS stand-in (tests/aws_standin.py: a test helper, not in the wheel).
sys.path[:0] = [str(HERE), str(ROOT / "tests")]

import world  # noqa: E402
from aws_standin import LocalAws  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"


def kernel_environment(aws: LocalAws, analyst, scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    (scratch / "aws-config").write_text("")
    (scratch / "aws-credentials").write_text("")
    env.update(aws.client_environ())
    env.update(analyst.environ())
    env.update(
        AWS_CONFIG_FILE=str(scratch / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(scratch / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        # `!aws` in the notebook must find this environment's CLI first.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        IPYTHONDIR=str(scratch / "ipython"),
    )
    return env


def run_headless(env: dict[str, str]) -> int:
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(NOTEBOOK, as_version=4)
    failed = None
    with tempfile.TemporaryDirectory(prefix="ipy_tempcreds-kernel-") as sockets:
        # IPC sockets in a private directory, not TCP: ipykernel warns that TCP is unencrypted,
        # and the kernel holds live credentials.
        kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=kernel, timeout=180, allow_errors=False,
                                resources={"metadata": {"path": str(NOTEBOOK.parent)}})
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


def run_jupyterlab(env: dict[str, str], scratch: Path) -> int:
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
        f"--ServerApp.root_dir={ROOT}", "--LabApp.news_url=None",
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
    url = f"http://127.0.0.1:{port}/lab/tree/notebooks/quickstart.ipynb?token={token}"
    if not wait_until_serving(f"http://127.0.0.1:{port}/api/status?token={token}", server):
        print(f"JupyterLab did not start; its log:\n{log.read_text()[-3000:]}", file=sys.stderr)
        server.kill()
        return 1
    print(f"\nOpen {url}\n(the kernel's environment points at the local AWS stand-in; Ctrl-C stops everything)")
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


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    scratch = Path(tempfile.mkdtemp(prefix="ipy_tempcreds-demo-"))
    headless = os.environ.get("HEADLESS", "") not in ("", "0")
    if os.environ.get("DEMO_REAL", "") not in ("", "0"):
        # Real AWS: the environment's own credentials, and DEMO_* variables naming real roles.
        print("DEMO_REAL=1: using this environment's AWS credentials against real AWS.")
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        try:
            return run_headless(env) if headless else run_jupyterlab(env, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    aws = LocalAws().start()
    try:
        analyst = world.seed(aws)
        print(f"Local AWS stand-in (moto) at {aws.url}: user analyst, roles "
              f"{', '.join(world.ROLES.values())}, buckets {world.SALES_BUCKET}, {world.FINANCE_BUCKET}.")
        env = kernel_environment(aws, analyst, scratch)
        if headless:
            return run_headless(env)
        return run_jupyterlab(env, scratch)
    finally:
        aws.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
