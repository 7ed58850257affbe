"""The person at a browser on the kernel's machine, for a real kernel's same-device sign-in: the
kernel's ``webbrowser.open`` runs this (``BROWSER="python signin_person.py %s"``), and it answers
the AWS Sign-In stand-in's consent page with Allow and follows the redirect to the kernel's
loopback callback, as a browser would (signin_standin.SigninStandin.sign_in, over HTTP only)."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from urllib.parse import urlsplit

from signin_standin import CONFIRMATION, SigninStandin


def main(url: str) -> int:
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    visit = SigninStandin._browse(SimpleNamespace(url=base, confirmation_url=base + CONFIRMATION), url, "allow",
                                  None, True)
    return 0 if visit.callback and visit.callback[0] == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
