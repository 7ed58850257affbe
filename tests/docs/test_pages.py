"""The documentation as files: the README stays short, every page is on the site, every code block
says what it is, and every marker the examples test reads is well formed (tests/doc_blocks.py).

Building the site strictly is `make docs` (CI runs it); its examples run in test_examples.py.
"""

from __future__ import annotations

import re

import pytest

from doc_blocks import DOCS, ROOT, SHOWN, blocks, markers, pages


def words_outside_code(text: str) -> int:
    return len(re.sub(r"^(`{3,}).*?^\1\s*$", "", text, flags=re.S | re.M).split())


def test_the_readme_is_at_most_1500_words_outside_code():
    assert words_outside_code((ROOT / "README.md").read_text()) <= 1500


def test_the_readme_gives_the_two_commands_and_links_into_the_docs():
    readme = (ROOT / "README.md").read_text()
    for command in ("make demo", "make test", "make docs"):
        assert command in readme
    linked = set(re.findall(r"\]\((docs/[^)#\s]+)", readme))
    assert {"docs/install.md", "docs/assume-roles.md", "docs/troubleshooting.md"} <= linked
    assert len(linked) >= 15, "the table of what it does links into the docs"


def nav_pages(nav) -> set[str]:
    found = set()
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found |= nav_pages(value) if isinstance(value, list) else {value}
    return found


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page():
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert nav_pages(config["nav"]) == on_disk


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_block_says_its_language_and_every_marker_is_read(page):
    found = blocks(page)
    for block in found:
        assert block.language in SHOWN | {"python"}, f"{block.where}: say the block's language (python runs; {', '.join(sorted(SHOWN))} are shown)"
        if block.marker is not None:
            assert block.kind == "cell", f"{block.where}: a marker only applies to a python block"
            assert len(block.marker_text) >= 5, f"{block.where}: say why ({block.marker}: REASON)"
    marked = {b.line for b in found if b.marker}
    # A marker that is not right before a python block (a typo, a blank block between) is read by nothing.
    for number, line in markers(page):
        following = next((b.line for b in found if b.line > number), None)
        assert following in marked, f"{page.relative_to(ROOT)}:{number}: {line} is not right before a python block"


def test_magics_in_shown_blocks_are_not_examples_in_disguise():
    """A magic line in a text block is not run: lines a reader types belong in python blocks,
    text blocks hold what comes back (and syntax summaries, whose lines hold [brackets])."""
    for page in pages():
        for block in blocks(page):
            if block.language != "text":
                continue
            for line in block.code.splitlines():
                if re.match(r"%{1,2}\w", line) and "[" not in line and "|" not in line:
                    raise AssertionError(f"{block.where}: {line!r} reads like input: put it in a python block")
