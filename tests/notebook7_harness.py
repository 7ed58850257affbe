"""Notebook 7 (``jupyter notebook``) on 127.0.0.1 for the browser tests: the JupyterLab harness's
server and page helpers with Notebook 7's command, URLs and kernel indicator.

Notebook 7 is built from JupyterLab's components, so cells, outputs, widgets and Ctrl+S behave as
there; what differs is the page (one notebook per tab at /notebooks/NAME, no status bar) and the
server's application (no news or update checks to switch off).
"""

from __future__ import annotations

import time

from jupyterlab_harness import JupyterLabServer, Notebook, write_notebook


class Notebook7Notebook(Notebook):
    """A notebook open in Notebook 7's page."""

    def __init__(self, page, path, traffic):
        super().__init__(page, path)
        self.traffic = traffic

    def wait_for_kernel_idle(self, timeout: float = 60_000) -> None:
        # Notebook 7 has no status bar. Its toolbar indicator goes initializing, connecting, idle,
        # but a page can read "idle" before a kernel is attached; the kernel's own answer to the
        # page's kernel_info_request, seen on the websocket, says the connection is up.
        deadline = time.monotonic() + timeout / 1000
        while ("received", "shell", "kernel_info_reply") not in self.traffic.messages:
            if time.monotonic() > deadline:
                raise TimeoutError("Notebook 7 never connected to its kernel")
            self.page.wait_for_timeout(100)
        self.page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(timeout=timeout)


class Notebook7Server(JupyterLabServer):
    """``jupyter notebook`` (Notebook 7) on a free loopback port, isolated like JupyterLab's."""

    name = "Notebook 7"
    module = "notebook"
    app_arguments = ()

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/notebooks/{name}?token={self.token}"

    def open_notebook(self, page, name: str, traffic=None) -> Notebook7Notebook:
        if traffic is None:
            raise ValueError("Notebook 7 pages need the page's KernelTraffic to tell when the kernel is up")
        path = self.root / name
        write_notebook(path)
        page.goto(self.notebook_url(name))
        notebook = Notebook7Notebook(page, path, traffic)
        notebook.cells().first.wait_for()
        notebook.wait_for_kernel_idle()
        return notebook
