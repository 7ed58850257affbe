"""Every notebook in notebooks/ runs top to bottom in a real kernel against the demo's world."""

from __future__ import annotations

import sys

import nbformat
import pytest
from nbclient import NotebookClient

from support import ROOT, kernel_environment

sys.path.insert(0, str(ROOT / "demo"))
import world

pytestmark = pytest.mark.kernel
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", "") or output.get("evalue", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_against_the_demo_world(path, local_aws, isolated_environment, tmp_path):
    analyst = world.seed(local_aws)
    committed = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in committed.cells if c.cell_type == "code"), "commit notebooks without outputs"
    assert "widgets" not in committed.metadata
    env = dict(kernel_environment(tmp_path / "ipython"), **local_aws.client_environ(), **analyst.environ())
    NotebookClient(committed, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    text = outputs_text(committed)
    assert analyst.secret_access_key not in text
    expected = {
        "quickstart": ["finance-reader on demo-sales: AccessDenied"],
        "configuration": ["assumed-role/finance-reader/from-profile", "assumed-role/finance-reader/overridden",
                          "assumed-role/analytics-reader/from-profile-config", "TempCreds.refresh_margin"],
        "long-sessions": ["renewed during this cell: True", "the old client still works: 1 object(s)",
                          "was denied", "outside what AssumeRole allows"],
    }[path.stem]
    for phrase in expected:
        assert phrase in text, phrase
