"""Every use of another project's private internals, in one place, each with the versions it was
checked on. tests/base/test_compat.py fails loudly, naming the accessor, when a new version breaks one.

Each is used only where no documented API does the job (not to save time): an atomic swap of the
environment, the C library's ``environ`` array (written without freeing what native threads may be
reading: :func:`publish_c_environment`), refreshable credentials on a botocore session, a default chain reading another
environment, s3fs filesystems that keep credentials after the environment changed, credentials
that follow the kernel in every botocore session (followers/boto3_clients.py), polars' default
credential provider, which has a setter but no getter (followers/polars.py), and botocore's SSO
token cache and refresh for a sign-in that no profile names (sources/sso/device.py), the
endpoint botocore's rules resolve for an operation (sources/login/endpoint.py), and the options
of a magic's argparse parser (ui/mistyped.py).
Imports nothing heavy: callers pass the objects in. One module per project (environ: Python and
the C library; aws_sdk: botocore and boto3; readers: s3fs and polars; stdlib: argparse); every
name is here.
"""

from __future__ import annotations

from .aws_sdk import CHECKED_ON as _AWS_SDK
from .aws_sdk import (
    client_credentials,
    container_environ,
    container_fetcher,
    env_fetcher,
    forget_default_session_credentials,
    forget_session_credentials,
    reads_kernel_environment,
    refreshable_base,
    resolved_endpoint_url,
    set_client_credentials,
    set_container_environ,
    set_container_fetcher,
    set_env_fetcher,
    set_process_popen,
    set_session_credentials,
    sourced_providers,
    sso_token_cache_dir,
    sso_token_provider,
    unwrap_credential_resolvers,
    wrap_credential_resolvers,
)
from .environ import CHECKED_ON as _ENVIRON
from .environ import (
    CEnvironment,
    c_environment,
    c_environment_of,
    environ_data,
    is_os_environ,
    publish_c_environment,
    swap_environ_data,
)
from .readers import CHECKED_ON as _READERS
from .readers import (
    polars_default_credential_provider,
    s3fs_cached_instances,
    s3fs_client,
    s3fs_owns_session,
)
from .stdlib import CHECKED_ON as _STDLIB
from .stdlib import parser_options, parser_positionals

CHECKED_ON = {**_ENVIRON, **_AWS_SDK, **_READERS, **_STDLIB}

__all__ = [
    "is_os_environ",
    "environ_data",
    "swap_environ_data",
    "CEnvironment",
    "c_environment_of",
    "c_environment",
    "publish_c_environment",
    "set_session_credentials",
    "forget_session_credentials",
    "forget_default_session_credentials",
    "set_client_credentials",
    "env_fetcher",
    "set_env_fetcher",
    "container_fetcher",
    "set_container_fetcher",
    "container_environ",
    "set_container_environ",
    "sourced_providers",
    "set_process_popen",
    "resolved_endpoint_url",
    "sso_token_cache_dir",
    "sso_token_provider",
    "wrap_credential_resolvers",
    "unwrap_credential_resolvers",
    "reads_kernel_environment",
    "client_credentials",
    "refreshable_base",
    "s3fs_cached_instances",
    "s3fs_client",
    "s3fs_owns_session",
    "polars_default_credential_provider",
    "parser_options",
    "parser_positionals",
    "CHECKED_ON",
]
