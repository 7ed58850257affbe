"""The plain Python API: the same operations as the magics, for scripts, tests and other tools.

    import ipy_tempcreds as tc
    tc.assume_role("arn:aws:iam::123456789012:role/Reader", duration="2h")
    s3 = tc.session().client("s3")      # renews itself
    tc.current()                        # the active Grant (secrets masked in its repr)
    tc.clear()                          # environment exactly as before
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from . import _kernel
from .base.errors import InvalidInput, NotActive, TempCredsError

if TYPE_CHECKING:
    from .core.issuer import MfaCode
    from .core.manager import CredentialManager
    from .model.credentials import Grant
    from .model.settings import TempCreds

# The kernel's manager and options live in kernel_state (created on first use: loading the
# extension needs only the options, for %config; the core is imported by the first assume).
_state = _kernel.STATE


def get_manager() -> CredentialManager:
    """The kernel's one CredentialManager (created on first use)."""
    with _state.lock:
        if _state.manager is None:
            from .core.manager import CredentialManager

            manager = CredentialManager(_get_settings())
            _kernel.install(manager)
            return manager
        return _state.manager


def get_settings() -> TempCreds:
    """The kernel's TempCreds options: the manager's, or the ones it will have once created."""
    with _state.lock:
        return _get_settings()


def _get_settings() -> TempCreds:
    if _state.manager is not None:
        return _state.manager.settings
    if _state.settings is None:
        from .model.settings import TempCreds

        _state.settings = TempCreds()
    return _state.settings


def _reset_manager() -> None:
    """Forget everything the kernel kept (kept for callers of the first round: _kernel.reset)."""
    _kernel.reset()


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
        auto_refresh: Renew before expiry (default: `TempCreds.auto_refresh`).

    Returns:
        The active `Grant`; its repr shows no secret.

    Raises:
        TempCredsError: Input was refused, or STS refused or failed; the message says what to do.
    """
    manager = get_manager()
    request = manager.role_request(
        role, session_name=session_name, duration=duration, profile=profile, region=region,
        external_id=external_id, mfa_serial=mfa_serial, tags=tags, transitive_tags=transitive_tags,
        policy=policy, policy_arns=policy_arns, source_identity=source_identity, chain=chain,
    )
    return manager.activate(request, mfa_code=mfa_code, auto_refresh=auto_refresh)


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
    from .core.cell_roles import CellRoles

    manager = get_manager()
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
    from .core.read_checks import check_all

    return check_all(get_manager(), url, mfa=mfa, mfa_code=mfa_code)


def federation_token(name: str, *, duration=None, policy=None, policy_arns=None, profile: str | None = None,
                     region: str | None = None, auto_refresh: bool | None = None) -> Grant:
    """GetFederationToken for the federated user `name`, injected and renewed like a role.

    As `%federation_token`: the IAM user's keys call it; without `policy` or `policy_arns` the
    credentials can do nothing. `duration`: 15 minutes to 36 hours. Other arguments as in
    `assume_role()`. Returns the active `Grant`; raises `TempCredsError`.
    """
    manager = get_manager()
    request = manager.requests.federation_request(name, duration=duration, policy=policy, policy_arns=policy_arns,
                                         profile=profile, region=region)
    return manager.activate(request, auto_refresh=auto_refresh)


def session_token(*, duration=None, mfa_serial: str | None = None, mfa_code: MfaCode = None,
                  profile: str | None = None, region: str | None = None, auto_refresh: bool | None = None) -> Grant:
    """GetSessionToken for yourself (MFA-backed with `mfa_serial`), injected like a role.

    As `%session_token`. `duration`: 15 minutes to 36 hours. An MFA-backed session needs a new code to
    renew, asked before the next cell. Returns the active `Grant`; raises `TempCredsError`.
    """
    manager = get_manager()
    request = manager.requests.session_token_request(duration=duration, mfa_serial=mfa_serial, profile=profile, region=region)
    return manager.activate(request, mfa_code=mfa_code, auto_refresh=auto_refresh)


def current() -> Grant | None:
    """The `Grant` in force (identity, masked key id, expiry, source), or `None`.
    """
    return get_manager().current()


def refresh(*, mfa_code: MfaCode = None) -> Grant:
    """Renew the active credentials now, with the same parameters and source (`--refresh`).

    Args:
        mfa_code: The code, when the renewal needs a new one.

    Returns:
        The new `Grant`.

    Raises:
        TempCredsError: Nothing is active, or STS refused; the current credentials stay in use.
    """
    return get_manager().refresh(mfa_code=mfa_code)


def clear() -> bool:
    """Drop the active credentials and restore every variable touched (`--clear`).

    Returns:
        `True` if credentials were active, `False` if there was nothing to clear.
    """
    return get_manager().clear()


def whoami() -> dict:
    """GetCallerIdentity (a dict of `Account`, `Arn`, `UserId`) for what a new boto3 client would use now.
    """
    return get_manager().whoami()


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
        from .core.named_sessions import NamedSessions

        manager = get_manager()
        request = manager.role_request(role, **options)  # the options of assume_role, validated
        return NamedSessions.of(manager).open(request, mfa_code=mfa_code, region_name=region_name)
    given = [name for name, value in options.items() if value] + (["mfa_code"] if mfa_code else [])
    if given:
        raise InvalidInput(f"{', '.join(given)} only apply to session(ROLE, ...), a session for another "
                           "role; session() without a role uses the active credentials as they are.")
    import boto3
    import botocore.session

    manager = get_manager()
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
    from .base.compat import set_session_credentials

    set_session_credentials(core, credentials)
    return boto3.Session(botocore_session=core, region_name=region_name)


def share_with(client=None, share: bool = True):
    """Share the active credentials with a Dask cluster and keep them current there.

    Every current and later worker gets them; renewals and switches follow, `clear()` gives the
    workers their own variables back, later assumes reach them again. Needs `ipy_tempcreds[dask]`.

    Args:
        client: A synchronous `distributed.Client` (default: the kernel's default client).
        share: `False` stops sharing with `client` (the workers keep what they have).

    Returns:
        A handle whose `stop()` ends the sharing.
    """
    sharings = _kernel.dask_sharings()
    if sharings is None:
        raise TempCredsError("Dask is not installed: pip install 'dask[distributed]'.")
    if not share:
        return sharings.stop_sharing(client)
    return sharings.share_with(get_manager(), client)


def sign(request, *, service: str = "s3", region: str | None = None):
    """SigV4-sign a `requests.PreparedRequest` or `urllib.request.Request` in place, and return it.

    Signed with the active credentials (the token in `X-Amz-Security-Token`); sign just before
    sending, a signature is valid for 15 minutes.

    ```python
    urllib.request.urlopen(ipy_tempcreds.sign(urllib.request.Request(url)))
    ```

    Args:
        service: The AWS service the request is for (`"s3"`, `"execute-api"`, ...).
        region: Default: `TempCreds.region`, then `AWS_REGION` / `AWS_DEFAULT_REGION`.
    """
    from .direct.signing import sign as sign_request

    return sign_request(get_manager(), request, service=service, region=region)


class SigV4Auth:
    """A `requests` auth that signs each request with the credentials in force when it is sent.

    ```python
    requests.get(url, auth=ipy_tempcreds.SigV4Auth("execute-api", "eu-west-1"))
    ```

    It holds no secret: it asks the kernel at every request, so it follows renewals and switches.
    """

    def __init__(self, service: str, region: str | None = None, *, manager=None):
        if not service or not isinstance(service, str):
            raise InvalidInput("SigV4Auth needs the AWS service, e.g. SigV4Auth('s3') or SigV4Auth('execute-api').")
        self.service = service
        self.region = region
        self._manager = manager

    def __call__(self, request):
        from .direct.signing import sign

        manager = self._manager or _state.manager
        if manager is None:  # nothing was ever assumed in this kernel
            raise NotActive("no temporary credentials are active: assume a role before signing requests with them.")
        return sign(manager, request, service=self.service, region=self.region)

    def __repr__(self) -> str:
        return f"SigV4Auth(service={self.service!r}, region={self.region!r})"


def presign(url: str, *, expires=None, method: str = "GET", region: str | None = None) -> str:
    """A presigned HTTPS URL for `s3://BUCKET/KEY`, signed with the active credentials.

    The session token is in its query string: whoever holds the URL can use it. It stops working
    when the credentials that signed it expire; a warning says so when that comes before `expires`.

    Args:
        expires: Seconds, text such as `"15m"`, or a `timedelta`; at most 7 days (default one hour).
        method: `GET`, `PUT`, `HEAD` or `DELETE`.
        region: The bucket's region, if not the default.
    """
    from .direct.signing import presign as presign_url

    return presign_url(get_manager(), url, expires=expires, method=method, region=region,
                       clients=_kernel.presigning_clients())


def follow(obj):
    """Make a reader you created follow every change: a DuckDB connection, or a Dask client.

    boto3 clients, polars, pandas/s3fs, pyarrow and DuckDB's default connection follow without a
    call. A Dask client is shared with as by `share_with()`. Returns a handle whose `stop()` ends it.
    """
    import sys

    from .followers.duckdb import is_connection

    if is_connection(obj):
        return _kernel.followers().duckdb.follow_connection(obj)
    distributed = sys.modules.get("distributed")  # a user with a Dask client imported it
    if distributed is not None and isinstance(obj, distributed.Client):
        return share_with(obj)
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    raise InvalidInput(
        f"follow() takes a DuckDB connection or a Dask client, not a {kind}. boto3 clients, "
        "polars, pandas/s3fs, pyarrow and DuckDB's default connection follow without a call; "
        "for anything else, create it again after each change."
    )


def console_url(service: str | None = None, region: str | None = None) -> str:
    """A URL that signs in to the AWS console as the active credentials (the kernel's own without a role).

    It opens `service`'s page (`"s3"`, `"ec2"`, ...) in `region`, or the console home. The URL is a
    bearer secret for 15 minutes: whoever opens it is signed in. Its repr hides the token; `str(url)`
    is the URL. Do not print it into a notebook: `%aws_console` shows a link that lives only in the page.

    Raises:
        TempCredsError: The console does not accept the credentials (an IAM user's keys:
            `%federation_token` first), or the federation endpoint failed.
    """
    from .direct.console import console_url as signin_url

    return signin_url(get_manager(), service, region)
