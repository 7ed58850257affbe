"""The loopback server of a same-device sign-in: the browser's redirect after the person allowed
access (``code`` and ``state``) or refused (``error``) arrives at ``/oauth/callback``.

It listens on 127.0.0.1 only, on a free port (the CLI listens on every interface), takes one
answer and keeps serving a short page until stopped. The code is kept in memory for the exchange
and never logged.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

PATH = "/oauth/callback"
DONE_PAGE = (b"<!DOCTYPE html><html><head><title>Signed in</title></head><body><p>The sign-in is complete. "
             b"You may close this window and go back to the notebook.</p></body></html>")
REFUSED_PAGE = (b"<!DOCTYPE html><html><head><title>Sign-in not completed</title></head><body><p>The sign-in "
                b"was not completed. Go back to the notebook.</p></body></html>")


class Callback:
    """One answer from the browser: ``result()`` is (code, state, error) once it came."""

    def __init__(self):
        self._answer: tuple[str | None, str | None, str | None] | None = None
        self.arrived = threading.Event()
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # http.server calls it by this name
                parts = urlsplit(self.path)
                if parts.path != PATH:
                    self.send_error(404)
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                error = query.get("error")
                if callback._answer is None:
                    callback._answer = (query.get("code"), query.get("state"), error or None)
                    callback.arrived.set()
                page = REFUSED_PAGE if error or not query.get("code") else DONE_PAGE
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):  # the query holds the code: never logged
                pass

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        daemon=True, name="ipy_tempcreds-login-callback")
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        return self.arrived.wait(timeout)

    def result(self) -> tuple[str | None, str | None, str | None]:
        return self._answer or (None, None, None)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __repr__(self) -> str:
        return f"Callback({self.redirect_uri!r}, arrived={self.arrived.is_set()})"
