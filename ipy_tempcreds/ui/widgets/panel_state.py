"""What the role panel shows, computed from the manager: the values of its synced traits.

Plain dicts, none of them secret (widget state is saved into the notebook); the panel
(role_panel.py) sets them and the browser draws them (panel.js). Imports nothing from ipywidgets.
"""

from __future__ import annotations

from datetime import datetime

from ...base.times import clock_text, format_duration, zone_label, zone_name
from ...core.cell_roles import active_scope
from ...model.credentials import Grant
from ..display import source_summary
from ..sso_names import role_name
from . import login_panel, sso_panel

# What the duration picker offers (seconds); the configured default and the active grant's own
# lifetime are added when they are not among them.
DURATION_CHOICES = (900, 3600, 7200, 14400, 28800, 43200)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def active_duration(grant: Grant | None) -> int:
    """The lifetime the active grant was asked for, in seconds (the duration picker shows it while
    it is active); 0 without one, or when IAM Identity Center's permission set decides it."""
    return int(getattr(grant.request, "duration", None) or 0) if grant is not None else 0


def grant_state(manager, grant: Grant | None) -> dict:
    """The synced traits that describe the active credentials (none of them secret). While a cell
    runs as another role (core/cell_roles.py), the kernel's own grant, and that role in cell_role."""
    scope = active_scope(manager)
    cell = {"label": scope.label, "identity": manager.current().arn if manager.current() else scope.grant.arn} \
        if scope is not None else {}
    if scope is not None:
        grant = manager.cell_roles.kernel_grant()
    return {**_kernel_grant_state(manager, grant), "cell_role": cell}


def _kernel_grant_state(manager, grant: Grant | None) -> dict:
    # Sessions opened with ipy_tempcreds.session(ROLE) beside the environment's role.
    others = [{"label": str(label), "arn": str(arn), "expires_at": epoch_ms(expiration)}
              for label, arn, expiration in manager.named_sessions()]
    zone = zone_name(manager.settings.time_zone)
    shown = {"time_zone": zone, "delivery": str(manager.settings.delivery),
             "active_duration": active_duration(grant), **login_panel.state(manager, grant)}
    if grant is None:
        return {"identity": "", "account": "", "role_label": "", "role_name": "", "auto_refresh": False,
                "expires_at": 0, "obtained_at": 0, "problem": manager.problem or "",
                "other_sessions": others, "expires_zone": "", "source": "", "source_detail": "", **shown}
    return {
        **shown,
        "expires_zone": zone_label(grant.expiration, zone),
        "source": source_summary(grant.source, source_method(manager, grant)),
        "source_detail": grant.source,
        "other_sessions": others,
        "identity": grant.arn,
        "account": grant.account or "",
        # Only a role goes back into the role picker (not a federation or session token's name);
        # an IAM Identity Center role (an SSO profile or a listed pair) has no role_arn but is one.
        "role_label": (grant.request.label or "") if getattr(grant.request, "role_arn", None)
        or grant.request.operation == "GetRoleCredentials" else "",
        # The heading's name: "analytics / Reader" for an IAM Identity Center role (ui/sso_names.py);
        # "" lets the browser take the role's name from the identity ARN.
        "role_name": role_name(grant.request),
        "auto_refresh": bool(grant.auto_refresh),
        "expires_at": epoch_ms(grant.expiration),
        "obtained_at": epoch_ms(grant.obtained_at),
        "problem": manager.problem or "",
    }


def option_state(manager) -> dict:
    """What the pickers offer: role candidates as given; durations with the configured default and
    the active grant's own (a 15-minute role shows 15m, a 1h30m one 1h 30m)."""
    default = int(manager.settings.default_duration)
    seconds = sorted(set(DURATION_CHOICES) | {default, active_duration(manager.current())} - {0})
    return {
        "role_options": [{"label": str(label), "arn": str(arn)} for label, arn in manager.roles.candidates()]
        + sso_panel.role_options(),  # SSO profiles, and the account/role pairs listed after Sign in
        "duration_options": [{"label": format_duration(s), "seconds": s} for s in seconds],
        "default_duration": default,
        "show_sso": sso_panel.sign_in_offered(manager.clock),  # SSO profiles, and no valid sign-in
    }


def renewed_notice(manager, grant: Grant) -> str:
    """What Refresh confirms: ``renewed, expires 15:42 UTC`` (in TempCreds.time_zone, as the magics say it)."""
    return f"renewed, expires {clock_text(grant.expiration, manager.clock(), manager.settings.time_zone)}"


def source_method(manager, grant: Grant) -> str | None:
    """botocore's name for the source credentials' provider ("env", "sso", "iam-role", ...).

    Read from the STS client the manager already holds for the grant's source (no new lookup);
    None when that is not at hand: the panel then shows the grant's own source text.
    """
    if grant.parent is not None:
        return None  # chained: the grant's source text names the role it came from
    if grant.request.source != "sts":
        return None  # IAM Identity Center's portal or a console sign-in: no STS source; the source text says so
    return manager.sts.source_method(grant.request)
