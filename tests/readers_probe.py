"""Run inside the test kernel (tests/followers/test_readers_kernel.py): which identity each reader signs as.

Every reader reads the three buckets; role A may read only bucket-a, role B only bucket-b, the
kernel's own user only bucket-c, so the buckets that answer tell who signed.
"""

from __future__ import annotations

import json
import os

BUCKETS = {"bucket-a": "A", "bucket-b": "B", "bucket-c": "own"}
readers: dict = {}  # name -> read(bucket) that raises or returns something falsy when refused


def reader(name):
    def register(function):
        readers[name] = function
        return function

    return register


def who(read) -> str:
    names = []
    for bucket, owner in BUCKETS.items():
        try:
            if read(bucket):
                names.append(owner)
        except Exception:
            pass
    return "+".join(sorted(names)) or "none"


def report() -> None:
    """Print one JSON line: {reader: identity}."""
    print(json.dumps({name: who(read) for name, read in readers.items()}))


def keys(path: str) -> None:
    """Write the access key id in force to ``path`` (not a secret; kept out of the outputs)."""
    with open(path, "a") as handle:
        handle.write(os.environ.get("AWS_ACCESS_KEY_ID", "") + "\n")
