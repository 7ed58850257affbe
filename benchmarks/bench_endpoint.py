"""The credential endpoint (delivery "endpoint"): how fast it answers, and what it costs a child.

    .venv/bin/python benchmarks/bench_endpoint.py            # ~40 s
    .venv/bin/python benchmarks/bench_endpoint.py --quick    # a smoke run
    .venv/bin/python benchmarks/bench_endpoint.py --json out.json

1. Fetch latency. This process plays the kernel: it serves one credential set through
   ``EndpointDelivery`` (the product's code: the credential server, a process of its own that this
   one starts and feeds over a pipe, as a kernel does).
   50 fetchers, in 5 other processes of 10 threads each (so that their work does not share this
   process's GIL), each on its own kept-alive connection as botocore's connection pool keeps one,
   send the request botocore sends and time each answer until it is complete. Two loads:
   ``paced``, each fetcher asks every 20 ms (2,500 fetches/s in all: far above any real use, where a
   child asks once per renewal, or per call only inside botocore's last 10 minutes), and
   ``flood``, each asks again as soon as answered (the server's throughput limit; latency there is
   queueing), and ``busy``: paced while a thread of the kernel computes in pure Python, as a long
   cell does (issue 26: with the server's threads in the kernel they waited for its interpreter
   lock, p99 35-50 ms). Also ``fresh``: one fetcher, a new connection per fetch (the AWS CLI's
   case). The server's CPU time per fetch is printed too (from /proc): on a shared machine it moves
   far less than the latencies, which include waiting for a core.
   Targets: p50 <= 1 ms, p99 <= 5 ms with 50 concurrent fetchers (issue 15), and p99 <= 5 ms
   while the kernel computes (issue 26). Beside ``busy``, the reference ``busy_threads``: the same
   fetches answered by threads of this process (http.server, as the endpoint was before issue 26),
   measured in the same run, so that the machine's load hits both alike.
1b. The first activation in endpoint mode starts the server process (once per kernel): what that
   inject costs, beside a later activation's (the server running already).
2. A child's first S3 call. Fresh ``python`` children, endpoint mode and environment mode
   interleaved, each timing what ``boto3.client("s3")`` and its first ``list_objects_v2`` do against
   the local S3 (moto on 127.0.0.1), in three parts: the credential lookup (the only part the
   delivery changes), the client's creation, the call. Target: credentials + call in endpoint mode
   within 20 ms of environment mode.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The checkout (for a run without an install) and the tests' helpers (the local AWS stand-in).
for path in (str(ROOT), str(ROOT / "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)

FETCHERS, PROCESSES = 50, 5


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- 1. fetch latency ------------------------------------------------------------------------------

def _read_answer(connection: socket.socket, buffer: bytearray) -> None:
    """Read one HTTP answer (head and Content-Length body) from a kept-alive connection."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buffer[:end]).lower()
            start = head.index(b"content-length:") + 15
            length = int(head[start:head.index(b"\r\n", start) if b"\r\n" in head[start:] else None])
            total = end + 4 + length
            while len(buffer) < total:
                buffer += connection.recv(65536)
            if not buffer.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(bytes(buffer[:40]))
            del buffer[:total]
            return
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk


def _fetcher_process(port: int, request: bytes, threads: int, seconds: float, pause: float, out) -> None:
    """One client process: ``threads`` fetchers, each timing its fetches for ``seconds``."""
    times: list[float] = []
    lock = threading.Lock()
    go = threading.Event()

    def fetcher():
        connection = socket.create_connection(("127.0.0.1", port))
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray()
        mine = []
        go.wait()
        end = time.perf_counter() + seconds
        while True:
            start = time.perf_counter()
            if start >= end:
                break
            connection.sendall(request)
            _read_answer(connection, buffer)
            mine.append(time.perf_counter() - start)
            if pause:
                time.sleep(pause)
        connection.close()
        with lock:
            times.extend(mine)

    workers = [threading.Thread(target=fetcher) for _ in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(0.2)  # every connection open before the clock starts
    go.set()
    for worker in workers:
        worker.join()
    out.send(times)


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of process ``pid`` so far, from /proc (Linux); None elsewhere."""
    if pid < 0:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def fetch_latency(port: int, token: str, seconds: float, pause: float, server: int) -> dict:
    request = (f"GET /ipy_tempcreds/credentials HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Accept-Encoding: identity\r\nAuthorization: {token}\r\n\r\n").encode()
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for _ in range(PROCESSES):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_fetcher_process,
                                  args=(port, request, FETCHERS // PROCESSES, seconds, pause, send))
        process.start()
        pipes.append(receive)
        processes.append(process)
    cpu = cpu_seconds(server)
    times = [t for pipe in pipes for t in pipe.recv()]
    after = cpu_seconds(server)
    cpu = after - cpu if cpu is not None and after is not None else float("nan")
    for process in processes:
        process.join()
    return {"fetches": len(times), "per_second": len(times) / seconds, "p50_ms": percentile(times, 0.5) * 1e3,
            "p99_ms": percentile(times, 0.99) * 1e3, "max_ms": max(times) * 1e3,
            "server_cpu_us_per_fetch": cpu / len(times) * 1e6}


def busy_kernel(function):
    """Run ``function()`` while a thread of this process (the kernel) computes in pure Python, as a
    cell does: threads of this process would wait for the GIL (released every 5 ms,
    sys.getswitchinterval()); the credential server, a process of its own, does not."""
    stop = threading.Event()

    def compute():
        while not stop.is_set():
            sum(i * i for i in range(1000))

    worker = threading.Thread(target=compute, daemon=True)
    worker.start()
    try:
        return function()
    finally:
        stop.set()
        worker.join()


def fresh_connections(url: str, token: str, count: int) -> dict:
    import urllib.request

    times = []
    for _ in range(count):
        start = time.perf_counter()
        request = urllib.request.Request(url, headers={"Authorization": token})
        with urllib.request.urlopen(request) as answer:
            answer.read()
        times.append(time.perf_counter() - start)
    return {"fetches": count, "p50_ms": percentile(times, 0.5) * 1e3, "p99_ms": percentile(times, 0.99) * 1e3}


def threads_in_this_process(token: str, answer: bytes):
    """The design before issue 26, as a reference measured beside the server: an HTTP/1.1 server on
    threads of this process (the kernel), one per connection, answering the same bytes to the same
    request. Returns (port, its pid for the CPU figure, stop)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.wfile.write(answer if self.headers.get("Authorization") == token else b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()

    return server.server_address[1], os.getpid(), stop


def first_activation(repetitions: int, credentials) -> dict:
    """The first inject of a fresh EndpointDelivery (it starts the server process) and a later one
    (after a restore: the server runs already), each timed; medians."""
    from ipy_tempcreds.delivery.switch import EndpointDelivery

    first, later = [], []
    for _ in range(repetitions):
        delivery = EndpointDelivery()
        try:
            start = time.perf_counter()
            delivery.inject(credentials, None)
            first.append(time.perf_counter() - start)
            delivery.restore()
            start = time.perf_counter()
            delivery.inject(credentials, None)
            later.append(time.perf_counter() - start)
            delivery.restore()
        finally:
            delivery.close()
    return {"first_ms": statistics.median(first) * 1e3, "later_ms": statistics.median(later) * 1e3,
            "n": repetitions}


# -- 2. a child's first S3 call --------------------------------------------------------------------

FIRST_CALL = r"""
import time
import boto3
start = time.perf_counter()
session = boto3.session.Session()
credentials = session.get_credentials()  # what boto3.client() does first: the default chain
credentials.get_frozen_credentials()
resolved = time.perf_counter()
s3 = session.client("s3")  # loading the service model: the same work in both modes
created = time.perf_counter()
s3.list_objects_v2(Bucket="bench")
done = time.perf_counter()
print(resolved - start, created - resolved, done - created, credentials.method)
"""
PHASES = ("credentials", "client", "call")


def first_call(repetitions: int, credentials, environment, delivery) -> dict:
    """Children of each mode, interleaved (ABBA...), so drift hits both alike. Each child times the
    credential lookup, the client's creation and the first call separately: creating an S3 client
    (~100 ms, loading its model) is the same work in both modes, and on a busy machine its noise
    alone is larger than the difference being measured."""
    samples = {mode: {phase: [] for phase in (*PHASES, "total")} for mode in ("environment", "endpoint")}
    methods = {}
    for i in range(repetitions):
        for mode in ("environment", "endpoint") if i % 2 == 0 else ("endpoint", "environment"):
            (delivery if mode == "endpoint" else environment).inject(credentials, None)
            done = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True)
            *seconds, methods[mode] = done.stdout.split()
            for phase, value in zip(PHASES, map(float, seconds)):
                samples[mode][phase].append(value)
            samples[mode]["total"].append(sum(map(float, seconds)))
            (delivery if mode == "endpoint" else environment).restore()
    return {mode: {**{f"{phase}_ms": statistics.median(values) * 1e3 for phase, values in phases.items()},
                   "method": methods[mode], "n": repetitions}
            for mode, phases in samples.items()}


# -- main ------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--child", action="store_true", help="end with one JSON line (for run.py)")
    options = parser.parse_args(argv)
    seconds, repetitions = (1.0, 4) if options.quick else (4.0, 16)

    from aws_standin import LocalAws
    from ipy_tempcreds.delivery.environment import KernelEnvironment
    from ipy_tempcreds.delivery.switch import EndpointDelivery
    from ipy_tempcreds.model.credentials import TemporaryCredentials

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    aws = LocalAws().start()
    try:
        os.environ.update(aws.client_environ(), AWS_EC2_METADATA_DISABLED="true",
                          AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        user = aws.create_user("bench")
        aws.create_role("Bench", [user.arn])
        aws.create_bucket("bench", {"x": b"1"})
        issued = aws.client("sts", aws_access_key_id=user.access_key_id, aws_secret_access_key=user.secret_access_key)\
            .assume_role(RoleArn="arn:aws:iam::123456789012:role/Bench", RoleSessionName="bench")["Credentials"]
        credentials = TemporaryCredentials.from_sts(issued)
        credentials = TemporaryCredentials(credentials.access_key_id, credentials.secret_access_key,
                                           credentials.session_token, datetime.now(timezone.utc) + timedelta(hours=1))

        delivery = EndpointDelivery()
        delivery.inject(credentials, None)
        url = delivery.url
        with open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as handle:
            token = handle.read()
        port, server = int(url.split(":")[2].split("/")[0]), delivery.server.pid
        import urllib.request

        with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": token})) as fetched:
            body = fetched.read()
        from ipy_tempcreds.delivery.server import response

        old_port, _, stop_old = threads_in_this_process(token, response(200, "OK", body))
        try:
            results = {
                "paced": fetch_latency(port, token, seconds, 0.02, server),
                "flood": fetch_latency(port, token, seconds, 0.0, server),
                "busy": busy_kernel(lambda: fetch_latency(port, token, seconds, 0.02, server)),
                # (No CPU figure there: this process's CPU time includes the computing thread's.)
                "busy_threads": busy_kernel(lambda: fetch_latency(old_port, token, seconds, 0.02, -1)),
                "fresh": fresh_connections(url, token, 200 if options.quick else 1000),
            }
        finally:
            stop_old()
        delivery.close()
        results["activation"] = first_activation(5 if options.quick else 15, credentials)
        endpoint = EndpointDelivery()
        try:
            results["first_call"] = first_call(repetitions, credentials, KernelEnvironment(), endpoint)
        finally:
            endpoint.close()
    finally:
        aws.stop()

    cpus = os.cpu_count()
    print(f"credential endpoint, {FETCHERS} concurrent fetchers in {PROCESSES} processes, kept-alive "
          f"connections; {cpus} CPUs, load average {os.getloadavg()[0]:.1f}")
    for name, words in (("paced", "each every 20 ms"), ("flood", "each at once again"),
                        ("busy", "paced, kernel computing in Python"),
                        ("busy_threads", "the same, served by threads in the kernel: the design before")):
        r = results[name]
        print(f"  {name:6} ({words}): {r['per_second']:6.0f} fetches/s   p50 {r['p50_ms']:.2f} ms   "
              f"p99 {r['p99_ms']:.2f} ms   max {r['max_ms']:.1f} ms   server CPU {r['server_cpu_us_per_fetch']:.0f} us/fetch")
    r = results["fresh"]
    print(f"  fresh  (one fetcher, new connection each, urllib): p50 {r['p50_ms']:.2f} ms   p99 {r['p99_ms']:.2f} ms")
    paced, busy = results["paced"], results["busy"]
    print(f"  target p50 <= 1 ms, p99 <= 5 ms (paced): "
          f"{'PASS' if paced['p50_ms'] <= 1 and paced['p99_ms'] <= 5 else 'MISS'}; "
          f"p99 <= 5 ms (busy): {'PASS' if busy['p99_ms'] <= 5 else 'MISS'}")
    r = results["activation"]
    print(f"first activation (starts the server process): {r['first_ms']:.1f} ms; a later one "
          f"{r['later_ms']:.2f} ms (medians of {r['n']})")
    first = results["first_call"]
    print(f"a child's first S3 call, boto3 (median of {first['endpoint']['n']} fresh children per mode, interleaved):")
    print(f"  {'':28} {'credentials':>12} {'client':>8} {'first call':>11} {'total':>8}")
    for mode in ("environment", "endpoint"):
        r = first[mode]
        print(f"  {mode + ' (' + r['method'] + ')':28} {r['credentials_ms']:9.1f} ms {r['client_ms']:5.0f} ms "
              f"{r['call_ms']:8.1f} ms {r['total_ms']:5.0f} ms")
    gap = sum(first["endpoint"][f"{p}_ms"] - first["environment"][f"{p}_ms"] for p in ("credentials", "call"))
    print(f"  endpoint - environment, credentials + first call: {gap:+.1f} ms; target within 20 ms: "
          f"{'PASS' if gap <= 20 else 'MISS'} (totals differ by "
          f"{first['endpoint']['total_ms'] - first['environment']['total_ms']:+.0f} ms, mostly client-creation noise)")
    results["first_call"]["gap_ms"] = gap
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2))
    if options.child:
        print(json.dumps(results), flush=True)
    met = paced["p50_ms"] <= 1 and paced["p99_ms"] <= 5 and busy["p99_ms"] <= 5 and gap <= 20
    return 0 if met or options.child else 1  # under run.py, its table says PASS or MISS


if __name__ == "__main__":
    sys.exit(main())
