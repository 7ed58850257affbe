"""The demo's world on the local AWS stand-in: an analyst with an MFA device, roles with different
S3 access (one needs MFA, one does not trust the analyst), two buckets with small, realistic data.

Also what the demo's Identity Center (an SSO role) and AWS Sign-In stand-ins hand out, seeded by
demo/standins.py. Nothing here starts a server.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta

import totp
from aws_standin import ACCOUNT, LocalAws, User, allow

SALES_BUCKET = "demo-sales"
FINANCE_BUCKET = "demo-finance"
ROLES = {
    "analytics": f"arn:aws:iam::{ACCOUNT}:role/analytics-reader",
    "finance": f"arn:aws:iam::{ACCOUNT}:role/finance-reader",
}
AUDITOR = f"arn:aws:iam::{ACCOUNT}:role/auditor"  # reads both buckets; its trust policy requires MFA
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/admin"  # trusts someone else
MFA_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/analyst"


@dataclass(frozen=True)
class Analyst:
    """Who the demo's kernel is: an IAM user's keys, and the seed of its virtual MFA device."""

    user: User
    mfa_seed: str

    def environ(self) -> dict[str, str]:
        return self.user.environ()


def sales_csv(rows: int = 200, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "region", "product", "units", "revenue"])
    start = date(2026, 1, 1)
    for i in range(rows):
        units = rng.randint(1, 40)
        product, price = rng.choice([("widget", 12.5), ("gadget", 31.0), ("gizmo", 7.25)])
        writer.writerow([start + timedelta(days=i % 90), rng.choice(["emea", "amer", "apac"]),
                         product, units, round(units * price, 2)])
    return out.getvalue().encode()


def budget_csv() -> bytes:
    return b"quarter,budget\n2026-Q1,120000\n2026-Q2,135000\n"


def reads(*buckets: str) -> str:
    return allow(["s3:GetObject", "s3:ListBucket"], [f"arn:aws:s3:::{b}{s}" for b in buckets for s in ("", "/*")])


def mfa_trust(principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": [principal]}, "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})


def seed(aws: LocalAws, *, auth: bool = True) -> Analyst:
    """Create the world with auth off, then switch IAM auth on so that roles matter."""
    aws.reset()
    user = aws.create_user("analyst", policy=allow(["sts:AssumeRole", "sts:TagSession", "sts:GetCallerIdentity",
                                                    "sts:GetSessionToken"]))
    aws.create_role("analytics-reader", [user.arn], policy=reads(SALES_BUCKET))
    aws.create_role("finance-reader", [user.arn], policy=reads(FINANCE_BUCKET))
    # A role the analyst may not assume: its trust policy names someone else.
    aws.create_role("admin", [f"arn:aws:iam::{ACCOUNT}:user/platform-team"])
    iam = aws.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="analyst")["VirtualMFADevice"]
    mfa_seed = device["Base32StringSeed"].decode()
    iam.enable_mfa_device(UserName="analyst", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.code(mfa_seed, offset=-2),
                          AuthenticationCode2=totp.code(mfa_seed, offset=-1))
    iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=mfa_trust(user.arn), MaxSessionDuration=43200)
    iam.put_role_policy(RoleName="auditor", PolicyName="access", PolicyDocument=reads(SALES_BUCKET, FINANCE_BUCKET))
    aws.create_bucket(SALES_BUCKET, {"sales.csv": sales_csv()})
    aws.create_bucket(FINANCE_BUCKET, {"budget.csv": budget_csv()})
    if auth:
        aws.set_auth(True)
    return Analyst(user, mfa_seed)
