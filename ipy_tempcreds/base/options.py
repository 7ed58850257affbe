"""The options of an assume, declared once: name, flag, help, metavar, repeatable, STS parameter.

The magics build their argparse arguments from these (``%assume_role?`` shows this help), the
magic's check of options that only apply when assuming reads them, and tests/base/test_options.py
checks that the keyword-only signatures of :func:`ipy_tempcreds.assume_role` and of
:meth:`RequestBuilder.role_request` list exactly these names (kept written out, for editors).
Imports nothing: loading the extension reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Option:
    """One option of an assume, as each frontend spells it."""

    name: str  # the Python keyword (assume_role(), RequestBuilder.role_request())
    flag: str  # the magic's option
    help: str
    metavar: str | None = None
    repeatable: bool = False  # given several times on the line; a list (or dict) in Python
    switch: bool = False  # a flag without a value (store_true); a bool in Python
    sts: str | None = None  # the STS parameter it becomes, if any

    @property
    def dest(self) -> str:
        """The attribute argparse stores it under."""
        return self.flag.lstrip("-").replace("-", "_")

    def argparse_args(self) -> tuple[tuple[str, ...], dict]:
        """(flags, keyword arguments) for ``argparse``/IPython's ``@argument``."""
        kwargs: dict = {"help": self.help}
        if self.switch:
            kwargs["action"] = "store_true"
        else:
            if self.repeatable:
                kwargs["action"] = "append"
            kwargs["metavar"] = self.metavar
        return (self.flag,), kwargs

    def with_help(self, text: str) -> Option:
        """The same option, described for another operation (GetFederationToken's limits...)."""
        return replace(self, help=text)


SESSION_NAME = Option("session_name", "--session-name", "RoleSessionName, shown in CloudTrail (default: TempCreds.session_name).",
                      "NAME", sts="RoleSessionName")
DURATION = Option("duration", "--duration", "Lifetime: seconds (3600) or units (15m, 1h30m, 12h); 900 s to 12 h.",
                  "DUR", sts="DurationSeconds")
PROFILE = Option("profile", "--profile", "Profile whose credentials call STS (default: the kernel's own).", "SOURCE_PROFILE")
REGION = Option("region", "--region", "Region of the STS endpoint (default: TempCreds.region).", "REGION")
EXTERNAL_ID = Option("external_id", "--external-id", "ExternalId the role's trust policy requires.", "ID", sts="ExternalId")
MFA_SERIAL = Option("mfa_serial", "--mfa-serial", "MFA device; the code is asked for unless --mfa-code is given.",
                    "ARN", sts="SerialNumber")
MFA_CODE = Option("mfa_code", "--mfa-code", "The 6-digit code of the MFA device.", "CODE", sts="TokenCode")
TAGS = Option("tags", "--tag", "Session tag (repeatable).", "KEY=VALUE", repeatable=True, sts="Tags")
TRANSITIVE_TAGS = Option("transitive_tags", "--transitive-tag", "Session tag key that survives role chaining (repeatable).",
                         "KEY", repeatable=True, sts="TransitiveTagKeys")
POLICY = Option("policy", "--policy", "Session policy that narrows the role's permissions.", "JSON|@FILE", sts="Policy")
POLICY_ARNS = Option("policy_arns", "--policy-arn", "Managed policy that narrows the role's permissions (repeatable).",
                     "ARN", repeatable=True, sts="PolicyArns")
SOURCE_IDENTITY = Option("source_identity", "--source-identity",
                         "SourceIdentity recorded in CloudTrail and kept through chaining.", "ID", sts="SourceIdentity")
CHAIN = Option("chain", "--chain", "Assume from the active role instead of the original credentials (AWS caps this at 1 h).",
               switch=True)
PIN = Option("pin", "--pin", "Endpoint delivery: processes started from now on keep this role, renewed, while the kernel "
             "switches, until --clear or ipy_tempcreds.unpin() (default: they follow the kernel).", switch=True)

# What %assume_role ROLE and assume_role(ROLE, ...) accept, in the order of the help text.
ROLE_OPTIONS = (SESSION_NAME, DURATION, PROFILE, REGION, EXTERNAL_ID, MFA_SERIAL, MFA_CODE, TAGS, TRANSITIVE_TAGS,
                POLICY, POLICY_ARNS, SOURCE_IDENTITY, CHAIN, PIN)
# The ones that describe the request (the MFA code is how it is authorised, a pin how it is
# delivered: neither is part of it).
NOT_REQUEST = (MFA_CODE, PIN)
ROLE_REQUEST_OPTIONS = tuple(o for o in ROLE_OPTIONS if o not in NOT_REQUEST)

FEDERATION_OPTIONS = (
    DURATION.with_help("Lifetime: seconds or units (15m to 36h)."),
    POLICY.with_help("Session policy; without one (or --policy-arn) the token can do nothing."),
    POLICY_ARNS.with_help("Managed policy for the session (repeatable)."),
    replace(PROFILE, metavar="P", help="Profile of the IAM user that calls GetFederationToken."),
    replace(REGION, metavar="R", help="Region of the STS endpoint."),
)
SESSION_TOKEN_OPTIONS = (
    DURATION.with_help("Lifetime: seconds or units (15m to 36h; 1h for the root user)."),
    MFA_SERIAL,
    MFA_CODE,
    replace(PROFILE, metavar="P", help="Profile of the IAM user."),
    replace(REGION, metavar="R", help="Region of the STS endpoint."),
)

# %aws_console and console_url(): the region of the console page, not of an STS endpoint.
CONSOLE_OPTIONS = (
    replace(REGION, metavar="R", help="Region of the console page (default: TempCreds.region, AWS_REGION, "
            "else the partition's main region)."),
)


def flag_of(name: str) -> tuple[str, bool]:
    """(the magic's flag, whether it takes no value) of the option called ``name`` in Python."""
    for option in ROLE_OPTIONS:
        if option.name == name:
            return option.flag, option.switch
    return "--" + name.replace("_", "-"), False


def request_options(options, args) -> dict:
    """The keyword arguments for the request builder, from a magic's parsed ``args``."""
    pairs = _NAMES_AND_DESTS.get(id(options))
    if pairs is None:  # once per declaration (the three above live as long as the module)
        pairs = _NAMES_AND_DESTS[id(options)] = tuple((o.name, o.dest) for o in options if o not in NOT_REQUEST)
    return {name: getattr(args, dest) for name, dest in pairs}


_NAMES_AND_DESTS: dict[int, tuple[tuple[str, str], ...]] = {}
