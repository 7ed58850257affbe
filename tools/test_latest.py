"""`make test-latest`: the fast lane against the newest releases inside pyproject.toml's ranges.

The gating environment comes from uv.lock and never moves by itself. This lane is how a release
that breaks us (a moto that authorizes S3 differently, a dask whose distributed is missing) is found
on the day it ships: it resolves pyproject.toml alone (no lock, none of [tool.uv]'s constraints)
into .venv-latest, prints a line per package whose version moved from the lock, runs the fast lane
there and prints a line per test that broke. Exit status: 0 when nothing broke.

    python tools/test_latest.py --uv .tools/uv/bin/uv --python python3 [pytest args]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-latest"
EXTRAS = "sidebar,standin,s3,dask"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(uv: str) -> dict[str, set[str]]:
    """What the lock installs for this Python: .venv as `make setup-test` made it, else the whole lock."""
    locked_env = ROOT / ".venv" / "bin" / "python"
    if locked_env.exists():
        return {name: {version} for name, version in installed_versions(uv, locked_env).items()}
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        if "version" in package:
            versions.setdefault(normalize(package["name"]), set()).add(package["version"])
    return versions


def installed_versions(uv: str, python: Path) -> dict[str, str]:
    frozen = subprocess.run([uv, "pip", "freeze", "--python", str(python)], capture_output=True, text=True,
                            check=True).stdout
    found = {}
    for line in frozen.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            found[normalize(name)] = version.strip()
    return found


def moved(locked: dict[str, set[str]], latest: dict[str, str]) -> list[str]:
    lines = []
    for name in sorted(latest):
        if name == "ipy-tempcreds":
            continue
        if name not in locked:
            lines.append(f"new:   {name} {latest[name]} (not in uv.lock)")
        elif latest[name] not in locked[name]:
            lines.append(f"moved: {name} {' / '.join(sorted(locked[name]))} -> {latest[name]}")
    lines += [f"gone:  {name} (in uv.lock, not resolved now)" for name in sorted(set(locked) - set(latest))
              if name != "ipy-tempcreds"]
    return lines


def broken(report: Path) -> list[str]:
    if not report.exists():
        return []
    lines = []
    for case in ET.parse(report).getroot().iter("testcase"):
        for failure in [*case.iter("failure"), *case.iter("error")]:
            message = (failure.get("message") or "").strip().splitlines()
            lines.append(f"broke: {case.get('classname')}::{case.get('name')}: {message[0][:200] if message else ''}")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", required=True)
    parser.add_argument("--python", required=True)
    args, pytest_args = parser.parse_known_args(argv)

    subprocess.run([args.uv, "venv", "--quiet", "--clear", "--python", args.python, str(VENV)], check=True)
    python = VENV / "bin" / "python"
    # --no-config: [tool.uv]'s constraints steer the lock only; this lane wants what a user would get.
    install = [args.uv, "pip", "install", "--quiet", "--no-config", "--python", str(python),
               "-e", f"{ROOT}[{EXTRAS}]", "--group", f"{ROOT / 'pyproject.toml'}:test"]
    done = subprocess.run(install, capture_output=True, text=True)
    if done.returncode:
        print("test-latest: the newest releases inside pyproject.toml's ranges do not install together:")
        print(done.stderr.strip()[-4000:])
        return 1

    changes = moved(locked_versions(args.uv), installed_versions(args.uv, python))
    print(f"test-latest: {len(changes)} package(s) differ from uv.lock")
    for line in changes:
        print("  " + line)

    failures: list[str] = []
    report = VENV / "junit.xml"
    report.unlink(missing_ok=True)
    run = subprocess.run([str(python), "-m", "pytest", "-q", "--fast", f"--junitxml={report}", *pytest_args], cwd=ROOT)
    failures += broken(report)
    if run.returncode not in (0, 1, 5):  # 1: tests failed (listed); 5: none selected
        failures.append(f"broke: pytest ended with status {run.returncode}")
    failures = list(dict.fromkeys(failures))  # a test named on the command line runs in both parts
    print(f"test-latest: {len(failures)} test(s) broke with the newest releases")
    for line in failures:
        print("  " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
