"""The plumbing the loopback stand-ins share: a quiet threaded HTTP server on 127.0.0.1 (and a
service stand-in's life on one), a request's body, a request forwarded to moto unchanged, an answer,
STS's error document.

faultproxy.py, strict_sts.py, federation_standin.py, sso_standin.py and signin_standin.py each
emulate something moto does not (see their docstrings); only this part is common to them. Only
127.0.0.1 is ever bound or contacted.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from xml.sax.saxutils import escape

# Headers that describe one connection, not the message (plus those recomputed for the answer):
# never passed on in either direction.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "content-length", "server", "date", "expect"})


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1 that hands every request of ``methods`` to
    ``on_request(handler)``, served on a daemon thread from :meth:`start` to :meth:`stop`.

    ``port`` 0 picks a free one (``url`` is known before start); ``protocol`` "HTTP/1.0" gives one
    request per connection, so a fault hits exactly one request.
    """

    def __init__(self, on_request, *, name: str, port: int = 0, methods=("GET", "POST"),
                 protocol: str = "HTTP/1.0"):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = protocol

            def _any(self):
                on_request(self)

            def log_message(self, *args):  # the default writes every request line to stderr
                pass

        for method in methods:
            setattr(Handler, f"do_{method}", Handler._any)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=name, daemon=True)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class LoopbackStandin:
    """What the stand-ins of AWS services (sso_standin.py, signin_standin.py) share: a
    LoopbackServer on HTTP/1.1 (keep-alive, as botocore uses it) that hands every request to the
    subclass's ``_serve(handler)``, its ``url`` known before start, and ``_stopping``, set at
    stop, which injected delays wait on so that stopping never waits for them."""

    def __init__(self, name: str):
        self._stopping = threading.Event()
        self._server = LoopbackServer(self._serve, name=name, protocol="HTTP/1.1")
        self.url = self._server.url

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def start(self: StandinT) -> StandinT:
        self._server.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends delays at once
        self._server.stop()


StandinT = TypeVar("StandinT", bound=LoopbackStandin)


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request's body, whether sized by Content-Length or chunked."""
    if handler.headers.get("Expect", "").lower() == "100-continue" and handler.protocol_version < "HTTP/1.1":
        # botocore (PutObject) and the AWS C++ SDK wait for this before sending a body; without it
        # each such request waited 1 s. http.server answers it only for HTTP/1.1 handlers.
        handler.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        handler.wfile.flush()
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def forward(upstream: tuple[str, int], handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, str, list, bytes]:
    """Send the request to ``upstream`` (host, port) as it came, but for the hop-by-hop headers;
    returns (status, reason, headers to pass back, body)."""
    connection = http.client.HTTPConnection(*upstream, timeout=30)
    try:
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or handler.command in ("POST", "PUT"):
            headers["Content-Length"] = str(len(body))
        # The Host header is passed on unchanged: it is part of what the client signed.
        connection.request(handler.command, handler.path, body=body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        if handler.command == "HEAD":
            kept += [("Content-Length", response.getheader("Content-Length", "0"))]
        return response.status, response.reason, kept, content
    finally:
        connection.close()


def answer(handler: BaseHTTPRequestHandler, status: int, content: bytes, content_type: str | None = None,
           headers=(), reason: str | None = None) -> None:
    """Answer with ``content`` (no body for HEAD); Content-Type and Content-Length are added
    unless ``headers`` has them."""
    handler.send_response(status, reason)
    names = set()
    for name, value in headers:
        names.add(name.lower())
        handler.send_header(name, value)
    if content_type and "content-type" not in names:
        handler.send_header("Content-Type", content_type)
    if "content-length" not in names:
        handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(content)


def sts_error_xml(code: str, message: str, kind: str = "Sender") -> bytes:
    """STS's (and IAM's) error document."""
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>{kind}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
    ).encode()
