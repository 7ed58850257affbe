"""Damaged answers for the SSO and Sign-In stand-ins (tests/sso_standin.py, tests/signin_standin.py):
what a hostile network, a captive portal or a broken proxy does to their answers after the service
did its work.

Kinds: ``cut`` (HTTP 200, close-delimited, half the body), ``malformed`` (the JSON's last brace
gone), ``drop`` (a field removed, also inside ``roleCredentials`` or Sign-In's ``accessToken``), ``html`` (a captive portal's page
with 200), ``expired`` (``expiresIn`` 0, ``expiration`` an hour ago), ``empty_key`` (``accessKeyId``
or ``accessToken`` empty), ``status`` (an HTML 503), ``delay`` (no answer for ``seconds``) and ``set`` (``field`` given ``value``).
Errors (status 400 and up) pass unchanged except for ``status`` and ``delay``.
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta, timezone

OPERATIONS = {("POST", "/client/register"): "RegisterClient", ("POST", "/device_authorization"): "StartDeviceAuthorization",
              ("POST", "/token"): "CreateToken", ("GET", "/federation/credentials"): "GetRoleCredentials",
              ("GET", "/assignment/accounts"): "ListAccounts", ("GET", "/assignment/roles"): "ListAccountRoles",
              ("POST", "/logout"): "Logout"}
CAPTIVE_PORTAL = (b"<html><head><title>Welcome to HotelNet</title></head><body><h1>Sign in</h1>"
                  b"<form action='/login'><input name='room'/></form></body></html>")


def _damage(body: dict, fault: dict) -> dict:
    """A successful answer with one field removed, emptied or expired (JSON-level faults)."""
    body = json.loads(json.dumps(body))
    # The credentials' own object: SSO's roleCredentials, or Sign-In's accessToken (signin_standin.py).
    inner = next((body[k] for k in ("roleCredentials", "accessToken") if isinstance(body.get(k), dict)), body)
    kind = fault["kind"]
    if kind == "drop":
        (inner if fault["field"] in inner else body).pop(fault["field"], None)
    elif kind == "expired":
        if "expiration" in inner:
            inner["expiration"] = int((datetime.now(timezone.utc) - timedelta(hours=1)).timestamp() * 1000)
        if "expiresIn" in body:
            body["expiresIn"] = 0
    elif kind == "set":  # a field given a value the service would never send
        (inner if fault["field"] in inner else body)[fault["field"]] = fault["value"]
    elif kind == "empty_key":
        for name in ("accessKeyId", "accessToken"):
            if name in inner:
                inner[name] = ""
    return body


def _raw(handler, status: int, payload: bytes, content_type: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)

def answer_damaged(handler, status: int, body: dict, fault: dict, stopping: threading.Event,
                   answer_json) -> None:
    """Answer ``body`` (the stand-in's real answer, HTTP ``status``) damaged as ``fault`` says;
    ``answer_json(handler, status, body)`` is how the stand-in answers undamaged."""
    kind = fault["kind"]
    if kind == "delay":
        if stopping.wait(fault["seconds"]):
            return
        try:
            return answer_json(handler, status, body)  # the stand-in's own answer, headers and all
        except OSError:  # the client gave up long ago
            return
    if kind == "status":
        return _raw(handler, 503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html")
    if status != 200:
        return answer_json(handler, status, body)  # the stand-in's own answer, headers and all
    if kind == "html":
        return _raw(handler, 200, CAPTIVE_PORTAL, "text/html")
    if kind == "cut":
        # Close-delimited, no Content-Length: the client cannot tell half a body from a
        # whole one until it parses it.
        payload = json.dumps(body).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload[: len(payload) // 2])
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)
        return
    if kind == "malformed":
        return _raw(handler, 200, json.dumps(body).encode()[:-1], "application/json")
    return _raw(handler, 200, json.dumps(_damage(body, fault)).encode(), "application/json")
