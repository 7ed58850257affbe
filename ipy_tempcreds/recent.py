"""Recently used roles, remembered across kernels: labels and ARNs only, never credentials.

One small JSON file under the Jupyter data directory, readable by its owner only.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def default_path() -> Path:
    """``$JUPYTER_DATA_DIR/ipy_tempcreds/recent-roles.json`` (jupyter_core's data dir rules)."""
    try:
        from jupyter_core.paths import jupyter_data_dir

        base = Path(jupyter_data_dir())
    except ImportError:  # plain IPython without Jupyter
        base = Path(os.environ.get("JUPYTER_DATA_DIR") or Path.home() / ".local" / "share" / "jupyter")
    return base / "ipy_tempcreds" / "recent-roles.json"


# path -> ((inode, mtime_ns, size), entries): every assume reads the list, and so does every
# completion; parsing it again only when the file changed saves ~0.1 ms per %assume_role
# (benchmarks/bench_switch.py). A write replaces the file, so it always changes the inode.
_parsed: dict[Path, tuple[tuple[int, int, int], list[tuple[str, str]]]] = {}
# path -> (the file's key when the order changed, entries in their new order, not written yet: see
# RecentRoles.remember and flush). If another kernel writes the file meanwhile, its list wins.
_reordered: dict[Path, tuple[tuple[int, int, int], list[tuple[str, str]]]] = {}


def _file_key(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class RecentRoles:
    """The last ``limit`` roles assumed, newest first, as (label, role ARN)."""

    def __init__(self, path: Path | str | None, limit: int = 10):
        self.path = Path(path) if path else None
        self.limit = limit

    def load(self) -> list[tuple[str, str]]:
        if self.path is None or self.limit <= 0:
            return []
        return self._state(self.path)[1][: self.limit]

    @staticmethod
    def _state(path: Path) -> tuple[tuple[int, int, int] | None, list[tuple[str, str]]]:
        """(the file's key, the list: the order kept in memory if the file has not changed since)."""
        key = _file_key(path)
        pending = _reordered.get(path)
        if pending is not None:
            if pending[0] == key:
                return pending
            # Another kernel wrote the file since this order was kept: its list (with the roles it
            # added) wins over an order change only.
            _reordered.pop(path, None)
        if key is None:
            return None, []
        cached = _parsed.get(path)
        if cached is None or cached[0] != key:
            try:
                entries = json.loads(path.read_text()).get("roles", [])
                cached = _parsed[path] = (key, [(str(e["label"]), str(e["arn"])) for e in entries])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return key, []  # a missing or damaged file only costs the history
        return cached

    def remember(self, label: str, arn: str) -> None:
        if self.path is None or self.limit <= 0:
            return
        key, current = self._state(self.path)
        current = current[: self.limit]
        if current and current[0] == (label, arn):
            # Already first (a repeated assume): nothing to write. Measured with
            # benchmarks/bench_switch.py on ext4: the mkstemp + os.replace write costs ~0.9 ms
            # (median; 1.8 ms mean) against ~10-20 ms for the AssumeRole call itself.
            return
        entries = ([(label, arn)] + [(lbl, a) for lbl, a in current if a != arn])[: self.limit]
        if key is not None and set(entries) == set(current):
            # Only the order changed (switching among roles already remembered): keep the new
            # order in memory and write it at the next clear or shutdown (flush), so switching
            # back and forth costs no file write (that write made a switch 1.26x a raw
            # AssumeRole against the local STS; benchmarks/bench_switch.py).
            _reordered[self.path] = (key, entries)
            return
        self._write(self.path, entries)

    def flush(self) -> None:
        """Write an order kept in memory by :meth:`remember`, unless the file changed since."""
        if self.path is None or self.path not in _reordered:
            return
        _, entries = self._state(self.path)
        if self.path in _reordered:  # still current: _state() drops it if another kernel wrote
            self._write(self.path, entries)

    @staticmethod
    def _write(path: Path, entries: list[tuple[str, str]]) -> None:
        _reordered.pop(path, None)
        document = {"roles": [{"label": lbl, "arn": a} for lbl, a in entries]}
        temp = None
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Written to a private temp file and renamed, so a reader never sees half a file and
            # the file is never, even briefly, readable by others.
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".recent-", suffix=".json")
            with os.fdopen(fd, "w") as handle:
                json.dump(document, handle, indent=1)
                handle.flush()
                written = os.fstat(fd)
            os.replace(temp, path)
            # What the next load() would parse is what we just wrote (the same inode, unless
            # another kernel has replaced the file since): remember it, as load() does.
            _parsed[path] = ((written.st_ino, written.st_mtime_ns, written.st_size), entries)
        except OSError:
            # A read-only home must not break assuming a role. A failed rename (the path is a
            # directory, a full disk) must not leave the temp file behind either.
            if temp is not None:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
