"""botocore's login cache, read and written as `aws login` and botocore's LoginProvider do.

``$AWS_LOGIN_CACHE_DIRECTORY`` or ``~/.aws/login/cache``; one JSON file per login session, named
``sha256(login_session).json``: ``accessToken`` {accessKeyId, secretAccessKey, sessionToken,
accountId, expiresAt}, ``tokenType``, ``clientId``, ``refreshToken``, ``idToken``, ``dpopKey``.
Written atomically (a temporary file in the same directory, then one rename), the file 0600 and
its directory 0700. A file that cannot be used is an error naming what is wrong, never its content.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

from ...base import redaction
from .errors import LoginError

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
REQUIRED = ("accessToken", "refreshToken", "dpopKey", "clientId")  # what botocore's fetcher requires


def cache_dir(environ=None) -> Path:
    environ = os.environ if environ is None else environ
    given = environ.get("AWS_LOGIN_CACHE_DIRECTORY")
    if given:
        return Path(os.path.expanduser(os.path.expandvars(given)))
    return Path(os.path.expanduser(os.path.join("~", ".aws", "login", "cache")))


def cache_path(session: str, environ=None) -> Path:
    return cache_dir(environ) / f"{hashlib.sha256(session.encode('utf-8')).hexdigest()}.json"


def damaged(path: Path, detail: str) -> LoginError:
    return LoginError(f"The cached console sign-in {path} {detail}: run %aws_login to sign in again "
                      "(it replaces the file).")


def read(session: str, environ=None) -> dict | None:
    """The cache entry of ``session`` (checked), or None if there is none."""
    path = cache_path(session, environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        raise damaged(path, "cannot be read") from None
    try:
        token = json.loads(text)
    except ValueError:
        raise damaged(path, "is not JSON (damaged or cut short)") from None
    if not isinstance(token, dict):
        raise damaged(path, "is not a login cache entry")
    missing = [name for name in REQUIRED if not token.get(name)]
    if missing:
        raise damaged(path, f"lacks {', '.join(missing)}")
    access = token["accessToken"]
    if not isinstance(access, dict) or not all(isinstance(access.get(k), str) and access[k]
                                               for k in ("accessKeyId", "secretAccessKey", "sessionToken", "expiresAt")):
        raise damaged(path, "holds no usable credentials")
    if expires_at(token) is None:
        raise damaged(path, "holds an expiresAt that is not a time")
    remember(token)
    return token


def remember(token: dict) -> None:
    """The secrets of a cache entry (base/redaction.py: no log record shows them)."""
    access = token.get("accessToken")
    access = access if isinstance(access, dict) else {}
    redaction.remember(token.get("refreshToken"), token.get("idToken"), token.get("dpopKey"),
                       access.get("secretAccessKey"), access.get("sessionToken"))


def expires_at(token: dict) -> datetime | None:
    try:
        return datetime.strptime(token["accessToken"]["expiresAt"], TIME_FORMAT).replace(tzinfo=timezone.utc)
    except (KeyError, TypeError, ValueError):
        return None


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def write(session: str, token: dict, environ=None) -> Path:
    """Write ``token`` for ``session`` atomically: 0600 in a 0700 directory."""
    import tempfile

    remember(token)
    path = cache_path(session, environ)
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_IMODE(folder.stat().st_mode) & 0o077:
            folder.chmod(0o700)  # botocore's JSONFileCache makes it 0700 too; a wider one would show the token
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".login-", suffix=".tmp")  # 0600
    except OSError as exc:
        raise LoginError(f"The console sign-in could not be saved in {folder}: {exc.strerror or exc}. Check "
                         "AWS_LOGIN_CACHE_DIRECTORY or the permissions of that folder.") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(token, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise LoginError(f"The console sign-in could not be saved in {folder}: {exc.strerror or exc}.") from None
    return path


def delete(session: str, environ=None) -> bool:
    """Remove the cache entry of ``session``; False if there was none."""
    try:
        cache_path(session, environ).unlink()
    except FileNotFoundError:
        return False
    return True
