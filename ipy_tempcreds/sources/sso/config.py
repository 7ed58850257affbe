"""What an IAM Identity Center sign-in is for: a start URL and region, found in the AWS config file.

``%sso_login PROFILE`` (a profile with sso_session, or the legacy sso_start_url/sso_region), an
sso-session name, ``--start-url URL --sso-region R``, the profile in AWS_PROFILE, or the config's
only sso-session. The config is read through botocore (AWS_CONFIG_FILE honoured), never by hand.
"""

from __future__ import annotations

import os

from ...base import aws_config
from ...base import validation as v
from ...base.errors import InvalidInput
from ...model.requests import DEFAULT_SCOPES, SsoTarget

read_config = aws_config.full_config  # the SSO modules' name for it


def _check_start_url(url: str) -> str:
    url = (url or "").strip()
    if not url.startswith("https://") or len(url) < 12 or any(c.isspace() for c in url):
        raise InvalidInput(f"the start URL {url!r} is not an https:// URL like https://corp.awsapps.com/start.")
    return url


def _from_session(config: dict, name: str, profile: str | None) -> SsoTarget:
    section = config.get("sso_sessions", {}).get(name)
    where = f"profile {profile!r} names sso_session {name!r}, but" if profile else f"sso-session {name!r}:"
    if section is None:
        raise InvalidInput(f"{where} there is no [sso-session {name}] section in the AWS config file.")
    missing = [key for key in ("sso_start_url", "sso_region") if not section.get(key)]
    if missing:
        raise InvalidInput(f"{where} [sso-session {name}] lacks {' and '.join(missing)}.")
    scopes = tuple(s.strip() for s in section.get("sso_registration_scopes", "").split(",") if s.strip())
    return SsoTarget(_check_start_url(section["sso_start_url"]), v.check_region(section["sso_region"]), name,
                     profile, scopes or DEFAULT_SCOPES)


def profile_target(config: dict, name: str) -> SsoTarget | None:
    """The sign-in of profile ``name`` (following source_profile, as `%sso_login data` means the
    sign-in its source uses); None if the profile uses no IAM Identity Center."""
    profiles = config.get("profiles", {})
    seen = []
    while name in profiles and name not in seen:
        seen.append(name)
        section = profiles[name]
        if section.get("sso_session"):
            return _from_session(config, section["sso_session"], seen[0])
        if section.get("sso_start_url"):
            if not section.get("sso_region"):
                raise InvalidInput(f"profile {name!r} has sso_start_url but no sso_region.")
            return SsoTarget(_check_start_url(section["sso_start_url"]), v.check_region(section["sso_region"]),
                             None, seen[0])
        name = section.get("source_profile")
    return None


def sso_profiles(config: dict | None = None) -> list[str]:
    """Names of the profiles that sign in through IAM Identity Center."""
    config = read_config() if config is None else config
    return sorted(name for name, section in config.get("profiles", {}).items()
                  if section.get("sso_session") or section.get("sso_start_url"))


def sso_role_profiles(config: dict | None = None) -> list[str]:
    """Names of the SSO profiles that name a role (sso_account_id and sso_role_name): what
    ``%assume_role PROFILE`` can assume through the portal."""
    config = read_config() if config is None else config
    return [name for name in sso_profiles(config)
            if config["profiles"][name].get("sso_account_id") and config["profiles"][name].get("sso_role_name")]


def resolve_target(name: str | None = None, *, start_url: str | None = None, region: str | None = None,
                   environ=None) -> SsoTarget:
    """What ``%sso_login [NAME] [--start-url URL --sso-region R]`` signs in to.

    NAME is a profile (with sso_session, or sso_start_url/sso_region) or an sso-session name.
    Without NAME or URL: the profile in AWS_PROFILE, else the config's only sso-session.
    """
    environ = os.environ if environ is None else environ
    config = read_config()
    if start_url or region:
        if name:
            raise InvalidInput("give either a PROFILE or --start-url with --sso-region, not both.")
        if not (start_url and region):
            raise InvalidInput("--start-url and --sso-region go together: pass both.")
        url = _check_start_url(start_url)
        # A session with that URL keeps one sign-in for the profiles that name it.
        for session, section in config.get("sso_sessions", {}).items():
            if section.get("sso_start_url") == url and section.get("sso_region") == region:
                return _from_session(config, session, None)
        return SsoTarget(url, v.check_region(region))
    if name:
        target = profile_target(config, name)
        if target is not None:
            return target
        if name in config.get("sso_sessions", {}):
            return _from_session(config, name, None)
        if name in config.get("profiles", {}):
            raise InvalidInput(f"profile {name!r} does not use IAM Identity Center (no sso_session, no "
                               "sso_start_url, nor a source_profile that has one).")
        raise InvalidInput(f"there is no profile or sso-session named {name!r} in the AWS config file."
                           + _candidates(config))
    profile = environ.get("AWS_PROFILE")
    if profile and (target := profile_target(config, profile)) is not None:
        return target
    sessions = sorted(config.get("sso_sessions", {}))
    if len(sessions) == 1:
        return _from_session(config, sessions[0], None)
    raise InvalidInput("which sign-in? Name a profile (`%sso_login PROFILE`) or pass --start-url URL "
                       "--sso-region R." + _candidates(config))


def _candidates(config: dict) -> str:
    names = sso_profiles(config) + [f"sso-session {s}" for s in sorted(config.get("sso_sessions", {}))]
    return f" Found: {', '.join(names)}." if names else " The AWS config file has no SSO profile."
