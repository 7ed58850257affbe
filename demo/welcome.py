"""What `make demo` says when it opens: what the world holds, what to try first, how to leave it."""

from __future__ import annotations

import world
from standins import MFA_PROFILE, SSO_PROFILE


def local(url: str, *, seed: str, short: float | None) -> str:
    lifetime = (f"{int(short) // 60} minutes (--short): watch the panel count down and renew at half-time"
                if short else "as asked (15m to the role's maximum); `make demo DEMO_ARGS=--short`: 3 minutes")
    return f"""
ipy_tempcreds demo: a local AWS on 127.0.0.1. No AWS account is used and nothing leaves this machine.
  You are      the IAM user analyst (its keys are in the kernel's environment).
  Roles        analytics (reads s3://{world.SALES_BUCKET}), finance (reads s3://{world.FINANCE_BUCKET}),
               {MFA_PROFILE} (needs MFA), admin (does not trust you: refused, as AWS refuses it).
  MFA          %assume_role {MFA_PROFILE} asks for a code: `!python mfa_code.py` prints it,
               or add the secret {seed} to an authenticator app.
  Sign-in      %sso_login {SSO_PROFILE} (the link opens a local Identity Center page), then %assume_role {SSO_PROFILE}.
  Console      %aws_console s3 (lands on a local page naming the role).
  Credentials  {lifetime}.
Try first: run the quickstart (Run > Run All Cells), then assume a role with the panel's Assume button.
The notebooks are copies: your edits stay in a scratch folder, deleted when the demo stops.
Your real account instead: DEMO_REAL=1 make demo (your own AWS config and credentials, no stand-ins).

Open {url}
(Ctrl-C stops everything.)"""


def real(url: str) -> str:
    return f"""
ipy_tempcreds demo against REAL AWS (DEMO_REAL=1): the kernel has your own environment, AWS config and
credentials; nothing local stands in. The quickstart needs roles and buckets of yours: set
DEMO_ANALYTICS_ROLE, DEMO_FINANCE_ROLE, DEMO_SALES_BUCKET and DEMO_FINANCE_BUCKET first.

Open {url}
(Ctrl-C stops everything.)"""
