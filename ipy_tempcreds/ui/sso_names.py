"""One name for an IAM Identity Center role, wherever it is shown: "analytics / Reader".

AWS names the role behind a permission set ``AWSReservedSSO_Reader_0123456789abcdef``, and that is
what the identity ARN holds. People know the account and the permission set: the panel's picker
lists them as "ACCOUNT NAME / ROLE" after a sign-in (ui/widgets/sso_panel.py), and the panel's
heading, ``%assume_role``'s line and its status use the same words. Before the accounts were listed
(``%sso_login`` in a cell lists none), the account is named by its id: "123456789012 / Reader".
"""

from __future__ import annotations

from .. import _kernel


def role_name(request) -> str:
    """"analytics / Reader" for an IAM Identity Center role request; "" for any other request."""
    role = getattr(request, "role", None)
    if getattr(request, "operation", None) != "GetRoleCredentials" or role is None:
        return ""
    key = (role.target.cache_key, role.account_id, role.role_name)
    for label, listed in _kernel.STATE.sso_roles.items():
        if (listed.target.cache_key, listed.account_id, listed.role_name) == key:
            return label
    return f"{role.account_id} / {role.role_name}"
