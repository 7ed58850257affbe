"""The strict stand-in checks MFA codes as AWS does (moto checks none): a role whose trust policy
requires MFA is refused without a code, a TOTP code of the caller's own virtual MFA device is
accepted once, a wrong, old or reused code or someone else's device is refused with AWS's words.
Real moto behind it (its IAM holds the devices and their seeds), IAM auth on, a fake clock."""

from __future__ import annotations

import json

import pytest
from test_faults_strict import client, error_of

import totp
from aws_standin import ACCOUNT, allow
from strict_sts import MFA_INVALID, MFA_UNVALIDATED, strict_aws  # noqa: F401 (the fixture)
from support import FakeClock, role_arn


def assume_with(strict, user, role, serial=None, code=None):
    """AssumeRole through the strict stand-in signed by ``user``'s keys, with an MFA code if given."""
    mfa = {"SerialNumber": serial, "TokenCode": code} if serial else {}
    sts = client(strict, "sts", user.access_key_id, user.secret_access_key)
    return sts.assume_role(RoleArn=role, RoleSessionName="mfa-check", **mfa)["Credentials"]


def mfa_trust(*principals: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})


@pytest.fixture
def world(aws, strict_aws):
    """alice with a virtual MFA device; Auditor requires MFA, Reader does not; bob has no device."""
    iam = aws.client("iam")
    alice = aws.base_user
    bob = aws.create_user("bob", allow(["sts:AssumeRole"]))
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    clock = FakeClock()
    when = clock().timestamp()
    iam.enable_mfa_device(UserName="alice", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.code(seed, when, offset=-2),
                          AuthenticationCode2=totp.code(seed, when, offset=-1))
    iam.create_role(RoleName="Auditor", AssumeRolePolicyDocument=mfa_trust(alice.arn, bob.arn))
    aws.create_role("Reader", [alice.arn])
    aws.set_auth(True)
    strict_aws.clock = clock
    return alice, bob, device["SerialNumber"], seed, clock


def test_a_role_that_requires_mfa_is_refused_without_a_code_as_aws_refuses_it(world, strict_aws):
    alice, *_ = world
    code, message, status = error_of(lambda: assume_with(strict_aws, alice, role_arn("Auditor")))
    assert (code, status) == ("AccessDenied", 403)
    assert message == f"User: {alice.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn('Auditor')}"
    # moto alone would have let it through: the role exists and trusts alice.
    assert assume_with(strict_aws, alice, role_arn("Reader"))["AccessKeyId"].startswith("ASIA")


def test_the_devices_current_code_works_once_and_a_wrong_or_old_code_never(world, strict_aws):
    alice, _, serial, seed, clock = world
    now = clock().timestamp()
    wrong = f"{(int(totp.code(seed, now)) + 1) % 1_000_000:06d}"
    assert error_of(lambda: assume_with(strict_aws, alice, role_arn("Auditor"), serial, wrong)) \
        == ("AccessDenied", MFA_INVALID, 403)
    stale = totp.code(seed, now, offset=-3)  # a code from 90 s ago
    assert error_of(lambda: assume_with(strict_aws, alice, role_arn("Auditor"), serial, stale))[1] == MFA_INVALID
    good = totp.code(seed, now)
    issued = assume_with(strict_aws, alice, role_arn("Auditor"), serial, good)
    assert issued["AccessKeyId"].startswith("ASIA")
    # The same code again (aws-cli in a loop meets this): refused, and the next step's code works.
    assert error_of(lambda: assume_with(strict_aws, alice, role_arn("Auditor"), serial, good))[1] == MFA_INVALID
    clock.advance(30)
    assume_with(strict_aws, alice, role_arn("Auditor"), serial, totp.code(seed, clock().timestamp()))
    # A code from the step before still counts (an authenticator's clock a little behind), once.
    clock.advance(30)
    earlier = totp.code(seed, clock().timestamp(), offset=-1)
    assert error_of(lambda: assume_with(strict_aws, alice, role_arn("Auditor"), serial, earlier))[1] == MFA_INVALID
    assume_with(strict_aws, alice, role_arn("Auditor"), serial, totp.code(seed, clock().timestamp()))


def test_someone_elses_device_or_an_unknown_serial_is_not_validated(world, strict_aws):
    alice, bob, serial, seed, clock = world
    code = totp.code(seed, clock().timestamp())
    assert error_of(lambda: assume_with(strict_aws, bob, role_arn("Auditor"), serial, code)) \
        == ("AccessDenied", MFA_UNVALIDATED, 403)
    unknown = f"arn:aws:iam::{ACCOUNT}:mfa/nobody"
    assert error_of(lambda: assume_with(strict_aws, alice, role_arn("Auditor"), unknown, code))[1] == MFA_UNVALIDATED
    # Lenient where older tests rely on it: a made-up serial on a role that does not require MFA.
    assert assume_with(strict_aws, alice, role_arn("Reader"), unknown, "123456")["AccessKeyId"].startswith("ASIA")
    assert [c for _, c in strict_aws.refused] == ["AccessDenied", "AccessDenied"]


def test_get_session_token_checks_the_code_with_its_own_words(world, strict_aws):
    alice, _, serial, seed, clock = world
    sts = client(strict_aws, "sts", alice.access_key_id, alice.secret_access_key)
    wrong = f"{(int(totp.code(seed, clock().timestamp())) + 1) % 1_000_000:06d}"
    assert error_of(lambda: sts.get_session_token(SerialNumber=serial, TokenCode=wrong))[1] == MFA_UNVALIDATED
    issued = sts.get_session_token(SerialNumber=serial, TokenCode=totp.code(seed, clock().timestamp()))["Credentials"]
    assert issued["SessionToken"]

