"""``%aws_can s3://bucket/prefix-or-key`` and ``can_read(url)``: which identity this kernel knows can read it.

For the identity in force and every known role (core/identities.py), one harmless read: a
ListObjectsV2 with MaxKeys=1 for a bucket or a prefix (``.../``), a HeadObject for a key (then,
if there is no such key, a listing of ``key/``: it may be a prefix written without its slash).
Never a write, never an object's body. The roles' credentials come from the named sessions' cache
(core/named_sessions.py, not listed as sessions), signed by the kernel's source credentials: the
kernel's identity and environment do not change. A role that needs an MFA code is listed, not
asked for, unless ``mfa`` is given. S3 clients follow a bucket's region: botocore's redirector
retries a request answered with S3's 301 (PermanentRedirect, ``x-amz-bucket-region``) in the
bucket's region.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..base.errors import MfaCodeNeeded, TempCredsError, scrub
from ..base.s3_urls import split_s3_url
from ..model.credentials import TemporaryCredentials
from .identities import KnownRole, arn_words, grant_words, known_roles, own_identity
from .named_sessions import NamedSessions

ALLOWED, DENIED, NOT_FOUND = "allowed", "denied", "not found"
NO_ROLE, NEEDS_MFA, FAILED = "could not assume", "needs MFA", "error"
_DENIED_CODES = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled"})
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
S3_TIMEOUT = 10.0


@dataclass(frozen=True)
class ReadCheck:
    """One row: who, the result, why (short), and the command that switches to it."""

    label: str  # "(current)" or the role's label
    identity: str  # in words, never a key
    result: str  # allowed | denied | not found | could not assume | needs MFA | error
    detail: str = ""
    command: str = ""


class ReadChecks(list):
    """The rows of one check, shown as a table (its repr too: a notebook shows it as text)."""

    def __init__(self, url: str, operation: str, rows):
        super().__init__(rows)
        self.url = url
        self.operation = operation

    def allowed(self) -> list[str]:
        """Labels of the identities that may read it."""
        return [row.label for row in self if row.result in (ALLOWED, NOT_FOUND)]

    def __str__(self) -> str:
        header = ("identity", "result", "to use it")
        lines = [(f"{row.label} · {row.identity}" if row.label != row.identity else row.label,
                  row.result + (f" ({row.detail})" if row.detail else ""), row.command) for row in self]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(3)]
        table = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                 for line in [header, *lines]]
        return (f"Who can read {self.url} ({self.operation}; the kernel's identity is unchanged):\n"
                + "\n".join("  " + line for line in table)
                + "\nRun one cell as a role with `%%as_role ROLE`, or switch the kernel with `%assume_role ROLE`.")

    __repr__ = __str__


def check_all(manager, url: str, *, mfa: bool = False, mfa_code=None) -> ReadChecks:
    """Check ``url`` for the identity in force and every known role (see the module's doc)."""
    bucket, key = split_s3_url(url, example="s3://BUCKET/PREFIX/ or s3://BUCKET/KEY")
    url = f"s3://{bucket}/{key}"
    operation = "ListObjectsV2, MaxKeys=1" if not key or key.endswith("/") else "HeadObject"
    current = manager.current()
    # (row so far, credentials to check with): the identity in force first; None: the kernel's own.
    rows: list[tuple[ReadCheck, TemporaryCredentials | None]] = [
        (ReadCheck("(current)", grant_words(current) if current is not None else own_identity(manager), ""),
         current.credentials if current is not None else None)]
    for role in known_roles(manager):
        if role.origin != "in use":  # the role in force is the first row
            rows.append(_role_credentials(manager, role, url, mfa, mfa_code))
    region = (manager.settings.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
              or "us-east-1")
    pending = [index for index, (row, _) in enumerate(rows) if not row.result]
    with ThreadPoolExecutor(max_workers=min(8, len(pending)), thread_name_prefix="ipy_tempcreds-can") as pool:
        answers = list(pool.map(lambda index: _read(rows[index][1], bucket, key, region), pending))
    checked = [row for row, _ in rows]
    for index, (result, detail) in zip(pending, answers, strict=True):
        row = checked[index]
        command = f"%%as_role {row.label}" if index and result in (ALLOWED, NOT_FOUND) else ""
        checked[index] = ReadCheck(row.label, row.identity, result, detail, command)
    return ReadChecks(url, operation, checked)


def _role_credentials(manager, role: KnownRole, url: str, mfa: bool, mfa_code) -> tuple[ReadCheck, TemporaryCredentials | None]:
    """(a row with no result yet and the role's credentials), or (a finished row, None) when the
    role cannot be assumed here."""
    words = arn_words(role.arn) if role.arn.startswith("arn:") else role.label
    try:
        request = manager.role_request(role.label)
        if getattr(request, "mfa_serial", None) and not mfa:
            return ReadCheck(role.label, words, NEEDS_MFA, "not asked", f"%aws_can {url} --mfa"), None
        grant = NamedSessions.of(manager).grant(request, mfa_code=mfa_code if mfa else None, shown=False)
    except MfaCodeNeeded:
        return ReadCheck(role.label, words, NEEDS_MFA, "not asked", f"%aws_can {url} --mfa"), None
    except TempCredsError as exc:
        return ReadCheck(role.label, words, NO_ROLE, _short(exc)), None
    return ReadCheck(role.label, words, ""), grant.credentials


def _short(exc: BaseException) -> str:
    """AWS's code, or the first sentence of our message (scrubbed, at most 60 characters)."""
    code = getattr(exc, "code", None)
    if code:
        return str(code)
    text = scrub(str(exc)).split(". ")[0].strip().rstrip(".")
    return text if len(text) <= 60 else text[:59] + "…"


def _read(credentials: TemporaryCredentials | None, bucket: str, key: str, region: str) -> tuple[str, str]:
    """(result, detail) of the harmless read as ``credentials`` (None: the kernel's own chain)."""
    client = _client(credentials, region)
    try:
        if key and not key.endswith("/"):
            answer = _call(lambda: client.head_object(Bucket=bucket, Key=key))
            if answer[0] == ALLOWED:
                return answer
            # No such key, or no permission on it: it may be a prefix written without its slash.
            listed = _call(lambda: client.list_objects_v2(Bucket=bucket, Prefix=key + "/", MaxKeys=1))
            if listed[0] == ALLOWED and listed[1] != "nothing there":
                return ALLOWED, "a prefix"
            return answer if answer[0] != NOT_FOUND or listed[0] != ALLOWED else (NOT_FOUND, "no such key")
        return _call(lambda: client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1))
    finally:
        client.close()


def _call(operation) -> tuple[str, str]:
    import botocore.exceptions

    try:
        answer = operation()
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
        if code in _DENIED_CODES:
            return DENIED, ""
        if code == "NoSuchBucket":
            return NOT_FOUND, "no such bucket"
        if code in _MISSING_CODES:
            return NOT_FOUND, "no such key"
        return FAILED, code or "S3 refused"
    except botocore.exceptions.NoCredentialsError:
        return FAILED, "no credentials"
    except (botocore.exceptions.BotoCoreError, OSError) as exc:
        return FAILED, type(exc).__name__
    if "KeyCount" in answer and not answer["KeyCount"]:
        return ALLOWED, "nothing there"
    return ALLOWED, ""


def _client(credentials: TemporaryCredentials | None, region: str):
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session()
    if credentials is not None:
        session.set_credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
    config = Config(connect_timeout=S3_TIMEOUT, read_timeout=S3_TIMEOUT, retries={"total_max_attempts": 2})
    return session.create_client("s3", region_name=region, config=config)
