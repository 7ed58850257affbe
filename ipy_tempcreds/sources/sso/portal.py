"""The IAM Identity Center portal: role credentials for an SSO profile, and the person's accounts and roles.

GetRoleCredentials turns the sign-in's access token into temporary credentials for one role in one
account (a profile's ``sso_account_id`` + ``sso_role_name``); GetCallerIdentity with them names the
identity (``arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_ROLE_…/PERSON``). ListAccounts and
ListAccountRoles feed a picker. The access token comes from :func:`device.access_token`, which
renews it with the refresh token first when it is about to lapse.

:class:`IdentityCenterSource` is this module as a credential source: the issuer hands it the
requests whose ``source`` is ``"sso"``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from ...base.errors import InvalidInput
from ...model.credentials import ACCESS_KEY_ID, Issued, TemporaryCredentials
from ...model.requests import SsoRole, SsoRoleRequest, SsoTarget
from . import calls, device
from .calls import DEFAULT_OPTIONS, CallOptions
from .config import profile_target, read_config


class IdentityCenterSource:
    """Role credentials from the IAM Identity Center portal for an SSO profile's role.

    No STS call: the portal hands out the role's credentials for the sign-in's token (renewed with
    its refresh token when near expiry); a renewal asks the portal again. MFA happened in the
    browser at sign-in, so a code given here is a mistake.
    """

    name = "sso"
    service = "IAM Identity Center"
    mfa_note = "signs in through IAM Identity Center, which asks for MFA in the browser at sign-in"

    def __init__(self, settings, clock: Callable[[], datetime]):
        self._settings = settings
        self._clock = clock

    def obtain(self, request: SsoRoleRequest, **_signing) -> Issued:
        return role_credentials(request.role, clock=self._clock, options=CallOptions.of(self._settings))

    @staticmethod
    def describe(request: SsoRoleRequest) -> str:
        return request.source_text


def role_request(profile: str) -> SsoRoleRequest | None:
    """The request for ``%assume_role PROFILE`` when PROFILE is an SSO profile; None otherwise."""
    role = sso_role(profile)
    return SsoRoleRequest(role, label=profile) if role is not None else None


def sso_role(profile: str) -> SsoRole | None:
    """The SSO role of ``profile`` (sso_account_id + sso_role_name); None if it is not one."""
    config = read_config()
    section = config.get("profiles", {}).get(profile)
    if section is None or not (section.get("sso_account_id") or section.get("sso_role_name")):
        return None
    missing = [key for key in ("sso_account_id", "sso_role_name") if not section.get(key)]
    if missing:
        raise InvalidInput(f"profile {profile!r} lacks {' and '.join(missing)}: it names no role to use.")
    target = profile_target(config, profile)
    if target is None:
        raise InvalidInput(f"profile {profile!r} has sso_account_id/sso_role_name but no sso_session or "
                           "sso_start_url: it does not say where to sign in.")
    account = str(section["sso_account_id"]).strip()
    if not (account.isdigit() and len(account) == 12):
        raise InvalidInput(f"profile {profile!r}: sso_account_id {account!r} is not a 12-digit account id.")
    return SsoRole(target, account, section["sso_role_name"].strip(), section.get("region"))


def role_credentials(role: SsoRole, *, clock: Callable[[], datetime] = device.now_utc,
                     options: CallOptions = DEFAULT_OPTIONS) -> Issued:
    """GetRoleCredentials for ``role``, then GetCallerIdentity with them for the identity."""
    import botocore.session

    from ...base.errors import translatable

    token = device.access_token(role.target, clock=clock, options=options)
    portal = device.client("sso", role.target.region, options)
    what = f"Getting credentials for {role.label} from IAM Identity Center"
    try:
        answer = portal.get_role_credentials(accessToken=token, accountId=role.account_id, roleName=role.role_name)
    except Exception as exc:
        if not translatable(exc):
            raise
        if device.error_code(exc) == "ForbiddenException":
            raise device.SsoError(f"{what} failed: the sign-in to {role.target.label} does not give access to "
                               f"{role.role_name} in account {role.account_id}. Check sso_account_id and "
                               "sso_role_name, or ask for the assignment.") from None
        raise device.translate(exc, what, role.target, options) from None
    credentials = _checked_credentials(answer.get("roleCredentials"), what)
    session = botocore.session.Session()
    session.set_credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
    sts = session.create_client("sts", region_name=role.region or role.target.region,
                                config=calls.client_config(options=options, unsigned=False))
    what = f"GetCallerIdentity with the credentials of {role.label}"
    # botocore makes a client's operations at run time; its stubs know only BaseClient.
    get_caller_identity = sts.get_caller_identity  # type: ignore[attr-defined]
    identity = device.require(device.call(get_caller_identity, what, role.target, options), what, text=("Arn",))
    return Issued(credentials, identity["Arn"], identity.get("Account"), identity.get("UserId"))


def _checked_credentials(given, what: str) -> TemporaryCredentials:
    """GetRoleCredentials' ``roleCredentials``, every field checked (named, never quoted): a damaged
    answer must not be installed. One that expired already is refused by the issuer, as for STS."""
    given = device.require(given, what, text=("accessKeyId", "secretAccessKey", "sessionToken"),
                        numbers=("expiration",))
    if not ACCESS_KEY_ID.fullmatch(given["accessKeyId"]):
        raise calls.unreadable(what, "holds an access key that is not one")
    try:
        expiration = datetime.fromtimestamp(given["expiration"] / 1000, timezone.utc)  # epoch milliseconds
    except (OverflowError, OSError, ValueError):
        raise calls.unreadable(what, "holds an expiration that is not a time") from None
    return TemporaryCredentials(given["accessKeyId"], given["secretAccessKey"], given["sessionToken"], expiration)


def assignments(target: SsoTarget, *, clock: Callable[[], datetime] = device.now_utc,
                options: CallOptions = DEFAULT_OPTIONS) -> list[tuple[str, str, str]]:
    """(account id, account name, role name) of every role the person may use, for a picker."""
    token = device.access_token(target, clock=clock, options=options)
    portal = device.client("sso", target.region, options)
    out = []

    def pages(operation: str, key: str, **params):
        paginator = portal.get_paginator(operation)
        for page in device.call(lambda: list(paginator.paginate(accessToken=token, **params)),
                             "Listing accounts and roles in IAM Identity Center", target, options):
            yield from page.get(key, [])

    # Entries without the fields a picker needs (a damaged answer) are left out, never guessed.
    for account in pages("list_accounts", "accountList"):
        if not (isinstance(account, dict) and isinstance(account.get("accountId"), str) and account["accountId"]):
            continue
        name = account.get("accountName") if isinstance(account.get("accountName"), str) else ""
        for role in pages("list_account_roles", "roleList", accountId=account["accountId"]):
            if isinstance(role, dict) and isinstance(role.get("roleName"), str) and role["roleName"]:
                out.append((account["accountId"], name or account["accountId"], role["roleName"]))
    return sorted(out, key=lambda item: (item[1].lower(), item[2].lower()))
