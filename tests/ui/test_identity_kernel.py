"""Issue 28 in one real kernel (nbclient), IAM authorization on, behind the strict STS stand-in:
the user alice may read only bucket-a, role B only bucket-b, role C only bucket-c.

- after a refused read, every reader's note names the identity it was signed as and the URL;
- ``%%as_role b`` with every reader inside the cell reads as B, and the kernel is alice after;
- a cell interrupted inside ``%%as_role`` puts the kernel back; a loop of cells calls STS once;
- ``%aws_can`` gives the right table; bad input gets one line and changes nothing;
- no secret in any output, the log or the saved notebook.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import nbformat
import pytest
from test_readers_kernel import Kernel as ReadersKernel

from identity_support import NOBODY, B, C, seed
from strict_sts import strict_aws  # noqa: F401 (the fixture)

pytestmark = pytest.mark.kernel
pytest.importorskip("polars")
pytest.importorskip("duckdb_extension_httpfs")
pytest.importorskip("smart_open")

SETUP = f"""
%load_ext ipy_tempcreds
%config TempCreds.roles = {{"b": {B!r}, "c": {C!r}, "nobody": {NOBODY!r}}}
import json, logging, os, subprocess, sys
import boto3, duckdb, duckdb_extension_httpfs, pandas as pd, polars as pl, smart_open
import pyarrow.fs as pafs
import ipy_tempcreds
logging.getLogger("ipy_tempcreds").addHandler(logging.FileHandler({{LOG!r}}))
seen = set()  # every secret the kernel is given, to look for in the outputs afterwards
def collect(change):
    if change.grant is not None:
        seen.update((change.grant.credentials.secret_access_key, change.grant.credentials.session_token))
ipy_tempcreds.api.get_manager().subscribe(collect)
seen.add(os.environ["AWS_SECRET_ACCESS_KEY"])
s3 = boto3.client("s3")
resource = boto3.resource("s3")
arrow = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"])
HTTPFS = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions",
                      f"v{{duckdb.__version__}}", "httpfs.duckdb_extension")
ENDPOINT = os.environ["AWS_ENDPOINT_URL"].split("//")[1]
con = duckdb.connect()
for c in (duckdb.default_connection(), con):
    c.execute(f"LOAD '{{HTTPFS}}'")
    c.execute(f"SET s3_endpoint='{{ENDPOINT}}'; SET s3_use_ssl=false; SET s3_url_style='path'")
following = ipy_tempcreds.follow(con)
CHILD = "import boto3, sys; boto3.client('s3').head_object(Bucket=sys.argv[1], Key='data.csv')"
READERS = {{
    "boto3": lambda b: s3.get_object(Bucket=b, Key="data.csv")["Body"].read(),
    "boto3 resource": lambda b: resource.Object(b, "data.csv").get()["Body"].read(),
    "pandas/s3fs": lambda b: len(pd.read_csv(f"s3://{{b}}/data.csv")),
    "polars": lambda b: pl.read_csv(f"s3://{{b}}/data.csv").height,
    "duckdb": lambda b: duckdb.default_connection().execute(f"FROM read_csv('s3://{{b}}/data.csv')").fetchall(),
    "duckdb follow(con)": lambda b: con.execute(f"FROM read_csv('s3://{{b}}/data.csv')").fetchall(),
    "pyarrow": lambda b: arrow.open_input_file(f"{{b}}/data.csv").read(),
    "smart_open": lambda b: smart_open.open(f"s3://{{b}}/data.csv").read(),
    "subprocess": lambda b: subprocess.run([sys.executable, "-c", CHILD, b], capture_output=True).returncode == 0,
}}
def who(read):
    names = []
    for bucket, owner in (("bucket-a", "alice"), ("bucket-b", "B"), ("bucket-c", "C")):
        try:
            if read(bucket):
                names.append(owner)
        except Exception:
            pass
    return "+".join(names) or "none"
def report():
    print(json.dumps({{name: who(read) for name, read in READERS.items()}}))
"""

# Which call each reader makes to read s3://bucket-b/data.csv, refused for alice.
REFUSED_READS = {
    "boto3": "s3.get_object(Bucket='bucket-b', Key='data.csv')",
    "pandas/s3fs": "pd.read_csv('s3://bucket-b/data.csv')",
    "polars": "pl.read_csv('s3://bucket-b/data.csv')",
    "duckdb": "con.execute(\"FROM read_csv('s3://bucket-b/data.csv')\").fetchall()",
    "pyarrow": "arrow.open_input_file('bucket-b/data.csv').read()",
    "smart_open": "smart_open.open('s3://bucket-b/data.csv').read()",
}


class Kernel(ReadersKernel):
    """The readers' test kernel (one for the whole test), with cells that may fail."""

    def __init__(self, tmp_path: Path):
        super().__init__(tmp_path)
        self.client.allow_errors = True

    def run(self, source: str):
        super().run(source)
        return self.nb.cells[-1]

    def text(self, source: str) -> str:
        return "".join(text if kind != "error" else text + "\n" for kind, text in outputs(self.run(source)))

    def report(self) -> dict:
        lines = [line for line in self.text("report()").splitlines() if line.startswith("{")]
        return json.loads(lines[-1])


def everyone(report: dict, expected: str) -> None:
    wrong = {name: got for name, got in report.items() if got != expected}
    assert not wrong, f"expected {expected!r}; these differ: {wrong}"


def outputs(cell) -> list[tuple[str, str]]:
    """(kind, text) of each output: ("error", "Name: value") or ("stderr"/"stdout", text)."""
    return [("error", f"{o.ename}: {o.evalue}") if o.output_type == "error" else (o.get("name", o.output_type), o.get("text", ""))
            for o in cell.outputs]


def failing(kernel: Kernel, source: str) -> list[tuple[str, str]]:
    """The outputs of a cell that must fail as a cell (so "Run All" stops there)."""
    from nbclient.exceptions import CellExecutionError

    kernel.client.allow_errors = False
    try:
        kernel.run(source)
    except CellExecutionError:
        pass
    else:
        raise AssertionError(f"{source!r} did not fail")
    finally:
        kernel.client.allow_errors = True
    return outputs(kernel.nb.cells[-1])


def test_identity_where_the_user_needs_it_in_a_real_kernel(aws, strict_aws, tmp_path):
    seed(aws)
    log = tmp_path / "kernel.log"
    with Kernel(tmp_path) as kernel:
        kernel.run(SETUP.replace("{LOG!r}", repr(str(log))))
        everyone(kernel.report(), "alice")

        # 2. Each reader's refusal: the traceback first, then one note naming alice and the URL.
        for name, read in REFUSED_READS.items():
            shown = outputs(kernel.run(read))
            kinds = [kind for kind, _ in shown]
            assert "error" in kinds and kinds[-1] == "stderr", (name, shown)
            note = shown[-1][1]
            assert note.startswith("ipy_tempcreds: AWS refused this"), (name, note)
            assert "IAM user alice (account 123456789012)" in note, (name, note)
            assert "%aws_can s3://bucket-b/data.csv" in note, (name, note)
            assert "b (alias), c (alias), nobody (alias)" in note, (name, note)
        # Not a refusal: no note.
        shown = outputs(kernel.run("pd.read_csv('s3://bucket-a/missing.csv')"))
        assert [kind for kind, _ in shown] == ["error"], shown

        # 1. %%as_role: every reader reads as B inside the cell, as alice after it.
        inside = kernel.text("%%as_role b\nreport()")
        everyone(json.loads(inside.strip().splitlines()[-1]), "B")
        everyone(kernel.report(), "alice")
        assert kernel.text("print(ipy_tempcreds.current())").strip() == "None"

        # A refusal inside the cell names role B, and the cell fails saying where the kernel is.
        shown = outputs(kernel.run("%%as_role b\ns3.get_object(Bucket='bucket-c', Key='data.csv')"))
        notes = [text for kind, text in shown if kind == "stderr"]
        assert notes and "role B (session" in notes[0] and "%aws_can s3://bucket-c/data.csv" in notes[0], shown
        assert shown[-1][1].endswith("UsageError: the cell failed (AccessDenied) while running as b; the kernel "
                                     "is back to its own credentials.\n"), shown

        # A loop of cells as the same role: one AssumeRole, not one per cell.
        before = sum(1 for r in strict_aws.requests if r["Action"] == "AssumeRole")
        for _ in range(5):
            assert "+" not in kernel.text("%%as_role c\nprint(who(READERS['boto3']))")
        assert sum(1 for r in strict_aws.requests if r["Action"] == "AssumeRole") - before <= 1

        # Nested, and an interrupt inside: the kernel is alice again, the role's keys gone.
        kernel.text("%assume_role b -q")
        nested = kernel.text("%%as_role c\nwith ipy_tempcreds.as_role('b'):\n    print(who(READERS['boto3']))\n"
                             "print(who(READERS['boto3']))")
        assert nested.split() == ["B", "C"]
        everyone(kernel.report(), "B")
        kernel.text("%assume_role --clear -q")
        # What Jupyter's interrupt button does for a kernel in "signal" interrupt mode (the default).
        pid = int(kernel.text("print(os.getpid())").strip())
        timer = threading.Timer(4.0, os.kill, (pid, signal.SIGINT))
        timer.start()
        started = time.monotonic()
        shown = outputs(kernel.run("%%as_role c\nimport time\nfor _ in range(600): time.sleep(0.1)"))
        timer.join()
        assert time.monotonic() - started < 30
        assert any(kind == "error" and "KeyboardInterrupt" in text for kind, text in shown), shown
        assert "UsageError: the cell was interrupted while running as c" in shown[-1][1], shown
        everyone(kernel.report(), "alice")

        # 3. %aws_can: the current identity and each known role, nothing changed.
        table = kernel.text("%aws_can s3://bucket-c/data.csv")
        rows = {line.split()[0]: line for line in table.splitlines()[2:] if line.startswith("  ")}
        assert "denied" in rows["(current)"] and "IAM user alice" in rows["(current)"], table
        assert "allowed" in rows["c"] and "%%as_role c" in rows["c"], table
        assert "denied" in rows["b"] and "could not assume" in rows["nobody"], table
        assert "allowed" in kernel.text("%aws_can s3://bucket-b/").split("\n  b ")[1].split("\n")[0]
        everyone(kernel.report(), "alice")

        # Bad input: one line each, the cell's body never runs, the kernel stays alice.
        for line, words in (("%%as_role no-such-alias", "is not a role ARN, an alias"),
                            ("%%as_role arn:aws:iam::12:role/X", "account id must be 12 digits"),
                            ("%%as_role", "%%as_role needs a ROLE"),
                            ("%%as_role nobody", "was denied"),
                            ("%%as_role arn:aws:iam::123456789012:role/NoSuchRole", "was denied"),
                            # The kernel's loop runs this cell: a magic cannot run an awaiting body.
                            ("%%as_role b\nimport asyncio\nawait asyncio.sleep(0)",
                             "uses top-level await, which a cell magic cannot run in a kernel")):
            shown = failing(kernel, f"{line}\nprint('BODY RAN')")
            assert len(shown) == 1 and shown[0][1].startswith("UsageError: ") and words in shown[0][1], (line, shown)
            assert "\n" not in shown[0][1].strip()
        # The form the refusal gives works: awaiting inside `with as_role()`, then alice again.
        awaited = kernel.text("import asyncio\nwith ipy_tempcreds.as_role('b'):\n    await asyncio.sleep(0)\n"
                              "    print(who(READERS['boto3']))")
        assert awaited.split() == ["B"]
        shown = failing(kernel, "%aws_can s3:///key")
        assert shown == [("stderr", "UsageError: 's3:///key' names no bucket; write it as s3://BUCKET/PREFIX/ or "
                                    "s3://BUCKET/KEY.\n")]
        everyone(kernel.report(), "alice")
        assert kernel.text("print(ipy_tempcreds.current())").strip() == "None"

        secrets = kernel.text("print(json.dumps(sorted(seen)))").strip().splitlines()[-1]
        del kernel.nb.cells[-1]  # the cell that printed them, for this check only
    saved = nbformat.writes(kernel.nb) + (log.read_text() if log.exists() else "")
    found = json.loads(secrets)
    assert len(found) >= 5
    assert not [s for s in found if s in saved]
