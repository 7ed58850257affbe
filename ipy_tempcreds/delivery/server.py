"""The credential server: a small process of its own that answers children's credential fetches.

In ``delivery = "endpoint"`` mode processes started from the kernel fetch their credentials from a
loopback HTTP endpoint (the container-credentials format botocore, the AWS CLI, the AWS C++ SDK and
Rust's object_store read). That endpoint runs here, in a process of its own, so that it answers
while a cell computes in pure Python: threads inside the kernel would wait for the kernel's
interpreter lock (p99 35-50 ms at 50 fetchers with a busy cell; ``make bench`` row 8c).

The kernel starts it (delivery/endpoint.py) with its own interpreter, isolated (``-I -S``: no
site-packages, no PYTHON* variables, nothing of the kernel's environment), and feeds it over a
pipe: one JSON command per line on stdin, one reply line on stdout. Credentials and tokens travel
only through that pipe, never through argv or the environment. Commands:

- ``{"op": "serve", "path": P, "token": T, "body": B}``: answer GET P carrying ``Authorization: T``
  with 200 and B (the JSON of one credential set); with ``"token": null``, answer every request to
  P with 404 and ``"message"`` (nothing served there now: cleared, released, expired);
- ``{"op": "own", "directory": D}`` / ``"disown"``: remove the token directory D when this process
  ends (the kernel removes it itself at a clear; this covers a kernel killed with SIGKILL);
- ``{"op": "stop"}``.

It ends when the kernel does: at EOF on stdin, and when its parent process changes (polled every
``PARENT_POLL`` seconds: a kernel killed with SIGKILL closes no pipe held by its forked children).
PR_SET_PDEATHSIG was not used: Linux sends it when the *thread* that started the child ends, and
the first activation may come from any thread.

Resources are bounded whatever a local process does: one thread; at most ``MAX_CONNECTIONS`` open
connections (at the cap, the connection idle the longest is closed for the new one, so a flood of
half-sent requests cannot keep a real child out); a request's head must arrive whole within
``HEAD_DEADLINE`` seconds of its first byte and within ``MAX_HEAD`` bytes; an idle kept-alive
connection is closed after ``IDLE_TIMEOUT``. Standard library only; this file also runs as a script.
"""

from __future__ import annotations

import collections
import json
import os
import selectors
import shutil
import signal
import socket
import sys
import time
from hmac import compare_digest

PATH = "/ipy_tempcreds/credentials"
PINNED = "/ipy_tempcreds/pinned/"
LOOPBACK = "127.0.0.1"
MAX_CONNECTIONS = 256
HEAD_DEADLINE = 2.0
IDLE_TIMEOUT = 30.0
WRITE_DEADLINE = 5.0  # an answer the client does not read within this is dropped with its connection
MAX_HEAD = 8192
ACCEPTS_PER_TURN = 64  # new connections taken per turn of the loop before serving the others again
PARENT_POLL = 0.2
BACKLOG = 1024  # many children starting at once (a job array) must not see refused connections


def response(status: int, reason: str, body: bytes, extra: str = "", close: bool = False) -> bytes:
    # Head and body in one buffer, sent with one write: two small writes on a kept-alive
    # connection can meet Nagle's algorithm and the peer's delayed ACK (tens of milliseconds).
    connection = "Connection: close\r\n" if close else ""
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n{connection}{extra}\r\n")
    return head.encode("ascii") + body


def error(status: int, reason: str, message: str, extra: str = "") -> bytes:
    return response(status, reason, json.dumps({"code": reason.replace(" ", ""), "message": message}).encode(), extra)


# Fixed refusals, built once. None of them contains anything secret.
NO_TOKEN = error(401, "Unauthorized", "An Authorization header with this endpoint's token is required.")
BAD_TOKEN = error(403, "Forbidden", "The authorization token is not this endpoint's (a token lasts from an "
                  "activation to the next clear).")
BAD_HOST = error(403, "Forbidden", "This endpoint answers only requests addressed to its loopback address.")
NOT_FOUND = error(404, "Not Found", "Nothing is served here.")
NOTHING_ACTIVE = "No temporary credentials are active in the kernel."
NOT_ALLOWED = error(405, "Method Not Allowed", "Only GET is served.", "Allow: GET\r\n")
BAD_REQUEST = response(400, "Bad Request", b'{"code": "BadRequest", "message": "Malformed request."}', close=True)
TOO_LARGE = response(431, "Request Header Fields Too Large",
                     b'{"code": "HeadersTooLarge", "message": "The request head is too large."}', close=True)


def gone(message: str) -> bytes:
    return error(404, "Not Found", message)


class Route:
    """What one path answers: ``answer`` (200 and a body) to the holder of ``token``; with no token,
    ``answer`` (a 404 saying why) to anyone."""

    __slots__ = ("answer", "token")

    def __init__(self, token: bytes | None, answer: bytes):
        self.token = token
        self.answer = answer


def parse_head(head: bytes) -> tuple[bytes, bytes, bytes, dict[bytes, bytes]] | None:
    """(method, target, version, headers by lower-case name) of a request head; None if malformed,
    or if it names Host or Authorization twice (which one would a proxy have checked?)."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return None
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            return None
        name = name.lower()
        if name in headers and name in (b"host", b"authorization", b"content-length", b"transfer-encoding"):
            return None
        headers[name] = value.strip(b" \t")
    return parts[0], parts[1], parts[2], headers


class Answers:
    """The routes, and the answer to one parsed request. Pure: tested without sockets."""

    def __init__(self, host: bytes):
        self.host = host  # b"127.0.0.1:PORT": the only Host header accepted (DNS rebinding)
        self.routes: dict[bytes, Route] = {}

    def answer(self, method: bytes, target: bytes, headers: dict[bytes, bytes]) -> bytes:
        if method != b"GET":
            return NOT_ALLOWED
        if headers.get(b"host") != self.host:
            return BAD_HOST
        authorization = headers.get(b"authorization")
        if authorization is None:
            return NO_TOKEN
        route = self.routes.get(target)
        if route is None:
            return NOT_FOUND
        if route.token is None:
            return route.answer  # nothing served there now: the same refusal to everyone
        if not compare_digest(authorization, route.token):
            return BAD_TOKEN
        return route.answer

    def command(self, command: dict) -> None:
        op, path = command.get("op"), str(command.get("path", "")).encode()
        if op == "serve":
            token = command.get("token")
            if token is None:
                self.routes[path] = Route(None, gone(str(command.get("message") or NOTHING_ACTIVE)))
            else:
                self.routes[path] = Route(token.encode(), response(200, "OK", command["body"].encode()))
        else:
            raise ValueError(f"unknown command {op!r}")


class Connection:
    __slots__ = ("closing", "inbox", "last", "outbox", "sock", "started", "writing")

    def __init__(self, sock: socket.socket, now: float):
        self.sock = sock
        self.inbox = b""
        self.outbox = b""
        self.started = 0.0  # when the first byte of the request being read arrived (0: none yet)
        self.last = now  # the last activity: the idle timeout, and who goes first at the cap
        self.closing = False
        self.writing = 0.0  # since when an answer waits for the client to read it


class Server:
    """One thread: a selectors loop over the listening socket, the connections and the command pipe."""

    def __init__(self, listener: socket.socket, commands: int, replies, parent: int):
        self.listener = listener
        self.answers = Answers(f"{LOOPBACK}:{listener.getsockname()[1]}".encode())
        self.selector = selectors.DefaultSelector()
        self.connections: collections.OrderedDict[int, Connection] = collections.OrderedDict()  # oldest activity first
        self.commands, self.replies, self.parent = commands, replies, parent
        self.pending = b""
        self.directories: set[str] = set()
        self.running = True
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, self.accept)
        os.set_blocking(commands, False)
        self.selector.register(commands, selectors.EVENT_READ, self.read_commands)

    def run(self) -> None:
        next_sweep = time.monotonic() + PARENT_POLL
        try:
            while self.running:
                for key, mask in self.selector.select(PARENT_POLL):
                    key.data(key, mask)
                now = time.monotonic()
                if now >= next_sweep:
                    next_sweep = now + PARENT_POLL
                    if os.getppid() != self.parent:
                        break  # the kernel is gone (killed): so are we
                    self.sweep(now)
        finally:
            self.shut()

    def shut(self) -> None:
        for connection in list(self.connections.values()):
            self.close(connection)
        self.listener.close()
        for directory in self.directories:
            shutil.rmtree(directory, ignore_errors=True)

    # -- the command pipe ----------------------------------------------------------------------------

    def read_commands(self, key, mask) -> None:
        try:
            data = os.read(self.commands, 65536)
        except BlockingIOError:
            return
        if not data:
            self.running = False  # the kernel closed the pipe, or exited
            return
        self.pending += data
        while b"\n" in self.pending:
            line, self.pending = self.pending.split(b"\n", 1)
            self.replies.write(self.execute(line) + b"\n")
            self.replies.flush()

    def execute(self, line: bytes) -> bytes:
        try:
            command = json.loads(line)
            op = command.get("op")
            if op == "stop":
                self.running = False
            elif op == "own":
                self.directories.add(command["directory"])
            elif op == "disown":
                self.directories.discard(command["directory"])
            else:
                self.answers.command(command)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"error {type(exc).__name__}".encode()  # never the line: it may hold a secret
        return b"ok"

    # -- connections ---------------------------------------------------------------------------------

    def accept(self, key, mask) -> None:
        for _ in range(ACCEPTS_PER_TURN):
            try:
                sock, _address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of descriptors, or the peer gave up already: try again next turn
                return
            if len(self.connections) >= MAX_CONNECTIONS:
                self.close(next(iter(self.connections.values())))  # the one idle the longest
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = Connection(sock, time.monotonic())
            self.connections[sock.fileno()] = connection
            self.selector.register(sock, selectors.EVENT_READ, self.serve)
            # A child sends its request as soon as it is connected, usually before the accept:
            # answering now means no new connection can push it out before it is read.
            self.receive(connection)

    def serve(self, key, mask) -> None:
        connection = self.connections.get(key.fd)
        if connection is None:
            return
        if mask & selectors.EVENT_WRITE:
            self.flush(connection)
        elif mask & selectors.EVENT_READ:
            self.receive(connection)

    def receive(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close(connection)
            return
        now = time.monotonic()
        self.touch(connection, now)
        if not connection.inbox:
            connection.started = now
        connection.inbox += data
        while True:
            end = connection.inbox.find(b"\r\n\r\n")
            if end < 0:
                if len(connection.inbox) > MAX_HEAD:
                    self.finish(connection, TOO_LARGE)
                break
            if end > MAX_HEAD:
                self.finish(connection, TOO_LARGE)
                break
            head, connection.inbox = connection.inbox[:end], connection.inbox[end + 4:]
            connection.started = now if connection.inbox else 0.0
            parsed = parse_head(head)
            if parsed is None:
                self.finish(connection, BAD_REQUEST)
                break
            method, target, version, headers = parsed
            keep = headers.get(b"connection", b"").lower()
            close = keep == b"close" or (version == b"HTTP/1.0" and keep != b"keep-alive") \
                or headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
            answer = self.answers.answer(method, target, headers)
            if close:
                self.finish(connection, answer)
                break
            connection.outbox += answer
        self.flush(connection)

    def finish(self, connection: Connection, answer: bytes) -> None:
        """Answer and close: nothing more is read from this connection."""
        connection.outbox += answer
        connection.closing = True
        connection.inbox = b""

    def flush(self, connection: Connection) -> None:
        if connection.outbox:
            try:
                sent = connection.sock.send(connection.outbox)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.close(connection)
                return
            connection.outbox = connection.outbox[sent:]
        if connection.outbox:
            if not connection.writing:
                connection.writing = time.monotonic()
                # Not reading meanwhile: a client that sends and never reads holds one answer at most.
                self.selector.modify(connection.sock, selectors.EVENT_WRITE, self.serve)
            return
        if connection.closing:
            self.close(connection)
        elif connection.writing:
            connection.writing = 0.0
            self.selector.modify(connection.sock, selectors.EVENT_READ, self.serve)

    def touch(self, connection: Connection, now: float) -> None:
        connection.last = now
        self.connections.move_to_end(connection.sock.fileno())

    def close(self, connection: Connection) -> None:
        sock = connection.sock
        self.connections.pop(sock.fileno(), None)
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    def sweep(self, now: float) -> None:
        """Close what overstayed: a head not whole in time, an idle connection, an unread answer."""
        for connection in list(self.connections.values()):
            if ((connection.started and now - connection.started > HEAD_DEADLINE)
                    or (connection.writing and now - connection.writing > WRITE_DEADLINE)
                    or (not connection.started and not connection.writing and now - connection.last > IDLE_TIMEOUT)):
                self.close(connection)


def main() -> int:
    # The kernel's interrupt (jupyter_client signals the kernel's process group) is not for us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(BACKLOG)
    replies = sys.stdout.buffer
    replies.write(f"listening {listener.getsockname()[1]}\n".encode())
    replies.flush()
    Server(listener, sys.stdin.fileno(), replies, parent).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
