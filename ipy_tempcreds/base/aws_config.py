"""Role profiles from the AWS config file, read through botocore (never parsed by hand); and what
the endpoint delivery must know of the files: a profile's region, a [default] profile with
credentials.

A profile can stand for a role: ``[profile reader]`` with ``role_arn`` and ``source_profile`` or
``credential_source``, plus optional ``mfa_serial``, ``external_id``, ``duration_seconds``,
``role_session_name`` and ``region``. Those settings apply unless the line overrides them.
"""

from __future__ import annotations

from .errors import InvalidInput

# What botocore's CanonicalNameCredentialSourcer accepts for credential_source.
CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")


def full_config() -> dict:
    """botocore's view of the config and credentials files (AWS_CONFIG_FILE & co. are honoured):
    profiles, sso-sessions, services; a file it cannot parse is refused in one line."""
    import botocore.exceptions
    import botocore.session

    try:
        return botocore.session.Session().full_config
    except botocore.exceptions.ConfigParseError as exc:
        raise InvalidInput(f"the AWS config file cannot be read: {exc}. Fix or move it.") from None


def all_profiles() -> dict[str, dict]:
    """Every profile in the config and credentials files."""
    return dict(full_config().get("profiles", {}))


def role_profiles() -> dict[str, dict]:
    """Profiles that describe a role (have ``role_arn``), by name."""
    return {name: section for name, section in all_profiles().items() if section.get("role_arn")}


def role_profile(name: str) -> dict | None:
    """The settings of role profile ``name``, checked; None if there is no such role profile."""
    section = role_profiles().get(name)
    if section is None:
        return None
    source = section.get("credential_source")
    if source and source not in CREDENTIAL_SOURCES:
        raise InvalidInput(
            f"profile {name!r}: credential_source {source!r} is not one of {', '.join(CREDENTIAL_SOURCES)}."
        )
    if not source and not section.get("source_profile"):
        raise InvalidInput(
            f"profile {name!r} has role_arn but neither source_profile nor credential_source: "
            "nothing to assume it with."
        )
    if section.get("source_profile") and source:
        raise InvalidInput(f"profile {name!r} has both source_profile and credential_source; keep one.")
    return section


# Settings that give a profile credentials of its own: in the default chain they come before the
# container provider (delivery "endpoint" names a [default] profile that has one).
CREDENTIAL_SETTINGS = ("aws_access_key_id", "role_arn", "credential_process", "sso_session", "sso_account_id",
                       "web_identity_token_file")


def _file_sections(path: str) -> dict:
    """One config or credentials file's sections, parsed as botocore parses them ({} if unreadable:
    botocore reports a malformed file itself, better than a caller could)."""
    import botocore.configloader
    import botocore.exceptions

    try:
        return botocore.configloader.raw_config_parse(path, parse_subsections=False)
    except botocore.exceptions.BotoCoreError:
        return {}


def profile_region(environ) -> str | None:
    """The ``region`` of the profile ``environ`` names in AWS_PROFILE (or AWS_DEFAULT_PROFILE)."""
    profile = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE")
    if not profile:
        return None
    sections = _file_sections(environ.get("AWS_CONFIG_FILE") or "~/.aws/config")
    return sections.get("default" if profile == "default" else f"profile {profile}", {}).get("region")


def default_profile_credentials(environ) -> list[tuple[str, str]]:
    """(file, setting) for each AWS file (credentials, config) whose [default] profile has
    credentials of its own, with the first such setting."""
    found = []
    for variable, fallback in (("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"), ("AWS_CONFIG_FILE", "~/.aws/config")):
        path = environ.get(variable) or fallback
        section = _file_sections(path).get("default", {})
        setting = next((name for name in CREDENTIAL_SETTINGS if section.get(name)), None)
        if setting:
            found.append((path, setting))
    return found
