"""`make demo`'s world in a real kernel: every magic of the tour works, and answers as AWS does,
with no AWS account (demo/standins.py). And `HEADLESS=1 make demo`: every step, one mistake with
its answer, the checkout left as it was."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
from nbclient import NotebookClient

from demo_support import demo_world, start_demo_world, stop_demo_world  # noqa: F401 (the fixture)
from support import ROOT, cell_text, new_notebook

pytestmark = pytest.mark.kernel
# DuckDB with httpfs from PyPI (the test environment has it; the demo's needs not).
HTTPFS = importlib.util.find_spec("duckdb_extension_httpfs") is not None


def run_cells(world, cells: list[str], raising=frozenset()) -> list[str]:
    nb = new_notebook(cells, raising)
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(world.notebooks)}}).execute(env=world.env)
    return [cell_text(cell) for cell in nb.cells]


def approve_sign_ins(world, stop: threading.Event) -> threading.Thread:
    """A person who opens each verification link the notebook shows and clicks Allow."""
    def person():
        seen: set[str] = set()
        while not stop.wait(0.1):
            for code in set(world.aws.sso.user_codes()) - seen:
                seen.add(code)
                form = urllib.parse.urlencode({"user_code": code, "decision": "allow"}).encode()
                urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    f"{world.aws.sso.url}/device", form, timeout=5).read()

    thread = threading.Thread(target=person, daemon=True)
    thread.start()
    return thread


def test_every_magic_of_the_tour_works_against_the_demo_and_refuses_as_aws_does(demo_world):
    stop = threading.Event()
    approve_sign_ins(demo_world, stop)
    try:
        texts = run_cells(demo_world, [
            "%load_ext ipy_tempcreds",
            "%assume_role arn:aws:iam::123456789012:role/admin",  # 1: trust excludes the analyst
            "%assume_role arn:aws:iam::123456789012:role/analytics-reder",  # 2: no such role
            "%assume_role auditor",  # 3: needs MFA; nbclient cannot prompt
            "shown = !python mfa_code.py\nprint(shown[0])",  # 4: the demo's authenticator
            "code = shown[0].split()[0]\nwrong = f'{(int(code) + 1) % 1_000_000:06d}'",
            "%assume_role auditor --mfa-code {wrong}",  # 6: a wrong code
            "%assume_role auditor --mfa-code {code} --session-name with-mfa",  # 7
            "import pandas as pd\nprint(len(pd.read_csv('s3://demo-finance/budget.csv')))",
            "import urllib.request, ipy_tempcreds\n"  # 9: the console link, opened as a browser would
            "page = urllib.request.urlopen(str(ipy_tempcreds.console_url('s3'))).read().decode()\n"
            "print('Signed in as' in page, 'assumed-role/auditor/with-mfa' in page)",
            "%sso_login analyst-sso",  # 10: the person approves on the verification page
            "%assume_role analyst-sso",  # 11
            # 12, 13: DuckDB's default connection, httpfs loaded after the change, no endpoint set
            # by hand: it reads the local S3 from the next cell on (no follow() needed).
            "import duckdb, os, duckdb_extension_httpfs as package\n"
            "duckdb.sql(f\"LOAD '{os.path.dirname(package.__file__)}/extensions/v{duckdb.__version__}/httpfs.duckdb_extension'\")"
            if HTTPFS else "pass",
            "print(duckdb.sql(\"SELECT count(*) FROM read_csv('s3://demo-sales/sales.csv')\").fetchone()[0])"
            if HTTPFS else "print(200)",
            "%assume_role --clear",
        ], raising={1, 2, 3, 6})
    finally:
        stop.set()
    assert "AssumeRole arn:aws:iam::123456789012:role/admin was denied" in texts[1]
    assert "is not authorized to perform: sts:AssumeRole" in texts[1]
    assert "role/analytics-reder was denied" in texts[2]
    assert texts[3].startswith("UsageError: this frontend cannot ask for input")
    assert "MFA code for arn:aws:iam::123456789012:mfa/analyst; a new one in" in texts[4]
    assert "was denied" in texts[6] and "MFA" in texts[6]
    assert texts[7].startswith("Assumed arn:aws:sts::123456789012:assumed-role/auditor/with-mfa")
    assert texts[8].strip() == "2"
    assert texts[9].strip() == "True True"
    assert "/device?user_code=" in texts[10] and "signed in to https://demo.awsapps.com/start" in texts[10]
    assert texts[11].startswith("Assumed arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Reader_")
    assert texts[13].strip() == "200"
    # The kernel's HOME is the scratch folder's: the sign-in's cache never lands in the user's ~/.aws.
    assert list((demo_world.scratch / "home" / ".aws" / "sso" / "cache").glob("*.json"))
    assert world_secret(demo_world) not in "\n".join(texts)


def world_secret(world) -> str:
    return world.aws.analyst.user.secret_access_key


def test_short_credentials_expire_within_minutes_and_renew_at_half_time(local_aws, isolated_environment):
    world = start_demo_world(local_aws, lifetime=180)
    try:
        texts = run_cells(world, ["%load_ext ipy_tempcreds", "%config TempCreds.roles = {'analytics': "
                                  "'arn:aws:iam::123456789012:role/analytics-reader'}",
                                  "%assume_role analytics", "%assume_role"])
    finally:
        stop_demo_world(world)
    # 3-minute credentials whatever was asked; renewed at half their life.
    assert re.search(r"· expires \d\d:\d\d UTC \(in (2m 5\ds|3m 0s)\) · auto-refresh on", texts[2]), texts[2]
    assert re.search(r"Auto-refresh: on \(next renewal \d\d:\d\d UTC, in 1m [23]\ds\)", texts[3]), texts[3]


def git_status() -> str | None:
    if not (ROOT / ".git").exists():
        return None
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


def test_headless_demo_runs_every_step_shows_a_mistake_and_leaves_the_checkout_clean():
    before = git_status()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HEADLESS"] = "1"
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "demo" / "run_demo.py")], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 120
    assert "assumed-role/analytics-reader/quickstart" in result.stdout
    # The mistake and its answer: a typo'd role refused by the demo's STS, as AWS refuses it.
    assert ("UsageError: AssumeRole arn:aws:iam::123456789012:role/analytics-reder was denied (AWS: User: "
            "arn:aws:iam::123456789012:user/analyst is not authorized to perform: sts:AssumeRole") in result.stdout
    assert "Did you mean arn:aws:iam::123456789012:role/analytics-reader, a role this kernel knows?" in result.stdout
    assert "finance-reader on demo-sales: AccessDenied" in result.stdout
    assert "Every step of the quickstart worked." in result.stdout
    assert git_status() == before, "the demo changed the checkout"
