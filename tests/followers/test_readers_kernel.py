"""Every reader follows every transition, in one real kernel (nbclient) with IAM auth on.

One kernel runs the whole story, cell by cell, against moto behind the strict stand-in
(tests/strict_sts.py), which answers ExpiredToken, as AWS does, for a key the test expires: after
each renewal the replaced key is expired, so a reader still holding it fails. Role A reads only bucket-a,
role B only bucket-b, the kernel's own user (alice) only bucket-c; every reader reads the three
buckets after every change (tests/readers_probe.py), so each row says who signed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from readers_support import seed_identities
from strict_sts import strict_aws  # noqa: F401 (the fixture)
from support import TESTS, cell_text, kernel_environment, new_notebook, role_arn

pytestmark = pytest.mark.kernel
pytest.importorskip("polars")
pytest.importorskip("duckdb_extension_httpfs")
pytest.importorskip("smart_open")
pytest.importorskip("distributed")

A, B = role_arn("A"), role_arn("B")

SETUP = f"""
import sys; sys.path.insert(0, {str(TESTS)!r})  # for readers_probe
import ipy_tempcreds
"""

READERS = """
import os, boto3, duckdb, polars as pl, pandas as pd, smart_open, duckdb_extension_httpfs
import pyarrow.fs as pafs, pyarrow.dataset as pads
import dask.dataframe as dd
from dask.distributed import Client, LocalCluster
from readers_probe import reader, report, keys

s3, s3_resource = boto3.client("s3"), boto3.resource("s3")
arrow_fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"])  # as for MinIO
HTTPFS = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions",
                      f"v{duckdb.__version__}", "httpfs.duckdb_extension")
ENDPOINT = os.environ["AWS_ENDPOINT_URL"].split("//")[1]
for connection in (duckdb.default_connection(),):
    connection.execute(f"LOAD '{HTTPFS}'")
    connection.execute(f"SET s3_endpoint='{ENDPOINT}'; SET s3_use_ssl=false; SET s3_url_style='path'")
con = duckdb.connect()
con.execute(f"LOAD '{HTTPFS}'")
following = ipy_tempcreds.follow(con)
cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                       dashboard_address=None)
dask_client = Client(cluster)

def csv(bucket):
    return f"s3://{bucket}/data.csv"

reader("boto3 client")(lambda b: s3.get_object(Bucket=b, Key="data.csv")["Body"].read())
reader("boto3 resource")(lambda b: s3_resource.Object(b, "data.csv").get()["Body"].read())
reader("smart_open + client")(lambda b: smart_open.open(csv(b), transport_params={"client": s3}).read())
reader("polars")(lambda b: pl.read_csv(csv(b)).height)
reader("duckdb.sql")(lambda b: duckdb.default_connection().execute(f"FROM read_csv('{csv(b)}')").fetchall())
reader("duckdb follow(con)")(lambda b: con.execute(f"FROM read_csv('{csv(b)}')").fetchall())
reader("pyarrow S3FileSystem")(lambda b: arrow_fs.open_input_file(f"{b}/data.csv").read())
reader("pyarrow dataset")(lambda b: pads.dataset(f"{b}/data.csv", format="csv", filesystem=arrow_fs).to_table().num_rows)
reader("pandas/s3fs")(lambda b: len(pd.read_csv(csv(b))))
reader("dask")(lambda b: len(dd.read_csv(csv(b)).compute()))
report()
"""


class Kernel:
    """One kernel for the whole test; ``run(source)`` executes a cell and returns its text."""

    def __init__(self, tmp_path: Path):
        self.nb = new_notebook([])
        self.client = NotebookClient(self.nb, kernel_name="python3", timeout=180,
                                     resources={"metadata": {"path": str(tmp_path)}})
        env = kernel_environment(tmp_path / "ipython")
        env["PYTHONPATH"] = os.pathsep.join([str(TESTS.parent), env.get("PYTHONPATH", "")])
        self._context = self.client.setup_kernel(env=env)

    def __enter__(self):
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    def run(self, source: str) -> str:
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.nb.cells) - 1)
        return cell_text(cell, results=False)

    def report(self, source: str = "report()") -> dict:
        text = self.run(source)
        lines = [line for line in text.splitlines() if line.startswith("{")]
        assert lines, text
        return json.loads(lines[-1])


def everyone(report: dict, expected: str, **exceptions) -> None:
    wrong = {name: got for name, got in report.items() if got != exceptions.get(name, expected)}
    assert not wrong, f"expected {expected!r} (with {exceptions}); these differ: {wrong}"


def test_every_reader_follows_every_transition_in_a_real_kernel(aws, strict_aws, tmp_path):
    seed_identities(aws)
    keys_file = tmp_path / "keys.txt"

    def last_keys(count: int) -> list[str]:
        return keys_file.read_text().split()[-count:]

    with Kernel(tmp_path) as kernel:
        kernel.run("%load_ext ipy_tempcreds")
        kernel.run(SETUP)
        everyone(kernel.report(READERS), "own")  # every reader made before the first assume

        kernel.run(f"%assume_role {A} --session-name on-a -q\n"
                   "session_client = ipy_tempcreds.session().client('s3')\n"
                   "reader('session() client')(lambda b: session_client.get_object(Bucket=b, Key='data.csv'))\n"
                   "sharing = ipy_tempcreds.follow(dask_client)  # as share_with(dask_client)")
        everyone(kernel.report(), "A")

        kernel.run(f"%assume_role {B} --session-name on-b -q")
        everyone(kernel.report(), "B")

        # The control: a client pinned to the set about to be replaced (kept in the kernel, never shown).
        kernel.run("held = ipy_tempcreds.current().credentials\n"
                   "stale = boto3.client('s3', aws_access_key_id=held.access_key_id, "
                   "aws_secret_access_key=held.secret_access_key, aws_session_token=held.session_token)\n"
                   "del held\n"
                   "reader('control: the replaced key')(lambda b: stale.get_object(Bucket=b, Key='data.csv'))")
        kernel.run(f"keys({str(keys_file)!r})\n%assume_role --refresh -q\nkeys({str(keys_file)!r})")
        old, new = last_keys(2)
        assert old != new
        strict_aws.expire(old)  # a reader still holding it fails now, with ExpiredToken
        control = {"control: the replaced key": "none"}
        everyone(kernel.report(), "B", **control)

        # A background renewal: 900-second credentials with an 897-second margin are due 3 s
        # after the assume; the renewal thread replaces them while this cell waits.
        kernel.run(
            f"keys({str(keys_file)!r})\n"
            "get_ipython().run_line_magic('config', 'TempCreds.refresh_margin = 897')\n"
            f"first = ipy_tempcreds.assume_role({B!r}, duration=900, session_name='renewing').access_key_id\n"
            f"keys({str(keys_file)!r})\n"
            "import time\n"
            "deadline = time.monotonic() + 20\n"
            "while os.environ['AWS_ACCESS_KEY_ID'] == first and time.monotonic() < deadline:\n"
            "    time.sleep(0.1)\n"
            "get_ipython().run_line_magic('config', 'TempCreds.refresh_margin = None')\n"
            f"keys({str(keys_file)!r})"
        )
        before_switch, first, renewed = last_keys(3)
        assert first != renewed, "the renewal thread did not renew within 20 s"
        strict_aws.expire(before_switch)
        strict_aws.expire(first)
        everyone(kernel.report(), "B", **control)

        kernel.run("%assume_role --clear")
        # session() is the active role's session: after a clear its clients fail, saying so.
        everyone(kernel.report(), "own", **{"session() client": "none"}, **control)

        kernel.run(f"%assume_role {A} --session-name again -q")
        everyone(kernel.report(), "A", **control)
        assert any(code == "ExpiredToken" for _, code in strict_aws.refused)  # the control was refused

        outputs = "".join(kernel.run("print(sharing.active, following.active)"))
        assert outputs.strip() == "True True"
        kernel.run("dask_client.close(); cluster.close()")

    saved = nbformat.writes(kernel.nb)
    assert "could not update" not in saved and "Traceback" not in saved
