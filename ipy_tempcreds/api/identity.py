"""Identity where the user needs it: a block of code as another role (``as_role``), and which
known role can read an S3 URL (``can_read``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .. import _kernel

if TYPE_CHECKING:
    from ..core.issuer import MfaCode
    from ..model.credentials import Grant


@contextmanager
def as_role(role: str, *, mfa_code: MfaCode = None, auto_refresh: bool | None = None, **options) -> Iterator[Grant]:
    """Run a block as ``role``, then put the kernel's identity back exactly (also after an
    exception or an interrupt)::

        with ipy_tempcreds.as_role("reader-b"):
            df = pd.read_csv("s3://bucket-b/data.csv")

    The keyword options are :func:`assume_role`'s. Every reader that follows a switch (boto3, pandas/s3fs,
    polars, DuckDB, pyarrow, subprocesses) sees the role inside the block. Blocks nest. The role's
    credentials are cached and renewed like :func:`session`'s, so a loop of blocks calls STS once.
    If the role cannot be assumed, a TempCredsError is raised before the block runs and nothing
    changed. Yields the role's :class:`Grant`.
    """
    from ..core.cell_roles import CellRoles

    manager = _kernel.manager()
    request = manager.role_request(role, **options)  # the options of assume_role, validated
    roles = CellRoles.of(manager)
    scope = roles.enter(request, mfa_code=mfa_code, auto_refresh=auto_refresh)
    try:
        yield scope.grant
    except BaseException as exc:
        roles.leave(scope, exc)
        raise
    roles.leave(scope)


def can_read(url: str, *, mfa: bool = False, mfa_code: MfaCode = None):
    """Which identity this kernel knows can read ``url`` (``s3://bucket/prefix/`` or
    ``s3://bucket/key``): the current one and every known role (aliases, role profiles, roles
    used or remembered), each with a harmless check (ListObjectsV2 with MaxKeys=1 for a prefix,
    HeadObject for a key). The kernel's identity does not change. Roles that need an MFA code are
    listed as such unless ``mfa=True`` (then ``mfa_code`` answers, or it is asked for). Returns a
    list of :class:`~ipy_tempcreds.core.read_checks.ReadCheck` whose text is a table.
    """
    from ..core.read_checks import check_all

    return check_all(_kernel.manager(), url, mfa=mfa, mfa_code=mfa_code)
