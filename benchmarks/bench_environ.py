"""Target 9: the memory the C environment keeps (issue 24). The product never frees an environ
array or a "NAME=value" string it published (a native thread may be reading them), so each write
keeps some: how much, per renewal and per day.

    python benchmarks/bench_environ.py product     # compat.publish_c_environment
    python benchmarks/bench_environ.py os.putenv   # the old write path, for comparison

A simulated day on tests/support.py's FakeClock: 15-minute credentials renewed at the default
margin (half the lifetime: every 7.5 minutes), each renewal a real AssumeRole against moto in the
parent (RestampingGateway moves only the Expiration onto the fake clock). Measured over the day,
after a warm-up: the C heap in use (glibc's mallinfo2, ``uordblks``), RSS, and the writer's own
count of what it published.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from datetime import timedelta

import common
from common import READER
from support import FakeClock, RestampingGateway

WARMUP = 10


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_in_use() -> int | None:
    """Bytes of the C heap in use (glibc 2.33+), or None where mallinfo2 does not exist."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except AttributeError:
        return None
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    return info.uordblks + info.hblkhd


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(writer: str) -> None:
    from ipy_tempcreds.base import compat
    from ipy_tempcreds.core.manager import CredentialManager
    from ipy_tempcreds.delivery import environment

    if writer == "os.putenv":
        environment.publish_c_environment = lambda changes: False
    clock = FakeClock()
    manager = CredentialManager(clock=clock, background=False)
    manager.sts = RestampingGateway(manager.sts, clock)
    manager.activate(manager.role_request(READER, duration="15m", session_name="environ"))
    renewals = 0

    def renew() -> None:
        nonlocal renewals
        clock.advance(max(manager.seconds_until_due(), 0) + 0.001)
        renewals += manager.renew_if_due()

    for _ in range(WARMUP):  # first-use allocations (clients, caches) are not what is kept per renewal
        renew()
    c_environment = compat.c_environment()
    kept_before = c_environment.kept_bytes if c_environment is not None else 0
    gc.collect()
    heap_before, rss_before, renewals_before = heap_in_use(), rss_bytes(), renewals
    end = clock() + timedelta(hours=24)
    while clock() < end:
        renew()
    gc.collect()
    heap_after, rss_after = heap_in_use(), rss_bytes()
    manager.clear()
    common.report({
        "writer": writer, "renewals": renewals - renewals_before, "variables": len(os.environ),
        "heap_growth": None if heap_before is None or heap_after is None else heap_after - heap_before,
        "rss_growth": rss_after - rss_before,
        "kept_counted": (c_environment.kept_bytes - kept_before) if c_environment is not None and writer == "product" else 0,
    })


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "product")
