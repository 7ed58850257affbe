"""Everything one kernel keeps between cells, in one place, cleared by one call (:func:`reset`).

The manager and its settings, the readers' followers, the sidebar panel, the Dask sharings, the
s3fs filesystems being followed, the presigning client cache, the IAM Identity Center sign-ins
watched and the console sign-in of %aws_login. ``%unload_ext``, ```%reset`` and the tests call
:func:`reset`; nothing else in the package keeps per-kernel module globals. At import it takes
nothing from the package (every module may import it without an import cycle); :func:`manager`,
:func:`settings` and :func:`followers` import the core, the settings and the followers inside, and
create them on first use.
"""

from __future__ import annotations

import sys
import threading
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.manager import CredentialManager
    from .direct.signing import PresigningClients
    from .followers import Followers
    from .followers.dask import DaskSharings
    from .model.settings import TempCreds


class KernelState:
    """The per-kernel objects; attributes are None (or empty) until first used."""

    def __init__(self):
        self.lock = threading.RLock()
        self.manager: CredentialManager | None = None
        self.settings: TempCreds | None = None
        # The readers' followers (SDK caches, boto3 clients, polars, DuckDB): what they publish and
        # follow, and the hooks they attached to those libraries (made by followers()).
        self.followers: Followers | None = None
        # Set by %load_ext, cleared by %unload_ext; a reset keeps it (the extension stays loaded),
        # so the next followers are attached to their libraries as the ones before were.
        self.attach_followers = False
        self.sidebar: tuple[Any, Any] | None = None  # (Sidecar, RolePanel) of %role_panel --sidebar
        self.dask_sharings: DaskSharings | None = None  # made by the first sharing (it imports distributed)
        self.presigning: PresigningClients | None = None  # S3 clients presign() keeps (made on first use)
        self.sso_watch: Any = None  # sources.sso.watch.SignInWatch of the sign-ins %sso_login made here
        self.sso_roles: dict[str, Any] = {}  # panel label -> sources.sso.portal.SsoRole listed after a sign-in
        self.login: Any = None  # sources.login.signin.SignIn: the %aws_login sign-in started last (maybe waiting)
        self.login_notice: Any = None  # the login session end already announced before a cell


STATE = KernelState()
# The package's module object, held here so that it outlives a `%reset --aggressive` (keep_modules).
_PACKAGE = sys.modules[__name__.rpartition(".")[0]]


def keep_modules() -> None:
    """Put the package's modules back into ``sys.modules`` after ``%reset -f --aggressive``.

    That reset deletes from sys.modules every module imported since the shell started. The next
    ``from . import api`` would then import a fresh copy, with a fresh STATE and no manager, while
    the role's keys stayed in the environment and the old manager's thread went on renewing them:
    an active role nothing could show or clear. The modules still exist (the magics, the hooks and
    that thread hold them): they go back, and every import finds them again. Called by the
    pre-cell hook and by the magics; costs one dictionary lookup when nothing was culled.
    """
    if sys.modules.get(_PACKAGE.__name__) is _PACKAGE:
        return
    prefix = _PACKAGE.__name__ + "."
    stack, seen = [_PACKAGE], set()
    while stack:
        module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        sys.modules[module.__name__] = module
        # Each imported submodule is an attribute of its package (importlib sets it).
        stack.extend(value for value in vars(module).values()
                     if isinstance(value, types.ModuleType) and value.__name__.startswith(prefix))


def dask_sharings() -> DaskSharings | None:
    """The kernel's Dask sharings, made on first use; None where Dask is not installed."""
    with STATE.lock:
        if STATE.dask_sharings is None:
            try:
                from .followers.dask import DaskSharings
            except ImportError:
                return None
            STATE.dask_sharings = DaskSharings()
        return STATE.dask_sharings


def followers() -> Followers:
    """The kernel's readers' followers (made on first use; attached to their libraries while the
    extension is loaded, subscribed to the manager when it is installed, detached by a reset)."""
    with STATE.lock:
        if STATE.followers is None:
            from .followers import Followers

            made = STATE.followers = Followers()
            if STATE.attach_followers:
                made.install()
        return STATE.followers


def manager() -> CredentialManager:
    """The kernel's one CredentialManager (created on first use, with its followers: install())."""
    with STATE.lock:
        if STATE.manager is None:
            from .base import logs
            from .core.manager import CredentialManager

            logs.install_record_factory()  # plain Python too: no log record shows a secret
            made = CredentialManager(_get_settings())
            install(made)
            return made
        return STATE.manager


def settings() -> TempCreds:
    """The kernel's TempCreds options: the manager's, or the ones it will have once created."""
    with STATE.lock:
        return _get_settings()


def _get_settings() -> TempCreds:
    if STATE.manager is not None:
        return STATE.manager.settings
    if STATE.settings is None:
        from .model.settings import TempCreds

        STATE.settings = TempCreds()
    return STATE.settings


def presigning_clients() -> PresigningClients:
    """The kernel's presigning S3 clients (made on first use)."""
    with STATE.lock:
        if STATE.presigning is None:
            from .direct.signing import PresigningClients

            STATE.presigning = PresigningClients()
        return STATE.presigning


def install(manager: CredentialManager) -> None:
    """Make ``manager`` the kernel's: every reader that follows hears its changes, in order (the
    SDK caches first); :func:`reset` closes it. The API's first use calls this; tests with a fake
    clock too."""
    with STATE.lock:
        for follower in followers().all():
            manager.subscribe(follower.on_change)
        STATE.manager = manager


def reset() -> None:
    """Forget everything this kernel kept: close the manager (restoring the environment), detach
    the readers' followers, stop Dask sharings, close the sidebar panel, drop cached clients and
    followed filesystems."""
    with STATE.lock:
        manager, STATE.manager, STATE.settings = STATE.manager, None, None
        followers, STATE.followers = STATE.followers, None
        sidebar, STATE.sidebar = STATE.sidebar, None
        STATE.sso_watch = None
        STATE.sso_roles = {}
        login, STATE.login, STATE.login_notice = STATE.login, None, None
    if login is not None:
        login.close()  # a sign-in still waiting stops (and frees its loopback port)
    if manager is not None:
        # First: its clear reaches every follower (Dask workers get their own variables back),
        # and open panels see it closed and stop injecting through it.
        manager.close()
    if followers is not None:
        # After the close: the readers heard the clear (DuckDB's secret, polars' default put
        # back); then their hooks leave the libraries, for what is created from now on.
        followers.uninstall()
    with STATE.lock:
        sharings, STATE.dask_sharings = STATE.dask_sharings, None
    if sharings is not None:  # any left (of another manager): stop following
        sharings.stop_all()
    if sidebar is not None:
        for part in reversed(sidebar):
            part.close()
    with STATE.lock:
        presigning, STATE.presigning = STATE.presigning, None
    if presigning is not None:
        presigning.clear()


def close_at_exit() -> None:
    """Kernel shutdown: stop the renewal thread, if a manager was ever created."""
    manager = STATE.manager
    if manager is not None:
        manager.close()
