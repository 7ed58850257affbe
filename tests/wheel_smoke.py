"""The built wheel, used as a user would: installed into fresh virtual environments, one per Python.

    python tests/wheel_smoke.py dist/ipy_tempcreds-*.whl --constraints FILE   # every Python found
    python tests/wheel_smoke.py WHEEL --s3-beside-newest-boto3                 # and the [s3] extra check

``--constraints FILE`` (what `make smoke` passes: uv.lock exported for the ``standin`` extra) holds
pip to the lock's versions, so that the check does not move with the package index. Without it pip
takes the newest releases, as a user's would.

For each Python it finds (this one, and 3.10-3.13 under ``$(pyenv root)/versions``; pyenv's shims
fail on these machines, the interpreters do not), it makes a virtual environment, installs the
wheel with its ``standin`` extra (moto for the local AWS), and runs this file inside it with
``--inside``: load the extension in a real IPython shell, assume a role against moto on
127.0.0.1, draw the panel, unload. The checkout is never on ``sys.path`` there (``python -I``,
run from a temporary directory), so what runs is the wheel. A Python that is absent is reported
as skipped, with the reason.

``--s3-beside-newest-boto3`` (not in CI: it takes the newest boto3, so the index decides what it
tests): a fresh environment with the newest boto3 first, then the wheel
with ``[s3]``: boto3 must keep its version, ``pip check`` must pass, and when no s3fs/aiobotocore
matches that boto3, ipy_tempcreds must say so (followers/s3fs_versions.py).
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WANTED = ("3.10", "3.11", "3.12", "3.13")  # the classifiers in pyproject.toml


def pythons() -> tuple[dict[str, str], dict[str, str]]:
    """({version: interpreter} found, {version: why not}) for the Pythons the package supports."""
    found: dict[str, str] = {}
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    if current in WANTED:
        found[current] = sys.executable
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip() or root
    except (OSError, subprocess.CalledProcessError):
        pass
    missing: dict[str, str] = {}
    for version in WANTED:
        if version in found:
            continue
        candidates = sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"))
        if candidates:
            found[version] = candidates[-1]
        else:
            missing[version] = f"no interpreter at {root}/versions/{version}.*/bin/python{version}"
    return found, missing


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def fresh_venv(python: str, where: Path) -> str:
    run([python, "-m", "venv", str(where)])
    return str(where / "bin" / "python")


PIP = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]


def smoke(version: str, python: str, wheel: Path, workdir: Path, constraints: list[str]) -> None:
    started = time.monotonic()
    venv_python = fresh_venv(python, workdir / f"venv-{version}")
    run([venv_python, *PIP, *constraints, f"{wheel}[standin]"])
    run([venv_python, "-m", "pip", "check"])
    done = run([venv_python, "-I", str(Path(__file__).resolve()), "--inside"], cwd=workdir)
    print(f"  Python {version} ({python}): {done.stdout.strip()} [{time.monotonic() - started:.0f} s]", flush=True)


def s3_beside_newest_boto3(wheel: Path, workdir: Path) -> None:
    """The [s3] extra installed into an environment that has the newest boto3 keeps that boto3."""
    started = time.monotonic()
    venv_python = fresh_venv(sys.executable, workdir / "venv-s3")
    run([venv_python, *PIP, "boto3"])
    version_of = [venv_python, "-c", "import importlib.metadata as m; print(m.version('boto3'))"]
    before = run(version_of).stdout.strip()
    run([venv_python, *PIP, f"{wheel}[s3]"])
    after = run(version_of).stdout.strip()
    if after != before:
        raise SystemExit(f"installing [s3] changed boto3 from {before} to {after}")
    run([venv_python, "-m", "pip", "check"])
    said = run([venv_python, "-I", "-c", "from ipy_tempcreds.followers.s3fs_versions import s3fs_mismatch; "
                                        "import importlib.metadata as m; "
                                        "print('s3fs', m.version('s3fs'), '|', s3fs_mismatch() or 'matching set')"],
               cwd=workdir).stdout.strip()
    print(f"  [s3] beside the newest boto3 {before}: boto3 kept, pip check clean; {said} "
          f"[{time.monotonic() - started:.0f} s]", flush=True)


def inside() -> None:
    """Run in the fresh environment: the installed wheel, a real shell, moto on 127.0.0.1."""
    import ipy_tempcreds

    if "site-packages" not in ipy_tempcreds.__file__:
        raise SystemExit(f"imported {ipy_tempcreds.__file__}, not the installed wheel")
    from IPython.core.interactiveshell import InteractiveShell

    # The stand-in is a test helper, beside this file (never in the wheel); -I left it off sys.path.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from aws_standin import LocalAws, trust

    home = Path(tempfile.mkdtemp())
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    (home / "empty").write_text("")
    os.environ.update(AWS_CONFIG_FILE=str(home / "empty"), AWS_SHARED_CREDENTIALS_FILE=str(home / "empty"),
                      AWS_EC2_METADATA_DISABLED="true", JUPYTER_DATA_DIR=str(home / "jupyter"))
    aws = LocalAws().start()
    try:
        os.environ.update(aws.client_environ())
        user = aws.create_user("smoke")
        os.environ.update(user.environ())
        aws.client("iam").create_role(RoleName="Smoke", AssumeRolePolicyDocument=trust(user.arn))
        before = dict(os.environ)

        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "ipy_tempcreds")
        shell.run_line_magic("assume_role", "arn:aws:iam::123456789012:role/Smoke --session-name smoke -q")
        grant = ipy_tempcreds.current()
        assert grant is not None and grant.arn.endswith("assumed-role/Smoke/smoke"), grant
        assert os.environ["AWS_ACCESS_KEY_ID"] == grant.credentials.access_key_id

        panel = ipy_tempcreds.panel()
        bundle = panel._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert "application/vnd.jupyter.widget-view+json" in data, sorted(data)
        assert "assumed-role/Smoke/smoke" in repr(panel), repr(panel)
        secret = grant.credentials.secret_access_key
        assert secret not in repr(panel) and secret not in str(data), "a secret in the panel"
        panel.close()

        shell.run_line_magic("unload_ext", "ipy_tempcreds")
        assert dict(os.environ) == before, "the environment was not given back"
    finally:
        aws.stop()
    print(f"ipy_tempcreds {ipy_tempcreds.__version__}: loaded, assumed, panel drawn, unloaded")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--inside"]:
        inside()
        return 0
    constraints: list[str] = []
    if "--constraints" in argv:
        at = argv.index("--constraints")
        constraints = ["--constraint", str(Path(argv[at + 1]).resolve())]
        argv = argv[:at] + argv[at + 2:]
    wheels = [Path(a).resolve() for a in argv if not a.startswith("--")]
    if len(wheels) != 1 or not wheels[0].is_file():
        raise SystemExit("usage: wheel_smoke.py WHEEL [--constraints FILE] [--s3-beside-newest-boto3]")
    found, missing = pythons()
    print(f"wheel smoke test: {wheels[0].name}; Pythons found: {', '.join(sorted(found)) or 'none'}", flush=True)
    for version, why in missing.items():
        print(f"  Python {version}: skipped ({why})", flush=True)
    with tempfile.TemporaryDirectory(prefix="wheel-smoke-") as tmp:
        for version, python in sorted(found.items()):
            smoke(version, python, wheels[0], Path(tmp), constraints)
        if "--s3-beside-newest-boto3" in argv:
            s3_beside_newest_boto3(wheels[0], Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
