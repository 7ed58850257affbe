"""Target 5: a soak on a fake clock. 15-minute credentials, a long-lived boto3 S3 client in use.

    day      24 simulated hours, renewals driven by renew_if_due() (background=False), a call at
             least every 2 simulated minutes: failed calls, renewals, STS calls, threads.
    memory   then 1,000 more renewals: Python heap growth (tracemalloc) and RSS growth over
             them, failed calls, threads.
    thread   the same with the real renewal thread (background=True): the test moves the fake
             clock to the due time and wakes the thread, then waits until it has renewed, so the
             outcome is deterministic although a real thread does the work.

Time is tests/support.py's FakeClock and RestampingGateway (moto issues real credentials over
HTTP; only their Expiration is moved onto the fake clock); follow_clock and signing_keys come from
there too. moto's server lives in the parent process, so its own growth is not counted here.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import tracemalloc
from datetime import timedelta

import common
from common import READER
from support import FakeClock, RestampingGateway, follow_clock, signing_keys

BUCKET = "soak"


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Soak:
    """One manager on a fake clock with one S3 client that keeps calling."""

    def __init__(self, background: bool):
        import boto3

        from ipy_tempcreds import _kernel
        from ipy_tempcreds.core.manager import CredentialManager

        self.clock = FakeClock()
        self.manager = CredentialManager(clock=self.clock, background=background)
        _kernel.install(self.manager)  # as the API does: the readers (boto3's default session first) follow
        self.gateway = self.manager.sts = RestampingGateway(self.manager.sts, self.clock)
        self.manager.activate(self.manager.role_request(READER, duration="15m", session_name="soak"))
        self.client = boto3.client("s3")
        follow_clock(self.client, self.clock)
        self.keys = signing_keys(self.client)
        self.expiry_of = {}
        self.calls = self.failures = self.renewals = 0
        self.threads: set[int] = set()
        self._note_grant()

    def _note_grant(self) -> None:
        grant = self.manager.current()
        self.expiry_of[grant.access_key_id] = grant.expiration
        if len(self.expiry_of) > 4:  # only recent key sets can still sign; keep the map small
            self.expiry_of.pop(next(iter(self.expiry_of)))

    def call(self) -> None:
        self.calls += 1
        try:
            self.client.list_objects_v2(Bucket=BUCKET)
        except Exception:
            self.failures += 1
            return
        finally:
            self.threads.add(threading.active_count())
        # moto does not enforce expiry; AWS would refuse a call signed by an expired set.
        signer = self.keys[-1]
        self.keys.clear()
        self.failures += signer not in self.expiry_of or self.expiry_of[signer] <= self.clock()

    def step(self) -> None:
        """Wake like the renewal thread would (at the due time, or after at most 2 minutes),
        renew if due, and make a call."""
        self.clock.advance(min(120, max(self.manager.seconds_until_due(), 0)) or 0.001)
        self.renewals += self.manager.renew_if_due()
        self._note_grant()
        self.call()

    def thread_renewal(self, timeout: float = 30) -> None:
        """Move the clock to the due time, wake the real thread, wait until it has renewed."""
        before = len(self.gateway.calls)
        self.clock.advance(max(self.manager.seconds_until_due(), 0) + 0.001)
        self.manager._thread.poke()
        deadline = time.monotonic() + timeout
        while len(self.gateway.calls) == before or self.manager.seconds_until_due() <= 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the renewal thread did not renew")
            time.sleep(0.001)
        self.renewals += 1
        self._note_grant()
        for _ in range(3):  # a few calls per 7.5-minute lifetime, spaced 2 minutes apart
            self.clock.advance(120)
            self.call()

    def sts_calls(self) -> int:
        return self.gateway.calls.count("AssumeRole")


def measure_memory(advance, renewals_done, count: int, warmup: int) -> dict:
    """Run ``advance()`` until ``warmup`` renewals are done, then measure memory over ``count`` more."""
    while renewals_done() < warmup:
        advance()
    gc.collect()
    tracemalloc.start(1)  # one frame: enough to name a growing line, and far cheaper than ten
    heap_start = tracemalloc.get_traced_memory()[0]
    snapshot_start = tracemalloc.take_snapshot()
    rss_start = rss_bytes()
    start = renewals_done()
    while renewals_done() < start + count:
        advance()
    gc.collect()
    heap_end = tracemalloc.get_traced_memory()[0]
    snapshot_end = tracemalloc.take_snapshot()
    tracemalloc.stop()
    top = snapshot_end.compare_to(snapshot_start, "lineno")[:5]
    return {
        "renewals_measured": renewals_done() - start,
        "heap_growth": heap_end - heap_start,
        "rss_growth": rss_bytes() - rss_start,
        "top_growth": [f"{stat.traceback[0].filename.rsplit('/', 2)[-1]}:{stat.traceback[0].lineno} "
                       f"{stat.size_diff:+d} B" for stat in top],
    }


def day_and_memory(renewals: int) -> dict:
    soak = Soak(background=False)
    threads_at_start = threading.active_count()
    end = soak.clock() + timedelta(hours=24)
    while soak.clock() < end:
        soak.step()
    day = {"renewals": soak.renewals, "sts_calls": soak.sts_calls(), "calls": soak.calls,
           "failures": soak.failures, "threads": sorted(soak.threads | {threads_at_start})}
    memory = measure_memory(soak.step, lambda: soak.renewals, renewals, warmup=100)
    memory.update(renewals=soak.renewals, sts_calls=soak.sts_calls(), calls=soak.calls,
                  failures=soak.failures, threads=sorted(soak.threads))
    soak.manager.clear()
    return {"day": day, "memory": memory}


def with_thread(renewals: int) -> dict:
    soak = Soak(background=True)
    memory = measure_memory(soak.thread_renewal, lambda: soak.renewals, renewals, warmup=20)
    memory.update(renewals=soak.renewals, sts_calls=soak.sts_calls(), calls=soak.calls, failures=soak.failures,
                  threads=sorted(soak.threads),
                  renewal_threads=sum(t.name == "ipy_tempcreds-renewal" for t in threading.enumerate()))
    soak.manager.clear()
    memory["threads_after_clear"] = threading.active_count()
    return memory


def main(renewals: int, thread_renewals: int) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket=BUCKET)  # as the base user, before any role
    started = time.perf_counter()
    result = day_and_memory(renewals)
    result["thread"] = with_thread(thread_renewals)
    result["seconds"] = time.perf_counter() - started
    common.report(result)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, int(sys.argv[2]) if len(sys.argv) > 2 else 300)
