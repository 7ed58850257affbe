"""Target 6, one sample: what the first ``%assume_role`` costs in a fresh kernel, and a repeated one.

    ours    %load_ext, then the first %assume_role (imports boto3 and the core, builds the STS
            client, calls AssumeRole), then repeated ones in the same process
    parts   the same work by hand in another fresh process: import boto3, create an STS client,
            the first call on it, then repeated calls (the reference for each part)
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import time

import common
from common import READER


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def ours() -> dict:
    shell = common.ipython_shell()
    sink = io.StringIO()

    def assume():
        with contextlib.redirect_stdout(sink):  # the one line a user sees
            shell.run_line_magic("assume_role", READER)

    load = timed(lambda: shell.run_line_magic("load_ext", "ipy_tempcreds"))
    first = timed(assume)
    repeat = statistics.median(timed(assume) for _ in range(10))
    return {"load": load, "first": first, "repeat": repeat}


def parts() -> dict:
    common.ipython_shell()
    import_boto3 = timed(lambda: __import__("boto3"))
    import boto3

    holder = {}
    client = timed(lambda: holder.setdefault("sts", boto3.client("sts")))
    sts = holder["sts"]

    def call():
        sts.assume_role(RoleArn=READER, RoleSessionName="bench", DurationSeconds=3600)

    first_call = timed(call)
    raw_call = statistics.median(timed(call) for _ in range(10))
    return {"import_boto3": import_boto3, "client": client, "first_call": first_call, "raw_call": raw_call}


if __name__ == "__main__":
    common.report(ours() if sys.argv[1:] == ["ours"] else parts())
