"""Temporary AWS credentials as part of the Jupyter/IPython kernel.

    %load_ext ipy_tempcreds
    %assume_role arn:aws:iam::123456789012:role/Reader --duration 2h
    %aws_whoami
    %assume_role --clear

Configure in ipython_config.py (``c.TempCreds.roles = {...}``) or with ``%config TempCreds``.
Loading is cheap: boto3 and ipywidgets are imported on first use.
"""

__version__ = "0.2.0.dev0"  # the one place the version is written (pyproject.toml reads it)

from typing import TYPE_CHECKING

__all__ = [
    "assume_role",
    "as_role",
    "can_read",
    "federation_token",
    "session_token",
    "current",
    "refresh",
    "clear",
    "session",
    "share_with",
    "follow",
    "pins",
    "unpin",
    "sign",
    "presign",
    "SigV4Auth",
    "whoami",
    "panel",
    "console_url",
    "Grant",
    "TemporaryCredentials",
    "TempCreds",
    "TempCredsError",
    "load_ipython_extension",
    "unload_ipython_extension",
]

# The names above resolve on first use (PEP 562): `import ipy_tempcreds` and `%load_ext` import
# neither the core nor anything it needs. Importing them eagerly made up ~50 of the ~90 ms that
# `%load_ext ipy_tempcreds` took (benchmarks/bench_load.py; `import boto3` takes ~300 ms there).
_HOMES = {"Grant": "model.credentials", "TemporaryCredentials": "model.credentials", "TempCreds": "model.settings",
          "TempCredsError": "base.errors", "panel": "ui.widgets.role_panel"}  # every other public name lives in api

if TYPE_CHECKING:  # for editors and type checkers
    from .api import *  # noqa: F403
    from .base.errors import TempCredsError
    from .model.credentials import Grant, TemporaryCredentials
    from .model.settings import TempCreds
    from .ui.widgets.role_panel import panel


def __getattr__(name: str):
    from importlib import import_module

    if name in __all__:
        value = getattr(import_module(f".{_HOMES.get(name, 'api')}", __name__), name)
    else:
        try:  # a submodule not imported yet (ipy_tempcreds.api, ...)
            value = import_module(f".{name}", __name__)
        except ImportError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython):
    """Load the extension into `ipython`: what `%load_ext ipy_tempcreds` calls.

    Registers the magics and the `TempCreds` options; imports neither boto3 nor ipywidgets.
    """
    from .ui.extension import load

    load(ipython)


def unload_ipython_extension(ipython):
    """Unload the extension: what `%unload_ext ipy_tempcreds` calls.

    Stops renewal and restores every environment variable touched.
    """
    from .ui.extension import unload

    unload(ipython)


# Every record of the package's logger is scrubbed of secret-shaped text before any handler sees
# it (base/logs.py); installed at import so that no path that logs can run before it. Costs logging and
# base/errors.py (re), both imported by IPython already.
from .base import logs as _logs  # noqa: E402

_logs.install()
