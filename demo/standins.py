"""The demo's AWS: every service the tour uses, on 127.0.0.1, behaving as AWS does where a newcomer
tries it (tests/ holds the stand-ins; see their docstrings).

    kernel ──AWS_ENDPOINT_URL──> StrictSts ──> moto (S3)
                                           ──> federation stand-in ──> moto (STS, IAM)
           ──AWS_ENDPOINT_URL_SSO(_OIDC)──> Identity Center stand-in ──> moto's STS
           ──AWS_ENDPOINT_URL_SIGNIN──> AWS Sign-In stand-in ──> moto's STS
           ──TempCreds.signin_endpoint──> federation stand-in (console sign-in, a local landing page)

StrictSts refuses what AWS refuses and moto lets through (roles that do not exist, trust policies
that exclude the caller, wrong MFA codes, more than a role's MaxSessionDuration) and makes
credentials expire; with ``lifetime`` (``--short``) every set lives that many seconds. STS calls
pass the federation stand-in, which learns how each set was issued as AWS knows it.
"""

from __future__ import annotations

from pathlib import Path

import world
from aws_standin import ACCOUNT, LocalAws
from federation_standin import Standin as FederationStandin
from signin_standin import SigninStandin
from sso_standin import SsoStandin
from strict_sts import StrictSts

START_URL = "https://demo.awsapps.com/start"
SSO_PROFILE = "analyst-sso"
MFA_PROFILE = "auditor"


def aws_config() -> str:
    """The demo's AWS config file: a role profile that needs MFA and an Identity Center profile."""
    return f"""\
[default]
region = us-east-1

[profile {MFA_PROFILE}]
role_arn = {world.AUDITOR}
credential_source = Environment
mfa_serial = {world.MFA_SERIAL}

[sso-session demo]
sso_start_url = {START_URL}
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile {SSO_PROFILE}]
sso_session = demo
sso_account_id = {ACCOUNT}
sso_role_name = Reader
region = us-east-1
"""


class DemoAws:
    """Start, seed, describe to a kernel, stop."""

    def __init__(self, *, lifetime: float | None = None, moto: LocalAws | None = None):
        """``moto``: a started LocalAws to seed (the tests'); None: one of its own, stopped at stop()."""
        self.lifetime = lifetime
        self._own_moto = moto is None
        self.moto = moto or LocalAws()
        self.federation: FederationStandin | None = None
        self.strict: StrictSts | None = None
        self.sso: SsoStandin | None = None
        self.signin: SigninStandin | None = None
        self.analyst: world.Analyst | None = None

    def start(self) -> DemoAws:
        if self._own_moto:
            self.moto.start()
        self.analyst = world.seed(self.moto, auth=False)
        self.federation = FederationStandin(self.moto.url, landing=True).start()
        self.strict = StrictSts(self.moto.url, sts_upstream=self.federation.url, lifetime=self.lifetime).start()
        self.sso = SsoStandin(self.moto, role_duration=int(self.lifetime or 3600)).start()
        self.sso.account_names = {ACCOUNT: "demo"}
        self.sso.assign("Reader", world.reads(world.SALES_BUCKET))
        self.signin = SigninStandin(self.moto).start()
        self.signin.console_role("analyst-console", world.reads(world.SALES_BUCKET))
        self.moto.set_auth(True)
        return self

    def environ(self, scratch: Path) -> dict[str, str]:
        """The variables that point a kernel (and `!aws`) at this world, as the analyst."""
        assert self.strict and self.sso and self.signin and self.analyst and self.federation
        (scratch / "aws-config").write_text(aws_config())
        (scratch / "aws-credentials").write_text("")
        return {**self.moto.client_environ(), "AWS_ENDPOINT_URL": self.strict.url, **self.sso.environ(),
                **self.signin.environ(), **self.analyst.environ(),
                "AWS_CONFIG_FILE": str(scratch / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "aws-credentials")}

    def ipython_config(self) -> str:
        """The kernel's IPython profile: console sign-in at the local stand-in."""
        assert self.federation
        return (f"c.TempCreds.signin_endpoint = {self.federation.endpoint!r}\n"
                "# The local STS cannot give MFA sessions (moto's GetSessionToken keys fail its own IAM check):\n"
                "# a role that needs MFA is assumed with the code itself, and asks again at renewal.\n"
                "c.TempCreds.mfa_session_duration = 0\n")

    def stop(self) -> None:
        for server in (self.signin, self.sso, self.strict, self.federation):
            if server is not None:
                server.stop()
        if self._own_moto:
            self.moto.stop()
        else:
            self.moto.set_auth(False)
