"""The credentials beyond the environment: Dask clusters, SigV4-signed requests and presigned URLs,
readers the user created, and the console.
"""

from __future__ import annotations

from .. import _kernel
from ..base.errors import InvalidInput, NotActive, TempCredsError


def share_with(client=None, share: bool = True):
    """Share the active credentials with a Dask cluster and keep them current there.

    Every current and later worker gets them; renewals and switches follow, `clear()` gives the
    workers their own variables back, later assumes reach them again. Needs `ipy_tempcreds[dask]`.

    Args:
        client: A synchronous `distributed.Client` (default: the kernel's default client).
        share: `False` stops sharing with `client` (the workers keep what they have).

    Returns:
        A handle whose `stop()` ends the sharing.
    """
    sharings = _kernel.dask_sharings()
    if sharings is None:
        raise TempCredsError("Dask is not installed: pip install 'dask[distributed]'.")
    if not share:
        return sharings.stop_sharing(client)
    return sharings.share_with(_kernel.manager(), client)


def sign(request, *, service: str = "s3", region: str | None = None):
    """SigV4-sign a `requests.PreparedRequest` or `urllib.request.Request` in place, and return it.

    Signed with the active credentials (the token in `X-Amz-Security-Token`); sign just before
    sending, a signature is valid for 15 minutes.

    ```python
    urllib.request.urlopen(ipy_tempcreds.sign(urllib.request.Request(url)))
    ```

    Args:
        service: The AWS service the request is for (`"s3"`, `"execute-api"`, ...).
        region: Default: `TempCreds.region`, then `AWS_REGION` / `AWS_DEFAULT_REGION`.
    """
    from ..direct.signing import sign as sign_request

    return sign_request(_kernel.manager(), request, service=service, region=region)


class SigV4Auth:
    """A `requests` auth that signs each request with the credentials in force when it is sent.

    ```python
    requests.get(url, auth=ipy_tempcreds.SigV4Auth("execute-api", "eu-west-1"))
    ```

    It holds no secret: it asks the kernel at every request, so it follows renewals and switches.
    """

    def __init__(self, service: str, region: str | None = None, *, manager=None):
        if not service or not isinstance(service, str):
            raise InvalidInput("SigV4Auth needs the AWS service, e.g. SigV4Auth('s3') or SigV4Auth('execute-api').")
        self.service = service
        self.region = region
        self._manager = manager

    def __call__(self, request):
        from ..direct.signing import sign

        manager = self._manager or _kernel.STATE.manager
        if manager is None:  # nothing was ever assumed in this kernel
            raise NotActive("no temporary credentials are active: assume a role before signing requests with them.")
        return sign(manager, request, service=self.service, region=self.region)

    def __repr__(self) -> str:
        return f"SigV4Auth(service={self.service!r}, region={self.region!r})"


def presign(url: str, *, expires=None, method: str = "GET", region: str | None = None) -> str:
    """A presigned HTTPS URL for `s3://BUCKET/KEY`, signed with the active credentials.

    The session token is in its query string: whoever holds the URL can use it. It stops working
    when the credentials that signed it expire; a warning says so when that comes before `expires`.

    Args:
        expires: Seconds, text such as `"15m"`, or a `timedelta`; at most 7 days (default one hour).
        method: `GET`, `PUT`, `HEAD` or `DELETE`.
        region: The bucket's region, if not the default.
    """
    from ..direct.signing import presign as presign_url

    return presign_url(_kernel.manager(), url, expires=expires, method=method, region=region,
                       clients=_kernel.presigning_clients())


def follow(obj):
    """Make a reader you created follow every change: a DuckDB connection, or a Dask client.

    boto3 clients, polars, pandas/s3fs, pyarrow and DuckDB's default connection follow without a
    call. A Dask client is shared with as by `share_with()`. Returns a handle whose `stop()` ends it.
    """
    import sys

    from ..followers.duckdb import is_connection

    if is_connection(obj):
        return _kernel.followers().duckdb.follow_connection(obj)
    distributed = sys.modules.get("distributed")  # a user with a Dask client imported it
    if distributed is not None and isinstance(obj, distributed.Client):
        return share_with(obj)
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    raise InvalidInput(
        f"follow() takes a DuckDB connection or a Dask client, not a {kind}. boto3 clients, "
        "polars, pandas/s3fs, pyarrow and DuckDB's default connection follow without a call; "
        "for anything else, create it again after each change."
    )


def console_url(service: str | None = None, region: str | None = None) -> str:
    """A URL that signs in to the AWS console as the active credentials (the kernel's own without a role).

    It opens `service`'s page (`"s3"`, `"ec2"`, ...) in `region`, or the console home. The URL is a
    bearer secret for 15 minutes: whoever opens it is signed in. Its repr hides the token; `str(url)`
    is the URL. Do not print it into a notebook: `%aws_console` shows a link that lives only in the page.

    Raises:
        TempCredsError: The console does not accept the credentials (an IAM user's keys:
            `%federation_token` first), or the federation endpoint failed.
    """
    from ..direct.console import console_url as signin_url

    return signin_url(_kernel.manager(), service, region)
