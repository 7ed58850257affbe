"""Structural properties behind the performance targets (issue 6), checked deterministically.

The speed figures themselves live in benchmarks/ (`make bench`); nothing here asserts a duration.
What is checked: what loading imports and creates, that repeated assumes reuse one STS client,
that threads come and go only with active credentials, that the recent-roles file is not
rewritten when nothing in it changes, and that an idle panel sends no kernel message.
Imports at load: tests/ui/test_magics.py (test_loading_imports_neither_boto3_nor_ipywidgets); no STS
call per API call in a session(): tests/test_api.py.
"""

from __future__ import annotations

import os
import queue
import re
import threading
import time

import botocore.session
import pytest

from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api
from ipy_tempcreds.core.manager import CredentialManager
from support import FakeClock, RestampingGateway, lines_after_load, role_arn

READER = role_arn("Reader")
OTHER = role_arn("Other")


def renewal_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ipy_tempcreds")]


def thread_count() -> int:
    """Threads of this process, without the per-request threads of the local AWS server (moto's
    threaded server runs in the test process and serves each request on a short-lived thread)."""
    return sum(not t.name.endswith("(process_request_thread)") for t in threading.enumerate())


# -- loading ----------------------------------------------------------------------------------------

def test_help_is_complete_although_parsers_are_built_on_first_use(shell):
    from IPython.core import oinspect

    magic = shell.find_line_magic("assume_role")
    help_text = oinspect.getdoc(magic)  # what %assume_role? shows
    assert "%assume_role [--session-name NAME]" in help_text
    assert "--mfa-serial ARN" in help_text and "Assume an IAM role" in help_text


def test_loading_creates_no_manager_until_a_magic_needs_one(shell):
    kernel_state.reset()  # the shell fixture's load may follow an earlier manager
    shell.extension_manager.unload_extension("ipy_tempcreds")
    shell.extension_manager.load_extension("ipy_tempcreds")
    assert kernel_state.STATE.manager is None
    shell.run_cell("1 + 1")  # the pre-cell check with nothing ever assumed
    assert kernel_state.STATE.manager is None
    shell.run_line_magic("config", "TempCreds.default_duration = 7200")
    shell.run_line_magic("assume_role", f"{READER} -q")
    assert kernel_state.STATE.manager is not None and api.get_manager().settings.default_duration == 7200


@pytest.mark.parametrize("line", [
    f"{READER} --duration 1h --session-name eda",
    "  reader   -q ",
    "",
    "reader --tag team=data --tag cost=42 --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess",
    "reader\t--duration 2h",  # a tab: not printable, so shlex splits it
    "reader --session-name 'with space'",
    'reader --policy \'{"Version": "2012-10-17"}\'',
    "reader --external-id a\\b",
])
def test_lines_split_as_shlex_splits_them(line):
    """split_line skips shlex when it has nothing to do; the words must be the same either way."""
    import shlex

    from ipy_tempcreds.ui.arguments import split_line

    assert split_line(line) == shlex.split(line)


@pytest.mark.parametrize("magic_name", ["assume_role", "federation_token", "session_token", "role_panel",
                                        "aws_console", "sso_login"])
@pytest.mark.parametrize("line", ["", "   ", "reader", f"  {READER} ", "-q", "--status", "a b", "probe"])
def test_a_bare_line_parses_as_argparse_parses_it(magic_name, line):
    """parse_line answers a line of at most one bare word without argparse; the result, or the
    refusal (as ui/mistyped.py words argparse's), must be argparse's."""
    from IPython.core.error import UsageError

    from ipy_tempcreds.ui import mistyped
    from ipy_tempcreds.ui.arguments import parse_line, parser_of, split_line
    from ipy_tempcreds.ui.magics import TempCredsMagics

    magic = getattr(TempCredsMagics, magic_name)
    parser = parser_of(magic)
    try:
        expected = parser.parse_args(split_line(line))
    except UsageError as exc:
        worded = mistyped.explain(magic, parser, split_line(line), str(exc), parser_of)
        with pytest.raises(UsageError, match=re.escape(worded)):
            parse_line(magic, line)
        return
    assert parse_line(magic, line) == expected
    assert parse_line(magic, line) is not parse_line(magic, line)  # a fresh namespace each time


# -- one STS client ---------------------------------------------------------------------------------

@pytest.fixture
def client_creations(monkeypatch):
    """Every botocore client created from here on, by service name."""
    created: list[str] = []
    original = botocore.session.Session.create_client

    def counting(self, service_name, *args, **kwargs):
        created.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    return created


def test_the_sts_client_is_created_once_across_assumes_switches_and_renewals(run, client_creations):
    for index in range(10):
        run(f"%assume_role {(READER, OTHER)[index % 2]} -q")
        run("%assume_role --refresh -q")
    assert client_creations == ["sts"]
    run("%assume_role --clear -q")
    run(f"%assume_role {READER} -q")  # the same source after a clear: still the same client
    assert client_creations == ["sts"]


# -- threads ----------------------------------------------------------------------------------------

def test_threads_come_and_go_only_with_active_credentials(run):
    baseline = thread_count()
    for _ in range(5):
        for role in (READER, OTHER, READER):
            run(f"%assume_role {role} -q")
            assert renewal_threads() == ["ipy_tempcreds-renewal"]
            assert thread_count() == baseline + 1
        run("%assume_role --refresh -q")
        assert thread_count() == baseline + 1
        run("%assume_role --clear -q")
        assert renewal_threads() == [] and thread_count() == baseline


def test_many_renewals_on_the_fake_clock_start_no_thread(timed, clock):
    manager, gateway = timed
    baseline = thread_count()
    manager.activate(manager.role_request(READER, duration="15m", session_name="structure"))
    for _ in range(50):
        clock.advance(max(manager.seconds_until_due(), 0) + 1)
        assert manager.renew_if_due() is True
        assert thread_count() == baseline
    assert gateway.calls.count("AssumeRole") == 51


def test_the_real_renewal_thread_renews_many_times_and_stays_one_thread(aws):
    """The renewal thread on a fake clock: the test moves the clock to the due time and wakes the
    thread, then waits until the thread has renewed. Outcome and counts are deterministic."""
    clock = FakeClock()
    manager = CredentialManager(clock=clock, background=True)
    gateway = manager.sts = RestampingGateway(manager.sts, clock)
    kernel_state.install(manager)  # cleared by the autouse fixture
    baseline = thread_count()
    manager.activate(manager.role_request(READER, duration="15m", session_name="structure"))
    for renewal in range(1, 21):
        clock.advance(manager.seconds_until_due() + 1)
        manager._thread.poke()
        deadline = time.monotonic() + 30
        while gateway.calls.count("AssumeRole") < renewal + 1 or manager.seconds_until_due() <= 0:
            assert time.monotonic() < deadline, "the renewal thread did not renew"
            time.sleep(0.005)
        assert renewal_threads() == ["ipy_tempcreds-renewal"]
        assert thread_count() == baseline + 1
    manager.clear()
    assert renewal_threads() == [] and thread_count() == baseline


def test_a_switch_to_credentials_due_sooner_wakes_the_thread(aws, shell):
    """A switch wakes the renewal thread only when the new due time comes before the thread's
    next wake-up (at most renewal.MAX_SLEEP seconds). Here it does: 900-second credentials with an
    899-second margin are due one second after the switch."""
    shell.run_line_magic("assume_role", f"{READER} -q")  # 1 hour: due in 40 minutes, thread asleep
    manager = api.get_manager()
    manager.settings.refresh_margin = 899
    shell.run_line_magic("assume_role", f"{OTHER} --duration 900 -q")
    switched = os.environ["AWS_ACCESS_KEY_ID"]
    deadline = time.monotonic() + 20  # without the wake-up it would take up to 30 s
    while os.environ["AWS_ACCESS_KEY_ID"] == switched and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.environ["AWS_ACCESS_KEY_ID"] != switched


# -- the recent-roles file --------------------------------------------------------------------------

def test_the_recent_roles_file_is_written_only_when_its_list_changes(run):
    def signature(path):
        stat = path.stat()
        return stat.st_ino, stat.st_mtime_ns

    run(f"%assume_role {READER} -q")
    path = api.get_manager().roles.recent().path
    first = signature(path)
    for _ in range(3):
        run(f"%assume_role {READER} -q")  # already first: nothing to write
    assert signature(path) == first
    run(f"%assume_role {OTHER} -q")  # a new order: written (a write replaces the file)
    assert signature(path) != first
    assert api.get_manager().roles.recent().load()[:2] == [(OTHER, OTHER), (READER, READER)]


def test_switching_among_remembered_roles_writes_their_order_only_at_clear(run):
    def signature(path):
        stat = path.stat()
        return stat.st_ino, stat.st_mtime_ns

    run(f"%assume_role {READER} -q")
    run(f"%assume_role {OTHER} -q")
    manager = api.get_manager()
    path = manager.roles.recent().path
    written = signature(path)
    for role in (READER, OTHER, READER):  # back and forth: the same two roles, a new order each time
        run(f"%assume_role {role} -q")
    assert signature(path) == written
    assert manager.roles.recent().load()[:2] == [(READER, READER), (OTHER, OTHER)]  # in memory already
    run("%assume_role --clear -q")
    assert signature(path) != written
    import json

    assert [e["arn"] for e in json.loads(path.read_text())["roles"]][:2] == [READER, OTHER]


def test_a_change_by_another_kernel_is_read_again(run):
    from ipy_tempcreds.core.recent import RecentRoles

    run(f"%assume_role {READER} -q")
    mine = api.get_manager().roles.recent()
    assert mine.load()[0] == (READER, READER)
    RecentRoles(mine.path, mine.limit).remember("other-kernel", OTHER)  # as another kernel would
    assert mine.load()[:2] == [("other-kernel", OTHER), (READER, READER)]


def test_an_order_kept_in_memory_never_overwrites_another_kernels_newer_list(run):
    """Switching among remembered roles keeps the new order in memory until clear; if another
    kernel writes the file meanwhile (here: written directly, as another process would), its list
    is what this kernel shows and what stays on disk."""
    import json

    run(f"%assume_role {READER} -q")
    run(f"%assume_role {OTHER} -q")
    run(f"%assume_role {READER} -q")  # an order change, kept in memory
    recent = api.get_manager().roles.recent()
    theirs = [{"label": "theirs", "arn": role_arn("Theirs")}, {"label": OTHER, "arn": OTHER}]
    temp = recent.path.with_name("other-kernel.json")
    temp.write_text(json.dumps({"roles": theirs}))
    os.replace(temp, recent.path)

    assert recent.load() == [("theirs", role_arn("Theirs")), (OTHER, OTHER)]
    run("%assume_role --clear -q")
    assert json.loads(recent.path.read_text())["roles"] == theirs


# -- the panel in a real kernel ---------------------------------------------------------------------

@pytest.mark.kernel
def test_an_idle_panel_sends_no_kernel_message(aws, tmp_path):
    """The countdown ticks in the browser: once `%role_panel` is shown, an idle kernel is silent."""
    from jupyter_client.manager import KernelManager

    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"))
    kernel = KernelManager(kernel_name="python3")
    kernel.start_kernel(env=env)
    client = kernel.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        for code in ("%load_ext ipy_tempcreds", f"%assume_role {READER} -q", "%role_panel"):
            reply = client.execute_interactive(code, timeout=120, output_hook=lambda message: None)
            assert reply["content"]["status"] == "ok", (code, reply["content"])
        silent_for = 4.0  # four ticks of the countdown
        deadline = time.monotonic() + silent_for
        seen = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                seen.append(client.get_iopub_msg(timeout=left)["msg_type"])
            except queue.Empty:
                break
        assert seen == []
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)


def test_following_readers_imports_none_of_their_libraries(aws):
    """Loading (which attaches the readers' followers) and a whole assume/switch/clear cycle import
    neither polars, DuckDB, s3fs nor Dask (and loading alone not even botocore): each follower
    attaches when the user imports its library."""
    code = (
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n"
        "import ipy_tempcreds as tc\n"
        f"tc.assume_role({role_arn('Reader')!r}); tc.assume_role({role_arn('Other')!r}); tc.refresh(); tc.clear()\n"
        "print(sorted(m for m in ('polars', 'duckdb', 's3fs', 'fsspec', 'dask', 'distributed', 'pyarrow') "
        "if m in sys.modules))\n"
        "from ipy_tempcreds import _kernel\n"
        "print(_kernel.followers().boto3.generation())  # the followers heard all four changes\n"
    )
    assert lines_after_load(code)[-3:] == ["[]", "[]", "4"]
