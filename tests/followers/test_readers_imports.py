"""The post-import hook the followers attach with: it fires once, after the module ran, and leaves
the module exactly as a normal import would."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.resources
import sys

from ipy_tempcreds.followers import imports


def test_a_callback_runs_right_after_the_import_and_the_module_keeps_its_loader(tmp_path, monkeypatch):
    package = tmp_path / "late_library"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 42\n")
    (package / "data.txt").write_text("resource")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []

    def callback(module):
        seen.append(module.VALUE)  # the module has run when the callback is called

    imports.when_imported("late_library", callback)
    try:
        assert seen == []  # not imported by registering
        module = importlib.import_module("late_library")
        assert seen == [42]
        assert isinstance(module.__loader__, importlib.machinery.SourceFileLoader)
        assert module.__spec__.loader is module.__loader__
        assert importlib.resources.files("late_library").joinpath("data.txt").read_text() == "resource"
        imports.when_imported("late_library", lambda m: seen.append("now"))  # imported already: at once
        assert seen == [42, "now"]
    finally:
        imports.forget("late_library", callback)
        for registered in list(imports._finder.callbacks.get("late_library", [])):
            imports.forget("late_library", registered)
        sys.modules.pop("late_library", None)
    assert imports._finder not in sys.meta_path or imports._finder.callbacks


def test_a_failing_callback_does_not_break_the_import(tmp_path, monkeypatch, caplog):
    (tmp_path / "fragile_library.py").write_text("OK = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def broken(module):
        raise RuntimeError("boom")

    imports.when_imported("fragile_library", broken)
    try:
        assert importlib.import_module("fragile_library").OK
        assert "could not attach to fragile_library" in caplog.text
    finally:
        imports.forget("fragile_library", broken)
        sys.modules.pop("fragile_library", None)
