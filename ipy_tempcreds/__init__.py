"""Temporary AWS credentials as part of the Jupyter/IPython kernel.

    %load_ext ipy_tempcreds
    %assume_role arn:aws:iam::123456789012:role/Reader --duration 2h
    %aws_whoami
    %assume_role --clear

Configure in ipython_config.py (``c.TempCreds.roles = {...}``) or with ``%config TempCreds``.
Loading is cheap: boto3 and ipywidgets are imported on first use.
"""

__version__ = "0.1.0"

from .api import assume_role, clear, current, federation_token, panel, refresh, session, session_token, whoami
from .credentials import Grant, TemporaryCredentials
from .errors import TempCredsError
from .settings import TempCreds

__all__ = [
    "assume_role",
    "federation_token",
    "session_token",
    "current",
    "refresh",
    "clear",
    "session",
    "whoami",
    "panel",
    "Grant",
    "TemporaryCredentials",
    "TempCreds",
    "TempCredsError",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython):
    from .extension import load

    load(ipython)


def unload_ipython_extension(ipython):
    from .extension import unload

    unload(ipython)
