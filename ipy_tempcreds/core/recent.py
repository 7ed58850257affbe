"""Recently used roles, remembered across kernels: labels and ARNs only, never credentials.

One small JSON file under the Jupyter data directory, readable by its owner only.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path

log = logging.getLogger("ipy_tempcreds")

# Ten labels and ARNs are ~2 KiB; anything bigger than this is not ours and is not read.
MAX_FILE_BYTES = 256 * 1024


# path -> ((inode, mtime_ns, size), entries): every assume reads the list, and so does every
# completion; parsing it again only when the file changed saves ~0.1 ms per %assume_role
# (benchmarks/bench_switch.py). A write replaces the file, so it always changes the inode.
_parsed: dict[Path, tuple[tuple[int, int, int], list[tuple[str, str]]]] = {}
# path -> (the file's key when the order changed, entries in their new order, not written yet: see
# RecentRoles.remember and flush). If another kernel writes the file meanwhile, its list wins.
_reordered: dict[Path, tuple[tuple[int, int, int], list[tuple[str, str]]]] = {}


def _file_key(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def _read_regular(path: Path) -> bytes | None:
    """The file's bytes if it is a regular file of sane size; None for anything else.

    O_NONBLOCK: opening a FIFO for reading blocks until a writer comes, which hung %assume_role and
    Tab completion. The type is checked on the open descriptor (no race with a swap between a stat
    and the open): a FIFO, a device (a symlink to /dev/zero gave MemoryError) or a directory is
    never read. The read is bounded, in case the file grows meanwhile.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        chunks, left = [], MAX_FILE_BYTES + 1
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return None if len(data) > MAX_FILE_BYTES else data
    except OSError:
        return None
    finally:
        os.close(fd)


def _entries(data: bytes) -> list[tuple[str, str]] | None:
    """Our list from the file's bytes; None when they are not our shape (someone else's file)."""
    try:
        document = json.loads(data.decode("utf-8"))
        roles = document["roles"]
        if not isinstance(roles, list):
            return None
        return [(e["label"], e["arn"]) for e in roles if isinstance(e["label"], str) and isinstance(e["arn"], str)]
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return None


_warned: set[Path] = set()


def _not_ours(path: Path, why: str) -> None:
    if path not in _warned:  # once per path and kernel: it is asked on every assume
        _warned.add(path)
        log.warning("ipy_tempcreds: %s is %s, so recently used roles are not remembered there (it is left "
                    "as it is). Move it away, or set TempCreds.recent_roles_file to another path.", path, why)


class RecentRoles:
    """The last ``limit`` roles assumed, newest first, as (label, role ARN)."""

    def __init__(self, path: Path | str | None, limit: int = 10):
        self.path = Path(path).expanduser() if path else None
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
            data = _read_regular(path)
            entries = _entries(data) if data is not None else None
            if entries is None:
                return key, []  # a missing, damaged or foreign file only costs the history
            cached = _parsed[path] = (key, entries)
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

    def _write(self, path: Path, entries: list[tuple[str, str]]) -> None:
        _reordered.pop(path, None)
        why = self._foreign(path)
        if why:
            _not_ours(path, why)
            return
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

    @staticmethod
    def _foreign(path: Path) -> str | None:
        """Why the file at the path must not be replaced (None: absent, empty or ours)."""
        try:
            info = os.lstat(path)
        except OSError:
            return None  # absent: ours to create
        if stat.S_ISLNK(info.st_mode):
            try:
                info = os.stat(path)
            except OSError:
                return "a dangling symbolic link"
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file (a FIFO, a device or a directory)"
        if info.st_size == 0:
            return None
        data = _read_regular(path)
        if data is None or _entries(data) is None:
            return "not a recent-roles file written by ipy_tempcreds"
        return None
