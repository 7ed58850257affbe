"""The shape of the core (issue 13): no import cycle, no module over 400 lines, one change event,
renewal state as one value with explicit transitions, per-kernel state cleared by one call, and
nothing outside the manager calling its private methods."""

from __future__ import annotations

import ast
import pathlib
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

import ipy_tempcreds
from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds.core.manager import CredentialManager
from ipy_tempcreds.core.renewal import FIRST_RETRY, IDLE, RenewalState
from ipy_tempcreds.model.changes import Change
from support import role_arn

PACKAGE = pathlib.Path(ipy_tempcreds.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def _under_type_checking(node, parents) -> bool:
    return any(isinstance(p, ast.If) and "TYPE_CHECKING" in ast.unparse(p.test) for p in parents)


SUBPACKAGES = sorted(p.parent for p in PACKAGE.glob("*/__init__.py"))
# The nodes of the import graph: each top-level module, and each subpackage as one (followers).
NODES = {p.stem for p in MODULES} | {p.name for p in SUBPACKAGES}


def package_imports(path: pathlib.Path) -> set[str]:
    """Modules of the package that ``path`` imports, at load or inside functions (the edges an
    import cycle is made of), leaving out imports only for type checkers. A subpackage counts as
    one node: ``from .followers.duckdb import x`` is an edge to ``followers``, and a module inside
    one reaches the top level with ``..``."""
    tree = ast.parse(path.read_text())
    top = 1 if path.parent == PACKAGE else 2  # the number of dots that names the package itself
    found: set[str] = set()

    def visit(node, parents):
        if isinstance(node, ast.ImportFrom) and node.level == top and not _under_type_checking(node, parents):
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names if alias.name in NODES)
        for child in ast.iter_child_nodes(node):
            visit(child, parents + [node])

    visit(tree, [])
    own = path.stem if path.parent == PACKAGE else path.parent.name
    return found & NODES - {own}


def import_graph() -> dict[str, set[str]]:
    graph = {path.stem: package_imports(path) for path in MODULES if path.stem != "__init__"}
    for package in SUBPACKAGES:
        graph[package.name] = set().union(*(package_imports(p) for p in package.glob("*.py")))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node):
        state[node] = 1
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if state.get(other) == 1:
                return stack[stack.index(other):] + [other]
            if other not in state and (cycle := walk(other)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert graph["signing"] and graph["manager"]  # the parser sees imports at all
    assert "followers" in graph["api"] and "compat" in graph["followers"]  # and subpackages' imports
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_the_followers_import_nothing_above_them():
    """followers/ sits below the kernel's state and the API: they hand it its instances, never the
    other way round (api.follow dispatches a Dask client itself)."""
    assert import_graph()["followers"].isdisjoint({"api", "kernel_state", "extension", "magics", "dask_sharing"})


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_module_of_the_package_is_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


def test_no_module_calls_a_private_method_of_the_manager():
    private = re.compile(r"manager\._[a-z]\w*\(")
    offenders = [f"{p.name}: {m.group(0)}" for p in MODULES if p.stem != "manager"
                 for m in private.finditer(p.read_text())]
    assert offenders == []


def test_nothing_points_to_a_design_page_outside_the_repository():
    tests = pathlib.Path(__file__).parent
    for path in [*MODULES, *tests.glob("*.py")]:
        assert "DESIGN" + ".md" not in path.read_text(), path


# -- the change event -------------------------------------------------------------------------------

def grant(key: str):
    return SimpleNamespace(access_key_id=key)


def test_credentials_changed_compares_key_ids_and_none():
    a, a_again, b = grant("AKIA1"), grant("AKIA1"), grant("AKIA2")
    assert Change("assume", a, None).credentials_changed
    assert Change("clear", None, a).credentials_changed
    assert Change("renewal", b, a).credentials_changed
    assert not Change("problem", a, a_again).credentials_changed
    assert not Change("closed", None, None).credentials_changed


def test_every_follower_gets_one_change_in_order_and_a_broken_one_stops_none(aws, clock, caplog):
    manager = CredentialManager(clock=clock, background=False)
    kernel_state.install(manager)
    seen = []

    def broken(change):
        raise RuntimeError("a view with a bug")

    manager.subscribe(lambda change: seen.append(("first", change.kind)))
    manager.subscribe(broken)
    manager.subscribe(lambda change: seen.append(("last", change.kind, change.credentials_changed)))
    first = manager.activate(manager.role_request(role_arn("Reader"), session_name="shape"))
    switched = manager.activate(manager.role_request(role_arn("Other"), session_name="shape"))
    manager.announce("sessions")
    manager.clear()
    assert seen == [("first", "assume"), ("last", "assume", True), ("first", "assume"), ("last", "assume", True),
                    ("first", "sessions"), ("last", "sessions", False), ("first", "clear"), ("last", "clear", True)]
    assert first is not switched
    assert any("a view with a bug" in r.getMessage() for r in caplog.records)


# -- renewal state ----------------------------------------------------------------------------------

def test_renewal_state_transitions_are_values():
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    state = RenewalState.scheduled(now + timedelta(minutes=40))
    failed = state.failed("STS is throttling requests.", now)
    assert state.failures == 0 and failed.failures == 1 and failed.due == now + timedelta(seconds=FIRST_RETRY)
    again = failed.failed("again", now)
    assert again.due == now + timedelta(seconds=2 * FIRST_RETRY) and again.last_error == "again"
    waiting = again.announce().waiting_for_code()
    assert waiting.needs_mfa_code and waiting.due is None and waiting.announced
    with pytest.raises(AttributeError):
        state.failures = 3  # frozen: only transitions make new states
    assert IDLE == RenewalState() and IDLE.due is None


# -- per-kernel state -------------------------------------------------------------------------------

def test_one_call_clears_everything_the_kernel_kept(aws):
    from ipy_tempcreds import api

    manager = api.get_manager()
    followers = kernel_state.followers()
    followers.install()  # as %load_ext does
    manager.activate(manager.role_request(role_arn("Reader"), session_name="shape"))
    assert followers.boto3.generation() == 1
    closed = []
    kernel_state.STATE.sidebar = (SimpleNamespace(close=lambda: closed.append("sidecar")),
                                  SimpleNamespace(close=lambda: closed.append("panel")))
    presigning = kernel_state.presigning_clients()
    kernel_state.reset()
    state = kernel_state.STATE
    assert state.manager is None and state.settings is None and state.sidebar is None
    assert state.presigning is None and state.dask_sharings is None and presigning is not kernel_state.presigning_clients()
    assert closed == ["panel", "sidecar"] and manager.closed and manager.current() is None
    # The readers' followers heard the clear, then left their libraries; the next kernel gets new ones.
    from ipy_tempcreds.followers import imports

    assert state.followers is None and followers.boto3.generation() == 2
    assert not [c for hooks in imports._finder.callbacks.values() for c in hooks if getattr(c, "followers", None) is followers]
    assert kernel_state.followers() is not followers and kernel_state.followers().boto3.generation() == 0
    assert "AWS_SESSION_TOKEN" not in __import__("os").environ
