"""%sso_login in a real kernel (nbclient): the clickable link, the sign-in, `!aws --profile` and boto3
profiles on the same sign-in, %assume_role on the SSO profile and on a role profile with an SSO
source, and a saved notebook without secrets."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from aws_standin import ACCOUNT
from sso_support import START_URL
from sso_support import sso as sso_world  # noqa: F401 (the fixture)
from support import kernel_environment, new_notebook

pytestmark = pytest.mark.kernel


def test_sign_in_in_a_kernel_and_everything_uses_it(sso_world, tmp_path):
    sso_world.standin.auto_approve = True  # the person approves at once; the kernel polls every 1 s
    nb = new_notebook([
        "%load_ext ipy_tempcreds",
        "%sso_login analyst",
        "!aws s3 ls s3://bucket-r --profile analyst",
        "import boto3\nprint(boto3.Session(profile_name='analyst').client('sts').get_caller_identity()['Arn'])",
        "%assume_role analyst\n%assume_role --status",
        "%assume_role data",
        "import os, stat\nfrom ipy_tempcreds.sources.sso import device as sso\npath = sso.cache_path(sso.resolve_target('analyst'))\n"
        "print(oct(stat.S_IMODE(os.stat(path).st_mode)), oct(stat.S_IMODE(os.stat(path.parent).st_mode)))",
        "%sso_login analyst --logout",
    ])
    # The kernel's botocore computes its cache directory from this HOME, as the CLI does.
    env = dict(kernel_environment(tmp_path / "ipython"), HOME=str(sso_world.home))
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    saved = nbformat.writes(nb)
    for value in sso_world.standin.secrets():
        assert value not in saved, "a token, client secret or device code reached the saved notebook"

    login = nb.cells[1].outputs
    (code,) = sso_world.standin.user_codes()
    html = next(o for o in login if o.output_type == "display_data")["data"]["text/html"]
    assert f'<a href="{sso_world.standin.url}/device?user_code={code}"' in html and code in html
    assert f"signed in to {START_URL} until" in "".join(o.get("text", "") for o in login)
    assert "r.csv" in nb.cells[2].outputs[0]["text"]
    assert "assumed-role/AWSReservedSSO_Reader_" in nb.cells[3].outputs[0]["text"]
    sso_role = nb.cells[4].outputs[0]["text"]
    assert f"Assumed arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Reader_" in sso_role
    assert "IAM Identity Center, corp" in sso_role  # the status names the source
    assert f"Assumed arn:aws:sts::{ACCOUNT}:assumed-role/Data/" in nb.cells[5].outputs[0]["text"]
    assert nb.cells[6].outputs[0]["text"].split() == ["0o600", "0o700"]  # the file and its directory
    assert "Signed out of corp" in nb.cells[7].outputs[0]["text"]
    assert sso_world.cache_files() == []
    assert sso_world.standin.operations().count("Logout") == 1

