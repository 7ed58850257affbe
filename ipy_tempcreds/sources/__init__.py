"""Credential sources: one object per source, behind one small interface.

Each request names its source (``request.source``); the issuer (core) hands it to that object:
``obtain(request, *, mfa_code=None, signer=None, signer_name=..., chained=False) -> Issued``,
``describe(request)``, ``service`` and ``mfa_note``. ``sts.StsGateway`` serves AssumeRole,
GetFederationToken and GetSessionToken; ``sso.portal.IdentityCenterSource`` IAM Identity Center's
role credentials (``sso/`` also holds the device sign-in and botocore's token cache). A new source
is one new module here and one entry in the issuer's table. Sources do not import each other.
"""
