"""What can go wrong with a console sign-in, as errors whose text is shown as it is (one line,
no secret)."""

from __future__ import annotations

from ...base.errors import TempCredsError

EXTRA = 'pip install "ipy_tempcreds[login]"'


class LoginError(TempCredsError):
    """AWS Sign-In refused, could not be reached, or its answer could not be used."""

    code = ""  # the service's error code (AUTHCODE_EXPIRED, ...), when it gave one


class CodeRejected(LoginError):
    """The pasted code or the browser's answer cannot complete this sign-in; the sign-in stays
    open for another try."""


class SessionEnded(LoginError):
    """The login session is over (expired, ended or the user's credentials changed): sign in again."""


class DependencyMissing(LoginError):
    """awscrt (botocore's ``crt`` extra) is not installed."""


def missing_crt() -> DependencyMissing:
    return DependencyMissing(f"%aws_login needs awscrt for its DPoP key, as `aws login` and botocore do: {EXTRA} "
                             "(botocore's [crt] extra), then run %aws_login again.")
