"""Shared fixtures: a real local STS/IAM/S3 (moto's server on 127.0.0.1), an isolated environment
per test, a real IPython shell with the extension loaded, and a fake clock.

Nothing reads the home directory: AWS config and credentials files point at empty temp files, and
every AWS client is pointed at the loopback server through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import os
import sys

import pytest

from ipy_tempcreds import api, kernel_state
from ipy_tempcreds._standin import LocalAws, allow
from support import FakeClock, RestampingGateway, SecretWatch

@pytest.fixture(scope="session")
def local_aws():
    server = LocalAws().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory):
    """Give every test the same starting environment and put the real one back afterwards."""
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    # Whatever AWS settings the developer's shell carries would change what the tests see.
    for name in [n for n in os.environ if n.startswith("AWS_") or n == "BOTO_CONFIG"]:
        del os.environ[name]
    os.environ.update(
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        # No instance-metadata lookups from the tests, ever (they would leave loopback).
        AWS_EC2_METADATA_DISABLED="true",
        # Recently used roles are remembered under the Jupyter data dir: keep them out of $HOME.
        JUPYTER_DATA_DIR=str(home / "jupyter-data"),
    )
    yield home
    kernel_state.reset()  # everything the kernel kept, in one call
    os.environ.clear()
    os.environ.update(saved)
    if "boto3" in sys.modules:
        sys.modules["boto3"].DEFAULT_SESSION = None


@pytest.fixture
def aws(local_aws, isolated_environment):
    """The local AWS, reset, with the environment pointed at it and base user credentials set."""
    local_aws.reset()
    os.environ.update(local_aws.client_environ())
    base = local_aws.create_user("alice")
    os.environ.update(base.environ())
    local_aws.base_user = base
    yield local_aws
    local_aws.set_auth(False)


def bucket_only(name: str) -> str:
    return allow(["s3:*"], [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"])


@pytest.fixture
def buckets(aws):
    """IAM auth on; role A may use only bucket-a and role B only bucket-b (one CSV in each)."""
    alice = aws.base_user
    aws.create_role("A", [alice.arn], bucket_only("bucket-a"))
    aws.create_role("B", [alice.arn], bucket_only("bucket-b"))
    aws.create_bucket("bucket-a", {"data.csv": b"owner,n\na,1\n"})
    aws.create_bucket("bucket-b", {"data.csv": b"owner,n\nb,2\n"})
    aws.set_auth(True)
    return aws


@pytest.fixture
def shell(aws):
    """A real IPython shell with ipy_tempcreds loaded (and unloaded afterwards)."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.extension_manager.load_extension("ipy_tempcreds")
    yield ip
    ip.extension_manager.unload_extension("ipy_tempcreds")
    ip.config.pop("TempCreds", None)  # %config also writes into the shell's own config


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def secrets(shell):
    """Every secret this test produced; a magic's output or message containing one fails the test."""
    watch = SecretWatch(api.get_manager())
    yield watch
    watch.close()


@pytest.fixture
def run(shell, secrets, capsys):
    """run("%assume_role ...") -> what it printed, or the message of the UsageError it raised.

    Both are checked for every secret seen so far (the base user's and every grant's).
    """
    from IPython.core.error import UsageError

    def run_line(line: str, *, expect_error: bool = False) -> str:
        name, _, rest = line.lstrip("%").partition(" ")
        capsys.readouterr()
        try:
            shell.run_line_magic(name, rest)
            error = None
        except UsageError as exc:
            error = str(exc)
        out = capsys.readouterr()
        text = error if error is not None else out.out
        secrets.assert_absent(text + out.err, where=line)
        if expect_error != (error is not None):
            raise AssertionError(f"{line!r}: expected {'an error' if expect_error else 'success'}, got {text!r}")
        return text

    return run_line


@pytest.fixture
def timed(aws, clock):
    """The kernel's manager on a fake clock, without the renewal thread (renewals happen when a
    test calls renew_if_due() or runs a cell), its STS calls recorded. Returns (manager, gateway)."""
    from ipy_tempcreds.manager import CredentialManager

    manager = CredentialManager(clock=clock, background=False)
    gateway = manager.sts = RestampingGateway(manager.sts, clock)
    kernel_state.install(manager)
    return manager, gateway
