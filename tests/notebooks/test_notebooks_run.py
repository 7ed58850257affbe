"""Every notebook in notebooks/ runs top to bottom in a real kernel against the demo's world (the
stand-ins and kernel environment of `make demo`)."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from demo_support import demo_world  # noqa: F401 (the fixture)
from support import ROOT

pytestmark = pytest.mark.kernel
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", "") or output.get("evalue", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_against_the_demo_world(path, demo_world):
    committed = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in committed.cells if c.cell_type == "code"), "commit notebooks without outputs"
    assert "widgets" not in committed.metadata
    copy = demo_world.notebooks / path.name
    nb = nbformat.read(copy, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(copy.parent)}}).execute(env=demo_world.env)
    text = outputs_text(nb)
    assert demo_world.aws.analyst.user.secret_access_key not in text
    # What a reader sees is text: no terminal control sequence (a subprocess's title escape, colours).
    assert "\x1b" not in text, repr(text[text.index("\x1b") - 80:text.index("\x1b") + 80])
    expected = {
        "quickstart": ["role/analytics-reder was denied", "finance-reader on demo-sales: AccessDenied"],
        "configuration": ["assumed-role/finance-reader/from-profile", "assumed-role/finance-reader/overridden",
                          "assumed-role/analytics-reader/from-profile-config", "TempCreds.refresh_margin"],
        "long-sessions": ["renewed during this cell: True", "the old client still works: 1 object(s)",
                          "was denied", "outside what AssumeRole allows"],
    }[path.stem]
    for phrase in expected:
        assert phrase in text, phrase
