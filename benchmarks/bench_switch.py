"""Target 1: ``%assume_role`` and ``ipy_tempcreds.assume_role()`` as a switch (a role already
active) against a raw ``sts.assume_role`` on a warm boto3 client to the same local STS, interleaved
ABAB, side by side in one process.

The raw call is the physical limit of a switch: one AssumeRole round trip through botocore. What a
user waits for is that round trip; the figure that matters is what we add to it, in milliseconds
(issue 13: at most 0.6 ms for the magic, 0.3 ms for the Python API, medians). The magic adds
IPython's magic dispatch, parsing the line and printing one line; both add validating, finding the
STS client, the environment write, the followers (boto3's default session, s3fs, the readers) and
remembering the role.

Three pairs: the magic assuming the active role again, the magic switching back and forth between
two roles, and the Python API switching. Wall-clock medians are the figures; the CPU time of the
measuring thread is reported too, because a busy machine stretches every extra CPU millisecond
into more wall time.

Then each of our steps alone, timed right after a raw STS call: that is where they run in a switch,
with the CPU caches cold, and there they cost 5-10 times what a tight loop says.
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

    # The raw client signs with the same base user the extension uses as its source.
    raw = boto3.client(
        "sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"],
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    session_name = api.get_manager().requests.default_session_name()
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
    ours_next = itertools.cycle([magic(OTHER), magic(READER)])
    raw_next = itertools.cycle([raw_call(OTHER), raw_call(READER)])

    def switch():
        next(ours_next)()

    def raw_switch():
        next(raw_next)()

    import ipy_tempcreds

    api_next = itertools.cycle([OTHER, READER])

    def api_switch():
        ipy_tempcreds.assume_role(next(api_next))

    same_cpu: dict = {}
    same_ours, same_theirs = common.interleaved(magic(READER), raw_call(READER), repetitions, warmup=20,
                                                cpu=same_cpu)
    switch_cpu: dict = {}
    ours, theirs = common.interleaved(switch, raw_switch, repetitions, warmup=20, cpu=switch_cpu)
    api_cpu: dict = {}
    api_ours, api_theirs = common.interleaved(api_switch, raw_switch, repetitions, warmup=20, cpu=api_cpu)

    # Each step alone, right after an STS call (as in a switch).
    from ipy_tempcreds.ui import display
    from ipy_tempcreds.ui.arguments import parse_line
    from ipy_tempcreds.ui.magics import TempCredsMagics

    manager = api.get_manager()
    request = manager.role_request(READER)
    other = ipy_tempcreds.assume_role(OTHER)
    manager.activate(request)
    grant = manager.current()
    steps = {
        "parse": lambda: parse_line(TempCredsMagics.assume_role, READER),
        "request": lambda: manager.role_request(READER),
        "client": lambda: manager.sts._source(request),
        "environment": lambda: manager.environment.inject(grant.credentials, grant.account),
        # Every follower, told of a switch (boto3's default session, s3fs, the readers).
        "followers": lambda: manager.announce("assume", previous=other),
        "recent": lambda: manager.roles.recent().remember(READER, READER),
        "print": lambda: display.assumed_line(grant, manager.clock()),
    }
    cold = {name: [] for name in steps}
    for _ in range(max(20, repetitions // 3)):
        for name, step in steps.items():
            raw_call(READER)()
            start = time.perf_counter()
            step()
            cold[name].append(time.perf_counter() - start)

    common.report({
        "switch": common.summary(ours, 1e3),
        "raw": common.summary(theirs, 1e3),
        "switch_cpu": common.summary(switch_cpu["a"], 1e3),
        "raw_cpu": common.summary(switch_cpu["b"], 1e3),
        "api": common.summary(api_ours, 1e3),
        "api_raw": common.summary(api_theirs, 1e3),
        "api_cpu": common.summary(api_cpu["a"], 1e3),
        "api_raw_cpu": common.summary(api_cpu["b"], 1e3),
        "reassume": common.summary(same_ours, 1e3),
        "reassume_raw": common.summary(same_theirs, 1e3),
        "reassume_cpu": common.summary(same_cpu["a"], 1e3),
        "reassume_raw_cpu": common.summary(same_cpu["b"], 1e3),
        "cold_steps": {name: common.summary(times, 1e3) for name, times in cold.items()},
    })


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
