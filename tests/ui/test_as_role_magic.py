"""Inside a ``%%as_role`` cell, the magics that look at or change the kernel's identity say that the
cell runs as a role: ``--status`` names it and what the kernel is back on after; a switch, a
release or a sign-out is refused in one line (the cell's end would undo it) and changes nothing."""

from __future__ import annotations

import pytest

from identity_support import B, C, world  # noqa: F401 (world: the fixture)
from ipy_tempcreds import api


@pytest.fixture
def cell(shell, secrets, capsys):
    """cell(source) -> (stdout, stderr) of one cell run as in a notebook."""
    def run(source: str):
        capsys.readouterr()
        shell.run_cell(source, store_history=False)
        out = capsys.readouterr()
        secrets.assert_absent(out.out + out.err, where=source)
        return out.out, out.err
    return run


def test_status_inside_names_the_cells_role_and_what_comes_after(world, cell, run):
    run(f"%assume_role {C} --session-name kernel -q")
    out, _ = cell(f"%%as_role {B} --session-name in-cell\n%assume_role --status")
    first, table = out.split("\n", 1)
    assert first == ("This cell runs as arn:aws:iam::123456789012:role/B (%%as_role); when it ends, the kernel is "
                     "back on arn:aws:sts::123456789012:assumed-role/C/kernel.")
    assert "assumed-role/B/in-cell" in table and "assumed-role/C/kernel" not in table
    out, _ = cell("%assume_role --status")  # after the cell: the kernel's own table, no such line
    assert "This cell runs as" not in out and "assumed-role/C/kernel" in out


def test_status_inside_says_when_the_kernel_goes_back_to_its_own_credentials(world, cell):
    out, _ = cell(f"%%as_role {B}\n%assume_role --status")
    assert out.startswith("This cell runs as arn:aws:iam::123456789012:role/B (%%as_role); when it ends, the "
                          "kernel is back on its own credentials.\n")


@pytest.mark.parametrize("line, what", [
    ("%assume_role --clear", "a release"),
    (f"%assume_role {C}", "a switch to another role"),
])
def test_a_switch_or_a_release_inside_is_refused_in_one_line(world, cell, run, line, what):
    grant = api.assume_role(C, session_name="kernel")
    out, err = cell(f"%%as_role {B}\n{line}\nprint('after the refusal')")
    refusal = [text for text in err.splitlines() if "UsageError" in text]
    assert refusal[0] == (f"UsageError: this cell runs as {B} (%%as_role, or an as_role() block) until it ends, "
                          f"and then puts the kernel's identity back: {what} here would be undone. Do it in a cell "
                          "of its own, after this one.")
    # The cell stops there, and says what the kernel is back on, as for any cell that failed.
    assert refusal[1:] == [f"UsageError: the cell failed (UsageError) while running as {B}; the kernel is back to "
                           "role C (session kernel, account 123456789012)."]
    assert "Traceback" not in err and "after the refusal" not in out
    assert api.current() is grant
