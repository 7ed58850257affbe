"""One console sign-in, from the link to the cache and the profile: what `aws login` does.

:func:`resolve_target` decides the profile and region and refuses a profile that has other
credentials, before anything starts. :class:`SignIn` makes the DPoP key, the authorization link and
(same-device) the loopback callback; the browser's answer comes back through the callback
(:meth:`SignIn.wait_for_browser`) or as the pasted code (:meth:`SignIn.complete`). A wrong code
leaves the sign-in open for another try; it can be cancelled, and it times out ``timeout`` seconds
after it started (the CLI waits 10 minutes). Only a completed exchange writes anything: the cache
entry, then ``login_session`` in the profile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...base.times import now_utc
from ...model.credentials import TemporaryCredentials, account_of
from . import cache, calls
from . import profile as profiles_file
from .authorization import Authorization, authorization, check_state, parse_pasted
from .callback import Callback
from .dpop import DpopKey
from .endpoint import DEFAULT_OPTIONS, DEFAULT_REGION, CallOptions, base_url, signin_client
from .errors import CodeRejected, LoginError

TIMEOUT = 600.0  # seconds a sign-in waits for the browser, as `aws login` does
SESSION_LIMIT = timedelta(hours=12)  # AWS Sign-In's longest login session
POLL = 0.2  # seconds between looks at cancel and timeout while waiting for the browser


@dataclass(frozen=True)
class LoginTarget:
    """Which profile gets the login session, and the region of AWS Sign-In to use."""

    profile: str
    region: str
    region_to_write: str | None = None  # no region was configured: written with login_session, as the CLI does


def resolve_target(profile: str | None, environ, region: str | None = None) -> LoginTarget:
    """The profile (given, else AWS_PROFILE, else default) and its region; InvalidInput for a
    profile that already has other credentials (the CLI's rule)."""
    given = profile.strip() if isinstance(profile, str) and profile.strip() else None
    name = profiles_file.check_name(given or environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE")
                                    or "default")
    sections = profiles_file.profiles()
    profiles_file.refuse_other_credentials(name, sections)
    configured = region or sections.get(name, {}).get("region") or environ.get("AWS_REGION") \
        or environ.get("AWS_DEFAULT_REGION")
    if configured:
        return LoginTarget(name, configured)
    return LoginTarget(name, DEFAULT_REGION, DEFAULT_REGION)


@dataclass(frozen=True, repr=False)
class SignedIn:
    """A completed sign-in: the login session, its profile, the first credentials."""

    session: str
    profile: str
    region: str
    credentials: TemporaryCredentials
    session_ends: datetime
    replaced: str | None = None  # the login session the profile named before, if another

    @property
    def account(self) -> str | None:
        return account_of(self.session)

    def __repr__(self) -> str:
        return f"SignedIn({self.session!r}, profile={self.profile!r})"


class SignIn:
    """One sign-in: ``state`` is waiting, then signed-in, failed, cancelled or timed-out."""

    def __init__(self, target: LoginTarget, *, remote: bool, clock: Callable[[], datetime] = now_utc,
                 options: CallOptions = DEFAULT_OPTIONS, timeout: float = TIMEOUT, environ=None):
        self.target = target
        self.remote = remote
        self._clock = clock
        self._options = options
        self._environ = environ
        self.key = DpopKey.generate()  # first: without awscrt nothing starts (DependencyMissing)
        self._client = signin_client(target.region, target.profile, options)
        base = base_url(self._client)
        self._callback = None if remote else Callback()
        self.authorization: Authorization = authorization(
            base, remote=remote, callback_uri=None if self._callback is None else self._callback.redirect_uri)
        self.started_at = clock()
        self.expires_at = self.started_at + timedelta(seconds=timeout)
        self.state = "waiting"
        self.message = ""
        self.result: SignedIn | None = None
        self._lock = threading.Lock()  # one completion at a time (a click and a magic, say)

    @property
    def link(self) -> str:
        return self.authorization.url

    @property
    def open(self) -> bool:
        return self.state == "waiting"

    def __repr__(self) -> str:
        return f"SignIn(profile={self.target.profile!r}, {'cross' if self.remote else 'same'}-device, state={self.state!r})"

    # -- the browser's answer ----------------------------------------------------------------------

    def timed_out(self) -> bool:
        return self._clock() >= self.expires_at

    def wait_for_browser(self, should_stop: Callable[[], bool] = lambda: False) -> SignedIn:
        """Same-device: wait for the redirect to the loopback callback, then complete."""
        if self._callback is None:
            raise ValueError("a cross-device sign-in is completed with the pasted code")
        while not self._callback.wait(POLL):
            self._check_open()
            if should_stop():
                self.cancel()
                self._check_open()
        code, state, error = self._callback.result()
        if error or not code:
            why = "access was denied in the browser" if error == "access_denied" else \
                f"the browser came back with {error or 'no code'}"
            self._end("failed", f"The sign-in did not complete: {why}; nothing was written. Run %aws_login to try again.")
            raise LoginError(self.message)
        return self._finish(code, state or "")

    def complete(self, pasted: str) -> SignedIn:
        """Cross-device: the code the confirmation page showed. A wrong one raises CodeRejected and
        leaves this sign-in open for another try."""
        if self._callback is not None:
            raise CodeRejected("This sign-in completes in the browser on this machine, not with a pasted code.")
        self._check_open()
        code, state = parse_pasted(pasted)
        return self._finish(code, state)

    def cancel(self) -> None:
        """Stop waiting; nothing is written."""
        with self._lock:
            if self.state == "waiting":
                self._end("cancelled", "Sign-in cancelled; nothing was written.")

    def close(self) -> None:
        """Cancel if still waiting and free the loopback port."""
        self.cancel()

    def _check_open(self) -> None:
        if self.state == "waiting" and self.timed_out():
            minutes = round((self.expires_at - self.started_at).total_seconds() / 60)
            self._end("timed-out", f"The sign-in timed out: no answer from the browser within {minutes} minutes; "
                                   "nothing was written. Run %aws_login to start again.")
        if self.state != "waiting":
            raise LoginError(self.message or "This sign-in is over; run %aws_login to start again.")

    def _end(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    # -- the exchange and what it writes -------------------------------------------------------------

    def _finish(self, code: str, state: str) -> SignedIn:
        with self._lock:
            self._check_open()
            check_state(self.authorization, state)
            auth = self.authorization
            try:
                tokens = calls.exchange(self._client, self.key, client_id=auth.client_id, code=code,
                                        verifier=auth.verifier, redirect_uri=auth.redirect_uri, clock=self._clock,
                                        options=self._options)
            except CodeRejected:
                if self._callback is not None:  # same-device: the browser's one answer is spent
                    self._end("failed", "The sign-in did not complete; nothing was written. Run %aws_login to try again.")
                raise
            except LoginError as exc:
                if not self.remote:
                    self._end("failed", str(exc))
                raise
            self.result = self._save(tokens)
            self._end("signed-in", f"Signed in as {self.result.session}.")
            return self.result

    def _save(self, tokens: calls.Tokens) -> SignedIn:
        session = calls.login_session_of(tokens.id_token)
        assert session is not None  # calls.exchange checked it
        credentials = tokens.credentials
        token = {
            "accessToken": {"accessKeyId": credentials.access_key_id, "secretAccessKey": credentials.secret_access_key,
                            "sessionToken": credentials.session_token, "accountId": account_of(session) or "",
                            "expiresAt": cache.stamp(credentials.expiration)},
            "tokenType": "aws_sigv4",
            "clientId": self.authorization.client_id,
            "refreshToken": tokens.refresh_token,
            "idToken": tokens.id_token,
            "dpopKey": self.key.pem(),
        }
        replaced = profiles_file.login_session(self.target.profile)
        cache.write(session, token, self._environ)
        profiles_file.write_login_session(self.target.profile, session, self.target.region_to_write, self._environ)
        began = calls.signed_in_at(tokens.id_token) or self._clock()
        return SignedIn(session, self.target.profile, self.target.region, credentials, began + SESSION_LIMIT,
                        replaced if replaced and replaced != session else None)
