"""Shared fixtures: a real local STS/IAM/S3 (moto's server on 127.0.0.1), an isolated environment
per test, a real IPython shell with the extension loaded, and a fake clock.

Nothing reads the home directory: AWS config and credentials files point at empty temp files, and
every AWS client is pointed at the loopback server through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The test files sit in folders that mirror the package's subpackages (tests/core/ for core/ ...);
# the helpers sit here. A few test files share fixtures with another (test_console_frontends uses
# test_console's): every folder is on sys.path, so a test module is found by its name, which is
# unique across the folders (pytest requires that of files without __init__.py anyway).
sys.path[1:1] = sorted(str(folder) for folder in Path(__file__).resolve().parent.rglob("*")
                       if folder.is_dir() and "__pycache__" not in folder.parts)

from aws_standin import LocalAws, allow  # noqa: E402 (after the sys.path lines above)
from ipy_tempcreds import _kernel as kernel_state  # noqa: E402
from ipy_tempcreds import api  # noqa: E402
from support import FakeClock, RestampingGateway, SecretWatch  # noqa: E402


@pytest.fixture(scope="session")
def local_aws():
    server = LocalAws().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True, scope="session")
def environment_writes_safe_for_native_threads():
    """The suite's own ``os.environ`` writes go through the product's C environment writer.

    Native readers' threads (DuckDB's, polars', the AWS C++ SDK's) outlive their tests and call
    getenv(); tests set variables thousands of times, and a setenv() that adds one can free the
    array under them (the suite once died by SIGSEGV in such a thread). os.environ's __setitem__
    calls ``os.putenv``, looked up in os at each call, so routing it here covers every test.
    tests/delivery/test_native_threads.py runs the product in fresh processes, without this help.
    """
    from ipy_tempcreds.base import compat

    original = os.putenv

    def putenv(name, value):
        if not compat.publish_c_environment({name: value}):
            original(name, value)

    os.putenv = putenv
    yield
    os.putenv = original


def set_environment(changes: dict[str, str | None]) -> None:
    """Set (value) or remove (None) variables of os.environ and the C environment in one step,
    through the product's writer (no array a native thread may read is freed)."""
    from ipy_tempcreds.delivery.writes import apply_atomically

    if changes:
        apply_atomically(os.environ, changes)


def restore_environment(saved: dict[str, str]) -> None:
    """Back to ``saved`` by difference: what a test added is removed, what it changed or removed is
    put back, the rest is not touched (clearing and re-adding everything after every test added
    every variable again, beside native threads)."""
    current = dict(os.environ)
    changes: dict[str, str | None] = {name: None for name in current if name not in saved}
    changes.update({name: value for name, value in saved.items() if current.get(name) != value})
    set_environment(changes)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory):
    """Give every test the same starting environment and put the real one back afterwards."""
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    # Whatever AWS settings the developer's shell carries would change what the tests see.
    changes: dict[str, str | None] = {name: None for name in os.environ if name.startswith("AWS_") or name == "BOTO_CONFIG"}
    changes.update(
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        # No instance-metadata lookups from the tests, ever (they would leave loopback).
        AWS_EC2_METADATA_DISABLED="true",
        # Recently used roles are remembered under the Jupyter data dir: keep them out of $HOME.
        JUPYTER_DATA_DIR=str(home / "jupyter-data"),
    )
    set_environment(changes)
    yield home
    kernel_state.reset()  # everything the kernel kept, in one call
    restore_environment(saved)
    if "boto3" in sys.modules:
        sys.modules["boto3"].DEFAULT_SESSION = None


@pytest.fixture
def aws(local_aws, isolated_environment):
    """The local AWS, reset, with the environment pointed at it and base user credentials set."""
    local_aws.reset()
    base = local_aws.create_user("alice")
    set_environment({**local_aws.client_environ(), **base.environ()})
    local_aws.base_user = base
    yield local_aws
    local_aws.set_auth(False)


def bucket_only(name: str) -> str:
    return allow(["s3:*"], [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"])


@pytest.fixture
def buckets(aws):
    """IAM auth on; role A may use only bucket-a and role B only bucket-b (one CSV in each)."""
    alice = aws.base_user
    aws.create_role("A", [alice.arn], bucket_only("bucket-a"))
    aws.create_role("B", [alice.arn], bucket_only("bucket-b"))
    aws.create_bucket("bucket-a", {"data.csv": b"owner,n\na,1\n"})
    aws.create_bucket("bucket-b", {"data.csv": b"owner,n\nb,2\n"})
    aws.set_auth(True)
    return aws


@pytest.fixture
def shell(aws):
    """A real IPython shell with ipy_tempcreds loaded (and unloaded afterwards)."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.extension_manager.load_extension("ipy_tempcreds")
    yield ip
    ip.extension_manager.unload_extension("ipy_tempcreds")
    ip.config.pop("TempCreds", None)  # %config also writes into the shell's own config


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def secrets(shell):
    """Every secret this test produced; a magic's output or message containing one fails the test."""
    watch = SecretWatch(api.get_manager())
    yield watch
    watch.close()


@pytest.fixture
def run(shell, secrets, capsys):
    """run("%assume_role ...") -> what it printed, or the message of the UsageError it raised.

    Both are checked for every secret seen so far (the base user's and every grant's).
    """
    from IPython.core.error import UsageError

    def run_line(line: str, *, expect_error: bool = False) -> str:
        name, _, rest = line.lstrip("%").partition(" ")
        capsys.readouterr()
        try:
            shell.run_line_magic(name, rest)
            error = None
        except UsageError as exc:
            error = str(exc)
        out = capsys.readouterr()
        text = error if error is not None else out.out
        secrets.assert_absent(text + out.err, where=line)
        if expect_error != (error is not None):
            raise AssertionError(f"{line!r}: expected {'an error' if expect_error else 'success'}, got {text!r}")
        return text

    return run_line


@pytest.fixture
def timed(aws, clock):
    """The kernel's manager on a fake clock, without the renewal thread (renewals happen when a
    test calls renew_if_due() or runs a cell), its STS calls recorded. Returns (manager, gateway)."""
    from ipy_tempcreds.core.manager import CredentialManager

    manager = CredentialManager(clock=clock, background=False)
    gateway = manager.sts = RestampingGateway(manager.sts, clock)
    kernel_state.install(manager)
    return manager, gateway


# -- Test lanes ----------------------------------------------------------------------------------
# `make test-fast` is `pytest --fast`: it deselects the markers below (declared in pyproject.toml)
# and does not even import the files that are wholly in one of those lanes (nbclient, Dask and
# Playwright took 7 of its seconds to import). `make test` runs all. A file in LANE_OF_FILE gets its
# lane's marker on every test; a name in SLOW_TESTS is a test function (every parameter set) or one
# test id, over about a second (`pytest --durations=40`). tests/test_package.py checks that every
# name listed here still exists, so a renamed test cannot slip into the fast lane unseen.
FAST_LANE = "not (kernel or browser or dask or slow)"
LANE_OF_FILE = {"test_dask.py": "dask", "test_s3fs.py": "slow", "test_browser.py": "browser", "test_first_hour.py": "browser",
                "test_notebook.py": "kernel", "test_notebooks_run.py": "kernel", "test_examples.py": "kernel",
                "test_demo.py": "kernel", "test_secret_scan.py": "kernel", "test_logs_debug_kernel.py": "kernel",
                "test_endpoint_children.py": "slow", "test_endpoint_pins.py": "slow", "test_install.py": "slow",
                # An attack suite: each case seeds an SSO world and signs in (~0.4 s; 15 s in all).
                "test_sso_faults.py": "slow"}
SLOW_TESTS = {
    "test_api.py": ["test_session_follows_renewals_without_an_sts_call_per_api_call"],
    "test_endpoint_switch.py": ["test_every_reader_sees_one_delivery_or_the_other_during_moves"],
    "test_endpoint_server.py": ["test_it_answers_while_the_kernel_is_stopped_and_leaves_with_it_after_sigkill"],
    "test_logs_debug.py": ["test_sts_answers_and_signed_requests_at_debug_show_no_secret"],
    "test_readers_duckdb.py": ["test_a_followed_connection_follows_assume_switch_renewal_and_clear",
                               "test_the_default_connection_follows_once_duckdb_is_imported",
                               "test_a_connection_made_under_a_role_goes_back_to_the_own_user_at_clear",
                               "test_a_renewal_on_another_thread_reaches_the_connection",
                               "test_httpfs_loaded_after_a_change_reads_the_local_s3_from_the_next_cell",
                               "test_catching_up_costs_nothing_without_pending_connections"],
    "test_sso.py": ["test_logout_with_the_portal_unreachable_still_deletes_the_token_and_says_so",
                    "test_the_watch_never_holds_a_cell_for_a_hanging_renewal"],
    "test_sso_attempt.py": ["test_approved_in_the_browser_ends_signed_in", "test_a_denied_code_ends_failed_with_the_fix"],
    "test_sso_panel.py": ["test_after_sign_in_the_picker_offers_every_account_and_role",
                          "test_sign_in_from_the_panel_then_assume_an_sso_profile",
                          "test_a_denied_sign_in_says_so_in_the_panel",
                          "test_the_role_field_shows_the_active_sso_role"],
    "test_login_magic.py": ["test_a_slow_sign_in_service_is_given_up_in_one_line"],
    "test_faults_answers.py": ["test_a_cut_answer_in_the_real_renewal_thread_logs_no_secret"],
    "test_faults_sources.py": ["test_a_credential_process_source_never_sees_the_injected_role"],
    "test_renewal_responsive.py": ["test_clear_with_the_renewal_thread_stuck_on_sts_returns_at_once",
                                   "test_the_pre_cell_check_does_not_wait_for_a_renewal_in_flight",
                                   "test_a_switch_during_a_slow_renewal_is_not_delayed_and_wins"],
    "test_faults.py": [
        "test_a_slow_endpoint_is_given_up_after_three_attempts_of_one_second",
        "test_renewal_failure_keeps_the_credentials_warns_once_backs_off_and_recovers",
        "test_one_transient_503_or_throttle_is_retried_and_the_user_sees_only_success",
        "test_a_slow_renewal_blocks_neither_status_nor_clear_and_its_late_answer_installs_nothing",
        "test_a_failing_sts_gives_a_specific_message_quickly_and_changes_nothing[unreachable-no-role]",
        "test_a_failing_sts_gives_a_specific_message_quickly_and_changes_nothing[connection-reset-no-role]",
        "test_a_failing_sts_gives_a_specific_message_quickly_and_changes_nothing[throttling-no-role]",
    ],
    "test_faults_kernel.py": ["test_a_fork_during_a_renewal_leaves_a_child_that_can_assume_and_renew"],
    "test_faults_renewal.py": ["test_an_already_expired_answer_is_refused_and_renewal_backs_off",
                               "test_cells_status_and_clear_do_not_wait_for_a_renewal_stuck_on_sts"],
    "test_lifetime.py": ["test_a_day_of_15_minute_credentials_with_a_client_in_use",
                         "test_the_thread_renews_on_its_own_and_never_after_clear"],
    "test_lifecycle.py": ["test_kernel_shutdown_and_restart_leave_nothing_behind"],
    "test_profiles_completion.py": ["test_tab_leaves_options_and_other_code_alone"],
    "test_races.py": ["test_100_cycles_against_moto", "test_1000_cycles_of_renewal_against_clear_and_switch"],
    "test_cell_roles.py": ["test_endpoint_delivery_serves_the_role_inside_and_the_kernel_after",
                           "test_a_block_runs_as_the_role_and_the_same_grant_is_back_after",
                           "test_unloaded_inside_the_block_leaves_the_environment_restored",
                           "test_many_cells_against_a_renewing_thread_end_on_the_kernel_grant"],
    "test_read_checks.py": ["test_a_role_that_needs_mfa_is_listed_not_asked_unless_mfa",
                            "test_a_bucket_in_another_region_is_checked_in_its_region"],
    "test_access_note.py": ["test_errors_that_are_not_refusals_get_no_note"],
    "test_idle_cpu.py": ["test_an_idle_kernel_uses_under_2_percent_of_a_core_in_every_renewal_state"],
    "test_native_readers_stress.py": ["test_pyarrow_duckdb_and_polars_keep_reading_through_every_change"],
    "test_native_threads.py": ["test_assume_and_clear_never_crash_native_getenv_threads",
                               "test_the_old_write_path_crashes_them"],
    "test_structure.py": ["test_a_switch_to_credentials_due_sooner_wakes_the_thread",
                          "test_many_renewals_on_the_fake_clock_start_no_thread",
                          "test_following_readers_imports_none_of_their_libraries"],
}


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true", help=f"the fast lane (make test-fast): -m '{FAST_LANE}'")


def pytest_configure(config):
    if config.getoption("--fast"):
        chosen = config.option.markexpr
        config.option.markexpr = f"({FAST_LANE}) and ({chosen})" if chosen else FAST_LANE


def pytest_ignore_collect(collection_path, config):
    if config.getoption("--fast") and LANE_OF_FILE.get(collection_path.name) in {"kernel", "browser", "dask", "slow"}:
        return True
    return None


def pytest_collection_modifyitems(items):
    for item in items:
        lane = LANE_OF_FILE.get(item.path.name)
        if lane:
            item.add_marker(lane)
        slow = SLOW_TESTS.get(item.path.name, ())
        if item.name in slow or getattr(item, "originalname", None) in slow:
            item.add_marker("slow")


@pytest.fixture(autouse=True, scope="session")
def botocore_models_parsed_once():
    """Parse each of botocore's JSON data files once per test run instead of once per session.

    Every test starts from a fresh boto3 default session and a fresh manager, and each new botocore
    session parsed endpoints.json and the service models again: about a third of the fast lane's
    time (cProfile: json decoding). botocore treats this data as read-only and shares it within a
    session already; sharing it across sessions changes what is parsed, not what is sent.
    """
    from botocore.loaders import JSONFileLoader

    original = JSONFileLoader.load_file
    parsed: dict = {}

    def load_file(self, file_path):
        if file_path not in parsed:
            parsed[file_path] = original(self, file_path)
        return parsed[file_path]

    JSONFileLoader.load_file = load_file
    yield
    JSONFileLoader.load_file = original


@pytest.fixture(autouse=True, scope="session")
def botocore_handlers_checked_once():
    """Check each event handler's signature and alias each event name once per test run.

    Every new botocore session registers ~120 built-in handlers; for each, botocore calls
    inspect.getfullargspec (does it take **kwargs?) and rewrites the event name through its aliases,
    with a cache per session. The tests make ~5 sessions a test: over a third of the fast lane's
    time in the test bodies (cProfile). Both answers depend only on the handler's code and the
    event name, so they are kept across sessions; registration and emission are unchanged.
    """
    import inspect

    from botocore import hooks

    original_accepts = hooks.accepts_kwargs
    original_init = hooks.EventAliaser.__init__
    by_code: dict = {}
    aliased: dict = {}

    def accepts_kwargs(func):
        plain = getattr(func, "__func__", func)  # a bound method takes **kwargs if its function does
        code = getattr(plain, "__code__", None)
        if code is None or not inspect.isfunction(plain) or hasattr(plain, "__wrapped__") or hasattr(plain, "__signature__"):
            return original_accepts(func)
        if code not in by_code:
            by_code[code] = original_accepts(func)
        return by_code[code]

    def init(self, event_emitter, event_aliases=None):
        original_init(self, event_emitter, event_aliases)
        if self._event_aliases is hooks.EVENT_ALIASES:  # the default aliases: one shared cache
            self._alias_name_cache = aliased

    hooks.accepts_kwargs = accepts_kwargs
    hooks.EventAliaser.__init__ = init
    yield
    hooks.accepts_kwargs = original_accepts
    hooks.EventAliaser.__init__ = original_init
