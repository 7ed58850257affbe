"""A loopback HTTP endpoint that serves the credentials in force to processes holding its token.

In ``delivery = "endpoint"`` mode a child process (``!aws``, ``subprocess``, a training job) does
not inherit a snapshot of the keys: it inherits ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and the
token, and its SDK fetches from here whenever its credentials near expiry, so it follows every
renewal for as long as the kernel lives. The answer is the container-credentials format that
botocore, the AWS CLI, the AWS C++ SDK (pyarrow, DuckDB) and Rust's object_store read::

    {"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ..., "Expiration": "2026-11-29T15:04:05Z"}

Security (each held by tests/delivery/test_endpoint.py):

- bound to 127.0.0.1 only, on a port the OS picks;
- a request must carry the token in ``Authorization``: none gives 401, a wrong one 403, and neither
  answer contains a credential; the comparison is constant-time (``hmac.compare_digest``);
- the ``Host`` header must name exactly the address and port served: a web page that rebinds its
  own DNS name to 127.0.0.1 sends its own name and is refused;
- only GET on one path; anything else gets 404 or 405;
- while no credentials are active, 404 and nothing else.

The token is random per kernel (:func:`kernel_token`) and never appears in a repr, a log line or a
message. Standard library only: no import of boto3 or IPython.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..base import forks
from ..model.credentials import iso_utc

log = logging.getLogger("ipy_tempcreds")

PATH = "/ipy_tempcreds/credentials"
LOOPBACK = "127.0.0.1"


@functools.lru_cache(maxsize=1)
def kernel_token() -> str:
    """The authorization token of this kernel's endpoint: 256 random bits, made once per process."""
    return secrets.token_urlsafe(32)


def _response(status: int, reason: str, body: bytes, extra: str = "") -> bytes:
    # Head and body in one buffer, sent with one write: two small writes on a kept-alive
    # connection can meet Nagle's algorithm and the peer's delayed ACK (tens of milliseconds).
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n{extra}\r\n")
    return head.encode("ascii") + body


def _error(status: int, reason: str, message: str, extra: str = "") -> bytes:
    return _response(status, reason, json.dumps({"code": reason.replace(" ", ""), "message": message}).encode(),
                     extra)


# Fixed refusals, built once. None of them contains anything secret.
NO_TOKEN = _error(401, "Unauthorized", "An Authorization header with this endpoint's token is required.")
BAD_TOKEN = _error(403, "Forbidden", "The authorization token is not this endpoint's.")
BAD_HOST = _error(403, "Forbidden", "This endpoint answers only requests addressed to its loopback address.")
NOT_FOUND = _error(404, "Not Found", "Nothing is served here.")
NOTHING_ACTIVE = _error(404, "Not Found", "No temporary credentials are active in the kernel.")
NOT_ALLOWED = _error(405, "Method Not Allowed", "Only GET is served.", "Allow: GET\r\n")


class _Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1, so a client's connection pool keeps it open between fetches."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle kept-alive connection gives its thread back after this
    server: _Server

    def do_GET(self):
        self._send(self.server.endpoint._answer(self.headers.get("Host"), self.headers.get("Authorization"),
                                                self.path))

    def _refuse(self):
        self._send(NOT_ALLOWED)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _send(self, data: bytes) -> None:
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass  # one line per fetch on stderr would flood the notebook

    def setup(self):
        super().setup()
        self.server.endpoint._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.endpoint._closed(self.connection)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a kernel that exits must not wait for a client's idle connection
    # socketserver's default backlog is 5: many processes starting at once (a job array) would
    # see dropped connection attempts, each retried by the OS only after a second.
    request_queue_size = 1024
    endpoint: CredentialEndpoint

    def handle_error(self, request, client_address):
        # A client that drops its connection (or one cut by stop()) is routine; socketserver's
        # default prints a traceback to stderr, which is the notebook's output.
        # socketserver calls this inside its except clause: exc_info is the exception handled.
        log.debug("credential endpoint: a connection ended abruptly", exc_info=True)


class CredentialEndpoint:
    """Serves ``current()`` (a Grant, a TemporaryCredentials, or None) on 127.0.0.1 to token holders.

    ``current`` is called once per fetch and must be fast and not block: the delivery passes a
    lambda reading one attribute it replaces atomically.
    """

    def __init__(self, current: Callable[[], object], token: str | None = None):
        self._current = current
        self._token = (token if token is not None else kernel_token()).encode()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        forks.renew_in_child(self)
        self._cached: tuple[object, bytes] | None = None  # (what current() returned, the answer)
        self._host = ""
        self._owner = 0  # the process whose threads serve (a forked child has none of them)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # a fork copies it as it was: perhaps held by a serving thread

    def __repr__(self) -> str:  # never the token
        return f"CredentialEndpoint({self.url or 'stopped'})"

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/ipy_tempcreds/credentials`` while running, else ''."""
        server = self._server
        return f"http://{LOOPBACK}:{server.server_address[1]}{PATH}" if server is not None else ""

    def start(self) -> CredentialEndpoint:
        if self._server is not None:
            return self
        server = _Server((LOOPBACK, 0), _Handler)
        server.endpoint = self
        self._host = f"{LOOPBACK}:{server.server_address[1]}"
        self._owner = os.getpid()
        self._server = server
        # stop() waits for the loop to notice, at most one poll interval: --clear stays quick.
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="ipy_tempcreds-endpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection: after this, nothing is served."""
        server, self._server = self._server, None
        if server is None:
            return
        if os.getpid() != self._owner:
            # A forked child: the serving threads stayed in the parent, and shutdown() would wait
            # for them forever. Close the child's copy of the socket only; the parent serves on.
            server.socket.close()
            self._cached = None
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            # A client's kept-alive connection would otherwise still be answered by its thread.
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
        self._cached = None

    # -- serving ----------------------------------------------------------------------------------

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _answer(self, host: str | None, authorization: str | None, path: str) -> bytes:
        if self._server is None:
            return NOTHING_ACTIVE
        if host != self._host:
            return BAD_HOST
        if authorization is None:
            return NO_TOKEN
        if not hmac.compare_digest(authorization.encode("utf-8", "replace"), self._token):
            return BAD_TOKEN
        if path != PATH:
            return NOT_FOUND
        current = self._current()
        if current is None:
            return NOTHING_ACTIVE
        cached = self._cached
        if cached is not None and cached[0] is current:
            return cached[1]
        answer = _response(200, "OK", _body(current))
        self._cached = (current, answer)  # one tuple assignment: a reader sees the old pair or the new
        return answer


def _body(current) -> bytes:
    credentials = getattr(current, "credentials", current)
    body = {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "Token": credentials.session_token,
        "Expiration": iso_utc(credentials.expiration),
    }
    account = getattr(current, "account", None)
    if account:
        body["AccountId"] = account  # botocore reads it for account-based endpoint routing
    return json.dumps(body).encode()
