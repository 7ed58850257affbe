"""The public interface, listed: what users, notebooks and configuration files rely on.

Modules move between rounds (the package's layout is internal); these names must not. Adding a
name is fine; a name that disappears fails here, saying which. The magics' options are read from
their parsers as IPython builds them, the options of ``c.TempCreds`` from the traits, the panels'
model names from the widgets (the names saved in notebooks' widget state).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import ipy_tempcreds

PYTHON_NAMES = {
    "assume_role", "federation_token", "session_token", "current", "refresh", "clear", "session",
    "share_with", "follow", "pins", "unpin", "sign", "presign", "SigV4Auth", "whoami", "panel", "console_url", "Grant",
    "TemporaryCredentials", "TempCreds", "TempCredsError", "load_ipython_extension",
    "unload_ipython_extension", "as_role", "can_read",
}
MAGIC_OPTIONS = {
    "assume_role": {"--chain", "--clear", "--dask", "--duration", "--external-id", "--mfa-code", "--mfa-serial",
                    "--no-auto-refresh", "--pin", "--policy", "--policy-arn", "--profile", "--quiet", "--refresh",
                    "--region", "--session-name", "--source-identity", "--status", "--tag", "--transitive-tag", "-q"},
    "federation_token": {"--duration", "--no-auto-refresh", "--policy", "--policy-arn", "--profile", "--quiet",
                         "--region", "-q"},
    "session_token": {"--duration", "--mfa-code", "--mfa-serial", "--no-auto-refresh", "--profile", "--quiet",
                      "--region", "-q"},
    "aws_whoami": set(),
    "role_panel": {"--sidebar"},
    "aws_console": {"--print", "--region"},
    "sso_login": {"--logout", "--sso-region", "--start-url"},
    "aws_login": {"--cancel", "--code", "--logout", "--profile", "--remote"},
    "aws_can": {"--mfa", "--mfa-code"},
}
# Cell magics: %%as_role takes %assume_role's options for a new assume.
CELL_MAGIC_OPTIONS = {
    "as_role": {"--chain", "--duration", "--external-id", "--mfa-code", "--mfa-serial", "--no-auto-refresh", "--policy",
                "--policy-arn", "--profile", "--region", "--session-name", "--source-identity", "--tag",
                "--transitive-tag"},
}
CONFIG_OPTIONS = {
    "auto_refresh", "default_duration", "delivery", "mfa_session_duration", "recent_roles_file",
    "recent_roles_limit", "refresh_margin", "region", "roles", "session_name", "signin_endpoint",
    "sts_timeout", "time_zone", "explain_access_denied",
}
WIDGET_MODELS = {
    "RolePanel": {"account", "auto_refresh", "busy", "default_duration", "delivery", "duration_options", "error",
                  "expires_at", "expires_zone", "identity", "mfa_device", "needs_mfa", "obtained_at",
                  "other_sessions", "problem", "role_label", "role_options", "show_console", "show_sso", "source",
                  "source_detail", "sso_prompt", "time_zone", "show_login", "login_prompt", "login_ends", "cell_role",
                  # issue 29: the Refresh confirmation, one name for an SSO role, the picker's duration
                  "notice", "role_name", "active_duration"},
    "ConsoleLink": {"destination", "identity", "region", "service"},
}
CSS_CLASSES = ("tempcreds-panel", "tempcreds-role", "tempcreds-duration", "tempcreds-assume", "tempcreds-refresh",
               "tempcreds-release", "tempcreds-identity", "tempcreds-remaining", "tempcreds-error",
               # docs/panel.md lists these too
               "tempcreds-console", "tempcreds-sso", "tempcreds-status", "tempcreds-notice", "tempcreds-problem")


def test_every_public_python_name_is_there_and_resolves():
    assert PYTHON_NAMES - set(ipy_tempcreds.__all__) == set()
    for name in sorted(PYTHON_NAMES):
        assert getattr(ipy_tempcreds, name) is not None, name


def test_every_option_of_c_tempcreds_is_there_with_its_help():
    settings = ipy_tempcreds.TempCreds
    traits = settings.class_own_traits(config=True)
    assert CONFIG_OPTIONS - set(traits) == set()
    assert [name for name, trait in traits.items() if not trait.help] == []


@pytest.mark.parametrize("kind, declared", [("line", MAGIC_OPTIONS), ("cell", CELL_MAGIC_OPTIONS)])
def test_every_magic_and_option_is_there(shell, kind, declared):
    magics = shell.magics_manager.magics[kind]
    assert set(declared) - set(magics) == set()
    for name, expected in declared.items():
        magic = magics[name]
        parser = getattr(getattr(magic, "__func__", magic), "parser", None)
        if parser is None and getattr(magic, "getdoc", None) is not None:
            magic.getdoc()  # builds the parser, as `%magic?` does
            parser = getattr(getattr(magic, "__func__", magic), "parser", None)
        flags = {flag for action in parser._actions for flag in action.option_strings} if parser else set()
        assert expected - flags == set(), f"%{name} lost {sorted(expected - flags)}"


def widget_classes() -> dict[str, type]:
    found = {}
    for module in pkgutil.walk_packages(ipy_tempcreds.__path__, "ipy_tempcreds."):
        if module.name.endswith(("dask", "dask_sharing")):
            continue  # needs distributed; no widget there
        imported = importlib.import_module(module.name)
        for name in WIDGET_MODELS:
            if isinstance(getattr(imported, name, None), type):
                found[name] = getattr(imported, name)
    return found


def test_the_widget_model_names_saved_in_notebooks_are_there():
    classes = widget_classes()
    assert set(classes) == set(WIDGET_MODELS)
    for name, expected in WIDGET_MODELS.items():
        synced = set(classes[name].class_traits(sync=True))
        assert expected - synced == set(), f"{name} lost {sorted(expected - synced)}"


@pytest.mark.parametrize("css_class", CSS_CLASSES)
def test_the_panel_keeps_its_stable_css_classes(css_class):
    """Users' stylesheets and the browser tests select these; the panel's script and CSS set them."""
    folder = Path(importlib.import_module(widget_classes()["RolePanel"].__module__).__file__).parent
    assets = [*folder.glob("*.js"), *folder.glob("*.css")]
    assert assets and any(css_class in path.read_text() for path in assets)
