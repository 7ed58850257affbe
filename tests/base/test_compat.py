"""Every private internal of another project the package relies on (ipy_tempcreds/compat/) still
exists and does what the package needs, in the versions installed. A failure here names the
accessor to fix for a new release of Python, botocore, boto3 or s3fs."""

from __future__ import annotations

import ast
import builtins
import os
import pathlib
import sys

import pytest

from ipy_tempcreds.base import compat


def test_the_mapping_behind_os_environ_can_be_read_and_swapped_whole():
    assert compat.is_os_environ(os.environ) and not compat.is_os_environ({})
    data = compat.environ_data(os.environ)
    assert isinstance(data, dict) and all(isinstance(k, bytes) for k in data), \
        "os.environ._data is no longer a dict of bytes: delivery/environment.py's atomic swap needs another way"
    swapped = dict(data)
    swapped[os.environ.encodekey("IPY_TEMPCREDS_COMPAT")] = os.environ.encodevalue("1")
    compat.swap_environ_data(os.environ, swapped)
    try:
        assert os.environ["IPY_TEMPCREDS_COMPAT"] == "1", "assigning os.environ._data no longer swaps the mapping"
        # os.environb (bytes) is a second view of the same mapping: it must see the swap too.
        assert os.environb[b"IPY_TEMPCREDS_COMPAT"] == b"1" and os.getenvb(b"IPY_TEMPCREDS_COMPAT") == b"1"
    finally:
        del os.environ["IPY_TEMPCREDS_COMPAT"]
    assert b"IPY_TEMPCREDS_COMPAT" not in os.environb


def test_a_botocore_session_takes_refreshable_credentials():
    import botocore.session
    from botocore.credentials import Credentials

    core = botocore.session.Session()
    credentials = Credentials("AKIACOMPAT", "not-a-real-secret")
    compat.set_session_credentials(core, credentials)
    assert core.get_credentials() is credentials, "botocore Session._credentials is no longer what get_credentials returns"
    compat.forget_session_credentials(core)
    assert core._credentials is None


def test_boto3s_default_session_forgets_its_credentials_only():
    import boto3

    session = boto3.Session(aws_access_key_id="AKIACOMPAT", aws_secret_access_key="x", region_name="eu-west-1")
    assert session.get_credentials() is not None
    compat.forget_default_session_credentials(session)
    assert session._session._credentials is None and session.region_name == "eu-west-1", \
        "boto3.Session._session is no longer its botocore session"


def test_a_live_clients_credentials_can_be_replaced():
    import botocore.session
    from botocore.credentials import Credentials

    core = botocore.session.Session()
    core.set_credentials("AKIAOLD", "old-secret")
    client = core.create_client("s3", region_name="us-east-1")
    new = Credentials("AKIANEW", "new-secret")
    compat.set_client_credentials(client, new)
    assert client._request_signer._credentials is new, "botocore clients keep credentials elsewhere now"


def test_botocores_env_provider_fetcher_and_the_sourcer_providers_exist():
    import botocore.session
    from botocore.credentials import AssumeRoleProvider, EnvProvider, create_credential_resolver

    assert callable(compat.env_fetcher(EnvProvider)), "EnvProvider._create_credentials_fetcher is gone (base/consistent_reads.py)"
    resolver = create_credential_resolver(botocore.session.Session())
    assume = next(p for p in resolver.providers if isinstance(p, AssumeRoleProvider))
    sourced = compat.sourced_providers(assume)
    assert any(isinstance(p, EnvProvider) for p in sourced), \
        "AssumeRoleProvider._credential_sourcer._providers no longer holds the EnvProvider (sts._pin_environment)"


def test_s3fs_keeps_what_s3fs_support_reads():
    s3fs = pytest.importorskip("s3fs")
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=False)
    try:
        assert fs in compat.s3fs_cached_instances(s3fs.S3FileSystem), "S3FileSystem._cache moved"
        assert compat.s3fs_owns_session(fs) is True, "S3FileSystem._session_is_owned moved"
        assert compat.s3fs_client(fs) is None  # not connected yet
        assert hasattr(fs, "_s3"), "S3FileSystem._s3 (the connected client) moved"
    finally:
        s3fs.S3FileSystem.clear_instance_cache()


def test_a_process_providers_popen_can_be_replaced():
    from botocore.credentials import ProcessProvider

    from ipy_tempcreds.base import compat

    provider = ProcessProvider("tool", load_config=lambda: {})
    assert compat.set_process_popen(provider, print) and provider._popen is print


# -- nothing but compat reaches them -------------------------------------------------------------------

COMPAT = pathlib.Path(compat.__file__).parent
PACKAGE = COMPAT.parent
# Names of other projects' internals reached before base/compat/ held them all (kept: a module that
# brought one back would not show in base/compat/'s own source).
EARLIER = {"_data", "_credentials", "_create_credentials_fetcher", "_credential_sourcer", "_providers", "_actions",
           "_request_signer", "_session_is_owned", "_Environ", "_session", "_cache", "_s3", "_popen"}
# The package's own members that share a name with one of them, in a class built on another
# project's: (module, name, why it is ours).
OWN = {("ui/widgets/role_panel.py", "_refresh", "RolePanel's handler of the browser's refresh message")}


def private_names_reached(tree: ast.AST) -> set[str]:
    """The private names a module reaches: attributes, getattr/setattr/hasattr strings, and methods
    a class defines (in base/compat/: overrides of another project's methods)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif _is_attr_call(node):
            names.add(node.args[1].value)
        elif isinstance(node, ast.ClassDef):
            names.update(n.name for n in node.body if isinstance(n, ast.FunctionDef))
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def _is_attr_call(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))


def reaches_into_others(source: str, forbidden: set[str]) -> list[tuple[int, str]]:
    """(line, name) for each use of a ``forbidden`` name: on any object but ``self``, in a getattr
    family call, and on ``self`` or as a method in a class built on another project's class (a base
    not defined here, imported relatively, from the standard library or a builtin)."""
    tree = ast.parse(source)  # docstrings and comments may name them (to explain); code may not
    ours = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] in sys.stdlib_module_names:
                ours.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            ours.update(a.asname or a.name for a in node.names if a.name.split(".")[0] in sys.stdlib_module_names)

    def foreign(base) -> bool:
        root = base
        while isinstance(root, ast.Attribute):
            root = root.value
        name = root.id if isinstance(root, ast.Name) else ""
        return not (name in ours or name in vars(builtins))

    found = []

    def visit(node, in_foreign_class: bool):
        if isinstance(node, ast.ClassDef):
            in_foreign_class = any(foreign(b) for b in node.bases)
            if in_foreign_class:
                found.extend((n.lineno, n.name) for n in node.body
                             if isinstance(n, ast.FunctionDef) and n.name in forbidden)
        elif isinstance(node, ast.Attribute) and node.attr in forbidden:
            on_self = isinstance(node.value, ast.Name) and node.value.id == "self"
            if in_foreign_class or not on_self:
                found.append((node.lineno, node.attr))
        elif _is_attr_call(node) and node.args[1].value in forbidden:
            found.append((node.lineno, node.args[1].value))
        for child in ast.iter_child_nodes(node):
            visit(child, in_foreign_class)

    visit(tree, False)
    return found


def forbidden_names() -> set[str]:
    # Other projects' objects are reached in aws_sdk.py, readers.py and stdlib.py; environ.py reaches only
    # os._Environ's mapping (its class's own fields are its own business).
    reached = {name for module in ("aws_sdk.py", "readers.py", "stdlib.py")
               for name in private_names_reached(ast.parse((COMPAT / module).read_text()))}
    return reached | {"_data"} | EARLIER


def test_no_module_but_compat_reaches_into_those_internals():
    forbidden = forbidden_names()
    # What base/compat/ reaches is read from its source: a new accessor's names are checked at once.
    assert {"_refresh_lock", "_expiry_time", "_protected_refresh", "_refresh", "_create_credential_resolver",
            "_load_sso_config"} <= forbidden
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):  # subpackages too (followers/)
        if COMPAT in path.parents:
            continue
        own = {name for module, name, _ in OWN if module == path.name}
        offenders += [f"{path.relative_to(PACKAGE)}:{line} reaches {name}"
                      for line, name in reaches_into_others(path.read_text(), forbidden) if name not in own]
    assert offenders == [], "move these into base/compat/ (an accessor there, and a test here)"


def test_the_package_members_that_share_a_name_are_its_own():
    anywidget = pytest.importorskip("anywidget")
    assert not hasattr(anywidget.AnyWidget, "_refresh"), "anywidget has a _refresh now: RolePanel overrides it"


def test_the_check_sees_private_internals_set_by_a_subclass_or_read_with_getattr():
    """What followers/boto3_clients.py did before compat.refreshable_base: each line is caught."""
    source = (
        "import threading\n"
        "from .base import Ours\n"
        "def make():\n"
        "    from botocore.credentials import RefreshableCredentials\n"
        "    class Kernel(RefreshableCredentials):\n"
        "        def __init__(self, own):\n"
        "            self._refresh_lock = threading.Lock()\n"
        "            self._expiry_time = getattr(own, '_expiry_time', None)\n"
        "        def _refresh(self):\n"
        "            self._protected_refresh(is_mandatory=True)\n"
        "    class Mine(Ours):\n"
        "        def _refresh(self):\n"
        "            self._refresh_lock = None\n"
        "    return Kernel, Mine\n"
    )
    assert reaches_into_others(source, forbidden_names()) == [
        (9, "_refresh"), (7, "_refresh_lock"), (8, "_expiry_time"), (8, "_expiry_time"), (10, "_protected_refresh")]


def test_botocores_container_provider_reads_a_given_environment_through_a_fetcher_factory():
    """The endpoint delivery pins the STS source chain's ContainerProvider to the original
    environment (sources/sts.py) and wraps its fetcher factory (base/consistent_reads.py)."""
    from botocore.credentials import ContainerProvider

    given = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/x"}
    provider = ContainerProvider(environ=given)
    assert compat.container_environ(provider) is given, "ContainerProvider no longer keeps its environ in ._environ"
    compat.set_container_environ(provider, {})
    assert provider.load() is None, "ContainerProvider.load no longer reads the environ it keeps"
    factory = compat.container_fetcher(ContainerProvider)
    assert callable(factory) and callable(factory(provider, "http://127.0.0.1:1/x")), \
        "ContainerProvider._create_fetcher(full_uri) no longer makes the fetch function"


# -- the readers' followers -------------------------------------------------------------------------

def test_every_botocore_session_still_makes_its_credential_resolver_in_one_method():
    """followers/boto3_clients.py: kept boto3 clients follow through this; fails loudly if moved."""
    from botocore.credentials import EnvProvider
    from botocore.session import Session

    assert callable(getattr(Session, "_create_credential_resolver", None)), \
        "botocore.session.Session._create_credential_resolver is gone: kept boto3 clients cannot follow"
    seen = []

    class Probe(Session):
        pass

    assert compat.wrap_credential_resolvers(Probe, lambda session, resolver: seen.append(resolver))
    session = Probe()
    resolver = session.get_component("credential_provider")
    assert seen == [resolver], "sessions no longer create their resolver through _create_credential_resolver"
    assert compat.reads_kernel_environment(session, resolver, EnvProvider), \
        "EnvProvider.environ / CredentialResolver.providers changed"
    assert not compat.reads_kernel_environment(Probe(profile="someone"), resolver, EnvProvider)
    compat.unwrap_credential_resolvers(Probe)
    Probe().get_component("credential_provider")
    assert len(seen) == 1


def test_a_client_signs_with_its_sessions_credentials_object_asked_per_request():
    """The signer asks the shared credentials object for a frozen set before every request."""
    import botocore.session
    from botocore.credentials import Credentials

    calls = []

    class Counting(Credentials):
        def get_frozen_credentials(self):
            calls.append(1)
            return super().get_frozen_credentials()

    core = botocore.session.Session()
    compat.set_session_credentials(core, Counting("AKIACOMPAT", "not-a-real-secret"))
    client = core.create_client("s3", region_name="us-east-1")
    assert compat.client_credentials(client) is core.get_credentials(), "clients no longer share their session's object"
    client._request_signer.get_auth_instance("s3", "us-east-1", "s3v4")
    client._request_signer.get_auth_instance("s3", "us-east-1", "s3v4")
    assert len(calls) == 2, "the request signer no longer asks for frozen credentials per request"


def test_polars_default_credential_provider_can_be_read():
    pl = pytest.importorskip("polars")
    import importlib
    import warnings

    builder = importlib.import_module("polars.io.cloud.credential_provider._builder")
    assert compat.polars_default_credential_provider(builder) == "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pl.Config.set_default_credential_provider(None)
        try:
            assert compat.polars_default_credential_provider(builder) is None, \
                "polars keeps its default credential provider elsewhere now (followers/polars.py)"
        finally:
            pl.Config.set_default_credential_provider("auto")


def test_botocores_sso_token_provider_reads_a_sign_in_given_directly(tmp_path):
    import hashlib
    import json
    from datetime import datetime, timedelta, timezone

    import botocore.session
    from botocore.tokens import SSOTokenProvider
    from botocore.utils import JSONFileCache

    assert compat.sso_token_cache_dir(SSOTokenProvider).endswith(os.path.join(".aws", "sso", "cache")), \
        "SSOTokenProvider._SSO_TOKEN_CACHE_DIR moved: sso.cache_directory() needs another way"
    now = datetime.now(timezone.utc)
    expires = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cache = JSONFileCache(str(tmp_path))
    for name, key in (("corp", "corp"), (None, "https://x.awsapps.com/start")):  # sso-session, legacy
        (tmp_path / f"{hashlib.sha1(key.encode()).hexdigest()}.json").write_text(
            json.dumps({"accessToken": f"token-{name}", "expiresAt": expires}))
        provider = compat.sso_token_provider(SSOTokenProvider, botocore.session.Session(),
                                             start_url="https://x.awsapps.com/start", region="us-east-1",
                                             session_name=name, cache=cache, clock=lambda: now)
        assert provider.load_token().get_frozen_token().token == f"token-{name}", \
            "SSOTokenProvider no longer takes its sign-in from _load_sso_config: sso.access_token needs another way"


# -- botocore's RefreshableCredentials, subclassed (followers/boto3_clients.py) --------------------

def refreshable_base():
    from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials

    return compat.refreshable_base(RefreshableCredentials, ReadOnlyCredentials)


def metadata(key: str, minutes: int) -> dict:
    from datetime import datetime, timedelta, timezone

    expiry = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    return {"access_key": key, "secret_key": "not-a-real-secret", "token": "tok", "expiry_time": expiry.isoformat()}


def test_an_unset_refreshable_answers_the_fixed_set_and_shows_its_expiry():
    from datetime import datetime, timezone

    from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials

    class Fixed(refreshable_base()):
        def __init__(self):
            self.start_unset("ipy_tempcreds-compat")  # not botocore's constructor

        def before_use(self):
            pass

    credentials = Fixed()
    assert credentials.fixed() is None and credentials.method == "ipy_tempcreds-compat"
    assert isinstance(credentials, RefreshableCredentials) and not credentials.refresh_needed()
    expiry = datetime(2030, 1, 1, tzinfo=timezone.utc)
    credentials.set_fixed(("AKIACOMPAT", "not-a-real-secret", "tok", "123456789012"), expiry)
    fixed = ReadOnlyCredentials("AKIACOMPAT", "not-a-real-secret", "tok", "123456789012")
    assert credentials.fixed() == fixed
    assert RefreshableCredentials.get_frozen_credentials(credentials) == fixed, \
        "RefreshableCredentials.get_frozen_credentials no longer answers ._frozen_credentials"
    assert credentials._expiry_time == expiry, "polars reads the expiry from ._expiry_time"


def test_an_unset_refreshable_follows_the_kernels_own_credentials():
    from botocore.credentials import Credentials, RefreshableCredentials

    class Following(refreshable_base()):
        def __init__(self):
            self.start_unset("ipy_tempcreds-compat")

    credentials = Following()
    credentials.follow_own(Credentials("AKIAOWN", "not-a-real-secret"))
    assert credentials.fixed().access_key == "AKIAOWN" and credentials._expiry_time is None
    own = RefreshableCredentials.create_from_metadata(metadata("AKIAREFRESHED", 60), lambda: None, "own")
    credentials.follow_own(own)
    assert credentials.fixed() is None, "a refreshable set of the kernel's own is asked on each use"
    assert credentials._expiry_time == own._expiry_time, "RefreshableCredentials keeps its expiry in ._expiry_time"
    credentials.follow_own(None)
    assert credentials.fixed() is None and credentials._expiry_time is None


def test_botocore_asks_before_use_before_it_reads_the_keys():
    from botocore.credentials import RefreshableCredentials

    calls = []

    class Counting(refreshable_base()):
        def before_use(self):
            calls.append(1)

    credentials = Counting.create_from_metadata(metadata("AKIACOMPAT", 60), lambda: None, "compat")
    assert credentials.access_key == "AKIACOMPAT" and len(calls) == 1, "the properties no longer call ._refresh"
    credentials.get_frozen_credentials()
    assert len(calls) == 2, "RefreshableCredentials.get_frozen_credentials no longer calls ._refresh"
    assert isinstance(credentials, RefreshableCredentials)


def test_a_refresh_in_botocores_windows_and_a_mandatory_one_under_its_lock():
    def renewing(key: str, minutes_left: int):
        held = []

        def fetch():
            held.append(credentials.refresh_lock().locked())
            return metadata(f"AKIANEW{len(held)}", 60)

        credentials = refreshable_base().create_from_metadata(metadata(key, minutes_left), fetch, "compat")
        return credentials, held

    later, held = renewing("AKIAOLD", 60)
    later.refresh_in_windows()
    assert held == [] and later.get_frozen_credentials().access_key == "AKIAOLD"  # an hour left: no refresh
    soon, held = renewing("AKIASOON", 5)
    assert soon.get_frozen_credentials().access_key == "AKIANEW1", \
        "RefreshableCredentials._refresh no longer refreshes inside the mandatory window"
    assert held == [True], "RefreshableCredentials._refresh no longer holds ._refresh_lock while refreshing"
    with soon.refresh_lock():
        soon.refresh_mandatory()
    assert soon.get_frozen_credentials().access_key == "AKIANEW2"

    def failing():
        raise RuntimeError("STS is down")

    broken = refreshable_base().create_from_metadata(metadata("AKIAKEPT", 60), failing, "compat")
    with pytest.raises(RuntimeError, match="STS is down"), broken.refresh_lock():
        broken.refresh_mandatory()  # _protected_refresh(is_mandatory=True) raises what the refresh raised
    assert broken.get_frozen_credentials().access_key == "AKIAKEPT"


# -- the C environment (compat.publish_c_environment) --------------------------------------------


def _strings(writer: compat.CEnvironment, address: int) -> list[bytes]:
    import ctypes

    return [ctypes.string_at(entry) for entry in writer.entries(address)]


def _c_array(strings: list[bytes]):
    """An environ-style array (NULL-terminated char*), kept alive by the returned objects."""
    import ctypes

    buffers = [ctypes.create_string_buffer(s) for s in strings]
    array = (ctypes.c_void_p * (len(buffers) + 1))(*[ctypes.addressof(b) for b in buffers], None)
    return array, buffers


def test_the_c_environment_changes_in_one_new_array_and_nothing_is_freed():
    """The glibc path, for real: getenv() and a child see the change; the array in force before
    still holds what it held (free() would overwrite its first slots with malloc's links), and a
    later os.putenv (glibc's setenv) copies our array and leaves it whole too."""
    import ctypes
    import subprocess

    writer = compat.c_environment()
    if writer is None:
        pytest.skip(f"no C environment writer on {sys.platform}: os.putenv is the fallback there")
    getenv = ctypes.CDLL(None).getenv
    getenv.restype, getenv.argtypes = ctypes.c_char_p, [ctypes.c_char_p]
    before = writer.pointer()
    held = _strings(writer, before)
    kept = writer.kept_bytes
    assert compat.publish_c_environment({"IPY_TEMPCREDS_C_ONE": "1", "IPY_TEMPCREDS_C_TWO": "two"}) is True
    try:
        published = writer.pointer()
        assert published != before and _strings(writer, before) == held, "the array in force before changed"
        assert getenv(b"IPY_TEMPCREDS_C_ONE") == b"1" and getenv(b"IPY_TEMPCREDS_C_TWO") == b"two"
        child = subprocess.run(["/bin/sh", "-c", 'printf "%s %s" "$IPY_TEMPCREDS_C_ONE" "$IPY_TEMPCREDS_C_TWO"'],
                               capture_output=True, text=True)
        assert child.stdout == "1 two"
        assert writer.kept_bytes > kept
        mine = _strings(writer, published)
        os.putenv("IPY_TEMPCREDS_C_GLIBC", "3")  # glibc's own add after ours
        assert getenv(b"IPY_TEMPCREDS_C_GLIBC") == b"3" and getenv(b"IPY_TEMPCREDS_C_ONE") == b"1"
        assert _strings(writer, published) == mine, "glibc's setenv freed or changed our array"
        compat.publish_c_environment({"IPY_TEMPCREDS_C_TWO": None})
        assert getenv(b"IPY_TEMPCREDS_C_TWO") is None and getenv(b"IPY_TEMPCREDS_C_ONE") == b"1"
        for bad in ({"A=B": "x"}, {"": "x"}, {"IPY_TEMPCREDS_C_NUL": "a\0b"}):
            pointer = writer.pointer()
            with pytest.raises(ValueError):  # what os.putenv refuses, refused before any write
                compat.publish_c_environment(bad)
            assert writer.pointer() == pointer
    finally:
        os.unsetenv("IPY_TEMPCREDS_C_GLIBC")
        compat.publish_c_environment({"IPY_TEMPCREDS_C_ONE": None, "IPY_TEMPCREDS_C_TWO": None})


def test_on_macos_the_environment_is_found_through_nsgetenviron():
    """The macOS lookup, with a fake library: ``_NSGetEnviron()`` returns the address of the
    ``environ`` variable; the writer publishes there, and not in this process's environment."""
    import ctypes

    array, _buffers = _c_array([b"A=1", b"B=2"])
    cell = ctypes.c_void_p(ctypes.addressof(array))
    libc = ctypes.CDLL(None)

    class FakeDarwinLibc:
        _NSGetEnviron = ctypes.CFUNCTYPE(ctypes.c_void_p)(lambda: ctypes.addressof(cell))
        malloc, free = libc.malloc, libc.free

    real = compat.c_environment()
    real_pointer = real.pointer() if real is not None else None
    writer = compat.c_environment_of(FakeDarwinLibc(), "darwin")
    assert writer is not None and writer.pointer() == ctypes.addressof(array)
    writer.publish({b"B": None, b"C": b"3"})
    assert _strings(writer, writer.pointer()) == [b"A=1", b"C=3"]
    assert _strings(writer, ctypes.addressof(array)) == [b"A=1", b"B=2"], "the old array was changed"
    assert real is None or real.pointer() == real_pointer


def test_on_linux_glibc_and_musl_the_environment_is_the_environ_symbol(tmp_path):
    """The lookup glibc and musl share (their ``environ`` symbol), against a library of our own
    that defines one: the writer publishes into that library's variable, not the process's."""
    import ctypes

    from native_support import OWN_ENVIRON, compile_library

    fake = ctypes.CDLL(str(compile_library(tmp_path, OWN_ENVIRON, "own_environ")))
    variable = ctypes.c_void_p.in_dll(fake, "environ")
    array, _buffers = _c_array([b"KEEP=1", b"AWS_ACCESS_KEY_ID=old"])
    variable.value = ctypes.addressof(array)
    real = compat.c_environment()
    real_pointer = real.pointer() if real is not None else None
    writer = compat.c_environment_of(fake, "linux")
    assert writer is not None
    writer.publish({b"AWS_ACCESS_KEY_ID": b"new", b"AWS_SESSION_TOKEN": b"t"})
    assert variable.value != ctypes.addressof(array)
    assert _strings(writer, variable.value) == [b"KEEP=1", b"AWS_ACCESS_KEY_ID=new", b"AWS_SESSION_TOKEN=t"]
    assert real is None or real.pointer() == real_pointer


def test_without_the_mechanism_the_environment_is_written_with_os_putenv(monkeypatch):
    """Windows has no such mechanism (its C runtime locks the environment): the product falls
    back to os.putenv/os.unsetenv, and os.environ's mapping is still swapped in one step."""
    from ipy_tempcreds.delivery import writes as environ_writes

    assert compat.c_environment_of(object(), "win32") is None
    monkeypatch.setattr(compat.environ, "_C_ENVIRONMENT", [None])
    assert compat.publish_c_environment({"IPY_TEMPCREDS_C_NONE": "1"}) is False
    calls = []
    monkeypatch.setattr(os, "putenv", lambda name, value: calls.append((name, value)))
    monkeypatch.setattr(os, "unsetenv", lambda name: calls.append((name, None)))
    environ_writes.apply_atomically(os.environ, {"IPY_TEMPCREDS_FALLBACK": "1", "IPY_TEMPCREDS_GONE": None})
    assert calls == [("IPY_TEMPCREDS_FALLBACK", "1"), ("IPY_TEMPCREDS_GONE", None)]
    assert os.environ["IPY_TEMPCREDS_FALLBACK"] == "1"
    compat.swap_environ_data(os.environ, {k: v for k, v in compat.environ_data(os.environ).items()
                                          if k != b"IPY_TEMPCREDS_FALLBACK"})


def test_the_endpoint_rules_give_sign_ins_token_host_and_honour_the_override(monkeypatch):
    import botocore.session

    from ipy_tempcreds.base.compat import resolved_endpoint_url

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = botocore.session.Session().create_client("signin", region_name="eu-west-1")
    assert resolved_endpoint_url(client, "CreateOAuth2Token") == "https://eu-west-1.signin.aws.amazon.com"
    assert client.meta.endpoint_url != "https://eu-west-1.signin.aws.amazon.com"  # why the rules are asked
    monkeypatch.setenv("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:9")
    client = botocore.session.Session().create_client("signin", region_name="eu-west-1")
    assert resolved_endpoint_url(client, "CreateOAuth2Token") == "http://127.0.0.1:9"


def test_an_argparse_parser_lists_its_options_and_positionals():
    """What ui/mistyped.py reads to name the closest option of a magic (argparse has no public list)."""
    from IPython.core.magic_arguments import MagicArgumentParser

    parser = MagicArgumentParser("demo")
    parser.add_argument("role", nargs="?", metavar="ROLE")
    parser.add_argument("--duration", metavar="DUR")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--tag", action="append")
    assert compat.parser_options(parser) == {"--duration": True, "--quiet": False, "-q": False, "--tag": True}
    assert compat.parser_positionals(parser) == ["ROLE"]


def test_every_listed_name_resolves_from_its_module_on_first_use():
    """The package resolves its names lazily (so %load_ext imports no ctypes): each name in
    ``__all__`` has a home, and is that module's object."""
    import importlib

    assert set(compat.__all__) == set(compat._HOMES) | {"CHECKED_ON"}
    for name, home in compat._HOMES.items():
        assert getattr(compat, name) is getattr(importlib.import_module(f"{compat.__name__}.{home}"), name)
