"""The demo's world on the local AWS stand-in: an analyst, two roles with different S3 access,
and two buckets with small, realistic data."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from aws_standin import ACCOUNT, LocalAws, allow

SALES_BUCKET = "demo-sales"
FINANCE_BUCKET = "demo-finance"
ROLES = {
    "analytics": f"arn:aws:iam::{ACCOUNT}:role/analytics-reader",
    "finance": f"arn:aws:iam::{ACCOUNT}:role/finance-reader",
}


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


def seed(aws: LocalAws):
    """Create the world with auth off, then switch IAM auth on so that roles matter."""
    aws.reset()
    analyst = aws.create_user("analyst", policy=allow(["sts:AssumeRole", "sts:TagSession", "sts:GetCallerIdentity"]))
    aws.create_role("analytics-reader", [analyst.arn],
                    policy=allow(["s3:GetObject", "s3:ListBucket"], [f"arn:aws:s3:::{SALES_BUCKET}", f"arn:aws:s3:::{SALES_BUCKET}/*"]))
    aws.create_role("finance-reader", [analyst.arn],
                    policy=allow(["s3:GetObject", "s3:ListBucket"], [f"arn:aws:s3:::{FINANCE_BUCKET}", f"arn:aws:s3:::{FINANCE_BUCKET}/*"]))
    # A role the analyst may not assume: its trust policy names someone else.
    aws.create_role("admin", [f"arn:aws:iam::{ACCOUNT}:user/platform-team"])
    aws.create_bucket(SALES_BUCKET, {"sales.csv": sales_csv()})
    aws.create_bucket(FINANCE_BUCKET, {"budget.csv": budget_csv()})
    aws.set_auth(True)
    return analyst
