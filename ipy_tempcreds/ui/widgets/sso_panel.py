"""The panel's IAM Identity Center part: when to offer "Sign in", and the sign-in it starts.

The panel shows the Sign in button (class ``tempcreds-sso``) while the AWS config has SSO profiles
and none of their sign-ins is valid. A click starts a :class:`~ipy_tempcreds.sources.sso.attempt.SignInAttempt`
(the kernel is not blocked); its link, user code and outcome go to the panel's ``sso_prompt``
trait, which is saved with the notebook and so holds nothing secret. After the sign-in, the role
picker offers the SSO profiles and every account/role pair the person may use (ListAccounts,
ListAccountRoles) as "ACCOUNT NAME / ROLE"; picking one assumes it from the portal.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..._kernel import STATE
from ...base.errors import InvalidInput, TempCredsError
from ...sources.sso import config as sso_config
from ...sources.sso import device

if TYPE_CHECKING:
    from ...sources.sso.attempt import SignInAttempt

log = logging.getLogger("ipy_tempcreds")


def _targets() -> list[device.SsoTarget]:
    """The distinct sign-ins the config's SSO profiles use (unreadable or odd sections skipped)."""
    try:
        config = sso_config.read_config()
    except InvalidInput:
        return []
    targets: dict[str, sso_config.SsoTarget] = {}
    for profile in sso_config.sso_profiles(config):
        try:
            target = sso_config.profile_target(config, profile)
        except InvalidInput:
            continue
        if target is not None:
            targets.setdefault(target.cache_key, target)
    return list(targets.values())


def sign_in_offered(clock) -> bool:
    """True when the config has SSO profiles and none of their sign-ins is valid now."""
    now = clock()
    targets = _targets()
    return bool(targets) and not any((s := device.token_status(t, now)) is not None and not s.expired(now)
                                     for t in targets)


def target_to_sign_in() -> device.SsoTarget:
    """What the button signs in to: as ``%sso_login`` with no name, else the first SSO profile's."""
    try:
        return device.resolve_target()
    except InvalidInput:
        targets = _targets()
        if not targets:
            raise
        return targets[0]


def is_sso_profile(label: str) -> bool:
    """True for a profile with sso_account_id/sso_role_name (it takes no duration: the permission
    set decides), so the panel does not send its duration picker's value for it."""
    from ...sources.sso import portal

    try:
        return portal.sso_role(label) is not None
    except InvalidInput:
        return False


def role_options() -> list[dict]:
    """The picker's account/role pairs listed after a sign-in here (SSO profiles come with the
    other role candidates)."""
    return [{"label": label, "arn": f"{role.role_name} in {role.account_id} (IAM Identity Center)"}
            for label, role in STATE.sso_roles.items()]


def picked_request(label: str):
    """The SsoRoleRequest for a pair the picker listed (``"analytics / Reader"``), or None."""
    from ...model.requests import SsoRoleRequest

    role = STATE.sso_roles.get(label)
    return SsoRoleRequest(role, label=label) if role is not None else None


def _list_roles(target, clock, options) -> None:
    """Remember every account/role pair of the sign-in, labelled by account name and role."""
    from ...model.requests import SsoRole
    from ...sources.sso.portal import assignments

    pairs = assignments(target, clock=clock, options=options)
    ids_by_name: dict[str, set] = {}
    for account_id, name, _ in pairs:
        ids_by_name.setdefault(name, set()).add(account_id)
    roles = {}
    for account_id, name, role_name in pairs:
        # Two accounts of the same name: the id tells them apart.
        account = name if len(ids_by_name[name]) == 1 else f"{name} ({account_id})"
        roles[f"{account} / {role_name}"] = SsoRole(target, account_id, role_name)
    STATE.sso_roles = roles


def start(panel) -> None:
    """Start a sign-in for ``panel`` (a RolePanel); its progress goes to ``panel.sso_prompt``."""
    from ...sources.sso.attempt import SignInAttempt
    from ...sources.sso.calls import CallOptions

    options = CallOptions.of(panel.manager.settings)
    current = getattr(panel, "_sso_attempt", None)
    if current is not None and not current.done:
        current.cancel()  # a second click starts over with a new code

    def report(attempt: SignInAttempt) -> None:
        if getattr(panel, "_sso_attempt", None) is not attempt:
            return  # a cancelled attempt must not overwrite the one that replaced it
        if attempt.state == "signed-in":
            try:
                _list_roles(attempt.target, panel.manager.clock, options)
            except TempCredsError as exc:
                log.warning("ipy_tempcreds: the accounts and roles of %s could not be listed: %s",
                            attempt.target.label, exc)
        if attempt.done:
            # First: once signed in, the Sign in button goes, in every panel drawn.
            panel.manager.announce("sign-in")
        code = attempt.code
        panel.sso_prompt = {
            "state": attempt.state,
            "message": attempt.message,
            "link": code.verification_uri_complete if code and attempt.state == "waiting" else "",
            "code": code.user_code if code and attempt.state == "waiting" else "",
        }

    target = target_to_sign_in()  # a config problem is the panel's error text, before anything starts
    panel.sso_prompt = {"state": "starting", "message": "Starting the sign-in…", "link": "", "code": ""}
    attempt = panel._sso_attempt = SignInAttempt(target, on_change=report, clock=panel.manager.clock,
                                                       options=options)
    attempt.start()
