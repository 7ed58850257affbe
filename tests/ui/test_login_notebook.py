"""%aws_login in a real kernel (nbclient), both ways: cross-device with `%aws_login --code` (nbclient
cannot answer input()), same-device with the kernel's own webbrowser.open reaching a browser on its
machine; then boto3 in the kernel reads S3 with IAM authorization on, a role is assumed from the
login, and botocore's unmodified LoginProvider in a fresh process loads and refreshes what the kernel
wrote. The saved notebook holds no code, token or key."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from test_signin_standin import load_in_fresh_process, near_expiry

from aws_standin import ACCOUNT, REGION
from login_support import BUCKET, CONTENT, KEY, SESSION, TRUSTED, assert_no_secret
from login_support import login_world as world  # noqa: F401 (the fixture)
from support import cell_text, kernel_environment, new_notebook

pytestmark = pytest.mark.kernel

READ = (f"import boto3\nprint(boto3.client('s3').get_object(Bucket='{BUCKET}', Key='{KEY}')['Body'].read().decode())\n"
        "print(boto3.client('sts').get_caller_identity()['Arn'])")


def run_cells(nb, env, tmp_path, between=None):
    """Run the cells one by one in one kernel; ``between(index, cell)`` runs after each."""
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
            if between is not None:
                between(index, cell)


def check_fresh_process(world):
    """botocore's own LoginProvider (AWS_PROFILE=console) refreshes what the kernel wrote and reads S3."""
    before = near_expiry(world.home, SESSION, 120)
    seen = load_in_fresh_process(world.home, world.standin, world.aws, AWS_DEFAULT_REGION=REGION)
    after = world.cache_entry()
    assert seen["method"] == "login" and seen["arn"] == SESSION and seen["body"] == CONTENT
    assert seen["put"] == "AccessDenied" and after["refreshToken"] != before["refreshToken"]
    assert world.standin.token_calls()[-1]["grantType"] == "refresh_token"


def test_cross_device_in_a_kernel_with_the_code_then_s3_a_role_and_botocore_elsewhere(world, tmp_path):
    world.aws.create_role("Data", [TRUSTED])
    world.aws.set_auth(True)
    nb = new_notebook(["%load_ext ipy_tempcreds", "%aws_login --profile console", "CODE", READ,
                       f"%assume_role arn:aws:iam::{ACCOUNT}:role/Data\n%assume_role --clear", "%aws_whoami"])

    def between(index, cell):
        if index == 1:  # the person opens the link shown, signs in and copies the code
            html = next(o for o in cell.outputs if o.output_type == "display_data")["data"]["text/html"]
            link = re.search(r'href="([^"]+)"', html).group(1).replace("&amp;", "&")
            nb.cells[2].source = f"%aws_login --code {world.standin.sign_in(link).paste_code}"

    run_cells(nb, kernel_environment(tmp_path / "ipython"), tmp_path, between)
    saved = nbformat.writes(nb)
    assert_no_secret(saved.replace(nb.cells[2].source, ""), world)  # the spent code stays in the cell's source only

    assert "paste the code it shows (the kernel's machine has no display or browser)" in cell_text(nb.cells[1])
    assert "%aws_login --code CODE" in cell_text(nb.cells[1])
    assert cell_text(nb.cells[2]).startswith(f"Signed in as {SESSION}")
    assert cell_text(nb.cells[3]).split() == CONTENT.split() + [SESSION]
    roles = cell_text(nb.cells[4])
    assert f"Assumed arn:aws:sts::{ACCOUNT}:assumed-role/Data/" in roles and "back on the console sign-in" in roles
    assert SESSION in cell_text(nb.cells[5])
    assert world.modes() == ("0o600", "0o700")
    check_fresh_process(world)


def test_same_device_in_a_kernel_through_its_own_webbrowser(world, tmp_path):
    world.aws.set_auth(True)
    person = Path(__file__).resolve().parents[1] / "signin_person.py"
    env = dict(kernel_environment(tmp_path / "ipython"), BROWSER=f"{sys.executable} {person} %s",
               PYTHONPATH=str(person.parent))
    nb = new_notebook(["%load_ext ipy_tempcreds", "%aws_login --profile console", READ])
    run_cells(nb, env, tmp_path)
    out = cell_text(nb.cells[1])
    assert "Waiting for the browser" in out and f"Signed in as {SESSION}" in out, out
    assert world.cache_entry()["clientId"].endswith("/same-device")
    assert cell_text(nb.cells[2]).split() == CONTENT.split() + [SESSION]
    assert_no_secret(nbformat.writes(nb), world)
    check_fresh_process(world)
