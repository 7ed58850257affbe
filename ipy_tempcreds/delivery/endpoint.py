"""The kernel's handle on its credential server (delivery/server.py, a process of its own).

In ``delivery = "endpoint"`` mode a child process (``!aws``, ``subprocess``, a training job) does
not inherit a snapshot of the keys: it inherits ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and a token
file, and its SDK fetches from the server whenever its credentials near expiry, so it follows every
renewal for as long as the kernel lives. The answer is the container-credentials format that
botocore, the AWS CLI, the AWS C++ SDK (pyarrow, DuckDB) and Rust's object_store read::

    {"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ..., "Expiration": "2026-11-29T15:04:05Z"}

The server is started at the first use (about 30 ms: ``make bench`` row 8d) and lives as long as
this object (the kernel, or until ``%unload_ext``): its port stays bound, so no other local
process can take it while children may still ask there. Security (tests/delivery/test_endpoint.py):

- bound to 127.0.0.1 only, on a port the OS picks;
- a request must carry the path's token in ``Authorization``: none gives 401, a wrong one 403, and
  neither answer contains a credential; the comparison is constant-time (``hmac.compare_digest``);
- the ``Host`` header must name exactly the address and port served (DNS rebinding);
- only GET, only the paths served; a path with nothing to serve answers 404 and nothing else;
- the tokens and credentials reach the server through its stdin pipe only.

Standard library only: no import of boto3 or IPython.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
from typing import IO

from ..base import forks
from ..base.errors import TempCredsError
from ..model.credentials import iso_utc
from .server import LOOPBACK, NOTHING_ACTIVE, PATH

log = logging.getLogger("ipy_tempcreds")

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")
START_TIMEOUT = 10.0  # a loaded machine; the server is ready in ~30 ms here
REPLY_TIMEOUT = 5.0
_INHERITED: list = []  # a forked child's copies of the parent's pipes: kept, never flushed into the pipe


class EndpointFailed(TempCredsError):
    """The credential server could not start, or stopped answering."""


def body(current) -> str:
    """The container-credentials JSON of a Grant, a Served or a TemporaryCredentials."""
    credentials = getattr(current, "credentials", current)
    answer = {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "Token": credentials.session_token,
        "Expiration": iso_utc(credentials.expiration),
    }
    account = getattr(current, "account", None)
    if account:
        answer["AccountId"] = account  # botocore reads it for account-based endpoint routing
    return json.dumps(answer)


class CredentialEndpoint:
    """The credential server of this process: started on first use, stopped by :meth:`stop`."""

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self._port = 0
        self._lock = threading.Lock()
        forks.renew_in_child(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        if self._process is not None:
            # The parent's pipes: closing them here would flush whatever a parent's thread had half
            # written. They stay open (and unused) for the child's life.
            _INHERITED.append(self._process)
            self._process = None

    def __repr__(self) -> str:
        return f"CredentialEndpoint({self.base or 'not started'})"

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` while the server runs, else ''."""
        return f"http://{LOOPBACK}:{self._port}" if self._process is not None else ""

    @property
    def url(self) -> str:
        """Where children that follow the kernel ask (``.../ipy_tempcreds/credentials``), or ''."""
        base = self.base
        return base + PATH if base else ""

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> CredentialEndpoint:
        with self._lock:
            if self._process is None:
                self._spawn()
        return self

    def serve(self, path: str, token: str, current) -> None:
        """Answer ``path`` with ``current`` (credentials, or a Grant) to holders of ``token``."""
        self._call({"op": "serve", "path": path, "token": token, "body": body(current)})

    def refuse(self, path: str, message: str = NOTHING_ACTIVE) -> None:
        """Answer every request to ``path`` with 404 and ``message``: nothing is served there now,
        and the token it had is worthless from now on."""
        self._call({"op": "serve", "path": path, "token": None, "message": message})

    def own(self, directory: str) -> None:
        """The server removes ``directory`` when it ends (the kernel killed: nothing else would)."""
        self._call({"op": "own", "directory": directory})

    def disown(self, directory: str) -> None:
        if self._process is not None:
            self._call({"op": "disown", "directory": directory})

    def stop(self) -> None:
        """End the server: its port is released, and every path with it."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            commands, replies = _pipes(process)
            try:
                commands.write(b'{"op": "stop"}\n')
                commands.close()
            except OSError:
                pass
            _end(process)
            replies.close()

    # -- internals --------------------------------------------------------------------------------

    def _spawn(self) -> None:
        # Isolated (-I: no PYTHON* variables, no user site, not the script's directory on sys.path;
        # -S: no site-packages) and with an empty environment: nothing of the kernel's
        # (its AWS keys included) reaches the server, which needs none of it.
        if os.name == "nt":  # the server's loop selects on its stdin pipe: POSIX only
            raise EndpointFailed("the credential endpoint needs Linux or macOS; on Windows use the environment "
                                 "delivery")
        try:
            process = subprocess.Popen([sys.executable, "-I", "-S", SERVER], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={},
                                       close_fds=True, start_new_session=True)
        except OSError as exc:
            raise EndpointFailed(f"the credential endpoint could not start ({exc.strerror or exc})") from None
        line = self._reply(process, START_TIMEOUT)
        if not line.startswith(b"listening "):
            process.kill()
            _end(process)
            raise EndpointFailed("the credential endpoint could not start (it did not open its port)")
        self._port = int(line.split()[1])
        self._process = process

    @staticmethod
    def _reply(process: subprocess.Popen, timeout: float) -> bytes:
        stdout = _pipes(process)[1]
        ready, _, _ = select.select([stdout], [], [], timeout)
        return stdout.readline() if ready else b""

    def _call(self, command: dict) -> None:
        with self._lock:
            process = self._process
            if process is None:
                raise EndpointFailed("the credential endpoint is not running")
            line = json.dumps(command).encode() + b"\n"
            commands = _pipes(process)[0]
            try:
                commands.write(line)
                commands.flush()
            except OSError:
                reply = b""
            else:
                reply = self._reply(process, REPLY_TIMEOUT)
            if reply.strip() != b"ok":
                # Dead, or not answering: the next activation starts another one.
                self._process = None
                process.kill()
                _end(process)
                raise EndpointFailed("the credential endpoint stopped answering"
                                     + (f" ({reply.strip().decode(errors='replace')})" if reply else ""))


def _pipes(process: subprocess.Popen) -> tuple[IO[bytes], IO[bytes]]:
    """The server's stdin (commands) and stdout (replies)."""
    assert process.stdin is not None and process.stdout is not None
    return process.stdin, process.stdout


def _end(process: subprocess.Popen) -> None:
    """Wait for the server to end (it does at once on "stop" or EOF); kill it if it does not."""
    try:
        process.wait(2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(2)
