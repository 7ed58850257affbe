"""Every use of another project's private internals, in one place, each with the versions it was
checked on. tests/test_compat.py fails loudly, naming the accessor, when a new version breaks one.

Each is used only where no documented API does the job (not to save time): an atomic swap of the
environment, the C library's ``environ`` array (written without freeing what native threads may be
reading: :func:`publish_c_environment`), refreshable credentials on a botocore session, a default chain reading another
environment, s3fs filesystems that keep credentials after the environment changed, credentials
that follow the kernel in every botocore session (followers/boto3_clients.py), polars' default
credential provider, which has a setter but no getter (followers/polars.py), and botocore's SSO
token cache and refresh for a sign-in that no profile names (sso.py).
Imports nothing heavy: callers pass the objects in.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import sys
import threading
from collections.abc import Mapping
from typing import TypeGuard

CHECKED_ON = {
    "python": "3.10-3.13 (os.environ._data, os._Environ)",
    "C library": "glibc 2.36 (environ, setenv.c); musl 1.2.x (environ, putenv.c); macOS Libc "
                 "(_NSGetEnviron, getenv.c's environ_lock_np): see docs/ARCHITECTURE.md",
    "botocore": "1.34-1.43.117",
    "boto3": "1.34-1.43.117",
    "s3fs": "2024.x-2026.9.0 (aiobotocore 2.x-3.10)",
    "botocore (readers)": "1.43.117 (Session._create_credential_resolver, EnvProvider.environ)",
    "polars": "2.1.0 (credential_provider._builder.DEFAULT_CREDENTIAL_PROVIDER)",
}

# -- os.environ (CPython: os._Environ keeps encoded keys and values in ._data) ---------------------


def is_os_environ(environ: object) -> TypeGuard[os._Environ[str]]:
    """True for ``os.environ`` (or another ``os._Environ``), whose mapping can be swapped whole."""
    return isinstance(environ, os._Environ)


def environ_data(environ) -> dict:
    """The mapping behind ``os.environ`` (encoded bytes keys and values); one read, so a copy of it
    is one instant of the environment (``dict(os.environ)`` reads key by key)."""
    return environ._data


def swap_environ_data(environ, data: dict) -> None:
    """Replace the mapping behind ``os.environ`` in one assignment (readers see old or new).

    ``os.environb`` shares that mapping on POSIX (os.py builds it over ``environ._data``): it is
    pointed at the new one too, or ``os.environb`` / ``os.getenvb`` would keep the old values.
    """
    environ._data = data
    environb = getattr(os, "environb", None)
    if environ is os.environ and environb is not None:
        environb._data = data


# -- the C environment (what getenv() in native threads and child processes read) ---------------
# glibc's and musl's setenv() realloc the `environ` array when they add a name and free the old
# block while a native thread (the AWS C++ SDK in pyarrow, DuckDB's httpfs, polars' runtime) may be
# walking it in getenv(), which takes no lock: a segmentation fault. So the product never calls
# setenv(): it builds a new array (with its new strings, in one block) and stores the `environ`
# pointer once, and frees neither old arrays nor strings (docs/ARCHITECTURE.md, "Threads and the
# C environment", says why each C library is safe with it, and what it costs).

_POINTER = ctypes.sizeof(ctypes.c_void_p)


class CEnvironment:
    """The process's C environment, written by publishing a new array (never in place).

    ``cell`` is the ``char **environ`` variable itself (a ``c_void_p`` at its address);
    ``malloc`` and ``free`` the C library's. ``kept_bytes`` counts what was published and is never
    freed (arrays and "NAME=value" strings), ``published`` the arrays.
    """

    def __init__(self, cell: ctypes.c_void_p, malloc, free):
        self._cell = cell
        self._malloc = malloc
        self._free = free
        self._lock = threading.Lock()
        # The array this writer published last: address, length with the NULL, entries, names.
        self._last: tuple[int, int, list[int], list[bytes]] = (0, 0, [], [])
        self.kept_bytes = 0
        self.published = 0
        if hasattr(os, "register_at_fork"):  # a child forked while a writer held it must not wait forever
            os.register_at_fork(after_in_child=self._fresh_lock)

    def _fresh_lock(self) -> None:
        self._lock = threading.Lock()

    def pointer(self) -> int:
        """The address of the array in force (tests watch it move)."""
        return self._cell.value or 0

    def entries(self, address: int | None = None) -> list[int]:
        """The addresses of the "NAME=value" strings of the array at ``address`` (the one in force)."""
        address = self.pointer() if address is None else address
        if not address:
            return []
        if address == self._last[0]:
            # Our own last array: its length is known, one slice reads it (up to the first NULL:
            # unsetenv() may have shifted entries down in place since).
            slots = (ctypes.c_void_p * self._last[1]).from_address(address)[:]
            return [slot for slot in slots[:slots.index(None)] if slot is not None]  # (for the type checker)
        array = ctypes.cast(address, ctypes.POINTER(ctypes.c_void_p))
        found: list[int] = []
        while (entry := array[len(found)]) is not None:
            found.append(entry)
        return found

    def publish(self, changes: Mapping[bytes, bytes | None]) -> None:
        """Set (value) or remove (None) each name, in one store of the ``environ`` pointer: a
        getenv() sees the array before or after, a child forked meanwhile inherits one whole."""
        for name, value in changes.items():
            _check(name, value)
        with self._lock:
            set_names = [name for name, value in changes.items() if value is not None]
            pieces = [name + b"=" + value + b"\0" for name, value in changes.items() if value is not None]
            data = b"".join(pieces)
            while True:
                old, current, names = self._snapshot()
                kept = [(entry, name) for entry, name in zip(current, names, strict=True) if name not in changes]
                count = len(kept) + len(pieces) + 1
                # One block: the array, then the new "NAME=value" strings (C libraries free only
                # strings they allocated themselves, so none needs a block of its own).
                block = self._allocate(count * _POINTER + len(data))
                base = block + count * _POINTER
                ctypes.memmove(base, data, len(data))
                offsets = itertools.accumulate(map(len, pieces), initial=0)
                entries = [entry for entry, _ in kept] + [base + offset for offset, _ in zip(offsets, pieces, strict=False)]
                (ctypes.c_void_p * count).from_address(block)[:] = [*entries, None]
                self._order_stores(block)
                # The GIL was released in the foreign calls: a Python thread may have called
                # os.putenv meanwhile. Then build again from what it left (this block was never
                # published, so it can be freed).
                if self.pointer() == old and self.entries(old) == current:
                    self._cell.value = block
                    self._last = (block, count, entries, [name for _, name in kept] + set_names)
                    break
                self._free(block)
            self.kept_bytes += count * _POINTER + len(data)
            self.published += 1

    def _snapshot(self) -> tuple[int, list[int], list[bytes]]:
        """The array in force: its address, its entries and their names. The names of our own
        last array are known; others' are read (one ctypes slice)."""
        old = self.pointer()
        current = self.entries(old)
        block, _count, entries, names = self._last
        if old == block and current == entries:
            return old, current, names
        texts = (ctypes.c_char_p * len(current)).from_address(old)[:] if current else []
        return old, current, [(text or b"").partition(b"=")[0] for text in texts]

    def _order_stores(self, block: int) -> None:
        """Make every store so far visible before the pointer store that follows, on weakly
        ordered CPUs (arm64) too: a foreign call, before which ctypes releases the GIL and after
        which it takes it back (a mutex unlock, a release, then a lock, an acquire). x86-64 keeps
        stores in order anyway. The pointer store itself is one aligned pointer-sized write
        (ctypes' c_void_p setter), which no reader can see half done."""
        ctypes.memmove(block, block, 0)

    def _allocate(self, size: int) -> int:
        address = self._malloc(size)
        if not address:
            raise MemoryError("no memory for the environment")
        return address


def _check(name: bytes, value: bytes | None) -> None:
    """Refuse what os.putenv refuses, before anything is written."""
    if not name or b"=" in name:
        raise ValueError("illegal environment variable name")
    if b"\0" in name or (value is not None and b"\0" in value):
        raise ValueError("embedded null byte")


def c_environment_of(library, platform: str) -> CEnvironment | None:
    """The writer for ``library`` (a ``ctypes.CDLL``) on ``platform`` (``sys.platform``), or None
    where there is no such mechanism (Windows: its C runtime locks the environment itself).

    Linux, glibc and musl alike, exports the ``environ`` variable; macOS exports it only to the
    main program, and libraries reach it through ``_NSGetEnviron()``, which returns its address.
    """
    if platform == "darwin":
        getter = library._NSGetEnviron
        getter.restype = ctypes.c_void_p
        getter.argtypes = []
        cell = ctypes.c_void_p.from_address(getter())
    elif platform.startswith("linux"):
        cell = ctypes.c_void_p.in_dll(library, "environ")
    else:
        return None
    malloc, free = library.malloc, library.free
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    return CEnvironment(cell, malloc, free)


_C_ENVIRONMENT: list[CEnvironment | None] = []  # [writer or None] once looked up
_LOOKUP_LOCK = threading.Lock()


def c_environment() -> CEnvironment | None:
    """This process's C environment writer (looked up once), or None where unavailable."""
    with _LOOKUP_LOCK:
        if not _C_ENVIRONMENT:
            try:
                # A CDLL of our own: restype/argtypes set on its functions touch no one else's.
                library = ctypes.CDLL(None) if sys.platform != "win32" else None
                _C_ENVIRONMENT.append(c_environment_of(library, sys.platform) if library is not None else None)
            except (OSError, AttributeError, ValueError):  # no such symbol here: the fallback
                _C_ENVIRONMENT.append(None)
        return _C_ENVIRONMENT[0]


def publish_c_environment(changes: Mapping[str, str | None] | Mapping[bytes, bytes | None]) -> bool:
    """Write ``changes`` (name: value, None removes) to the C environment in one step that frees
    nothing; False, having written nothing, where the mechanism is unavailable (the caller then
    uses os.putenv/os.unsetenv, as on Windows, whose C runtime locks the environment itself)."""
    writer = c_environment()
    if writer is None:
        return False
    if not changes:  # nothing to change: no array to publish (and keep)
        return True
    writer.publish({os.fsencode(name): None if value is None else os.fsencode(value)
                    for name, value in changes.items()})
    return True


# -- botocore ------------------------------------------------------------------------------------


def set_session_credentials(core_session, credentials) -> None:
    """Give a ``botocore.session.Session`` credentials object (refreshable ones included):
    ``Session.set_credentials`` takes only static keys."""
    core_session._credentials = credentials


def forget_session_credentials(core_session) -> None:
    """Make a botocore session resolve its credentials again (from the chain) on next use."""
    core_session._credentials = None


def forget_default_session_credentials(boto3_session) -> None:
    """Keep a ``boto3.Session`` (its region and profile choices) but drop the credentials it
    resolved (boto3 keeps its botocore session in ``._session``; no public accessor)."""
    forget_session_credentials(boto3_session._session)


def set_client_credentials(client, credentials) -> None:
    """Replace the credentials a live client signs with (kept by its request signer)."""
    client._request_signer._credentials = credentials


def env_fetcher(provider_class):
    """botocore ``EnvProvider``'s fetcher factory (``_create_credentials_fetcher``), or None."""
    return getattr(provider_class, "_create_credentials_fetcher", None)


def set_env_fetcher(provider_class, fetcher) -> None:
    provider_class._create_credentials_fetcher = fetcher


def container_fetcher(provider_class):
    """botocore ``ContainerProvider``'s fetcher factory (``_create_fetcher(full_uri)``), or None."""
    return getattr(provider_class, "_create_fetcher", None)


def set_container_fetcher(provider_class, fetcher) -> None:
    provider_class._create_fetcher = fetcher


def container_environ(provider):
    """The environment a ``ContainerProvider`` reads (``._environ``: a constructor argument)."""
    return provider._environ


def set_container_environ(provider, environ) -> None:
    provider._environ = environ


def sourced_providers(provider) -> tuple:
    """The providers an assume-role provider's credential sourcer holds (``credential_source =
    Environment`` uses an EnvProvider of its own), or ()."""
    sourcer = getattr(provider, "_credential_sourcer", None)
    return tuple(getattr(sourcer, "_providers", ()))


def set_process_popen(provider, popen) -> bool:
    """Make a ``ProcessProvider`` (credential_process) start its process with ``popen`` (kept in
    ``._popen``, its constructor argument); False if this botocore has no such attribute."""
    if not hasattr(provider, "_popen"):
        return False
    provider._popen = popen
    return True


def sso_token_cache_dir(provider_class) -> str:
    """botocore's SSO token cache directory (``SSOTokenProvider._SSO_TOKEN_CACHE_DIR``): computed
    from HOME once, when botocore.tokens was imported, so it is where boto3 in this process reads."""
    return provider_class._SSO_TOKEN_CACHE_DIR


def sso_token_provider(provider_class, session, *, start_url: str, region: str, session_name, cache, clock):
    """botocore's ``SSOTokenProvider`` (its refresh with the refresh token, its cache writes) for a
    sign-in given directly. It reads the sign-in from a profile; a sign-in may have none (a start
    URL, a legacy profile), so the one method that reads the config (``_load_sso_config``) is given
    the answer. ``session_name`` None keys the cache by the start URL, as botocore does."""

    class GivenSignIn(provider_class):
        def _load_sso_config(self):
            return {"session_name": session_name, "sso_region": region, "sso_start_url": start_url}

    return GivenSignIn(session, cache=cache, time_fetcher=clock)


# -- s3fs / fsspec ---------------------------------------------------------------------------------


def s3fs_cached_instances(filesystem_class) -> list:
    """The filesystems in fsspec's instance cache of ``filesystem_class``."""
    return list((getattr(filesystem_class, "_cache", None) or {}).values())


def s3fs_client(fs):
    """The aiobotocore client a connected s3fs filesystem uses, or None before it connects."""
    return getattr(fs, "_s3", None)


def s3fs_owns_session(fs) -> bool:
    """False when the filesystem was given an aiobotocore session of the user's."""
    return getattr(fs, "_session_is_owned", True)


# -- the readers' followers (followers/boto3_clients.py, followers/polars.py) ----------------------

_WRAPPED = "_ipy_tempcreds_wraps"


def wrap_credential_resolvers(session_class, wrap) -> bool:
    """Make ``wrap(session, resolver)`` see every default credential resolver that sessions of
    ``session_class`` (``botocore.session.Session``) create from now on.

    Relies on ``Session._create_credential_resolver``, the factory each session registers, bound,
    as its lazy ``credential_provider`` component when it is created (so sessions created before
    keep theirs). aiobotocore's ``AioSession`` overrides it (its sessions are left alone); a
    resolver registered with ``register_component`` is not made by it. False if it is missing.
    """
    original = getattr(session_class, "_create_credential_resolver", None)
    if original is None:
        return False
    if getattr(original, _WRAPPED, None) is not None:
        return True

    def _create_credential_resolver(self):
        resolver = original(self)
        wrap(self, resolver)
        return resolver

    setattr(_create_credential_resolver, _WRAPPED, original)
    _create_credential_resolver.__doc__ = original.__doc__
    session_class._create_credential_resolver = _create_credential_resolver
    return True


def unwrap_credential_resolvers(session_class) -> None:
    """Put botocore's factory back (unload); sessions created meanwhile keep what they have."""
    original = getattr(session_class._create_credential_resolver, _WRAPPED, None)
    if original is not None:
        session_class._create_credential_resolver = original


def reads_kernel_environment(session, resolver, env_provider_class) -> bool:
    """True if ``session``'s credentials come from the kernel's environment chain: no profile
    chosen for the session, and an ``EnvProvider`` reading ``os.environ`` itself (the STS source
    clients pin a copy of the environment as it was before the first assume). Relies on
    ``EnvProvider.environ`` and ``CredentialResolver.providers``."""
    if session.instance_variables().get("profile") is not None:
        return False
    return any(isinstance(p, env_provider_class) and p.environ is os.environ
               for p in getattr(resolver, "providers", ()))


def client_credentials(client):
    """The credentials object a botocore client signs with (its request signer's, the one its
    session handed out)."""
    return client._request_signer._credentials


def polars_default_credential_provider(builder_module):
    """polars' current default credential provider (``"auto"`` if unknown): polars has a setter
    (``pl.Config.set_default_credential_provider``) but no getter; ``builder_module`` is
    ``polars.io.cloud.credential_provider._builder``, or None if not imported."""
    return getattr(builder_module, "DEFAULT_CREDENTIAL_PROVIDER", "auto")


# -- botocore's RefreshableCredentials, subclassed (followers/boto3_clients.py) ---------------------

CHECKED_ON["botocore (refreshable credentials)"] = (
    "1.43.117 (RefreshableCredentials._refresh, _protected_refresh, _refresh_lock, _frozen_credentials, "
    "_expiry_time, _time_fetcher)")


def refreshable_base(refreshable_class, read_only_class) -> type:
    """A subclass of botocore's ``RefreshableCredentials`` (``refreshable_class``) that owns the
    private fields and refresh machinery its subclasses need, behind the named methods below, so
    that they use public names only. ``read_only_class`` is botocore's ``ReadOnlyCredentials``.

    Two ways to use it: a set made with :meth:`start_unset` (no refresh function, no fixed set)
    whose answer is set with :meth:`set_fixed` or :meth:`follow_own`; or one made with botocore's
    constructor, whose :meth:`before_use` may force a mandatory refresh (:meth:`refresh_mandatory`).
    botocore calls ``_refresh`` before it reads the keys (the properties, ``get_frozen_credentials``):
    here that is :meth:`before_use`, by default botocore's own refresh inside its windows.
    """

    import threading

    class RefreshableBase(refreshable_class):
        def start_unset(self, method: str) -> None:
            """Be usable without botocore's constructor: no refresh function, no keys, no expiry."""
            self.method = method
            self._refresh_lock = threading.Lock()
            self._time_fetcher = None
            self._expiry_time = None
            self._frozen_credentials = None

        def set_fixed(self, values: tuple, expiry) -> None:
            """Answer ``values`` (access key id, secret, token, account) until told otherwise;
            ``expiry`` (a datetime or None) is what readers of the expiry see (polars does)."""
            self._frozen_credentials = read_only_class(*values)
            self._expiry_time = expiry

        def follow_own(self, own) -> None:
            """Answer what ``own`` answers (botocore ``Credentials``, ``RefreshableCredentials``, or
            None for none): a refreshable set is asked on each use (:meth:`fixed` is then None), a
            static one is copied once."""
            refreshes = isinstance(own, refreshable_class)
            self._frozen_credentials = None if own is None or refreshes else own.get_frozen_credentials()
            self._expiry_time = getattr(own, "_expiry_time", None) if refreshes else None

        def fixed(self):
            """The set :meth:`set_fixed` or :meth:`follow_own` fixed (a ``ReadOnlyCredentials``), or
            None while following refreshable credentials of the kernel's own (or none)."""
            return self._frozen_credentials

        def refresh_lock(self):
            """botocore's refresh lock of this set: held while the answer changes."""
            return self._refresh_lock

        def refresh_in_windows(self) -> None:
            """botocore's own refresh: advisory, then mandatory, inside its windows before expiry."""
            refreshable_class._refresh(self)

        def refresh_mandatory(self) -> None:
            """Refresh now through the refresh function, raising if it fails; hold :meth:`refresh_lock`."""
            self._protected_refresh(is_mandatory=True)

        def before_use(self) -> None:
            """Called by botocore before it reads the keys; subclasses add their own checks."""
            self.refresh_in_windows()

        def _refresh(self):
            self.before_use()

    return RefreshableBase
