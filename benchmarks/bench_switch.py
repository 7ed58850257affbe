"""Target 1: ``%assume_role`` as a switch (a role already active) against a raw ``sts.assume_role``
on a warm boto3 client to the same local STS, interleaved ABAB.

The raw call is the physical limit of a switch: one AssumeRole round trip through botocore. Ours
adds parsing the line, validating, the environment write, resetting boto3's default session,
notifying listeners and remembering the role in the recent-roles file.

Two variants: assuming the active role again (the recent-roles list does not change), and
switching back and forth between two roles (the list changes order, so the file is written every
time). Wall-clock medians are the figures; the CPU time of the measuring thread is reported too,
because a busy machine stretches every extra CPU millisecond into more wall time.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import sys
import time

import common
from common import OTHER, READER


def main(repetitions: int) -> None:
    shell = common.ipython_shell()
    shell.run_line_magic("load_ext", "ipy_tempcreds")
    import boto3

    from ipy_tempcreds import api
    from ipy_tempcreds.recent import RecentRoles

    # The raw client signs with the same base user the extension uses as its source.
    raw = boto3.client(
        "sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"],
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    session_name = api.get_manager().default_session_name()
    sink = io.StringIO()

    def magic(role):
        def run():
            with contextlib.redirect_stdout(sink):  # the one printed line, as in a notebook
                shell.run_line_magic("assume_role", role)
            sink.seek(0)
            sink.truncate()
        return run

    def raw_call(role):
        return lambda: raw.assume_role(RoleArn=role, RoleSessionName=session_name, DurationSeconds=3600)

    magic(READER)()  # an active role: every timed call is a switch
    targets = [READER, OTHER]
    ours_next = itertools.cycle([magic(OTHER), magic(READER)])
    raw_next = itertools.cycle([raw_call(OTHER), raw_call(READER)])

    def switch():
        next(ours_next)()

    def raw_switch():
        next(raw_next)()

    same_cpu: dict = {}
    same_ours, same_theirs = common.interleaved(magic(READER), raw_call(READER), repetitions, warmup=20,
                                                cpu=same_cpu)
    switch_cpu: dict = {}
    ours, theirs = common.interleaved(switch, raw_switch, repetitions, warmup=20, cpu=switch_cpu)

    # The recent-roles file on its own, as a switch exercises it (the list changes each time).
    recent = RecentRoles(api.get_manager().recent_roles().path, api.get_manager().settings.recent_roles_limit)
    writes = []
    for i in range(200):
        start = time.perf_counter()
        recent.remember(str(i % 2), targets[i % 2])
        writes.append(time.perf_counter() - start)
    same = []
    for _ in range(200):
        start = time.perf_counter()
        recent.remember("1", targets[1])
        same.append(time.perf_counter() - start)

    common.report({
        "switch": common.summary(ours, 1e3),
        "raw": common.summary(theirs, 1e3),
        "switch_cpu": common.summary(switch_cpu["a"], 1e3),
        "raw_cpu": common.summary(switch_cpu["b"], 1e3),
        "reassume": common.summary(same_ours, 1e3),
        "reassume_raw": common.summary(same_theirs, 1e3),
        "reassume_cpu": common.summary(same_cpu["a"], 1e3),
        "reassume_raw_cpu": common.summary(same_cpu["b"], 1e3),
        "recent_write": common.summary(writes, 1e3),
        "recent_same_head": common.summary(same, 1e3),
        "recent_path_fs": _fs_of(recent.path),
    })


def _fs_of(path) -> str:
    """The filesystem type of ``path`` (the recent-roles file's cost depends on it)."""
    try:
        best = ("", "?")
        for line in open("/proc/mounts"):
            _dev, mount, fstype = line.split()[:3]
            if str(path).startswith(mount) and len(mount) > len(best[0]):
                best = (mount, fstype)
        return best[1]
    except OSError:
        return "?"


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
