"""Credential sources: one object per source, behind one small interface.

Each request names its source (``request.source``); the issuer (core) hands it to that object:
``obtain(request, *, mfa_code=None, signer=None, signer_name=..., chained=False) -> Issued``,
``describe(request)``, ``service`` and ``mfa_note``. ``sts.StsGateway`` serves AssumeRole,
GetFederationToken and GetSessionToken; ``sso.portal.IdentityCenterSource`` IAM Identity Center's
role credentials (``sso/`` also holds the device sign-in and botocore's token cache);
``login.source.LoginSource`` the console sign-in of ``%aws_login`` (``login/`` also holds the
sign-in itself, botocore's login cache and the profile's ``login_session``). A new source
is one new module here and one entry in the issuer's table. Sources do not import each other.
"""
