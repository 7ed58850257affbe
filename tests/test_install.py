"""`make install`: this checkout into the environment of the Python in use (a user's own Jupyter
environment), never the project's .venv. A throwaway venv stands for the user's; pip fetches the
dependencies from the package index, as it would for them (docs/install.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv

import pytest

from support import ROOT

pytestmark = pytest.mark.slow


def make_install(python, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "install", f"PYTHON={python}", *args],
                          env=env, capture_output=True, text=True, timeout=600)


def test_make_install_puts_the_checkout_into_the_active_environment_and_ipython_loads_it(tmp_path):
    target = tmp_path / "users-env"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    done = make_install(python, "PIP_ARGS=--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Installing ipy_tempcreds from this checkout into the environment of {python}" in done.stdout
    assert f"Done. In a notebook whose kernel runs {python}: %load_ext ipy_tempcreds" in done.stdout
    # Imported from the user's environment (not the checkout: run elsewhere), and IPython loads it.
    where = subprocess.run([str(python), "-c", "import ipy_tempcreds; print(ipy_tempcreds.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(target / "lib"))
    shown = subprocess.run([str(python), "-m", "IPython", "--no-banner", "--simple-prompt", "--no-term-title", "-c",
                            "%load_ext ipy_tempcreds\n%lsmagic"], cwd=tmp_path, capture_output=True, text=True,
                           env={**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")})
    assert "%assume_role" in shown.stdout and "%role_panel" in shown.stdout, shown.stdout + shown.stderr


def test_make_install_never_installs_into_the_projects_private_venv():
    done = make_install(sys.executable)  # the tests run in .venv
    assert done.returncode != 0
    assert "is this project's private .venv: activate the environment of your Jupyter kernel" in done.stdout
    assert "pip install" not in done.stdout
