"""The code blocks of README.md and the pages in docs/, as tests/docs/ runs and checks them.

A fenced block is what its language says:

- ``python``: a cell, run in page order in one kernel per page;
- ``python`` whose first line is ``# ~/.ipython/profile_default/ipython_config.py``: the kernel's
  IPython configuration, written before the kernel starts;
- ``ini`` whose first line is ``# ~/.aws/config``: appended to the kernel's AWS config file;
- anything else (``text`` for output, ``bash`` for a shell, ``ini``, ``json``, ``toml``): shown, not run.

A marker on the line before a ``python`` block changes what is expected of it:
``<!-- not-run: REASON -->`` skips it (say why: real AWS, an MFA device ...), and
``<!-- fails: TEXT -->`` expects it to fail with TEXT in its output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Contributors' notes kept as they are: their blocks are diagrams, not examples.
NOT_EXAMPLES = {DOCS / "ARCHITECTURE.md"}

IPYTHON_CONFIG = "# ~/.ipython/profile_default/ipython_config.py"
AWS_CONFIG = "# ~/.aws/config"
SHOWN = {"text", "bash", "ini", "json", "toml", "yaml", "css"}
FENCE = re.compile(r"^(`{3,})(.*)$")
MARKER = re.compile(r"^<!-- (not-run|fails): (.+?) -->$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    marker: str | None = None  # "not-run" or "fails"
    marker_text: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str:
        """"cell", "ipython-config", "aws-config" or "shown"."""
        first = self.code.split("\n", 1)[0].strip()
        if self.language == "python":
            return "ipython-config" if first == IPYTHON_CONFIG else "cell"
        if self.language == "ini" and first == AWS_CONFIG:
            return "aws-config"
        return "shown"


def pages() -> list[Path]:
    """README.md and every Markdown page of the site."""
    return [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if p not in NOT_EXAMPLES)]


def blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        ticks, language = opening.group(1), opening.group(2).strip().split(" ")[0]
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(ticks) and not lines[j].strip("`")),
                   None)
        if end is None:
            raise AssertionError(f"{page.relative_to(ROOT)}:{i + 1}: a code block that is never closed")
        before = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.match(before)
        found.append(Block(page, i + 1, language, "\n".join(lines[i + 1:end]),
                           marker.group(1) if marker else None, marker.group(2) if marker else ""))
        i = end + 1
    return found


def markers(page: Path) -> list[tuple[int, str]]:
    """Every line that looks like a marker (``<!-- not-run``, ``<!-- fails``), with its number."""
    return [(n, line) for n, line in enumerate(page.read_text().splitlines(), 1)
            if re.match(r"<!--\s*(not-run|fails|not_run|notrun)", line.strip())]
