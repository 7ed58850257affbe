"""``make bench``: ipy_tempcreds against its physical limits, side by side, and the targets of issues 6
and 13 (a switch adds at most 0.6 ms to its STS call through the magic, 0.3 ms through the API).

    .venv/bin/python benchmarks/run.py                 # everything (~4 minutes)
    .venv/bin/python benchmarks/run.py --only switch,hook
    .venv/bin/python benchmarks/run.py --quick         # fewer repetitions, for a smoke run
    .venv/bin/python benchmarks/run.py --json out.json # the raw figures too

Every figure is measured in this run, next to its reference, against a local STS (moto's server on
127.0.0.1, in this process; the measured code runs in child processes). Medians over many
repetitions; reference and subject interleaved. Timings on a shared or busy machine move; the
ratios move much less, which is why the targets are ratios where they can be, except for a switch:
what a user waits for there is STS, and what we add is a fixed cost, so its target is the
milliseconds added to the raw call measured beside it (the ratio is shown as information). The exit
status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import common

BENCHMARKS = ("switch", "load", "hook", "panel", "soak", "first", "readers", "endpoint", "environ")


class Table:
    HEADER = ("target", "measured", "reference / limit", "vs reference", "goal", "result")

    def __init__(self):
        self.rows: list[tuple[str, ...]] = []

    def add(self, target: str, measured: str, reference: str = "", ratio: str = "", goal: str = "",
            ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        self.rows.append((target, measured, reference, ratio, goal, verdict))

    def render(self, markdown: bool = False) -> str:
        rows = [self.HEADER, *self.rows]
        if markdown:
            lines = ["| " + " | ".join(row) + " |" for row in rows]
            lines.insert(1, "|" + "|".join("---" for _ in self.HEADER) + "|")
            return "\n".join(lines)
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.HEADER))]
        lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "-+-".join("-" * width for width in widths))
        return "\n".join(lines)


def environment(server, home: Path) -> dict[str, str]:
    """The children's environment: the local STS, a base user, nothing from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "BOTO_CONFIG"}
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    base = server.create_user("bench")
    env.update(server.client_environ())
    env.update(base.environ())
    env.update(
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        JUPYTER_DATA_DIR=str(home / "jupyter-data"),
        IPYTHONDIR=str(home / "ipython"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return common.child_env(env)


def ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def signed_ms(value: float) -> str:
    return f"{value:+.2f} ms"


def us(value: float) -> str:
    return f"{value:.2f} µs"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {BENCHMARKS}")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, noisier)")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown (for docs/performance.md)")
    args = parser.parse_args(argv)
    chosen = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = chosen - set(BENCHMARKS)
    only = [name for name in BENCHMARKS if name in chosen]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    from aws_standin import LocalAws

    machine = common.machine()
    print(f"ipy_tempcreds benchmarks on {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
          f"{machine['os']}; boto3 {machine['boto3']}, botocore {machine['botocore']}, IPython {machine['ipython']}, "
          f"ipykernel {machine['ipykernel']}, moto {machine['moto']}; load average {machine['load'][0]:.2f}",
          flush=True)
    results: dict = {"machine": machine}
    table = Table()
    server = LocalAws().start()
    try:
        with tempfile.TemporaryDirectory(prefix="ipy_tempcreds-bench-") as home:
            env = environment(server, Path(home))
            for name in only:
                started = time.monotonic()
                print(f"  running {name} ...", flush=True)
                results[name] = RUNNERS[name](env, table, args.quick)
                print(f"  {name} done in {time.monotonic() - started:.0f} s", flush=True)
    finally:
        server.stop()
    results["load_after"] = os.getloadavg()
    print()
    print(table.render())
    print(f"\nload average at the end: {results['load_after'][0]:.2f} (1 min)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.markdown:
        print(f"\nMeasured on {machine['cpu']} ({machine['cores']} cores), {machine['os']}, Python {machine['python']}, "
              f"boto3/botocore {machine['boto3']}/{machine['botocore']}, IPython {machine['ipython']}, "
              f"ipykernel {machine['ipykernel']}, moto {machine['moto']}; load average "
              f"{machine['load'][0]:.1f} at the start, {results['load_after'][0]:.1f} at the end.\n")
        print(table.render(markdown=True))
    return 0 if all(row[-1] != "MISS" for row in table.rows) else 1


# -- one runner per target ------------------------------------------------------------------------

def run_switch(env, table: Table, quick: bool) -> dict:
    """Issue 13: what a switch adds to the STS call it makes, in ms (medians, side by side in one
    run); the ratio is shown too, as information (a fixed cost is a large ratio of a fast STS)."""
    result = common.run_child("bench_switch.py", env, "60" if quick else "500")
    rows = (
        ("reassume", "1. %assume_role ROLE, ROLE already active", SWITCH_ADDED_MS["magic"]),
        ("switch", "1b. %assume_role switching between 2 roles", SWITCH_ADDED_MS["magic"]),
        ("api", "1c. ipy_tempcreds.assume_role() switching", SWITCH_ADDED_MS["api"]),
    )
    for key, target, limit in rows:
        ours, raw = result[key]["median"], result[raw_key(key)]["median"]
        added = result[f"{key}_added_ms"] = ours - raw
        result[f"{key}_ratio"] = ours / raw
        table.add(target, f"{ms(ours)} ({signed_ms(added)})", f"raw sts.assume_role, warm client: {ms(raw)}",
                  f"{signed_ms(added)} ({ours / raw:.3f}×)", f"≤ +{ms(limit)}", added <= limit)
    cpu = [(result[f"{key}_cpu"]["median"], result[f"{raw_key(key)}_cpu"]["median"]) for key, _, _ in rows]
    table.add("    CPU of the calling thread (1 / 1b / 1c)", " / ".join(ms(ours) for ours, _ in cpu),
              "raw: " + " / ".join(ms(raw) for _, raw in cpu),
              " / ".join(signed_ms(ours - raw) for ours, raw in cpu))
    steps = result["cold_steps"]
    table.add("    our steps, each right after an STS call",
              " / ".join(f"{name} {ms(steps[name]['median'])}" for name in steps),
              "(cold CPU caches: where a switch runs them)")
    return result


# Issue 13: what a switch may add to its STS call (ms, median): the magic, the Python API.
SWITCH_ADDED_MS = {"magic": 0.6, "api": 0.3}


def raw_key(key: str) -> str:
    """The raw call measured beside ``key`` in bench_switch.py."""
    return {"switch": "raw"}.get(key, f"{key}_raw")


def run_load(env, table: Table, quick: bool) -> dict:
    """Fresh processes, interleaved: ours, boto3's import, an empty extension, ours, ..."""
    kinds = ("ext", "boto3", "empty")
    for kind in kinds:  # warm the bytecode cache and the page cache; not counted
        common.run_child("bench_load.py", env, kind)
    samples: dict[str, list] = {kind: [] for kind in kinds}
    for i in range(8 if quick else 30):
        for kind in (kinds if i % 2 == 0 else kinds[::-1]):
            samples[kind].append(common.run_child("bench_load.py", env, kind))
    result = {kind: common.summary([s["seconds"] for s in samples[kind]], 1e3) for kind in kinds}
    heavy = sorted({name for s in samples["ext"] for name in s["heavy"]})
    result["heavy_after_load"] = heavy
    result["our_modules"] = samples["ext"][-1]["ours"]
    result["ratio"] = result["ext"]["median"] / result["boto3"]["median"]
    table.add("2. %load_ext ipy_tempcreds (fresh process)", ms(result["ext"]["median"]),
              f"import boto3: {ms(result['boto3']['median'])}; empty extension: {ms(result['empty']['median'])}",
              f"{result['ratio']:.3f}×", "≤ 0.10×", result["ratio"] <= 0.10)
    table.add("2b. heavy modules imported by loading", ", ".join(heavy) or "none",
              "boto3, botocore, ipywidgets, anywidget, awscrt, ctypes, difflib, webbrowser, the core", "", "none",
              not heavy)
    return result


def run_hook(env, table: Table, quick: bool) -> dict:
    result = common.run_child("bench_hook.py", env, "10" if quick else "40", "5000" if quick else "20000")
    result["above_empty"] = result["active"]["median"] - result["active_noop"]["median"]
    result["trigger_above_empty"] = result["trigger"]["median"] - result["trigger_noop"]["median"]
    table.add("3. pre_run_cell hook, credentials active", us(result["active"]["median"]),
              f"no-op callback: {us(result['active_noop']['median'])}",
              f"+{us(result['above_empty'])}", "≤ +20 µs", result["above_empty"] <= 20)
    table.add("3b. events.trigger('pre_run_cell'), active", us(result["trigger"]["median"]),
              f"with a no-op instead: {us(result['trigger_noop']['median'])}",
              f"+{us(result['trigger_above_empty'])}", "≤ +20 µs", result["trigger_above_empty"] <= 20)
    result["after_above_empty"] = result["after_cell"]["median"] - result["after_cell_noop"]["median"]
    table.add("3c. post_run_cell hook, a cell that succeeded", us(result["after_cell"]["median"]),
              f"no-op callback: {us(result['after_cell_noop']['median'])}",
              f"+{us(result['after_above_empty'])}", "≤ +1 µs", result["after_above_empty"] <= 1)
    table.add("    hook before any assume (idle kernel)", us(result["idle"]["median"]),
              f"no-op callback: {us(result['idle_noop']['median'])}",
              f"+{us(result['idle']['median'] - result['idle_noop']['median'])}")
    return result


def run_panel(env, table: Table, quick: bool) -> dict:
    result = common.run_child("bench_panel.py", env, "3" if quick else "10")
    if not result["available"]:
        table.add("4. role panel idle: kernel messages per tick", "panel not available", result["error"][:60],
                  "", "0", None)
        return result
    per_tick = result["messages"] / result["ticks"]
    table.add(f"4. role panel idle {result['seconds']:.0f} s: iopub messages per tick", f"{per_tick:g}",
              f"{result['messages']} in {result['seconds']:.0f} s ({', '.join(result['types']) or 'none'}); "
              f"same kernel without panel: {result['baseline']}", "", "0", result["messages"] == 0)
    return result


def kib(value: int) -> str:
    return f"{value / 1024:+.0f} KiB"


def run_soak(env, table: Table, quick: bool) -> dict:
    result = common.run_child("bench_soak.py", env, *(("200", "30") if quick else ("1000", "200")))
    day, memory, thread = result["day"], result["memory"], result["thread"]
    day_ok = day["failures"] == 0 and day["sts_calls"] == day["renewals"] + 1 and len(day["threads"]) == 1
    table.add("5. soak: 24 h of 15-min credentials, S3 client in use",
              f"{day['failures']} failed / {day['calls']} calls",
              f"{day['renewals']} renewals, {day['sts_calls']} STS calls (1 assume + renewals)",
              f"threads {'/'.join(map(str, day['threads']))}", "0 failed, STS = renewals + 1, threads constant",
              day_ok)
    limit = 1024 * 1024
    table.add(f"5b. memory over {memory['renewals_measured']} more renewals",
              f"heap {kib(memory['heap_growth'])}, RSS {kib(memory['rss_growth'])}",
              f"{memory['failures']} failed / {memory['calls']} calls; STS calls {memory['sts_calls']}",
              f"threads {'/'.join(map(str, memory['threads']))}", "≤ 1 MiB growth",
              memory["heap_growth"] <= limit and memory["rss_growth"] <= limit and memory["failures"] == 0)
    thread_ok = (thread["failures"] == 0 and thread["sts_calls"] == thread["renewals"] + 1
                 and len(thread["threads"]) == 1 and thread["renewal_threads"] == 1)
    table.add(f"5c. real renewal thread: {thread['renewals_measured']} renewals after {thread['renewals'] - thread['renewals_measured']}",
              f"{thread['failures']} failed / {thread['calls']} calls",
              f"STS calls {thread['sts_calls']}; heap {kib(thread['heap_growth'])}, RSS {kib(thread['rss_growth'])}",
              f"threads {'/'.join(map(str, thread['threads']))}, {thread['threads_after_clear']} after clear",
              "0 failed, threads constant, ≤ 1 MiB", thread_ok and thread["heap_growth"] <= limit)
    return result


def run_first(env, table: Table, quick: bool) -> dict:
    """Fresh processes, interleaved: ours (load, first assume, repeats) and the same parts by hand."""
    for kind in ("ours", "parts"):  # warm the bytecode and page caches; not counted
        common.run_child("bench_first.py", env, kind)
    samples: dict[str, list] = {"ours": [], "parts": []}
    for i in range(5 if quick else 15):
        for kind in (("ours", "parts") if i % 2 == 0 else ("parts", "ours")):
            samples[kind].append(common.run_child("bench_first.py", env, kind))
    result = {key: common.summary([s[key] for s in samples[kind]], 1e3)
              for kind in samples for key in samples[kind][0]}
    table.add("6. first %assume_role in a fresh kernel", ms(result["first"]["median"]),
              f"by hand: import boto3 {ms(result['import_boto3']['median'])} + STS client "
              f"{ms(result['client']['median'])} + first call {ms(result['first_call']['median'])}",
              f"{result['first']['median'] / (result['import_boto3']['median'] + result['client']['median'] + result['first_call']['median']):.2f}×",
              "(absolute)")
    table.add("6b. a repeated %assume_role (same kernel)", ms(result["repeat"]["median"]),
              f"raw sts.assume_role, warm client: {ms(result['raw_call']['median'])}",
              f"{result['repeat']['median'] / result['raw_call']['median']:.2f}×", "(absolute)")
    return result


def run_readers(env, table: Table, quick: bool) -> dict:
    """Issue 14: what following every change costs the readers (benchmarks/bench_readers.py)."""
    result = common.run_child("bench_readers.py", env, "100" if quick else "400")
    ratio = result["boto3_following"]["median"] / result["boto3_fixed"]["median"]
    table.add("7. S3 GetObject, kept boto3 client that follows", ms(result["boto3_following"]["median"]),
              f"fixed credentials: {ms(result['boto3_fixed']['median'])}; lookup "
              f"{us(result['lookup_following_us'])} vs {us(result['lookup_fixed_us'])}",
              f"{ratio:.3f}×", "≤ 1.02×", ratio <= 1.02)
    added = result["polars_ours"]["median"] - result["polars_fixed"]["median"]
    table.add("7b. polars read_csv s3://, product's provider", ms(result["polars_ours"]["median"]),
              f"fixed storage_options: {ms(result['polars_fixed']['median'])}; any Python provider: "
              f"{ms(result['polars_hook_fixed_keys']['median'])}; our provider call "
              f"{us(result['polars_provider_us'])}", f"{added:+.2f} ms", "≤ +1 ms", added <= 1.0)
    switch = result["duckdb_switch"]["median"]
    table.add("7c. switch -> DuckDB connection on the new identity", ms(switch),
              f"q3 {ms(result['duckdb_switch']['q3'])}", "", "≤ 5 ms", switch <= 5.0)
    return result


def run_endpoint(env, table: Table, quick: bool) -> dict:
    """The credential endpoint (delivery "endpoint"), issues 15 and 26: bench_endpoint.py runs its
    own local S3 and serves through the credential server it starts (a process of its own), the
    fetchers in others; also while the kernel computes, and what the first activation costs."""
    result = common.run_child("bench_endpoint.py", env, "--child", *(["--quick"] if quick else []))
    paced, first = result["paced"], result["first_call"]
    table.add("8. endpoint fetch, 50 concurrent fetchers", f"p50 {ms(paced['p50_ms'])}, p99 {ms(paced['p99_ms'])}",
              f"{paced['per_second']:.0f} fetches/s; flood {result['flood']['per_second']:.0f}/s, "
              f"server CPU {result['flood']['server_cpu_us_per_fetch']:.0f} µs/fetch", "",
              "p50 ≤ 1 ms, p99 ≤ 5 ms", paced["p50_ms"] <= 1 and paced["p99_ms"] <= 5)
    busy, activation = result["busy"], result["activation"]
    table.add("8c. endpoint fetch while the kernel computes", f"p50 {ms(busy['p50_ms'])}, p99 {ms(busy['p99_ms'])}",
              f"threads in the kernel (before issue 26), this run: p50 {ms(result['busy_threads']['p50_ms'])}, "
              f"p99 {ms(result['busy_threads']['p99_ms'])}; idle kernel: p99 {ms(paced['p99_ms'])}", "",
              "p99 ≤ 5 ms", busy["p99_ms"] <= 5)
    table.add("8d. first activation in endpoint mode", f"{ms(activation['first_ms'])} (starts the server)",
              f"a later activation: {ms(activation['later_ms'])}", "", "≤ 100 ms", activation["first_ms"] <= 100)
    table.add("8b. a child's first S3 call, endpoint mode",
              f"{ms(first['endpoint']['credentials_ms'] + first['endpoint']['call_ms'])} (credentials + call)",
              f"environment mode: {ms(first['environment']['credentials_ms'] + first['environment']['call_ms'])}",
              f"{first['gap_ms']:+.1f} ms", "≤ +20 ms", first["gap_ms"] <= 20)
    return result


def run_environ(env, table: Table, quick: bool) -> dict:
    """Issue 24: what the never-freed C environment keeps, per renewal and per day of 15-minute
    credentials (benchmarks/bench_environ.py), with the old write path (os.putenv) beside it."""
    runs: dict[str, list] = {"product": [], "os.putenv": []}
    for i in range(1 if quick else 3):
        for writer in (("product", "os.putenv") if i % 2 == 0 else ("os.putenv", "product")):
            runs[writer].append(common.run_child("bench_environ.py", env, writer))
    result = {writer: {key: common.median([run[key] for run in done]) for key in ("renewals", "heap_growth", "rss_growth",
                                                                                 "kept_counted", "variables")}
              for writer, done in runs.items() if all(run["heap_growth"] is not None for run in done)}
    if "product" not in result:
        table.add("9. C environment kept per renewal", "not measured here", "needs glibc's mallinfo2")
        return result
    ours, old = result["product"], result["os.putenv"]
    renewals = ours["renewals"]
    result["kept_per_renewal"], result["kept_per_day"] = ours["heap_growth"] / renewals, ours["heap_growth"]
    extra = ours["heap_growth"] - old["heap_growth"]
    table.add("9. C heap kept by the environment, 15-min credentials",
              f"{result['kept_per_renewal'] / 1024:.2f} KiB per renewal, {result['kept_per_day'] / 1024:.0f} KiB per day",
              f"os.putenv (glibc keeps its strings too): {old['heap_growth'] / renewals / 1024:.2f} KiB, "
              f"{old['heap_growth'] / 1024:.0f} KiB; {renewals:.0f} renewals at the default margin, "
              f"{ours['variables']:.0f} variables; counted {ours['kept_counted'] / renewals / 1024:.2f} KiB per renewal",
              f"{extra / renewals / 1024:+.2f} KiB, {extra / 1024:+.0f} KiB a day", "≤ 1 MiB a day",
              result["kept_per_day"] <= 1024 * 1024)
    return result


RUNNERS = {"switch": run_switch, "load": run_load, "hook": run_hook, "panel": run_panel, "soak": run_soak,
           "first": run_first, "readers": run_readers, "endpoint": run_endpoint, "environ": run_environ}


if __name__ == "__main__":
    sys.exit(main())
