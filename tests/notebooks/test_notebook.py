"""Notebooks in a real kernel (nbclient): what a user running cells sees, end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from support import cell_text, kernel_environment, new_notebook, role_arn

pytestmark = pytest.mark.kernel


def run_notebook(cells: list[str], tmp_path: Path, *, raising: set[int] = frozenset()):
    nb = new_notebook(cells, raising)
    env = kernel_environment(tmp_path / "ipython")
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    return nb, path.read_text()


def test_a_role_in_a_real_kernel_reads_and_writes_s3_and_the_cli_uses_it(aws, tmp_path):
    aws.create_bucket("team-data")
    secrets_file = tmp_path / "secrets.json"
    nb, saved = run_notebook(
        [
            "%load_ext ipy_tempcreds",
            f"%assume_role {role_arn('Reader')} --session-name nb-test --duration 1h",
            "import boto3\n"
            "s3 = boto3.client('s3')\n"
            "s3.put_object(Bucket='team-data', Key='hello.txt', Body=b'written by the role')\n"
            "print(s3.get_object(Bucket='team-data', Key='hello.txt')['Body'].read().decode())",
            "!aws sts get-caller-identity --output text --query Arn",
            "%aws_whoami",
            # Hand the role's secrets to the test through a file, never through an output.
            f"import json, os; json.dump([os.environ['AWS_SECRET_ACCESS_KEY'], os.environ['AWS_SESSION_TOKEN']], open({str(secrets_file)!r}, 'w'))",
            "%assume_role",
            "%assume_role --clear",
            "print(os.environ.get('AWS_SESSION_TOKEN'), os.environ['AWS_ACCESS_KEY_ID'] == "
            f"{os.environ['AWS_ACCESS_KEY_ID']!r})",
        ],
        tmp_path,
    )
    texts = [cell_text(cell) for cell in nb.cells]
    assert texts[1].startswith("Assumed arn:aws:sts::123456789012:assumed-role/Reader/nb-test · expires")
    assert texts[2].strip() == "written by the role"
    assert texts[3].strip() == "arn:aws:sts::123456789012:assumed-role/Reader/nb-test"
    assert "assumed-role/Reader/nb-test" in texts[4]
    assert texts[8].strip() == "None True"
    for secret in json.loads(secrets_file.read_text()) + [os.environ["AWS_SECRET_ACCESS_KEY"]]:
        assert secret not in saved


def test_mfa_in_a_frontend_that_cannot_prompt(aws, tmp_path):
    nb, _ = run_notebook(
        [
            "%load_ext ipy_tempcreds",
            "import os; before = {k: v for k, v in os.environ.items() if k.startswith('AWS_')}",
            f"%assume_role {role_arn('Reader')} --mfa-serial arn:aws:iam::123456789012:mfa/alice",
            "print(before == {k: v for k, v in os.environ.items() if k.startswith('AWS_')})",
            f"%assume_role {role_arn('Reader')} --mfa-serial arn:aws:iam::123456789012:mfa/alice --mfa-code 123456 -q",
            "print(os.environ['AWS_ACCESS_KEY_ID'][:4])",
        ],
        tmp_path,
        raising={2},
    )
    # IPython shows a UsageError as one line on stderr, without a traceback.
    error = cell_text(nb.cells[2])
    assert error.startswith("UsageError: this frontend cannot ask for input")
    assert "--mfa-code 123456" in error and "Traceback" not in error and error.count("\n") == 1
    assert cell_text(nb.cells[3]).strip() == "True"
    assert cell_text(nb.cells[5]).strip() == "ASIA"


def test_the_renewal_thread_renews_while_a_cell_is_running(aws, tmp_path):
    """900-second credentials with a 897-second margin are due 3 s after assuming: the kernel is
    inside one sleeping cell then, so only the background thread can renew them."""
    nb, _ = run_notebook(
        [
            "%load_ext ipy_tempcreds",
            "%config TempCreds.refresh_margin = 897",
            f"%assume_role {role_arn('Reader')} --duration 900 -q",
            "import os, time\n"
            "first = os.environ['AWS_ACCESS_KEY_ID']\n"
            "time.sleep(6)\n"
            "print(first != os.environ['AWS_ACCESS_KEY_ID'])",
            "%assume_role --clear",
            "import threading; print([t.name for t in threading.enumerate() if t.name.startswith('ipy_tempcreds')])",
        ],
        tmp_path,
    )
    assert cell_text(nb.cells[3]).strip() == "True"
    assert cell_text(nb.cells[5]).strip() == "[]"


def test_a_failed_magic_stops_a_batch_run(aws, tmp_path):
    """papermill and nbclient must not carry on without the role: the cell counts as an error."""
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match="not a role ARN"):
        run_notebook(["%load_ext ipy_tempcreds", "%assume_role arn:aws:iam::123456789012:user/R", "print('went on')"], tmp_path)

