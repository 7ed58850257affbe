"""JupyterLab on 127.0.0.1 in headless Chromium, driven by Playwright, for the browser tests.

Everything JupyterLab writes (config, data, runtime files, settings, workspaces) goes to a temp
folder; JUPYTER_PATH still points at this environment's share/jupyter so that the anywidget and
sidecar lab extensions and the python3 kernelspec are found. The server and its kernels are
stopped in a ``finally`` and on SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--no-proxy-server",
    # Keep the browser on loopback whatever a page asks for.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]

# User settings the tests rely on, written before the server starts.
LAB_SETTINGS = {
    # Widget state goes into the saved notebook only with this on (what the secret check needs).
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
    # Cells outside the viewport are not rendered with windowing on; tests look for them.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (kernels run in their own sessions)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class JupyterLabServer:
    """``jupyter lab`` on a free loopback port with a random token, isolated in ``workdir``.

    notebook7_harness.Notebook7Server is the same server with Notebook 7's pages.
    """

    name = "JupyterLab"

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir = workdir
        self.root = workdir / "notebooks"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env)
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / "jupyterlab.log"

    def start(self, timeout: float = 60) -> JupyterLabServer:
        home = self.workdir
        self.root.mkdir(parents=True, exist_ok=True)
        settings = home / "lab-settings"
        for relative, values in LAB_SETTINGS.items():
            path = settings / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        # Without this the page asks the server to check the lab build: seconds of CPU per start.
        labconfig = home / "config" / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(json.dumps({"buildCheck": False, "buildAvailable": False}))
        self.env.update(
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
            JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
            IPYTHONDIR=str(home / "ipython"),
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        command = [
            sys.executable, "-m", self.module, "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            *self.app_arguments,
        ]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log()}")

    module = "jupyterlab"
    # Nothing may leave loopback: no news, no update check, no PyPI extension listing.
    app_arguments = (
        "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    )

    def notebook_url(self, name: str) -> str:
        """Where the browser opens the notebook ``name`` (in the server's root folder)."""
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def open_notebook(self, page, name: str, traffic=None) -> Notebook:
        """Write an empty notebook, open it in ``page`` and wait until its kernel can run cells."""
        path = self.root / name
        write_notebook(path)
        page.goto(self.notebook_url(name))
        notebook = Notebook(page, path)
        notebook.cells().first.wait_for()
        notebook.wait_for_kernel_idle()
        return notebook

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Shut down kernels and server; whatever does not exit in time is killed, by pid."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        stragglers = descendants(process.pid)
        try:
            request = urllib.request.Request(f"{self.url}/api/shutdown?token={self.token}", method="POST", data=b"")
            urllib.request.urlopen(request, timeout=5).read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for pid in stragglers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class StopOnSigterm:
    """While active, SIGTERM stops the given callbacks' resources first, then terminates as usual."""

    def __init__(self):
        self.cleanups = []
        self.previous = None

    def __enter__(self):
        self.previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame):
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception:
                pass
        signal.signal(signal.SIGTERM, self.previous or signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, self.previous or signal.SIG_DFL)
        return False


@contextmanager
def running_browser(server):
    """Start ``server`` and headless Chromium; yield the browser; close both after, and stop the
    server on SIGTERM too (a killed test run leaves no server behind)."""
    from playwright.sync_api import sync_playwright

    with StopOnSigterm() as on_sigterm:
        on_sigterm.cleanups.append(server.stop)
        try:
            server.start()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    yield browser
                finally:
                    browser.close()
        finally:
            server.stop()


def kernel_message(payload) -> tuple[str, str] | None:
    """(channel, msg_type) of one kernel websocket frame, in either of Jupyter's two framings."""
    if isinstance(payload, (bytes, bytearray)):
        # v1.kernel.websocket.jupyter.org: uint64 count, uint64 offsets, then channel, header, ...
        data = bytes(payload)
        count = int.from_bytes(data[:8], "little")
        offsets = [int.from_bytes(data[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
        if count < 3:
            return None
        channel = data[offsets[0]:offsets[1]].decode()
        header = json.loads(data[offsets[1]:offsets[2]])
        return channel, header.get("msg_type", "")
    try:
        message = json.loads(payload)
    except ValueError:
        return None
    return message.get("channel", ""), message.get("header", {}).get("msg_type", "")


class KernelTraffic:
    """Counts the messages on every kernel websocket of a page, both directions."""

    def __init__(self, page):
        self.messages: list[tuple[str, str, str]] = []  # (direction, channel, msg_type)
        page.on("websocket", self._watch)

    def _watch(self, websocket):
        if "/api/kernels/" not in websocket.url:
            return
        websocket.on("framesent", lambda payload: self._record("sent", payload))
        websocket.on("framereceived", lambda payload: self._record("received", payload))

    def _record(self, direction, payload):
        parsed = kernel_message(payload)
        if parsed:
            self.messages.append((direction, *parsed))

    def mark(self) -> int:
        return len(self.messages)

    def since(self, mark: int) -> list[tuple[str, str, str]]:
        return self.messages[mark:]


class Notebook:
    """One open notebook: run code in new cells, read their output, save."""

    def __init__(self, page, path: Path):
        self.page = page
        self.path = path

    def wait_for_kernel_idle(self, timeout: float = 60_000) -> None:
        # The status bar reads "Python 3 (ipykernel) | Idle"; other idle indicators report idle
        # before any kernel exists.
        self.page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=timeout)

    def cells(self):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    def run(self, code: str, *, wait: bool = True, timeout: float = 60_000):
        """Type ``code`` into the last (empty) cell and run it; returns that cell's locator."""
        cells = self.cells()
        index = cells.count() - 1
        cell = cells.nth(index)
        editor = cell.locator(".cm-content")
        editor.click()
        # insert_text bypasses the editor's auto-closing of brackets and quotes.
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Shift+Enter")
        # Shift+Enter on the last cell appends a new empty one: the next run types there.
        self.page.wait_for_function(
            "([selector, n]) => document.querySelectorAll(selector).length > n",
            arg=[".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell", index + 1],
        )
        if wait:
            self.wait_for(cell, timeout=timeout)
        return cell

    def wait_for(self, cell, *, timeout: float = 60_000) -> None:
        prompt = cell.locator(".jp-InputPrompt")
        deadline = time.monotonic() + timeout / 1000
        while time.monotonic() < deadline:
            if re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip()):
                return
            self.page.wait_for_timeout(50)
        raise TimeoutError(f"cell did not finish: {cell.inner_text()[:500]}")

    @staticmethod
    def is_running(cell) -> bool:
        return cell.locator(".jp-InputPrompt").inner_text().strip() == "[*]:"

    @staticmethod
    def output(cell) -> str:
        return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts()).strip()

    def output_of(self, code: str) -> str:
        return self.output(self.run(code))

    def save(self, timeout: float = 20.0) -> str:
        """Save with the keyboard shortcut, as a user does; returns the saved file's text."""
        before = self.path.stat().st_mtime_ns if self.path.exists() else 0
        self.cells().last.locator(".jp-InputPrompt").click()  # command mode, focus in the notebook
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.path.exists() and self.path.stat().st_mtime_ns != before:
                text = self.path.read_text()
                if text.strip().endswith("}"):
                    return text
            time.sleep(0.1)
        raise TimeoutError("the notebook was not saved")


def write_notebook(path: Path) -> None:
    """A notebook with one empty cell and a kernelspec (else a kernel picker dialog appears)."""
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "start", "metadata": {},
                   "outputs": [], "source": []}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))
