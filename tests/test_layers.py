"""The shape of the package: the tree shows the layers (import-linter's contracts in pyproject.toml
check the imports between them), no import cycle between modules, no module over 400 lines, one
change event, renewal state as one value with explicit transitions, per-kernel state cleared by one
call, and nothing outside the manager calling its private methods."""

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
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(p) for p in MODULES}


def package_imports(path: pathlib.Path) -> set[str]:
    """Modules of the package that ``path`` imports: at load, inside functions and for type
    checkers alike (each is an edge of an import cycle, as import-linter counts them too)."""
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in NAMES]
            # `from pkg import module` depends on the module; `from module import name` on the module.
            candidates = submodules or [base]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in candidates if name in NAMES)
    return found - {module_name(path)}


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules it imports. A package's ``__init__`` that only documents itself is
    no edge (importing a submodule runs it, but it imports nothing)."""
    return {module_name(path): package_imports(path) for path in MODULES}


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


def test_no_module_imports_another_that_imports_it_back():
    """No import cycle between modules, lazy and type-only imports included (import-linter's
    layers keep subpackages apart; this keeps the modules inside a layer apart too)."""
    graph = import_graph()
    assert graph["ipy_tempcreds.core.manager"] and graph["ipy_tempcreds.api"]  # the parser sees imports
    assert "ipy_tempcreds.model.credentials" in graph["ipy_tempcreds.core.issuer"]
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) in (["a", "b", "c", "a"],)
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_tree_shows_the_layers():
    """At most 12 modules at the top; every other module in a subpackage named for its layer."""
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12 and top == ["__init__.py", "_kernel.py"], top
    assert {p.parent.name for p in PACKAGE.glob("*/__init__.py")} == {
        "ui", "api", "followers", "direct", "core", "sources", "delivery", "model", "base"}
    for package in PACKAGE.rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(package.read_text())), f"{package} says nothing of its layer"


def test_api_imports_the_frontend_libraries_only_inside_functions():
    """import-linter forbids IPython and the widget libraries below ui/; api may use them, but only
    when called (loading the extension imports neither)."""
    frontends = ("IPython", "ipywidgets", "anywidget", "sidecar")
    at_load = [node for path in (PACKAGE / "api").glob("*.py") for node in ast.parse(path.read_text()).body
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = [alias.name for node in at_load for alias in node.names] + \
            [node.module or "" for node in at_load if isinstance(node, ast.ImportFrom)]
    assert not [name for name in names if name.split(".")[0] in frontends]


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
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
