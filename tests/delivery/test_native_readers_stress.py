"""The real native readers keep reading, without a crash, while credentials change (issue 24).

pyarrow's S3FileSystem (the AWS C++ SDK), DuckDB with httpfs and polars read from the local S3
(moto) in threads of their own, whose native threads call getenv(), while the public API assumes,
switches, renews and clears over and over, in both deliveries. The kernel's own credentials come
from a profile, so each assume adds the key variables (the write that used to move the array).
A fresh process per delivery; death by a signal is the failure.

This one does not tell the old write path from the new by itself (run through os.putenv it
survived 3 runs of 2 here: whether glibc's realloc moves the array depends on the heap, see
test_native_threads.py, which reproduces the crash); it shows that the real readers, their
followers and both deliveries run clean beside the product's writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from support import role_arn

pytest.importorskip("pyarrow.fs")
pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")
httpfs_package = pytest.importorskip("duckdb_extension_httpfs")

HTTPFS = os.path.join(os.path.dirname(httpfs_package.__file__), "extensions", f"v{duckdb.__version__}",
                      "httpfs.duckdb_extension")
CYCLES = 60

SCRIPT = r'''
import json, os, sys, threading, time
delivery, cycles, httpfs, role_a, role_b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
import duckdb, polars as pl, pyarrow.fs as pafs
import ipy_tempcreds
from ipy_tempcreds import follow

ipy_tempcreds.api.get_settings().delivery = delivery
endpoint = os.environ["AWS_ENDPOINT_URL"]
reads = {"pyarrow": 0, "duckdb": 0, "polars": 0}
failed = {name: 0 for name in reads}
stop = threading.Event()

con = duckdb.connect()
con.execute(f"LOAD '{httpfs}'")
con.execute(f"SET s3_endpoint = '{endpoint.split('//')[1]}'; SET s3_use_ssl = false; SET s3_url_style = 'path'")
follow(con)  # the product's DuckDB follower: a secret per change
fs = pafs.S3FileSystem(endpoint_override=endpoint)

def read_pyarrow():
    return fs.open_input_file("bucket-n/data.csv").read().startswith(b"owner")

def read_duckdb():
    return con.cursor().execute("SELECT owner FROM read_csv('s3://bucket-n/data.csv')").fetchall() == [("n",)]

def read_polars():
    return pl.read_csv("s3://bucket-n/data.csv")["owner"][0] == "n"

def loop(name, read):
    while not stop.is_set():
        try:
            ok = read()
        except Exception:  # a read between a clear and the next assume may be refused: counted
            ok = False
        reads[name] += ok
        failed[name] += not ok

threads = [threading.Thread(target=loop, args=item) for item in
           (("pyarrow", read_pyarrow), ("duckdb", read_duckdb), ("polars", read_polars))]
for thread in threads:
    thread.start()
started = time.monotonic()
for cycle in range(cycles):
    ipy_tempcreds.assume_role(role_a, session_name=f"a-{cycle}")
    ipy_tempcreds.assume_role(role_b, session_name=f"b-{cycle}")  # a switch
    ipy_tempcreds.refresh()  # a renewal
    ipy_tempcreds.clear()
stop.set()
for thread in threads:
    thread.join(60)
print(json.dumps({"reads": reads, "failed": failed, "seconds": time.monotonic() - started}))
'''


@pytest.fixture
def readers_world(aws, isolated_environment):
    """Two roles that may read bucket-n; the kernel's own user in a profile (IAM auth off: who
    signs is the readers' tests' business, here only that they keep reading)."""
    base = aws.base_user
    for name in ("StressA", "StressB"):
        aws.create_role(name, [base.arn])
    aws.create_bucket("bucket-n", {"data.csv": b"owner,n\nn,1\n"})
    (isolated_environment / "credentials").write_text(
        f"[own]\naws_access_key_id = {base.access_key_id}\naws_secret_access_key = {base.secret_access_key}\n")
    from conftest import set_environment

    set_environment({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_PROFILE": "own"})
    return aws


@pytest.mark.parametrize("delivery", ["environment", "endpoint"])
def test_pyarrow_duckdb_and_polars_keep_reading_through_every_change(readers_world, delivery):
    done = subprocess.run([sys.executable, "-c", SCRIPT, delivery, str(CYCLES), HTTPFS,
                           role_arn("StressA"), role_arn("StressB")],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ))
    if done.returncode < 0:
        pytest.fail(f"the readers' process died by {signal.Signals(-done.returncode).name} "
                    f"({delivery} delivery): {done.stderr[-1500:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{delivery}: {CYCLES * 4} changes in {result['seconds']:.1f} s; reads {result['reads']}, "
          f"refused {result['failed']}")
    assert all(count >= 5 for count in result["reads"].values()), result
