"""The note after a cell AWS refused (issue 28): the identity it was signed as, the roles known, the
command that checks them; nothing for errors that are not refusals; off with a setting."""

from __future__ import annotations

import pytest

from identity_support import B, C, seed


@pytest.fixture
def world(aws):
    seed(aws)
    return aws


@pytest.fixture
def cell(shell, secrets, capsys):
    """cell(source) -> (the error it ended with, the note printed after it)."""

    def run(source: str):
        capsys.readouterr()
        result = shell.run_cell(source, store_history=False)
        out = capsys.readouterr()
        secrets.assert_absent(out.out + out.err, where=source)
        notes = [line for line in out.err.splitlines() if "ipy_tempcreds" in line or line.startswith(("Roles", "No other", "AWS names"))]
        return result.error_in_exec, "\n".join(notes)

    return run


def test_boto3_access_denied_names_the_user_the_url_and_the_roles(world, cell, shell):
    shell.run_line_magic("config", f"TempCreds.roles = {{'b': {B!r}, 'c': {C!r}}}")
    error, note = cell("import boto3\nboto3.client('s3').get_object(Bucket='bucket-b', Key='data.csv')")
    assert type(error).__name__ == "AccessDenied"
    assert "IAM user alice (account 123456789012)" in note
    assert "%aws_can s3://bucket-b/data.csv" in note
    assert "b (alias), c (alias)" in note
