"""Every Python and magic example in README.md and docs/ runs, so a renamed option breaks this test
and not a reader.

One real kernel per page (nbclient), in the demo's world on the local stand-ins (demo/world.py:
user analyst, roles analytics-reader and finance-reader, buckets demo-sales and demo-finance; IAM
authorization on). Each python block is a cell, run in page order; a block's configuration files
are written before the kernel starts. What each block must do, and the markers that change it, are
in tests/doc_blocks.py. A cell that runs a shell command (`!aws ...`) must also end with exit code 0.
Pages that need more of AWS get it here: Identity Center (the SSO stand-in), console sign-in (the
federation stand-in), DuckDB's httpfs (installed from its PyPI package: it cannot be downloaded).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from doc_blocks import ROOT, blocks, pages
from support import kernel_environment

sys.path.insert(0, str(ROOT / "demo"))
import world

pytestmark = pytest.mark.kernel

RUN = [page for page in pages() if any(b.kind == "cell" and b.marker != "not-run" for b in blocks(page))]
SLOWER = {"dask.md": pytest.mark.dask}


@dataclass
class Kernel:
    """What a page's kernel starts with, beyond the demo's world."""

    env: dict[str, str]
    home: Path
    ipython_config: list[str] = field(default_factory=list)
    aws_config: list[str] = field(default_factory=list)
    prelude: list[str] = field(default_factory=list)  # hidden cells run first (the stand-ins' wiring)
    secrets: set[str] = field(default_factory=set)


def demo_world(local_aws, tmp_path) -> Kernel:
    analyst = world.seed(local_aws).user
    home = tmp_path / "home"
    home.mkdir()
    # The analyst's keys in the environment (as `make demo` starts the kernel) and in a profile, for
    # the role profiles the pages show (`source_profile = analyst`).
    (home / "credentials").write_text(f"[analyst]\naws_access_key_id = {analyst.access_key_id}\n"
                                      f"aws_secret_access_key = {analyst.secret_access_key}\n")
    env = dict(kernel_environment(tmp_path / "ipython"), **local_aws.client_environ(), **analyst.environ(),
               HOME=str(home), AWS_CONFIG_FILE=str(home / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"))
    return Kernel(env, home, secrets={analyst.secret_access_key})


def identity_center(kernel: Kernel, local_aws, request) -> None:
    """The SSO stand-in; the person approves at once. The page's own config names the portal."""
    from sso_standin import SsoStandin

    standin = SsoStandin(local_aws).start()
    request.addfinalizer(standin.stop)
    standin.auto_approve = True
    local_aws.set_auth(False)
    standin.assign("Reader", world_policy(world.SALES_BUCKET))
    local_aws.set_auth(True)
    kernel.env.update(standin.environ())
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        kernel.env.pop(name, None)  # the sign-in is the kernel's only way in


def world_policy(bucket: str) -> str:
    from aws_standin import allow

    return allow(["s3:GetObject", "s3:ListBucket"], [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])


def console_sign_in(kernel: Kernel, local_aws, request) -> None:
    """The federation stand-in in front of the local STS, and the kernel's signin_endpoint."""
    from federation_standin import Standin

    standin = Standin(local_aws.url).start()
    request.addfinalizer(standin.stop)
    kernel.env["AWS_ENDPOINT_URL_STS"] = standin.url
    kernel.ipython_config.append(f"c.TempCreds.signin_endpoint = {standin.endpoint!r}")


def duckdb_httpfs(kernel: Kernel, local_aws, request) -> None:
    kernel.prelude.append(
        "import duckdb, duckdb_extension_httpfs, os\n"
        "duckdb.execute(\"INSTALL '\" + os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), 'extensions', "
        "f'v{duckdb.__version__}', 'httpfs.duckdb_extension') + \"'\")\n"
        "del duckdb, duckdb_extension_httpfs, os"
    )


MORE = {"sso.md": identity_center, "console.md": console_sign_in, "duckdb.md": duckdb_httpfs}


def outputs_text(cell) -> str:
    return "".join(o.get("text", "") or o.get("evalue", "") or o.get("data", {}).get("text/plain", "")
                   for o in cell.get("outputs", []))


@pytest.mark.parametrize("page", [pytest.param(p, marks=SLOWER.get(p.name, ())) for p in RUN],
                         ids=[str(p.relative_to(ROOT)) for p in RUN])
def test_the_examples_of_the_page_run(page, local_aws, tmp_path, request):
    kernel = demo_world(local_aws, tmp_path)
    if page.name in MORE:
        MORE[page.name](kernel, local_aws, request)
    page_blocks = blocks(page)
    kernel.ipython_config += [b.code for b in page_blocks if b.kind == "ipython-config"]
    kernel.aws_config += [b.code for b in page_blocks if b.kind == "aws-config"]
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_config.py").write_text("\n".join(kernel.ipython_config) + "\n")
    (kernel.home / "config").write_text("\n".join(kernel.aws_config) + "\n")
    work = tmp_path / "work"
    work.mkdir()

    cells = [b for b in page_blocks if b.kind == "cell" and b.marker != "not-run"]
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell(source) for source in kernel.prelude] + \
               [nbformat.v4.new_code_cell(b.code) for b in cells]
    failures = []
    with tempfile.TemporaryDirectory(prefix="ipy_tempcreds-docs-") as sockets:
        # IPC sockets in a private directory, as the demo does: the kernel holds live credentials.
        manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=manager, timeout=120, resources={"metadata": {"path": str(work)}})
        try:
            with client.setup_kernel(env=kernel.env):
                for index, cell in enumerate(nb.cells):
                    block = cells[index - len(kernel.prelude)] if index >= len(kernel.prelude) else None
                    failures += run_cell(client, cell, index, block)
        finally:
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)

    assert failures == [], "\n\n".join(failures)
    said = nbformat.writes(nb)
    for secret in kernel.secrets:
        assert secret not in said, f"{page.name}: a secret reached an output"


def run_cell(client, cell, index, block) -> list[str]:
    where = block.where if block else "the page's setup"
    try:
        client.execute_cell(cell, index)
        failed = None
    except CellExecutionError as exc:
        failed = exc
    text = outputs_text(cell)
    if block is not None and block.marker == "fails":
        if failed is None:
            return [f"{where}: expected to fail with {block.marker_text!r}, but it ran:\n{text}"]
        if block.marker_text not in text:
            return [f"{where}: failed, but without {block.marker_text!r}:\n{text}"]
        return []
    if failed is not None:
        return [f"{where}:\n{cell.source}\n--- failed:\n{text or failed}"]
    if any(line.lstrip().startswith("!") for line in cell.source.splitlines()):
        check = nbformat.v4.new_code_cell("print(_exit_code)")
        client.execute_cell(check, index)
        code = outputs_text(check).strip()
        if code != "0":
            return [f"{where}: a shell command ended with exit code {code}:\n{text}"]
    return []


NOT_RUN = [b for page in pages() for b in blocks(page) if b.marker == "not-run"]


@pytest.mark.parametrize("block", NOT_RUN, ids=[b.where for b in NOT_RUN])
def test_examples_that_need_more_than_the_stand_ins(block):
    pytest.skip(f"{block.where}: {block.marker_text}")
