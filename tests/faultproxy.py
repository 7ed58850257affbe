"""A loopback HTTP proxy in front of the local STS that forwards requests or answers with a fault.

Point ``AWS_ENDPOINT_URL_STS`` at ``proxy.url``. By default every request goes to moto unchanged
(headers included, so moto's IAM auth still checks signatures). ``proxy.fault(...)`` makes the next
requests (all, or ``times`` of them, optionally only one STS action) fail in one of these ways:

- ``"reset"``: the connection is reset (RST) after the request is read;
- ``"close"``: the connection is closed without an answer;
- ``"delay"``: no answer for ``seconds`` (longer than the client's timeout), then forwarded;
- ``"status"``: an HTTP error such as 500 or 503 with an HTML body, as a load balancer sends;
- ``"sts_error"``: STS's own ``<ErrorResponse>`` XML with ``code``, ``message`` and ``status``.

Faults that corrupt a SUCCESSFUL answer: the request is forwarded, STS (moto) issues real
credentials, and what comes back is damaged on the way, as a broken proxy, a captive portal or a
flaky network would. The secrets of every answer that passed through (damaged or not) are recorded in
``proxy.secrets``, so a test can check that none reaches any output, even those the client never
parsed. ``after=N`` lets the first N matching requests through before a fault applies:

- ``"cut"``: HTTP 200 with no Content-Length and only the first half of the body, then the
  connection closes (what a dropped connection looks like on a close-delimited answer);
- ``"malformed"``: the whole body, but its XML broken (a closing tag misspelt);
- ``"drop"``: the element ``field`` (``"Expiration"``, ``"SessionToken"``, ...) removed;
- ``"html"``: a captive portal's HTML login page with HTTP 200 (the request never reached STS);
- ``"expired"``: ``<Expiration>`` moved one hour into the past;
- ``"empty_key"``: ``<AccessKeyId>`` emptied.

``pause()`` closes the listening socket (the port refuses connections: an unreachable endpoint) and
``resume()`` listens on the same port again. Only 127.0.0.1 is ever bound or contacted.
"""

from __future__ import annotations

import http.client
import re
import socket
import struct
import threading
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler

from proxy_support import LoopbackServer, answer, forward, read_body, sts_error_xml

CORRUPTIONS = ("cut", "malformed", "drop", "html", "expired", "empty_key")
CAPTIVE_PORTAL = (b"<html><head><title>Welcome to HotelNet</title></head><body><h1>Sign in</h1>"
                  b"<form action='/login'><input name='room'/></form></body></html>")
_SECRET_ELEMENTS = re.compile(rb"<(SecretAccessKey|SessionToken)>([^<]*)</\1>")


def closed_port_url() -> str:
    """The URL of a loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Fault:
    kind: str
    times: int | None = None  # None: until changed
    action: str | None = None  # only requests for this STS action (e.g. "AssumeRole")
    status: int = 400
    code: str = ""
    message: str = ""
    seconds: float = 0.0
    field: str = ""
    after: int = 0  # let this many matching requests through first


class FaultProxy:
    def __init__(self, upstream: str):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname, parsed.port)
        self.port = 0
        self.url = ""
        self.seen: list[tuple[str, str]] = []  # (STS action, what was done)
        self.secrets: set[str] = set()  # secrets of every answer that passed (see corrupt())
        self._fault: Fault | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: LoopbackServer | None = None

    # -- control ----------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._stopping.clear()
        # HTTP/1.0, one request per connection: a fault hits one request. The same port after pause().
        self._server = LoopbackServer(self._handle, name="faultproxy", port=self.port).start()
        self.port, self.url = self._server.port, self._server.url
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends delays at once
        if self._server is not None:
            self._server.stop()
            self._server = None

    def pause(self) -> None:
        """Stop listening: connections to the port are refused until resume()."""
        self.stop()

    def resume(self) -> None:
        self.start()

    def forward(self) -> None:
        """Forward every request unchanged from now on."""
        with self._lock:
            self._fault = None

    def fault(self, kind: str, *, times: int | None = None, action: str | None = None, status: int | None = None,
              code: str = "", message: str = "", seconds: float = 0.0, field: str = "", after: int = 0) -> None:
        if kind not in ("reset", "close", "delay", "status", "sts_error") + CORRUPTIONS:
            raise ValueError(kind)
        if kind == "drop" and not field:
            raise ValueError("drop needs field=, e.g. 'Expiration'")
        default_status = 503 if kind == "status" else 400
        with self._lock:
            self._fault = Fault(kind, times, action, status or default_status, code, message, seconds, field, after)

    def corrupt(self, kind: str, *, field: str = "", times: int | None = None, action: str | None = None,
                after: int = 0) -> None:
        """Forward the next requests, then damage STS's successful answer in one of CORRUPTIONS."""
        if kind not in CORRUPTIONS:
            raise ValueError(kind)
        self.fault(kind, field=field, times=times, action=action, after=after)

    def sts_error(self, code: str, message: str, *, status: int = 400, **kwargs) -> None:
        self.fault("sts_error", code=code, message=message, status=status, **kwargs)

    def actions(self, done: str | None = None) -> list[str]:
        """The STS actions seen, optionally only those answered with ``done`` ("forward", a fault kind)."""
        return [action for action, what in self.seen if done is None or what == done]

    # -- serving ----------------------------------------------------------------------------------

    def _take_fault(self, action: str) -> Fault | None:
        with self._lock:
            fault = self._fault
            if fault is None or (fault.action and fault.action != action):
                return None
            if fault.after > 0:
                fault.after -= 1
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._fault = None
            return fault

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = read_body(handler)
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
        fault = self._take_fault(action)
        self.seen.append((action, fault.kind if fault else "forward"))
        if fault is None:
            return self._forward(handler, body)
        if fault.kind == "reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            handler.connection.close()
            return None
        if fault.kind == "close":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault.kind == "delay":
            if self._stopping.wait(fault.seconds):
                return None
            try:
                return self._forward(handler, body)
            except OSError:  # the client gave up long ago
                return None
        if fault.kind in CORRUPTIONS:
            return self._forward(handler, body, damage=fault)
        if fault.kind == "status":
            reason = http.client.responses.get(fault.status, "Error")
            return answer(handler, fault.status, f"<html><body><h1>{fault.status} {reason}</h1></body></html>".encode(),
                          "text/html")
        return answer(handler, fault.status, sts_error_xml(fault.code, fault.message), "text/xml")

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes, damage: Fault | None = None) -> None:
        status, reason, kept, content = forward(self.upstream, handler, body)
        for _, value in _SECRET_ELEMENTS.findall(content):
            if value:
                self.secrets.add(value.decode())
        if damage is not None and status == 200:
            return self._damaged(handler, content, damage)
        return answer(handler, status, content, None, kept, reason)

    def _damaged(self, handler: BaseHTTPRequestHandler, content: bytes, fault: Fault) -> None:
        """Answer 200 with ``content`` (STS's real answer) damaged as ``fault.kind`` says."""
        kind = fault.kind
        if kind == "cut":
            # Close-delimited (HTTP/1.0, no Content-Length): the client cannot tell the cut body
            # from a whole one until it parses it.
            handler.send_response(200)
            handler.send_header("Content-Type", "text/xml")
            handler.end_headers()
            handler.wfile.write(content[: len(content) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return None
        if kind == "malformed":
            content = re.sub(rb"</(\w+Result)>", rb"</\1 oops>", content, count=1)
        elif kind == "drop":
            name = re.escape(fault.field.encode())
            content = re.sub(rb"<%s>[^<]*</%s>" % (name, name), b"", content)
        elif kind == "html":
            return answer(handler, 200, CAPTIVE_PORTAL, "text/html")
        elif kind == "expired":
            past = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
            content = re.sub(rb"<Expiration>[^<]*</Expiration>", b"<Expiration>" + past + b"</Expiration>", content)
        elif kind == "empty_key":
            content = re.sub(rb"<AccessKeyId>[^<]*</AccessKeyId>", b"<AccessKeyId></AccessKeyId>", content)
        return answer(handler, 200, content, "text/xml")
