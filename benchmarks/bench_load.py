"""Target 2, one sample: in a fresh process with IPython imported and a shell built (what a kernel
has before running the first cell), time one of:

    ext     %load_ext ipy_tempcreds
    boto3   import boto3 (the reference: what loading must stay well below)
    empty   %load_ext of an extension that does nothing (the floor: IPython's own cost)

and list which heavy modules are imported afterwards. run.py runs many of these, interleaved.
"""

from __future__ import annotations

import sys
import time

import common

HEAVY = ("boto3", "botocore", "ipywidgets", "anywidget", "awscrt", "moto", "jupyter_core", "urllib3",
         # Left to first use on purpose: the C environment (at the first assume), the closest-option
         # search (after a mistyped line), the browser (a sign-in), the package's core (the first magic).
         "ctypes", "difflib", "webbrowser", "ipy_tempcreds.core")


def main(what: str) -> None:
    shell = common.ipython_shell()
    before = set(sys.modules)
    start = time.perf_counter()
    if what == "ext":
        shell.run_line_magic("load_ext", "ipy_tempcreds")
    elif what == "boto3":
        import boto3  # noqa: F401
    elif what == "empty":
        shell.run_line_magic("load_ext", "empty_extension")
    else:
        raise SystemExit(f"unknown: {what}")
    elapsed = time.perf_counter() - start
    new = sorted(set(sys.modules) - before)
    common.report({
        "seconds": elapsed,
        "heavy": [name for name in HEAVY if name in new or any(m.startswith(name + ".") for m in new)],
        "new_modules": len(new),
        "ours": [name for name in new if name.startswith("ipy_tempcreds")],
    })


if __name__ == "__main__":
    main(sys.argv[1])
