"""Whether the installed s3fs can follow the kernel's credentials: a check of versions, not of code.

s3fs reaches S3 through aiobotocore, and each aiobotocore release supports only a narrow range of
botocore releases. The ``[s3]`` extra pins none of them, so that installing it never replaces the
user's boto3. When no aiobotocore release supports the botocore in place yet, pip either falls
back to an s3fs from before aiobotocore (0.4.2, 2019), or, asked for s3fs alone, replaces botocore
under boto3. Either way ``s3://`` reads cannot follow the kernel's credentials, and the user is
told once, with what to install. Reads package metadata only: imports neither s3fs nor botocore.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from importlib import metadata

log = logging.getLogger("ipy_tempcreds")

_checked = False


def warn_if_s3fs_cannot_follow() -> str | None:
    """Log, once per process, why the installed s3fs cannot follow the credentials; return it.

    Call it where s3fs support is first used (when s3fs is imported and credentials change).
    """
    global _checked
    if _checked:
        return None
    _checked = True
    problem = s3fs_mismatch()
    if problem:
        log.warning("ipy_tempcreds: %s", problem)
    return problem


def s3fs_mismatch(version: Callable[[str], str] = metadata.version,
                  requires: Callable[[str], Iterable[str] | None] = metadata.requires) -> str | None:
    """Why the installed s3fs cannot follow the kernel's credentials, or None (fine, or no s3fs).

    ``version`` and ``requires`` read the installed packages' metadata (importlib.metadata's).
    """
    try:
        s3fs, botocore = version("s3fs"), version("botocore")
    except metadata.PackageNotFoundError:
        return None  # no s3fs, nothing to follow; no botocore, boto3 itself says so
    try:
        aiobotocore = version("aiobotocore")
    except metadata.PackageNotFoundError:
        return (f"s3fs {s3fs} is too old for ipy_tempcreds to keep s3:// reads on the kernel's "
                f"credentials (it needs an s3fs built on aiobotocore, 0.5 or newer). pip likely chose it "
                f"because no aiobotocore release supports the installed botocore {botocore} yet. Either "
                f"`pip install \"s3fs>=2024.3\"`, which lets pip pick a boto3 that aiobotocore supports "
                f"(it may install an older boto3), or wait for an aiobotocore release for botocore {botocore}.")
    for user in ("aiobotocore", "boto3"):  # both hold botocore to a range of their own
        try:
            held = version(user)
        except metadata.PackageNotFoundError:
            continue
        wanted = [spec for spec in requires(user) or () if _name(spec) == "botocore" and ";" not in spec]
        if wanted and not _satisfies(botocore, wanted[0]):
            needed = wanted[0][len("botocore"):].strip(" ()")
            return (f"{user} {held} needs botocore {needed}, but botocore {botocore} is installed (`pip check` "
                    f"says so too), so s3:// reads through s3fs {s3fs} and aiobotocore {aiobotocore} may fail. "
                    f"Install a matching set in one command, e.g. `pip install \"s3fs=={s3fs}\" boto3 botocore`, "
                    f"and pip picks a boto3 and botocore that aiobotocore supports.")
    return None


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~(;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _release(text: str) -> tuple[int, ...]:
    """The numeric release of a version ("1.43.117" -> (1, 43, 117)); pre/post parts dropped."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:4])


def _satisfies(installed: str, requirement: str) -> bool:
    """Whether ``installed`` meets every clause of ``requirement`` ("botocore<1.44,>=1.43.115").

    Clauses it cannot read count as met: this check may stay silent, never raise a false alarm.
    """
    have = _release(installed)
    for operator, wanted in re.findall(r"(<=|>=|==|!=|~=|<|>)\s*([0-9][0-9a-zA-Z.*+]*)", requirement):
        if wanted.endswith(".*"):  # ==1.43.* / !=1.43.*
            prefix = _release(wanted[:-2])
            same = have[:len(prefix)] == prefix
            if (operator == "==" and not same) or (operator == "!=" and same):
                return False
            continue
        other = _release(wanted)
        width = max(len(have), len(other))
        a, b = have + (0,) * (width - len(have)), other + (0,) * (width - len(other))
        met = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b,
               "~=": a >= b and a[:len(other) - 1] == b[:len(other) - 1]}[operator]
        if not met:
            return False
    return True
