"""The panel while a cell runs as another role (%%as_role): it says so, keeps showing the kernel's
own identity, and shows only that again once the cell ends (also when it fails)."""

from __future__ import annotations

import json

import pytest

import ipy_tempcreds
from ipy_tempcreds import api
from support import role_arn


@pytest.fixture
def panel(shell):
    made = ipy_tempcreds.panel()
    yield made
    made.close()


def test_the_panel_shows_the_cell_role_and_the_kernel_identity_again_after(panel, run):
    run(f"%assume_role {role_arn('Reader')} --session-name kernel -q")
    kernel_identity = panel.identity
    seen = []
    panel.observe(lambda change: seen.append(dict(change["new"])), names=["cell_role"])
    with ipy_tempcreds.as_role(role_arn("Writer"), session_name="cell") as inside:
        assert panel.cell_role == {"label": role_arn("Writer"), "identity": inside.arn}
        assert panel.identity == kernel_identity  # the kernel's own, all along
        assert json.dumps(panel.get_state()).count(inside.credentials.secret_access_key) == 0
    assert panel.cell_role == {} and panel.identity == kernel_identity
    assert seen == [{"label": role_arn("Writer"), "identity": inside.arn}, {}]


def test_a_failing_cell_as_a_role_leaves_the_panel_on_the_kernel_identity(panel, shell):
    shell.run_cell(f"%%as_role {role_arn('Writer')}\nraise ValueError('inside')", store_history=False)
    assert panel.cell_role == {} and panel.identity == "" and api.current() is None
