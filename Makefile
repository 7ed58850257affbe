# Two commands for a newcomer: `make demo` and `make test`. Each sets up what it needs in .venv.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check
# `!aws` in notebooks and the tests' subprocesses must find this environment's tools first.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: test test-fast lint dist smoke demo bench setup-test setup-demo clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall when pyproject.toml changes. pip's log goes to a file; shown only on failure.
$(VENV)/.demo-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP_INSTALL) -e ".[demo]" > $(VENV)/pip-demo.log 2>&1 || (cat $(VENV)/pip-demo.log; exit 1)
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP_INSTALL) -e ".[test]" > $(VENV)/pip-test.log 2>&1 || (cat $(VENV)/pip-test.log; exit 1)
	$(PY) -m pip check > /dev/null 2>&1 || $(PY) -m pip check
	touch $@

setup-demo: $(VENV)/.demo-installed
setup-test: $(VENV)/.test-installed

# The browser tests need Debian's chromium: installed here when we are root with apt-get,
# otherwise they skip and say why (.ci/run sets REQUIRE_BROWSER=1 to make that a failure).
test: setup-test
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
		echo "Installing chromium for the browser tests (apt-get)..."; \
		(apt-get update && apt-get install -y --no-install-recommends chromium) > $(VENV)/apt-chromium.log 2>&1 \
			|| echo "Could not install chromium (see $(VENV)/apt-chromium.log); browser tests will be skipped."; \
	fi
	$(PY) -m pytest --native=exclude $(PYTEST_ARGS)
	@# The native readers' tests in a process of their own (tests/conftest.py says why); 5: none selected.
	$(PY) -m pytest --native=only $(PYTEST_ARGS) || [ $$? = 5 ]

# The fast lane: pure and in-process tests, no kernels, browser, Dask or slow ones (markers in
# pyproject.toml, assigned in tests/conftest.py). About 50 s on two cores; `make test` runs them all.
test-fast: setup-test
	$(PY) -m pytest --fast --native=exclude $(PYTEST_ARGS)
	$(PY) -m pytest --fast --native=only $(PYTEST_ARGS) || [ $$? = 5 ]

# ruff on the package and the tests, mypy on the package; both configured in pyproject.toml.
lint: setup-test
	$(PY) -m ruff check ipy_tempcreds tests
	$(PY) -m mypy

# Both distributions, built as a packager would (isolated build) and checked as PyPI would.
dist: setup-test
	rm -rf dist
	$(PY) -m build --outdir dist . > $(VENV)/build.log 2>&1 || (cat $(VENV)/build.log; exit 1)
	$(PY) -m twine check --strict dist/*

# The wheel in fresh virtual environments, one per Python found (3.10-3.13): load, assume against
# the local stand-in, draw the panel. SMOKE_ARGS=--s3-beside-newest-boto3 adds the [s3] check.
smoke: dist
	$(PY) tests/wheel_smoke.py dist/*.whl $(SMOKE_ARGS)

demo: setup-demo
	$(PY) demo/run_demo.py

# Performance against the physical limits, side by side (issue 6): a table of figures and targets
# against a local STS on 127.0.0.1. BENCH_ARGS="--quick" for a smoke run, "--only switch,load" etc.
bench: $(VENV)/.test-installed
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache dist build *.egg-info
