"""``TempCreds``: the options users set in ``ipython_config.py`` or with ``%config``.

    c.TempCreds.roles = {"reader": "arn:aws:iam::123456789012:role/Reader"}
    c.TempCreds.default_duration = 7200
    %config TempCreds.region = "eu-west-1"

A plain traitlets ``Configurable`` (no IPython import), so the core and the Python API use the same
object whether or not the extension is loaded; at load it is parented to the shell and registered
in ``shell.configurables`` so that ``%config TempCreds`` lists and sets it.
"""

from __future__ import annotations

import os
import string

from traitlets import Bool, Dict, Enum, Float, Int, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from ..base import paths, validation
from ..base.errors import InvalidInput

# The automatic refresh margin (refresh_margin = None) is 20 minutes, or half the lifetime of
# credentials shorter than 40 minutes. The arithmetic: botocore's env provider re-reads the
# AWS_* variables once a client's credentials are inside 15 minutes of expiry (advisory window)
# and insists inside 10 (mandatory window). Renewing 20 minutes before expiry means that when any
# client first re-reads the environment, the new set has been there for 5 minutes: no client ever
# meets expired credentials, and none re-reads while a set is being written. 15-minute credentials
# are inside botocore's windows from birth (clients re-read the environment on every call, which
# is cheap); renewing them at half-life (7.5 minutes left) keeps 7.5 minutes of headroom against
# a slow or failing STS, with retries, before anything expires.
AUTO_REFRESH_MARGIN = 20 * 60
# The fields TempCreds.session_name may use, and what fills them.
SESSION_NAME_FIELDS = {"user": "the OS user name", "host": "the machine name"}


class TempCreds(Configurable):
    """The options of ipy_tempcreds: `c.TempCreds.NAME` in `ipython_config.py`, or `%config TempCreds.NAME = value`.

    Every option, with its type, default and help, is on the Configuration page; `%config TempCreds`
    lists them in a notebook.
    """

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
        None,
        allow_none=True,
        help="Seconds before expiry to renew. None (default): automatic, 20 minutes before expiry "
        "so that botocore's 15-minute refresh window always finds fresh credentials, or at half "
        "the lifetime of credentials shorter than 40 minutes. A number must be less than the "
        "credentials' lifetime.",
    ).tag(config=True)

    mfa_session_duration = Int(
        12 * 3600,
        help="When a role needs MFA, first get an MFA-backed session of this many seconds with "
        "GetSessionToken and assume the role from it, so that renewals and switches need no new "
        "code for a working day (AWS allows up to 129600 for IAM users). 0: ask for a code at "
        "every renewal. Not possible when the source credentials are temporary (SSO, a role).",
    ).tag(config=True)

    recent_roles_limit = Int(
        10,
        help="How many recently used roles to remember across kernels for the panel and Tab "
        "completion (labels and ARNs only, never credentials). 0: remember none.",
    ).tag(config=True)

    recent_roles_file = Unicode(
        help="Where recently used roles are remembered. Default: "
        "<Jupyter data dir>/ipy_tempcreds/recent-roles.json, readable by its owner only.",
    ).tag(config=True)

    sts_timeout = Float(
        10.0,
        help="Seconds to wait for STS, AWS Sign-In or IAM Identity Center to connect or answer before giving up.",
    ).tag(config=True)

    time_zone = Unicode(
        "UTC",
        help='Zone of the times the magics, the status and the panel show, always named: "UTC" '
        '(default: "expires 14:59 UTC"), "local" (the kernel\'s zone: "expires 09:59 EST") or a '
        'zone name such as "Europe/Berlin". The panel uses this zone, not the browser\'s.',
    ).tag(config=True)

    delivery = Enum(
        ("environment", "endpoint"),
        "environment",
        help='How the credentials reach the kernel and every process it starts. "environment" '
        "(default): the key variables in the kernel's environment; a process started from the kernel "
        "keeps the set of that moment, and fails once it expires. \"endpoint\": the kernel serves "
        "the credentials in force on 127.0.0.1 (a token-protected container-credentials endpoint) "
        "and the environment points there instead, so `!aws`, subprocesses and long jobs renew "
        "themselves for as long as the kernel does. Can be changed while a role is active.",
    ).tag(config=True)

    explain_access_denied = Bool(
        True,
        help="After a cell that AWS refused (AccessDenied, 403, expired credentials) from boto3, "
        "pandas/s3fs, polars, DuckDB, pyarrow or smart_open, print one short note below the "
        "traceback: the identity the kernel was signed as, the roles it knows and `%aws_can URL` "
        "to check them (for expired credentials: when, why they were not renewed, and the command "
        "that renews). Other errors get no note.",
    ).tag(config=True)

    @validate("time_zone")
    def _check_time_zone(self, proposal):
        from ..base.times import zone_name  # only when set: loading the extension stays light

        self._as_trait_error(lambda: zone_name(proposal["value"]))
        return proposal["value"]

    signin_endpoint = Unicode(
        None,
        allow_none=True,
        help="Federation endpoint for console sign-in (%aws_console, console_url()). None (default): "
        "the partition's, https://signin.aws.amazon.com/federation (signin.amazonaws-us-gov.com, "
        "signin.amazonaws.cn). https only; plain http only to a loopback address (a local stand-in). "
        "Requests to it time out after sts_timeout seconds.",
    ).tag(config=True)

    @validate("signin_endpoint")
    def _check_signin_endpoint(self, proposal):
        return self._as_trait_error(lambda: validation.check_signin_endpoint(proposal["value"]))

    @validate("default_duration")
    def _check_default_duration(self, proposal):
        return self._as_trait_error(lambda: validation.check_duration(proposal["value"]))

    @validate("roles")
    def _check_roles(self, proposal):
        for alias, arn in proposal["value"].items():
            self._as_trait_error(lambda alias=alias: check_alias(alias))
            self._as_trait_error(lambda arn=arn: validation.parse_role_arn(arn), f"alias {alias!r}: ")
        return proposal["value"]

    @validate("session_name")
    def _check_session_name(self, proposal):
        return self._as_trait_error(lambda: check_session_name_template(proposal["value"]))

    @validate("region")
    def _check_region(self, proposal):
        value = proposal["value"]
        if value is None or value == "":
            return None
        return self._as_trait_error(lambda: validation.check_region(value))

    @default("recent_roles_file")
    def _default_recent_roles_file(self):
        return str(paths.recent_roles_path())

    @validate("recent_roles_file")
    def _check_recent_roles_file(self, proposal):
        # "~/..." as users write it in ipython_config.py; without this a directory named "~"
        # appeared in the kernel's working directory.
        value = proposal["value"]
        return os.path.expanduser(value) if value else value

    @validate("refresh_margin")
    def _check_refresh_margin(self, proposal):
        value = proposal["value"]
        if value is not None and not 60 <= value < validation.MAX_DURATION:
            raise TraitError("refresh_margin must be None (automatic) or 60 to 43199 seconds.")
        return value

    @validate("mfa_session_duration")
    def _check_mfa_session_duration(self, proposal):
        value = proposal["value"]
        if value != 0 and not validation.MIN_DURATION <= value <= validation.MAX_SESSION_TOKEN_DURATION:
            raise TraitError("mfa_session_duration must be 0 (off) or 900 to 129600 seconds.")
        return value

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


def check_session_name_template(template: str) -> str:
    """Refuse a TempCreds.session_name template that names a field we do not fill, or is not a
    valid format string, with the fields that exist (at %config time, not at the next assume,
    where it was a raw KeyError)."""
    fields = ", ".join(f"{{{name}}} ({what})" for name, what in SESSION_NAME_FIELDS.items())
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInput(f"session_name template {template!r} is not a valid template ({exc}); "
                           f"write literal braces as {{{{ and }}}}. Fields: {fields}.") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in SESSION_NAME_FIELDS:
            shown = f"{{{name}}}" if name else "{}"
            raise InvalidInput(f"session_name template {template!r} uses {shown}, which is not a field; "
                               f"the fields are {fields}.")
        if spec or conversion:
            raise InvalidInput(f"session_name template {template!r}: write fields plainly, as {{{name}}}.")
    return template


def check_alias(alias: str) -> str:
    """A TempCreds.roles alias: not shaped like an ARN, which it would hide (an alias wins)."""
    if not alias.strip():
        raise InvalidInput("an alias in TempCreds.roles is empty.")
    if alias.strip().lower().startswith("arn:"):
        raise InvalidInput(
            f"alias {alias!r} is shaped like an ARN; `%assume_role {alias}` would assume the alias's "
            "role instead of that ARN. Give the alias a short name (e.g. 'reader')."
        )
    return alias
