"""What every benchmark shares: the machine description, statistics, the child-process protocol.

Each measurement runs in its own child process (``python benchmarks/bench_*.py``), so that the
measured process holds nothing but IPython, boto3 and ipy_tempcreds: the local STS (moto's server)
lives in the parent (run.py) and is reached over HTTP on 127.0.0.1, like a real endpoint. A child
prints one JSON object on its last stdout line.

Children run with bytecode caching on (``PYTHONPYCACHEPREFIX`` under the venv): an installed
package has its ``.pyc`` files, and import times without them would measure the compiler.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
# tests/support.py holds the fake clock and the restamping gateway: reuse them, never copy them.
# ipy_tempcreds itself comes from the environment (the editable install, or PYTHONPATH to measure
# another checkout: PYTHONPATH=/path/to/old/checkout benchmarks/run.py).
for path in (str(ROOT / "tests"), str(BENCH)):
    if path not in sys.path:
        sys.path.insert(0, path)

ACCOUNT = "123456789012"
READER = f"arn:aws:iam::{ACCOUNT}:role/Reader"
OTHER = f"arn:aws:iam::{ACCOUNT}:role/Other"
PYCACHE = ROOT / ".venv" / ".bench-pycache"


# -- statistics ---------------------------------------------------------------------------------

def median(values) -> float:
    return statistics.median(values)


def quartiles(values) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def summary(values, scale: float = 1.0) -> dict:
    """Median and interquartile range, scaled (1e3: seconds -> ms)."""
    low, high = quartiles(values) if len(values) >= 2 else (values[0], values[0])
    return {"median": median(values) * scale, "q1": low * scale, "q3": high * scale, "n": len(values)}


def interleaved(a, b, repetitions: int, warmup: int = 0, cpu: dict | None = None):
    """Time ``a()`` and ``b()`` alternately, in seconds: drift (thermal, other load on the
    machine, a growing server) hits both alike. The order flips every pair (AB, BA, ...) so that
    neither always runs right after the other. With ``cpu={}``, also collects this thread's CPU
    time per call under cpu["a"] and cpu["b"] (what a busy machine inflates least)."""
    times = {"a": [], "b": []}
    cpu_times = {"a": [], "b": []}
    wall, thread = time.perf_counter, time.thread_time
    for i in range(warmup + repetitions):
        for name in ("a", "b") if i % 2 == 0 else ("b", "a"):
            function = a if name == "a" else b
            cpu_start, start = thread(), wall()
            function()
            elapsed, cpu_elapsed = wall() - start, thread() - cpu_start
            if i >= warmup:
                times[name].append(elapsed)
                cpu_times[name].append(cpu_elapsed)
    if cpu is not None:
        cpu.update(cpu_times)
    return times["a"], times["b"]


# -- the machine --------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("boto3", "botocore", "ipython", "ipykernel", "moto", "anywidget", "ipywidgets"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "-"
    return out


def machine() -> dict:
    try:
        os_name = platform.freedesktop_os_release().get("PRETTY_NAME", platform.platform())
    except OSError:
        os_name = platform.platform()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": os_name,
        "load": os.getloadavg(),
        **versions(),
    }


# -- children -----------------------------------------------------------------------------------

def child_env(base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def run_child(script: str, env: dict[str, str], *args: str, timeout: float = 900) -> dict:
    """Run ``benchmarks/<script>`` and return the JSON object it printed last."""
    result = subprocess.run([sys.executable, str(BENCH / script), *args], env=env, capture_output=True,
                            text=True, timeout=timeout, cwd=str(ROOT))
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{script} failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def report(result: dict) -> None:
    """A child's answer: one JSON line on stdout."""
    sys.stdout.flush()
    print(json.dumps(result), flush=True)


def ipython_shell():
    """A plain IPython shell in this process (what a terminal IPython or a kernel builds)."""
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()
