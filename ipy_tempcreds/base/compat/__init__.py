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
Imports nothing heavy: callers pass the objects in, and each module is imported when one of its
names is first used (ctypes, for the C environment, with the core's first use: delivery/writes.py;
not by `%load_ext`).
One module per project (environ: Python and the C library; aws_sdk: botocore and boto3; readers:
s3fs and polars; stdlib: argparse); every name is here, and ``__all__`` lists them for ruff (the
TYPE_CHECKING imports below are what type checkers read).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# Where each name lives: resolved on first use (PEP 562), so that `%load_ext`, which needs only the
# argparse accessors, imports neither ctypes nor the others (benchmarks/bench_load.py).
_HOMES = {
    "client_credentials": "aws_sdk",
    "container_environ": "aws_sdk",
    "container_fetcher": "aws_sdk",
    "env_fetcher": "aws_sdk",
    "forget_default_session_credentials": "aws_sdk",
    "forget_session_credentials": "aws_sdk",
    "reads_kernel_environment": "aws_sdk",
    "refreshable_base": "aws_sdk",
    "resolved_endpoint_url": "aws_sdk",
    "set_client_credentials": "aws_sdk",
    "set_container_environ": "aws_sdk",
    "set_container_fetcher": "aws_sdk",
    "set_env_fetcher": "aws_sdk",
    "set_process_popen": "aws_sdk",
    "set_session_credentials": "aws_sdk",
    "sourced_providers": "aws_sdk",
    "sso_token_cache_dir": "aws_sdk",
    "sso_token_provider": "aws_sdk",
    "unwrap_credential_resolvers": "aws_sdk",
    "wrap_credential_resolvers": "aws_sdk",
    "CEnvironment": "environ",
    "c_environment": "environ",
    "c_environment_of": "environ",
    "environ_data": "environ",
    "is_os_environ": "environ",
    "publish_c_environment": "environ",
    "swap_environ_data": "environ",
    "polars_default_credential_provider": "readers",
    "s3fs_cached_instances": "readers",
    "s3fs_client": "readers",
    "s3fs_owns_session": "readers",
    "parser_options": "stdlib",
    "parser_positionals": "stdlib",
}
_MODULES = tuple(dict.fromkeys(_HOMES.values()))

if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
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
    from .environ import (
        CEnvironment,
        c_environment,
        c_environment_of,
        environ_data,
        is_os_environ,
        publish_c_environment,
        swap_environ_data,
    )
    from .readers import (
        polars_default_credential_provider,
        s3fs_cached_instances,
        s3fs_client,
        s3fs_owns_session,
    )
    from .stdlib import (
        parser_options,
        parser_positionals,
    )


def __getattr__(name: str):
    if name == "CHECKED_ON":  # every accessor and the versions it was checked on, for tests/base/test_compat.py
        value: object = {key: checked for module in _MODULES
                         for key, checked in import_module(f".{module}", __name__).CHECKED_ON.items()}
    elif name in _HOMES:
        value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


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
