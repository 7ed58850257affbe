# Two commands for a newcomer: `make demo` and `make test`. Each sets up what it needs in .venv,
# exactly as uv.lock says: nothing is resolved at install time (docs/contributing.md, "The lock").
VENV ?= .venv
PYTHON ?= python3
# The interpreter the environments are made from, found before PATH below puts .venv/bin first.
BASE_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
PY := $(VENV)/bin/python
TOOLS := .tools
# uv, at the version and hashes in tools/uv-requirements.txt; installed by pip on first use.
UV := $(TOOLS)/uv/bin/uv
# The tests build the dists with the same uv (tests/test_package.py).
export UV_BIN := $(abspath $(UV))
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
# `!aws` in notebooks and the tests' subprocesses must find this environment's tools first.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: test test-fast test-latest lint lock dist smoke demo bench docs docs-serve screenshots setup-test setup-demo check-lock clean install

$(UV): tools/uv-requirements.txt
	rm -rf $(TOOLS)/uv
	PIP_ROOT_USER_ACTION=ignore $(BASE_PYTHON) -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--require-hashes --only-binary :all: --target $(TOOLS)/uv -r tools/uv-requirements.txt
	touch $@

# One line, not a resolver trace, when someone changed pyproject.toml and not the lock.
check-lock: | $(UV)
	@out=$$($(UV) lock --check 2>&1) || { case "$$out" in \
		*"needs to be updated"*) echo "uv.lock does not match pyproject.toml: run make lock";; \
		*) echo "$$out";; esac; exit 1; }

# Stamps: sync again when pyproject.toml or uv.lock changes. uv's log goes to a file, shown on failure.
# demo syncs --inexact so that it keeps the test tools; test (a superset) syncs exactly.
UV_SYNC = $(UV) sync --frozen --python $(BASE_PYTHON)
$(VENV)/.demo-synced: pyproject.toml uv.lock | check-lock
	@mkdir -p $(TOOLS)
	$(UV_SYNC) --inexact --group demo > $(TOOLS)/sync-demo.log 2>&1 || (cat $(TOOLS)/sync-demo.log; exit 1)
	touch $@

$(VENV)/.test-synced: pyproject.toml uv.lock | check-lock
	@mkdir -p $(TOOLS)
	$(UV_SYNC) --all-extras --group test > $(TOOLS)/sync-test.log 2>&1 || (cat $(TOOLS)/sync-test.log; exit 1)
	touch $@ $(VENV)/.demo-synced

setup-demo: $(VENV)/.demo-synced
setup-test: $(VENV)/.test-synced

# The browser tests need Debian's chromium: installed here when we are root with apt-get,
# otherwise they skip and say why (.ci/run sets REQUIRE_BROWSER=1 to make that a failure).
test: setup-test
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
		echo "Installing chromium for the browser tests (apt-get)..."; \
		(apt-get update && apt-get install -y --no-install-recommends chromium) > $(TOOLS)/apt-chromium.log 2>&1 \
			|| echo "Could not install chromium (see $(TOOLS)/apt-chromium.log); browser tests will be skipped."; \
	fi
	@# One pytest process: the native readers' tests (DuckDB, polars, pyarrow) run with the rest
	@# again since every environment write, the product's and the suite's, frees nothing their
	@# threads may read (issue 24; tests/delivery/test_native_threads.py).
	$(PY) -m pytest $(PYTEST_ARGS)

# The fast lane: pure and in-process tests, no kernels, browser, Dask or slow ones (markers in
# pyproject.toml, assigned in tests/conftest.py). About a minute on two cores; `make test` runs them all.
test-fast: setup-test
	$(PY) -m pytest --fast $(PYTEST_ARGS)

# The newest releases inside pyproject.toml's ranges, no lock: a separate environment runs the fast
# lane and says, a line each, which packages moved from uv.lock and which tests broke. Not part of
# CI's gate: it is how a release that breaks us is found on the day it ships.
test-latest: setup-test
	$(BASE_PYTHON) tools/test_latest.py --uv $(UV) --python $(BASE_PYTHON) $(PYTEST_ARGS)

# Re-resolve the whole lock to the newest releases inside pyproject.toml's ranges (and the
# [tool.uv] constraints). One package: `$(UV) lock --upgrade-package NAME`; then `make test`.
lock: | $(UV)
	$(UV) lock --upgrade --python $(BASE_PYTHON)

# The lock first (one line if it is stale), then ruff on the package and the tests, mypy on the package,
# and the layers of the package (import-linter contracts in pyproject.toml).
lint: setup-test
	$(PY) -m ruff check ipy_tempcreds tests
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache

# Both distributions, built in isolation as a packager would (the build backend's version is held by
# [tool.uv] build-constraint-dependencies), and checked as PyPI would.
dist: setup-test
	rm -rf dist
	$(UV) build --python $(BASE_PYTHON) --out-dir dist . > $(TOOLS)/build.log 2>&1 || (cat $(TOOLS)/build.log; exit 1)
	$(PY) -m twine check --strict dist/*

# The wheel in fresh virtual environments, one per Python found (3.10-3.13), installed with pip at
# the lock's versions: load, assume against the local stand-in, draw the panel.
smoke: dist
	$(UV) export --frozen --no-hashes --no-emit-project --extra standin --format requirements-txt \
		--output-file $(TOOLS)/smoke-constraints.txt > /dev/null
	$(PY) tests/wheel_smoke.py dist/*.whl --constraints $(TOOLS)/smoke-constraints.txt $(SMOKE_ARGS)

# DEMO_ARGS=--short: 3-minute credentials; HEADLESS=1: run the quickstart and print it; DEMO_REAL=1: your AWS.
demo: setup-demo
	$(PY) demo/run_demo.py $(DEMO_ARGS)

# Performance against the physical limits, side by side: a table of figures and targets against a
# local STS on 127.0.0.1. BENCH_ARGS="--quick" for a smoke run, "--only switch,load" etc.
bench: setup-test
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# The documentation site (mkdocs.yml, docs/): built strictly into site/ (git-ignored). A warning, a
# broken link or anchor, or a page missing from nav fails; the reference pages are written from the
# code (tools/docs_hooks.py). Its examples run in tests/docs/test_examples.py. NO_MKDOCS_2_WARNING
# quiets Material's banner (it says Material for MkDocs reaches end of life on May 5, 2027).
docs docs-serve: export NO_MKDOCS_2_WARNING := 1
docs: setup-test
	$(VENV)/bin/mkdocs build --strict --clean --quiet

docs-serve: setup-test
	$(VENV)/bin/mkdocs serve --strict --dev-addr 127.0.0.1:$(or $(DOCS_PORT),8000)

# The panel's pictures in docs/ come from the browser tests that take them (every test file that
# calls screenshot_paths), run with UPDATE_SCREENSHOTS=1 so that they write into docs/.
screenshots: setup-test
	UPDATE_SCREENSHOTS=1 REQUIRE_BROWSER=1 $(PY) -m pytest -p no:cacheprovider \
		$$(grep -rl --include='test_*.py' 'screenshot_paths(' tests) $(PYTEST_ARGS)

# Into YOUR environment: the one of the Python you use now (an activated venv or conda env, or
# PYTHON=/path/to/python), never this project's .venv: pip installs this checkout with its
# dependencies; EXTRAS=s3,sidebar adds extras (docs/install.md).
install:
	@case "$$(cd "$$(dirname "$(BASE_PYTHON)")/.." && pwd -P)" in "$$(cd "$(VENV)" 2>/dev/null && pwd -P)") \
		echo "$(BASE_PYTHON) is this project's private .venv: activate the environment of your Jupyter kernel, or pass PYTHON=/path/to/its/python"; exit 1;; esac
	@echo "Installing ipy_tempcreds$(if $(EXTRAS),[$(EXTRAS)]) from this checkout into the environment of $(BASE_PYTHON)"
	$(BASE_PYTHON) -m pip install --disable-pip-version-check "$(CURDIR)$(if $(EXTRAS),[$(EXTRAS)])" $(PIP_ARGS)
	@echo "Done. In a notebook whose kernel runs $(BASE_PYTHON): %load_ext ipy_tempcreds"

clean:
	rm -rf $(VENV) $(TOOLS) .venv-latest .pytest_cache dist build site *.egg-info
