"""The console sign-in of ``aws login`` (AWS Sign-In, AWS CLI 2.32+), as a credential source.

``authorization`` builds the browser's link (PKCE, state) and reads the code pasted back;
``callback`` is the loopback server of the same-device flow; ``dpop`` the DPoP key and its proofs
(awscrt, imported on use); ``calls`` CreateOAuth2Token and its refusals in words; ``endpoint`` where
AWS Sign-In is, found as botocore finds it; ``cache`` botocore's login cache; ``profile`` the AWS
config file's ``login_session``; ``signin`` one sign-in from link to cache; ``source`` the grant's
credentials and their renewal for the issuer. Nothing here imports IPython.
"""
