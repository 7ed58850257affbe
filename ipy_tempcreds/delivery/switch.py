"""The switch between the deliveries: ``DeliverySwitch`` is what the manager holds, the delivery
``TempCreds.delivery`` names (delivery/environment.py or delivery/endpoint_delivery.py), changed
while active by :func:`move` (one write of the environment).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import MutableMapping

from ..base import forks
from ..base.errors import InvalidInput, TempCredsError, scrub
from ..model.credentials import TemporaryCredentials
from .endpoint_delivery import (  # noqa: F401  (re-exported: the deliveries' names live here for callers)
    FULL_URI,
    SERVED_VARIABLES,
    SET_ASIDE_VARIABLES,
    TOKEN,
    TOKEN_FILE,
    EndpointDelivery,
    Route,
    Served,
)
from .environment import KernelEnvironment

log = logging.getLogger("ipy_tempcreds")
MODES = ("environment", "endpoint")
PIN_NEEDS_ENDPOINT = (
    "pinning serves a grant to processes started from the kernel, which only the endpoint delivery does: "
    "`%config TempCreds.delivery = 'endpoint'` first (in the environment delivery every process keeps the "
    "set it started with until it expires); nothing was changed.")


class DeliverySwitch:
    """The manager's writer: the delivery in force (``"environment"`` or ``"endpoint"``), which
    :meth:`use` changes at any time, moving live credentials from one to the other in one step.

    The same interface as the deliveries themselves, so the manager and the STS gateway hold this
    one object for the kernel's life, whatever ``TempCreds.delivery`` says.
    """

    def __init__(self, environ: MutableMapping[str, str] | None = None, mode: str = "environment"):
        self.environ = os.environ if environ is None else environ
        self._environment = KernelEnvironment(self.environ)
        self._endpoint: EndpointDelivery | None = None
        self._active: KernelEnvironment | EndpointDelivery = self._environment
        self._last: tuple[TemporaryCredentials, str | None] | None = None  # what a move hands over
        self._lock = threading.RLock()
        forks.renew_in_child(self)
        self.use(mode)

    def _after_fork(self) -> None:
        self._lock = threading.RLock()  # the parent's renewal thread may have held it mid-inject

    @property
    def mode(self) -> str:
        return self._active.name

    @property
    def injected(self) -> bool:
        return self._active.injected

    @property
    def url(self) -> str:
        """Where the endpoint serves, while it does ('' otherwise)."""
        return self._active.url if isinstance(self._active, EndpointDelivery) else ""

    def describe(self) -> str:
        """One line for status: the mode, and where the endpoint serves (never the token)."""
        if self.mode == "environment":
            return "environment (key variables in the kernel's environment)"
        return f"endpoint ({self.url})" if self.url else "endpoint (serves while a role is active)"

    def original(self) -> dict[str, str]:
        return self._active.original()

    def original_key(self) -> tuple:
        return self._active.original_key()

    def inject(self, credentials: TemporaryCredentials, account: str | None, children: Route | None = None) -> None:
        """Deliver ``credentials``; ``children``: the route of a pin (:meth:`pin`) that processes
        started from now on get instead of the credentials that follow the kernel."""
        with self._lock:
            if isinstance(self._active, EndpointDelivery):
                self._active.inject(credentials, account, children=children)
            else:
                self._active.inject(credentials, account)
            self._last = (credentials, account)

    def restore(self) -> bool:
        with self._lock:
            self._last = None
            return self._active.restore()

    def close(self) -> None:
        """Unload or kernel exit: restore, and stop the credential server if one was started."""
        with self._lock:
            self.restore()
            if self._endpoint is not None:
                self._endpoint.close()

    # -- pins: a grant served at a path of its own while the kernel switches (core/pins.py) ----------

    def pin(self, credentials: TemporaryCredentials, account: str | None) -> Route:
        """Serve ``credentials`` at a path and token of their own (the endpoint delivery must be in force)."""
        with self._lock:
            if not isinstance(self._active, EndpointDelivery):
                raise InvalidInput(PIN_NEEDS_ENDPOINT)
            return self._active.pin(credentials, account)

    def repin(self, route: Route, credentials: TemporaryCredentials, account: str | None) -> None:
        if self._endpoint is not None:
            self._endpoint.repin(route, credentials, account)

    def unpin(self, route: Route, message: str | None = None) -> None:
        with self._lock:
            if self._endpoint is not None:
                self._endpoint.unpin(route, *([message] if message else []))

    def follow_setting(self, change, lock, settings) -> None:
        """``TempCreds.delivery`` changed (``change``, traitlets'): use the new mode under ``lock``
        (the manager's: no renewal lands meanwhile); if the endpoint cannot start, say so and put
        the setting back, staying with the delivery in force."""
        try:
            with lock:
                self.use(change["new"])
        except TempCredsError as exc:
            log.warning("ipy_tempcreds: %s", scrub(str(exc)))
            settings.delivery = change["old"]

    def use(self, mode: str) -> None:
        """Deliver through ``mode`` from now on; credentials in force move at once (:func:`move`)."""
        if mode not in MODES:
            raise ValueError(f"delivery must be one of {MODES}, not {mode!r}")
        with self._lock:
            if mode == self.mode:
                return
            new: KernelEnvironment | EndpointDelivery
            if mode == "endpoint":
                self._endpoint = self._endpoint or EndpointDelivery(self.environ)
                new = self._endpoint
            else:
                new = self._environment
            if self._active.injected and self._last is not None:
                move(self._active, new, *self._last)
            self._active = new


def move(old, new, credentials: TemporaryCredentials, account: str | None) -> None:
    """Deliver the credentials in force through ``new`` instead of ``old``, in one write of the
    environment: a reader of ``os.environ`` sees one delivery or the other, never neither, and
    ``new.restore()`` then gives back the environment as it was before ``old`` touched it.

    Either side is a delivery (KernelEnvironment, EndpointDelivery): ``old`` hands over the changes
    that would restore the environment, ``new`` applies them with its own, and ``old`` stops only
    once nothing points at it. The caller (the manager, under its lock) makes sure no renewal lands
    on either meanwhile.
    """
    handover = old.detach() or {}
    try:
        new.inject(credentials, account, handover=handover)
    except TempCredsError:
        old.reattach(handover)  # nothing was written: the old delivery stays in force
        raise
    old.after_move()
