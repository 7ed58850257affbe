"""DEBUG logging in a real kernel (nbclient), turned on the two ways users do, before the extension
loads: the cells' outputs (where the stream handler writes), a log file added by a later cell, the
saved notebook and IPython's history hold no secret of the session. Also the console sign-in URL:
never in an output, the widget state, ``%history`` or a log, even when the user logs it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from federation_standin import Standin
from sso_support import sso as sso_world  # noqa: F401 (the fixture)
from support import kernel_environment, new_notebook, role_arn

pytestmark = pytest.mark.kernel

READER, OTHER = role_arn("Reader"), role_arn("Other")
TURN_ON = {
    "basicConfig": "import logging\nlogging.basicConfig(level=logging.DEBUG)",
    "set_stream_logger": "import boto3, logging\nboto3.set_stream_logger('', logging.DEBUG)",
}


@pytest.fixture
def federation(local_aws):
    server = Standin(local_aws.url).start()
    yield server
    server.stop()


def cells(way: str, paths: dict[str, Path], federation: Standin) -> list[str]:
    return [
        TURN_ON[way],
        "%load_ext ipy_tempcreds",
        # Every grant's secrets (and the endpoint's tokens) leave the kernel through this file only.
        "import json, os, ipy_tempcreds as tc\n"
        "from ipy_tempcreds import api as _api\n_collected = set()\n"
        "def _grab(change):\n"
        "    if change.grant is not None:\n"
        "        _collected.update([change.grant.credentials.secret_access_key, change.grant.credentials.session_token])\n"
        f"    json.dump(sorted(_collected), open({str(paths['secrets'])!r}, 'w'))\n"
        "_api.get_manager().subscribe(_grab)",
        f"%config TempCreds.signin_endpoint = {federation.endpoint!r}",
        f"%assume_role {READER} --session-name debug-1",
        # A handler added after the extension loaded: a filter on existing handlers would miss it.
        f"_file = logging.FileHandler({str(paths['log'])!r})\n_file.setLevel(logging.DEBUG)\n"
        "logging.getLogger().addHandler(_file)",
        "%assume_role --refresh",
        "import boto3\nboto3.client('s3').list_buckets()['Buckets']",
        "%aws_whoami",
        '%config TempCreds.delivery = "endpoint"',
        f"%assume_role {OTHER} --session-name debug-2 --pin",
        "_collected.add(open(os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']).read())\n"
        "print(boto3.client('sts').get_caller_identity()['Arn'])",
        "%aws_console s3",
        "url = tc.console_url('s3')\nlogging.getLogger('notebook').info('opening %s', url)\nurl",
        "print(repr(url))",
        "%history -o -n",
        "%assume_role --clear\n_grab(type('Change', (), {'grant': None})())",
    ]


def run_notebook(way: str, tmp_path: Path, federation: Standin) -> dict:
    paths = {"secrets": tmp_path / "secrets.json", "log": tmp_path / "later.log", "ipython": tmp_path / "ipython"}
    profile = paths["ipython"] / "profile_default"
    profile.mkdir(parents=True)
    for name in ("ipython_config.py", "ipython_kernel_config.py"):
        (profile / name).write_text("c.HistoryManager.enabled = True\nc.HistoryManager.db_log_output = True\n")
    nb = new_notebook(cells(way, paths, federation))
    env = dict(kernel_environment(paths["ipython"]), AWS_ENDPOINT_URL_STS=federation.url)
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}},
                   ipython_hist_file=str(profile / "history.sqlite")).execute(env=env)
    saved = tmp_path / "saved.ipynb"
    nbformat.write(nb, saved)
    return {"nb": nb, "saved": saved, "paths": paths, "history": profile / "history.sqlite"}


def text_of(cell) -> str:
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", "") if output.output_type == "stream"
                     else json.dumps(output.get("data", {})) + str(output.get("traceback", "")))
    return "".join(parts)


@pytest.mark.parametrize("way", list(TURN_ON))
def test_debug_logging_in_a_kernel_leaves_no_secret_anywhere(aws, tmp_path, federation, way):
    aws.create_role("Reader", [aws.base_user.arn])
    aws.create_role("Other", [aws.base_user.arn])
    run = run_notebook(way, tmp_path, federation)
    nb, paths = run["nb"], run["paths"]
    outputs = [text_of(cell) for cell in nb.cells]
    everything = "\n".join(outputs)
    # It really happened, at DEBUG, into the cells' outputs and the file added later.
    assert "Response body" in everything and "<SecretAccessKey>[hidden]</SecretAccessKey>" in everything
    later = paths["log"].read_text()
    assert "Response body" in later and "opening" in later
    assert "assumed-role/Other/debug-2" in outputs[11]
    assert "widget-view" in str(nb.cells[12].outputs)  # the console link
    secrets = set(json.loads(paths["secrets"].read_text())) | {aws.base_user.secret_access_key}
    secrets |= set(federation.tokens)  # the console sign-in tokens issued
    assert len(federation.tokens) == 2 and len(secrets) >= 2 * 3 + 1 + 1 + 2  # 3 grants, the token, alice, 2 sign-ins
    with sqlite3.connect(run["history"]) as db:
        history = "\n".join(str(row) for table in ("history", "output_history")
                            for row in db.execute(f"SELECT * FROM {table}"))
    assert "console_url" in history
    artefacts = {"outputs": everything, "saved notebook": run["saved"].read_text(), "later log": later,
                 "history": history}
    leaks = [(name, f"a secret of {len(secret)} characters") for name, text in artefacts.items()
             for secret in secrets if secret in text]
    assert leaks == []
    # The sign-in URL itself (its token URL-encoded) is nowhere either.
    assert "SigninToken=" not in everything + later + history + run["saved"].read_text()


def test_an_identity_center_sign_in_at_debug_in_a_kernel_shows_no_token(sso_world, tmp_path):
    """The device flow and GetRoleCredentials, with botocore at DEBUG into the cells' outputs."""
    sso_world.standin.auto_approve = True
    nb = new_notebook([TURN_ON["basicConfig"], "%load_ext ipy_tempcreds", "%sso_login analyst",
                       "%assume_role analyst", "%sso_login analyst --logout"])
    env = dict(kernel_environment(tmp_path / "ipython"), HOME=str(sso_world.home))
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    everything = "\n".join(text_of(cell) for cell in nb.cells)
    assert "CreateToken" in everything and "roleCredentials" in everything  # botocore's DEBUG records
    assert "Signed out of corp" in everything
    saved = nbformat.writes(nb)
    secrets = sso_world.standin.secrets()
    assert len(secrets) >= 5
    assert [len(s) for s in secrets if s in everything or s in saved] == []
