"""Helpers for the tests: a fake clock, ARNs, a watch for leaked secrets."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aws_standin import ACCOUNT

# Where the test helpers live (this folder) and the checkout: test files sit in subfolders that
# mirror the package's, so they ask here rather than counting parents of their own path.
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


class FakeClock:
    """A clock tests move by hand; the manager and botocore credentials read it."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)



def new_notebook(cells: list[str], raising=frozenset()):
    """A notebook of code cells with a kernelspec; cells at ``raising`` may fail (tagged)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, source in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source)
        if index in raising:
            cell.metadata["tags"] = ["raises-exception"]
        nb.cells.append(cell)
    return nb


def cell_text(cell, *, results: bool = True) -> str:
    """What an executed cell showed as text: its streams, its error as "Name: value" and, with
    ``results``, the text/plain of anything else it displayed."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
        elif results:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def kernel_environment(ipython_dir) -> dict[str, str]:
    """This environment for a kernel: its own IPython dir, and this venv's tools (aws) first."""
    import sys
    from pathlib import Path

    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                IPYTHONDIR=str(ipython_dir))


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def served_token(environ=None) -> str:
    """The endpoint delivery's token, read from its token file as a child's SDK reads it (the token
    is in no variable)."""
    environ = os.environ if environ is None else environ
    with open(environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], encoding="ascii") as handle:
        return handle.read()


def aws_environment() -> dict[str, str]:
    """The AWS_* part of the environment, to compare before and after."""
    return {k: v for k, v in os.environ.items() if k.startswith("AWS_")}


class SecretWatch:
    """Collects every secret access key and session token the manager installs, plus the base
    user's secret, and checks text for any of them."""

    def __init__(self, manager):
        self.manager = manager
        self.values: set[str] = set()
        base = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if base:
            self.values.add(base)
        manager.subscribe(self._collect)

    def _collect(self, change) -> None:
        grant = change.grant
        if grant is not None:
            self.values.add(grant.credentials.secret_access_key)
            self.values.add(grant.credentials.session_token)

    def assert_absent(self, text: str, where: str = "") -> None:
        for value in self.values:
            assert value not in text, f"a secret appeared in the output of {where!r}"

    def close(self) -> None:
        self.manager.unsubscribe(self._collect)


class RestampingGateway:
    """The real StsGateway (moto over HTTP issues real credentials), with each Expiration moved
    onto the fake clock. moto stamps Expiration with the wall clock and cannot issue credentials in
    simulated time; this rewrite is the only thing not real. It keeps each answer's distance from
    the wall clock, so an answer that had expired already (a damaged one) is still expired on the
    fake clock. Records each STS operation called."""

    def __init__(self, gateway, clock):
        self.gateway = gateway
        self.clock = clock
        self.calls: list[str] = []

    def obtain(self, request, **kwargs):
        from dataclasses import replace

        self.calls.append(request.operation)
        result = self.gateway.obtain(request, **kwargs)
        # Whole seconds: moto's Expiration has no fraction, the wall clock has (the lifetime stays exact).
        remaining = round((result.credentials.expiration - datetime.now(timezone.utc)).total_seconds())
        credentials = replace(result.credentials, expiration=self.clock() + timedelta(seconds=remaining))
        return replace(result, credentials=credentials)

    def __getattr__(self, name):
        return getattr(self.gateway, name)


def signing_keys(client) -> list[str]:
    """Record the access key id that signs each request of a botocore client."""
    keys: list[str] = []

    def record(request, **_):
        authorization = request.headers.get("Authorization", b"")
        if isinstance(authorization, bytes):
            authorization = authorization.decode()
        keys.append(authorization.split("Credential=")[1].split("/")[0])

    client.meta.events.register("before-send", record)
    return keys


def follow_clock(client, clock) -> None:
    """Make a client's refreshable credentials read the fake clock (botocore reads its clock
    through ``_time_fetcher``; patching botocore's module clock does nothing)."""
    credentials = client._request_signer._credentials
    credentials._time_fetcher = clock


def proxied_environ(local_aws, user, proxy_url: str, home) -> dict[str, str]:
    """``user``'s environment with STS reached through ``proxy_url`` and empty AWS config files
    in ``home`` (nothing of the developer's own AWS setup)."""
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    return {
        **local_aws.client_environ(), **user.environ(), "AWS_ENDPOINT_URL_STS": proxy_url,
        "AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true", "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
    }


@contextmanager
def loaded_behind_proxy(world, sts_timeout: int):
    """The extension loaded in the test shell with ``world.environ`` (STS through ``world.proxy``,
    forwarding), IAM auth on and ``TempCreds.sts_timeout``; yields (shell, SecretWatch). All undone
    after."""
    from IPython.testing.globalipapp import get_ipython

    from ipy_tempcreds import api

    os.environ.update(world.environ)
    world.proxy.forward()
    world.aws.set_auth(True)
    ip = get_ipython()
    ip.extension_manager.load_extension("ipy_tempcreds")
    ip.run_line_magic("config", f"TempCreds.sts_timeout = {sts_timeout}")
    watch = SecretWatch(api.get_manager())
    yield ip, watch
    watch.close()
    world.proxy.forward()
    ip.extension_manager.unload_extension("ipy_tempcreds")
    ip.config.pop("TempCreds", None)
    world.aws.set_auth(False)


def lines_after_load(code: str) -> list[str]:
    """The lines ``code`` prints in a new Python process, run right after ``%load_ext ipy_tempcreds``
    in a fresh IPython there (``sys`` imported): what loading imports, untouched by this process."""
    import subprocess
    import sys

    preamble = ("import sys\n"
                "from IPython.testing.globalipapp import start_ipython\n"
                "start_ipython().run_line_magic('load_ext', 'ipy_tempcreds')\n")
    return subprocess.run([sys.executable, "-c", preamble + code], capture_output=True, text=True, check=True,
                          env=dict(os.environ)).stdout.strip().splitlines()
