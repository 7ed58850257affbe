"""``TempCreds``: the options users set in ``ipython_config.py`` or with ``%config``.

    c.TempCreds.roles = {"reader": "arn:aws:iam::123456789012:role/Reader"}
    c.TempCreds.default_duration = 7200
    %config TempCreds.region = "eu-west-1"

A plain traitlets ``Configurable`` (no IPython import), so the core and the Python API use the same
object whether or not the extension is loaded; at load it is parented to the shell and registered
in ``shell.configurables`` so that ``%config TempCreds`` lists and sets it.
"""

from __future__ import annotations

from traitlets import Bool, Dict, Float, Int, TraitError, Unicode, validate
from traitlets.config import Configurable

from . import validation
from .errors import InvalidInput

# Renew this long before expiry. botocore's env provider re-reads AWS_* variables once a client's
# credentials are inside 15 minutes of expiry (advisory) and insists inside 10 (mandatory). Renewing
# at 20 minutes means every client that re-reads the environment finds credentials that are fresh
# and written 5 minutes earlier, never a set being written. Credentials that live less than 2× the
# margin (15-minute ones) are renewed at half their lifetime instead: see Lifetime.refresh_at.
DEFAULT_REFRESH_MARGIN = 20 * 60


class TempCreds(Configurable):
    """Temporary AWS credentials in the kernel (ipy_tempcreds)."""

    default_duration = Int(
        3600,
        help="Lifetime in seconds of credentials from %assume_role when --duration is not given "
        "(900 to 43200; the role's MaxSessionDuration also applies).",
    ).tag(config=True)

    roles = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help='Aliases for roles: {"reader": "arn:aws:iam::123456789012:role/Reader"}, so that '
        "`%assume_role reader` works and the panel offers them.",
    ).tag(config=True)

    session_name = Unicode(
        "{user}",
        help="Template for RoleSessionName, which CloudTrail records: {user} is the OS user name, "
        "{host} the machine name. Characters STS refuses are replaced by '-'.",
    ).tag(config=True)

    region = Unicode(
        None,
        allow_none=True,
        help="Region of the STS endpoint (regional endpoints are faster and survive a us-east-1 "
        "outage). Default: the source profile's or AWS_REGION, else the partition's main region.",
    ).tag(config=True)

    auto_refresh = Bool(
        True,
        help="Renew credentials in the background before they expire (per call: --no-auto-refresh).",
    ).tag(config=True)

    refresh_margin = Int(
        DEFAULT_REFRESH_MARGIN,
        help="Seconds before expiry to renew. The default of 1200 keeps botocore's 15-minute "
        "refresh window supplied with fresh credentials; short-lived credentials renew at half "
        "their lifetime when that is earlier.",
    ).tag(config=True)

    sts_timeout = Float(
        10.0,
        help="Seconds to wait for the STS endpoint to connect or answer before giving up.",
    ).tag(config=True)

    @validate("default_duration")
    def _check_default_duration(self, proposal):
        return self._as_trait_error(lambda: validation.check_duration(proposal["value"]))

    @validate("roles")
    def _check_roles(self, proposal):
        for alias, arn in proposal["value"].items():
            self._as_trait_error(lambda: validation.parse_role_arn(arn), f"alias {alias!r}: ")
        return proposal["value"]

    @validate("region")
    def _check_region(self, proposal):
        value = proposal["value"]
        if value is None or value == "":
            return None
        return self._as_trait_error(lambda: validation.check_region(value))

    @validate("refresh_margin")
    def _check_refresh_margin(self, proposal):
        if not 60 <= proposal["value"] <= validation.MAX_DURATION:
            raise TraitError("refresh_margin must be between 60 and 43200 seconds.")
        return proposal["value"]

    @validate("sts_timeout")
    def _check_sts_timeout(self, proposal):
        if not 0 < proposal["value"] <= 300:
            raise TraitError("sts_timeout must be between 0 and 300 seconds.")
        return proposal["value"]

    @staticmethod
    def _as_trait_error(check, prefix=""):
        try:
            return check()
        except InvalidInput as exc:
            raise TraitError(f"{prefix}{exc}") from None
