"""The package as others take it: license, metadata, version, extras, the test lanes, both dists.

The fast tests read the checkout. The `slow` ones build the sdist and the wheel as a packager
would (`uv build`, isolated) and look inside them; the wheel's behaviour in fresh
environments on every Python is `make smoke` (tests/wheel_smoke.py).
"""

from __future__ import annotations

import ast
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import conftest
import wheel_smoke
from ipy_tempcreds.followers import s3fs_versions

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
FAST_LANE = conftest.FAST_LANE


def readme_links(readme: str) -> list[str]:
    """Relative link and image targets in README.md (what must resolve from a checkout or sdist)."""
    return sorted({t for t in re.findall(r"\]\(([^)\s]+)\)", readme) if not re.match(r"[a-z]+:|#", t)})


def helpers_the_tests_import() -> set[str]:
    """The local modules the test files import (support, faultproxy, ...), as file names."""
    local = {p.stem for p in (ROOT / "tests").glob("*.py")}  # the helpers sit at the top of tests/
    names = set()
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return {f"{name}.py" for name in names & local}


# -- the checkout ---------------------------------------------------------------------------------

def test_every_test_the_lane_table_names_exists():
    """A renamed slow test would silently join the fast lane: every name must match a test."""
    found = {path.name: path for path in (ROOT / "tests").rglob("test_*.py")}
    for file, lane in conftest.LANE_OF_FILE.items():
        assert file in found, f"{file} (lane {lane}) does not exist"
    for file, names in conftest.SLOW_TESTS.items():
        tree = ast.parse(found[file].read_text())
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
        for name in names:
            assert name.partition("[")[0] in defined, f"{file}: no test named {name}"


def test_the_lanes_are_declared_markers():
    declared = {m.partition(":")[0] for m in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]}
    assert {"kernel", "browser", "dask", "slow"} <= declared
    assert set(conftest.LANE_OF_FILE.values()) <= declared
    assert set(re.findall(r"\w+", FAST_LANE)) - {"not", "or"} == {"kernel", "browser", "dask", "slow"}
    assert "pytest --fast" in (ROOT / "Makefile").read_text()


def test_the_version_is_written_in_one_place():
    import ipy_tempcreds

    assert PROJECT["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ipy_tempcreds.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", ipy_tempcreds.__version__)
    sources = [p for pattern in ("*.toml", "*.cfg", "ipy_tempcreds/**/*.py", "tests/**/*.py") for p in ROOT.glob(pattern)]
    written = [p.name for p in sources if f'"{ipy_tempcreds.__version__}"' in p.read_text()]
    assert written == ["__init__.py"]


def test_the_license_is_bsd_3_clause_in_spdx_form():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "ipy_tempcreds contributors" in text
    assert "Neither the name of the copyright holder" in text
    assert PROJECT["license"] == "BSD-3-Clause" and PROJECT["license-files"] == ["LICENSE"]
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]


def test_the_classifiers_name_the_pythons_the_smoke_test_runs_on():
    named = {c.rpartition(" :: ")[2] for c in PROJECT["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    assert named == set(wheel_smoke.WANTED)
    assert PROJECT["requires-python"] == f">={min(wheel_smoke.WANTED, key=lambda v: tuple(map(int, v.split('.'))))}"
    assert "Development Status :: 4 - Beta" in PROJECT["classifiers"] and "Typing :: Typed" in PROJECT["classifiers"]
    assert (ROOT / "ipy_tempcreds" / "py.typed").is_file()


def requirement_names(requirements) -> set[str]:
    return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower() for r in requirements if isinstance(r, str)}


def test_the_extras_are_ranges_and_the_tested_set_lives_in_the_lock():
    extras = PROJECT["optional-dependencies"]
    assert requirement_names(extras["s3"]) == {"s3fs"} and not re.search(r"[<>=]", extras["s3"][0])
    # Users install beside their own boto3: no extra or dependency holds an exact version.
    published = [*PROJECT["dependencies"], *(r for group in extras.values() for r in group)]
    assert [r for r in published if "==" in r] == []
    # What only steers the resolver is the lock's business, not a user's.
    assert set(extras) == {"sidebar", "standin", "s3", "dask", "login"}
    # `aws login` sessions: botocore's LoginProvider needs awscrt, which botocore pins in its `crt` extra.
    assert extras["login"] == ["botocore[crt]"]
    groups = PYPROJECT["dependency-groups"]
    assert {"include-group": "demo"} in groups["test"] and {"include-group": "lint"} in groups["test"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    assert {"boto3", "botocore", "s3fs", "aiobotocore", "moto", "dask", "distributed", "duckdb",
            "duckdb-extension-httpfs", "duckdb-extension-aws", "ruff", "mypy", "awscrt"} <= set(locked)
    assert locked["duckdb"] == locked["duckdb-extension-httpfs"] == locked["duckdb-extension-aws"]
    assert lock["requires-python"] == PROJECT["requires-python"]


def test_every_make_target_installs_the_lock_and_resolves_nothing():
    makefile = (ROOT / "Makefile").read_text()
    syncs = re.findall(r"\$\(UV_SYNC\)[^\n]*", makefile)
    assert len(syncs) == 2 and "UV_SYNC = $(UV) sync --frozen" in makefile
    # pip only in `make install`, which installs into the user's environment, never .venv.
    install = re.search(r"^install:\n(?:\t.*\n)+", makefile, flags=re.M)
    others = makefile.replace(install.group(0), "") if install else makefile
    assert install is not None and "pip install -e" not in others and "pip install ." not in others
    assert re.search(r'^\t\$\(BASE_PYTHON\) -m pip install [^\n]*"\$\(CURDIR\)', install.group(0), flags=re.M)
    for target in ("test", "test-fast", "lint", "bench"):
        assert re.search(rf"^{target}: setup-test$", makefile, flags=re.M), target
    assert re.search(r"^demo: setup-demo$", makefile, flags=re.M)
    # The stamps depend on the lock, and the lock is checked against pyproject.toml first.
    assert re.search(r"^\$\(VENV\)/\.test-synced: pyproject\.toml uv\.lock \| check-lock$", makefile, flags=re.M)


def test_the_changelog_has_an_unreleased_section_and_the_first_release():
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[0] == "Unreleased" and any(h.startswith("0.1.0") for h in headings)


def test_readme_links_into_the_repository_resolve():
    links = readme_links((ROOT / "README.md").read_text())
    assert links, "the README links notebooks and screenshots"
    assert [link for link in links if not (ROOT / link).exists()] == []


# -- s3fs beside a boto3 it does not match ----------------------------------------------------------
# The real mismatch is produced in a fresh environment by `make smoke SMOKE_ARGS=--s3-beside-newest-boto3`
# (CI runs it); here the package metadata is given as functions, because this environment holds the
# matching set and cannot hold the others at the same time.

def metadata_of(versions: dict[str, str], requirements: dict[str, list[str]]):
    def version(name):
        if name not in versions:
            raise metadata.PackageNotFoundError(name)
        return versions[name]

    return version, lambda name: requirements.get(name)


def test_the_matching_set_installed_here_passes_the_check():
    assert s3fs_versions.s3fs_mismatch() is None


def test_an_s3fs_from_before_aiobotocore_is_named_with_what_to_do():
    version, requires = metadata_of({"s3fs": "0.4.2", "botocore": "1.44.8", "boto3": "1.44.8"}, {})
    said = s3fs_versions.s3fs_mismatch(version, requires)
    assert "s3fs 0.4.2 is too old" in said and "botocore 1.44.8" in said
    assert 'pip install "s3fs>=2024.3"' in said and "older boto3" in said


@pytest.mark.parametrize("held, spec", [
    ("aiobotocore", "botocore<1.43.118,>=1.43.115"),
    ("boto3", "botocore (<1.45.0,>=1.44.8)"),
])
def test_a_botocore_outside_aiobotocore_or_boto3_range_is_named(held, spec):
    installed = {"s3fs": "2026.9.0", "aiobotocore": "3.10.0", "boto3": "1.44.8",
                 "botocore": "1.43.117" if held == "boto3" else "1.44.8"}
    requirements = {held: ["jmespath<2.0.0,>=0.7.1", spec, "awscrt==0.27.6; extra == 'crt'"]}
    said = s3fs_versions.s3fs_mismatch(*metadata_of(installed, requirements))
    assert f"{held} {installed[held]} needs botocore" in said and f"botocore {installed['botocore']} is installed" in said
    assert "pip install" in said


@pytest.mark.parametrize("requirements", [
    {"aiobotocore": ["botocore<1.43.118,>=1.43.115"], "boto3": ["botocore<1.44.0,>=1.43.117"]},
    {"aiobotocore": ["botocore==1.43.*"]},
    {"aiobotocore": ["botocore>=banana"]},  # unreadable: stay silent rather than raise a false alarm
    {"aiobotocore": None},
])
def test_a_matching_or_unreadable_set_says_nothing(requirements):
    installed = {"s3fs": "2026.9.0", "aiobotocore": "3.10.0", "boto3": "1.43.117", "botocore": "1.43.117"}
    assert s3fs_versions.s3fs_mismatch(*metadata_of(installed, requirements)) is None


def test_no_s3fs_means_nothing_to_check():
    assert s3fs_versions.s3fs_mismatch(*metadata_of({"botocore": "1.44.8"}, {})) is None


def test_the_problem_is_logged_once_per_process(monkeypatch, caplog):
    monkeypatch.setattr(s3fs_versions, "_checked", False)
    monkeypatch.setattr(s3fs_versions, "s3fs_mismatch", lambda: "s3fs 0.4.2 is too old")
    with caplog.at_level(logging.WARNING, logger="ipy_tempcreds"):
        assert s3fs_versions.warn_if_s3fs_cannot_follow() == "s3fs 0.4.2 is too old"
        assert s3fs_versions.warn_if_s3fs_cannot_follow() is None
    assert [r.getMessage() for r in caplog.records] == ["ipy_tempcreds: s3fs 0.4.2 is too old"]


# -- both distributions, built ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    # uv builds as `make dist` does: isolated, with the build backend's version held by pyproject.toml
    # ([tool.uv] build-constraint-dependencies), so a new setuptools cannot fail a test run.
    uv = os.environ.get("UV_BIN") or shutil.which("uv")
    if not uv:
        pytest.skip("uv is not on PATH (make exports UV_BIN)")
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([uv, "build", "--python", sys.executable, "--out-dir", str(out), str(ROOT)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    return wheel, sdist


@pytest.mark.slow
def test_the_wheel_carries_the_license_the_types_and_the_panel_assets(dists):
    wheel, _ = dists
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for asset in ("py.typed", "ui/widgets/panel.js", "ui/widgets/panel.css", "ui/widgets/panel_text.js",
                  "ui/widgets/console_link.js", "ui/widgets/console_tab.js", "followers/s3fs_versions.py"):
        assert f"ipy_tempcreds/{asset}" in names
    # Test helpers live with the tests: the local AWS stand-in is not part of the product.
    assert not [n for n in names if "standin" in n]
    assert not [n for n in names if n.startswith("tests/")]
    assert "License-Expression: BSD-3-Clause" in meta and "License-File: LICENSE" in meta
    assert "Requires-Python: >=3.10" in meta and "Classifier: Programming Language :: Python :: 3.13" in meta
    assert re.search(r"^Requires-Dist: s3fs; extra == \"s3\"$", meta, flags=re.M)


@pytest.mark.slow
def test_the_sdist_carries_what_its_tests_and_readme_need(dists):
    _, sdist = dists
    with tarfile.open(sdist) as archive:
        names = {n.partition("/")[2] for n in archive.getnames()}
    needed = {"LICENSE", "README.md", "CHANGELOG.md", "Makefile", "pyproject.toml", "tests/conftest.py",
              *(f"tests/{name}" for name in helpers_the_tests_import()), "demo/world.py"}
    assert needed - names == set()
    assert [link for link in readme_links((ROOT / "README.md").read_text()) if link not in names] == []
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


@pytest.mark.slow
def test_twine_accepts_both_dists_strictly(dists):
    pytest.importorskip("twine")
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dists)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.count("PASSED") == 2, done.stdout + done.stderr


@pytest.mark.slow
def test_the_tests_run_from_the_unpacked_sdist(dists, tmp_path):
    """Every test module collects from the sdist alone, and a part of the fast lane passes there."""
    _, sdist = dists
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (unpacked,) = tmp_path.iterdir()
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    pytest_ = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", FAST_LANE]
    collected = subprocess.run([*pytest_, "--collect-only"], cwd=unpacked, env=env, capture_output=True, text=True)
    assert collected.returncode == 0, collected.stdout[-3000:]
    done = subprocess.run([*pytest_, "tests/test_api.py", "tests/test_package.py"], cwd=unpacked, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0 and " passed" in done.stdout, done.stdout[-3000:]
    imported = subprocess.run([sys.executable, "-c", "import ipy_tempcreds; print(ipy_tempcreds.__file__)"],
                              cwd=unpacked, env=env, capture_output=True, text=True).stdout
    assert imported.startswith(str(unpacked))


def test_s3fs_support_says_it_the_first_time_it_follows_a_change(monkeypatch, caplog):
    """Where the check runs: the first time s3fs support follows a change, with s3fs imported."""
    pytest.importorskip("s3fs")
    from ipy_tempcreds.followers import s3fs as s3fs_support

    monkeypatch.setattr(s3fs_versions, "_checked", False)
    monkeypatch.setattr(s3fs_versions, "s3fs_mismatch", lambda: "s3fs 0.4.2 is too old")
    with caplog.at_level(logging.WARNING, logger="ipy_tempcreds"):
        filesystems = s3fs_support.S3fsFilesystems()
        filesystems.follow_environment()
        filesystems.follow_environment()
    assert [r.getMessage() for r in caplog.records] == ["ipy_tempcreds: s3fs 0.4.2 is too old"]
