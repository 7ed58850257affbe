"""The AWS config file's side of a console sign-in: which profile, whether it may take a login
session (the CLI's rule), and ``login_session`` written into it.

The file is edited as text, line by line, so comments, blank lines and every other section stay as
they were (configparser would drop the comments); the new value goes where the AWS CLI's
ConfigFileWriter puts it (replacing the key in its section, else at the end of the section, else in a
new section at the end of the file). The file is replaced atomically, keeping its mode.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from ...base.errors import InvalidInput

# The CLI's order (awscli/customizations/login/login.py): the first setting found names the style.
STYLES = (
    (("web_identity_token_file",), "Web Identity"),
    (("sso_role_name", "sso_account_id"), "SSO"),
    (("aws_access_key_id",), "Access Key"),
    (("role_arn",), "Assume Role"),
    (("credential_process",), "Credential Process"),
)
PROFILE_NAME = re.compile(r"[A-Za-z0-9_.@+=,:-]{1,64}")
SECTION = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(?:[#;].*)?$")
KEY = re.compile(r"^(\s*)([A-Za-z0-9_.-]+)\s*=")


def config_path(environ=None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(os.path.expanduser(environ.get("AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config")))


def check_name(profile: str) -> str:
    profile = str(profile or "").strip()
    if not PROFILE_NAME.fullmatch(profile):
        raise InvalidInput(f"{profile!r} is not a profile name (letters, digits and _.@+=,:- only, at most 64).")
    return profile


def profiles() -> dict[str, dict]:
    """Every profile, the config and credentials files merged (botocore's reading)."""
    from ...base.aws_config import all_profiles

    return all_profiles()


def refuse_other_credentials(profile: str, sections: dict[str, dict] | None = None) -> None:
    """InvalidInput if ``profile`` already has credentials of another style (they would win over
    ``login_session`` in botocore's chain), worded as the CLI words it."""
    section = (profiles() if sections is None else sections).get(profile, {})
    for keys, style in STYLES:
        if any(key in section for key in keys):
            raise InvalidInput(
                f"Profile '{profile}' is already configured with {style} credentials. You may run "
                f"'%aws_login --profile new-profile-name' to create a new profile with the specified name. "
                f"Otherwise you must first manually remove the existing credentials from '{profile}'.")


def login_session(profile: str) -> str | None:
    value = profiles().get(profile, {}).get("login_session")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _section_name(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def _matches(header: str, profile: str) -> bool:
    name = " ".join(header.split())
    return name == _section_name(profile) or (profile == "default" and name == "profile default")


def with_setting(text: str, profile: str, key: str, value: str) -> str:
    """``text`` (a config file) with ``key = value`` in ``profile``'s section, nothing else changed."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if (m := SECTION.match(line)) and _matches(m.group(1), profile)), None)
    if start is None:
        gap = "\n" if lines and lines[-1].strip() else ""
        return "".join(lines) + f"{gap}[{_section_name(profile)}]\n{key} = {value}\n"
    end = next((i for i in range(start + 1, len(lines)) if SECTION.match(lines[i])), len(lines))
    for i in range(start + 1, end):
        found = KEY.match(lines[i])
        if found and found.group(2) == key and not found.group(1):
            lines[i] = f"{key} = {value}\n"
            return "".join(lines)
    last = max((i for i in range(start, end) if lines[i].strip() and not lines[i].lstrip().startswith(("#", ";"))),
               default=start)
    lines.insert(last + 1, f"{key} = {value}\n")
    return "".join(lines)


def write_login_session(profile: str, session: str, region: str | None = None, environ=None) -> Path:
    """``login_session`` (and ``region`` when given) into ``profile``'s section of the config file."""
    path = config_path(environ)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the AWS config file {path} cannot be read: {exc}.") from None
    updated = with_setting(text, profile, "login_session", session)
    if region:
        updated = with_setting(updated, profile, "region", region)
    if updated != text:
        _replace(path, updated)
    return path


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise InvalidInput(f"the AWS config file {path} could not be written: {exc.strerror or exc}.") from None
