"""Every private internal of another project the package relies on (ipy_tempcreds/compat.py) still
exists and does what the package needs, in the versions installed. A failure here names the
accessor to fix for a new release of Python, botocore, boto3 or s3fs."""

from __future__ import annotations

import os

import pytest

from ipy_tempcreds import compat


def test_the_mapping_behind_os_environ_can_be_read_and_swapped_whole():
    assert compat.is_os_environ(os.environ) and not compat.is_os_environ({})
    data = compat.environ_data(os.environ)
    assert isinstance(data, dict) and all(isinstance(k, bytes) for k in data), \
        "os.environ._data is no longer a dict of bytes: environment.py's atomic swap needs another way"
    swapped = dict(data)
    swapped[os.environ.encodekey("IPY_TEMPCREDS_COMPAT")] = os.environ.encodevalue("1")
    compat.swap_environ_data(os.environ, swapped)
    try:
        assert os.environ["IPY_TEMPCREDS_COMPAT"] == "1", "assigning os.environ._data no longer swaps the mapping"
    finally:
        del os.environ["IPY_TEMPCREDS_COMPAT"]


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

    assert callable(compat.env_fetcher(EnvProvider)), "EnvProvider._create_credentials_fetcher is gone (consistent_reads.py)"
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

    from ipy_tempcreds import compat

    provider = ProcessProvider("tool", load_config=lambda: {})
    assert compat.set_process_popen(provider, print) and provider._popen is print


def test_no_module_but_compat_reaches_into_those_internals():
    import pathlib
    import re

    import ipy_tempcreds

    private = re.compile(r"\._data\b|\._credentials\b|_create_credentials_fetcher|_credential_sourcer|"
                         r"\._providers\b|\._actions\b|\._request_signer\b|\._session_is_owned\b|\._Environ\b|"
                         r"\._session\b|\._cache\b|\._s3\b|\._popen\b")
    for path in pathlib.Path(ipy_tempcreds.__file__).parent.glob("*.py"):
        if path.name == "compat.py":
            continue
        code = "\n".join(line for line in path.read_text().splitlines()
                         if not line.lstrip().startswith("#"))
        # Docstrings may name them (to explain); code may not: look outside string literals.
        import ast
        tree = ast.parse(code)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and private.search("." + node.attr):
                if node.attr == "_data" and isinstance(node.value, ast.Name) and node.value.id == "self":
                    continue  # EnvironSnapshot's own attribute
                pytest.fail(f"{path.name}:{node.lineno} uses .{node.attr}: move it into compat.py")
