"""The credentials of the kernel from Python: assume, obtain, renew, release, ask who, and a
boto3 session that renews itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _kernel
from ..base.errors import InvalidInput, NotActive

if TYPE_CHECKING:
    from ..core.issuer import MfaCode
    from ..model.credentials import Grant


def assume_role(
    role: str,
    *,
    session_name: str | None = None,
    duration=None,
    profile: str | None = None,
    region: str | None = None,
    external_id: str | None = None,
    mfa_serial: str | None = None,
    mfa_code: MfaCode = None,
    tags=None,
    transitive_tags=None,
    policy=None,
    policy_arns=None,
    source_identity: str | None = None,
    chain: bool = False,
    pin: bool = False,
    auto_refresh: bool | None = None,
) -> Grant:
    """Assume an IAM role and put its temporary credentials into the kernel, as `%assume_role` does.

    Every reader in the kernel then uses the role, and the credentials renew themselves before they
    expire. Everything is checked before STS is called; on any failure nothing changes.

    Args:
        role: A role ARN, an alias from `TempCreds.roles`, or a role profile of the AWS config file.
        session_name: The RoleSessionName CloudTrail records (default: `TempCreds.session_name`).
        duration: Seconds, text such as `"1h30m"`, or a `timedelta`; 15 minutes to 12 hours.
        profile: The profile whose credentials call STS (default: the kernel's own).
        region: The region of the STS endpoint (default: `TempCreds.region`, the profile's).
        external_id: The ExternalId the role's trust policy requires.
        mfa_serial: The MFA device's ARN; the code comes from `mfa_code`.
        mfa_code: The 6-digit code as text, or a callable asked for it.
        tags: Session tags, a dict or `["KEY=VALUE"]`; `transitive_tags`: keys that survive chaining.
        policy: A session policy: a dict, JSON text or `"@file.json"`; `policy_arns`: managed ones.
        source_identity: The SourceIdentity CloudTrail records, kept through chaining.
        chain: Assume from the active role, not the kernel's original credentials (1 hour at most).
        pin: With endpoint delivery, processes started from now on keep this grant while the kernel
            switches, until `unpin` or `clear` (see the endpoint page).
        auto_refresh: Renew before expiry (default: `TempCreds.auto_refresh`).

    Returns:
        The active `Grant`; its repr shows no secret.

    Raises:
        TempCredsError: Input was refused, or STS refused or failed; the message says what to do.
    """
    manager = _kernel.manager()
    request = manager.role_request(
        role, session_name=session_name, duration=duration, profile=profile, region=region,
        external_id=external_id, mfa_serial=mfa_serial, tags=tags, transitive_tags=transitive_tags,
        policy=policy, policy_arns=policy_arns, source_identity=source_identity, chain=chain,
    )
    return manager.activate(request, mfa_code=mfa_code, auto_refresh=auto_refresh, pin=pin)


def pins() -> list:
    """The pinned grants (``assume_role(..., pin=True)``), each with its ARN, URL, expiry, and
    ``environ()``: the variables that give a process that pin."""
    return _kernel.manager().pins.all()


def unpin(which=None) -> int:
    """Release pinned grants: ``which`` is a pin from :func:`pins`, a role or identity ARN, or an
    alias as typed; None releases every pin. Processes that had one get a 404 that says so at their
    next refresh. Returns how many were released."""
    return _kernel.manager().pins.release(which)


def federation_token(name: str, *, duration=None, policy=None, policy_arns=None, profile: str | None = None,
                     region: str | None = None, auto_refresh: bool | None = None) -> Grant:
    """GetFederationToken for the federated user `name`, injected and renewed like a role.

    As `%federation_token`: the IAM user's keys call it; without `policy` or `policy_arns` the
    credentials can do nothing. `duration`: 15 minutes to 36 hours. Other arguments as in
    `assume_role()`. Returns the active `Grant`; raises `TempCredsError`.
    """
    manager = _kernel.manager()
    request = manager.requests.federation_request(name, duration=duration, policy=policy, policy_arns=policy_arns,
                                         profile=profile, region=region)
    return manager.activate(request, auto_refresh=auto_refresh)


def session_token(*, duration=None, mfa_serial: str | None = None, mfa_code: MfaCode = None,
                  profile: str | None = None, region: str | None = None, auto_refresh: bool | None = None) -> Grant:
    """GetSessionToken for yourself (MFA-backed with `mfa_serial`), injected like a role.

    As `%session_token`. `duration`: 15 minutes to 36 hours. An MFA-backed session needs a new code to
    renew, asked before the next cell. Returns the active `Grant`; raises `TempCredsError`.
    """
    manager = _kernel.manager()
    request = manager.requests.session_token_request(duration=duration, mfa_serial=mfa_serial, profile=profile, region=region)
    return manager.activate(request, mfa_code=mfa_code, auto_refresh=auto_refresh)


def current() -> Grant | None:
    """The `Grant` in force (identity, masked key id, expiry, source), or `None`.
    """
    return _kernel.manager().current()


def refresh(*, mfa_code: MfaCode = None) -> Grant:
    """Renew the active credentials now, with the same parameters and source (`--refresh`).

    Args:
        mfa_code: The code, when the renewal needs a new one.

    Returns:
        The new `Grant`.

    Raises:
        TempCredsError: Nothing is active, or STS refused; the current credentials stay in use.
    """
    return _kernel.manager().refresh(mfa_code=mfa_code)


def clear() -> bool:
    """Drop the active credentials and restore every variable touched (`--clear`).

    Returns:
        `True` if credentials were active, `False` if there was nothing to clear.
    """
    return _kernel.manager().clear()


def whoami() -> dict:
    """GetCallerIdentity (a dict of `Account`, `Arn`, `UserId`) for what a new boto3 client would use now.
    """
    return _kernel.manager().whoami()


def session(role: str | None = None, *, region_name: str | None = None, mfa_code: MfaCode = None, **options):
    """A `boto3.Session` whose credentials renew themselves.

    Without `role`: on the active credentials. Its clients follow every renewal, switch and clear,
    and renew near expiry even with auto-refresh off.

    With `role`: a session for that role *beside* the kernel's, which it does not touch (read with one
    role, write with another). It renews from the kernel's original credentials when a client needs
    it, shows in `%assume_role --status`, and ends with `clear()`.

    ```python
    b = tc.session("writer-account-b", duration="2h")
    b.client("s3").put_object(Bucket="b-bucket", Key="out.csv", Body=data)
    ```

    Args:
        role: A role ARN, alias or role profile; `None` for the active credentials.
        region_name: The session's region (`region` in `options` is the STS endpoint's).
        mfa_code: The MFA code, when `role` needs one.
        **options: The keyword options of `assume_role()`, only with `role`.

    Raises:
        TempCredsError: Nothing is active (without `role`), or the role could not be assumed.
    """
    if role is not None:
        from ..core.named_sessions import NamedSessions

        manager = _kernel.manager()
        request = manager.role_request(role, **options)  # the options of assume_role, validated
        return NamedSessions.of(manager).open(request, mfa_code=mfa_code, region_name=region_name)
    given = [name for name, value in options.items() if value] + (["mfa_code"] if mfa_code else [])
    if given:
        raise InvalidInput(f"{', '.join(given)} only apply to session(ROLE, ...), a session for another "
                           "role; session() without a role uses the active credentials as they are.")
    import boto3
    import botocore.session

    manager = _kernel.manager()
    grant = manager.current()
    if grant is None:
        raise NotActive("no temporary credentials are active: call assume_role() first.")

    def fetch():
        # botocore asks inside its refresh windows. Renew only if our own schedule says so (also
        # with auto-refresh off), else hand over the current set: 15-minute credentials are always
        # inside botocore's windows, and must not cost an STS call per API call.
        manager.renew_if_due(manual_too=True)
        latest = manager.current()
        if latest is None:
            raise NotActive("the temporary credentials behind this session were cleared.")
        return latest.credentials.botocore_metadata()

    # Refreshed inside botocore's windows, and at the first request after any change in the
    # kernel (a --refresh, a switch, a clear), so a kept client never signs with a replaced key.
    credentials = _kernel.followers().boto3.following_refreshable(grant.credentials, fetch, manager.clock)
    core = botocore.session.Session()
    # botocore has no public setter for refreshable credentials; aws-assume-role-lib does the same.
    from ..base.compat import set_session_credentials

    set_session_credentials(core, credentials)
    return boto3.Session(botocore_session=core, region_name=region_name)
