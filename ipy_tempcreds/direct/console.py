"""Console sign-in as the active credentials: a sign-in URL from the AWS federation endpoint.

    url = ipy_tempcreds.console_url("s3", region="eu-west-1")   # a bearer secret for 15 minutes

Two steps, as AWS documents for a custom identity broker: ``getSigninToken`` with the session
(access key id, secret access key, session token) returns a sign-in token; the login URL carries
that token and the console page to open. Anyone holding the URL is signed in as the role for
15 minutes, so it is returned to the caller and never printed, logged or kept here.

What AWS accepts, and what is checked here first so that a refusal comes with advice instead of
AWS's bare HTTP 400: credentials from AssumeRole (any role session, SSO role credentials too) and
from GetFederationToken; not an IAM user's access keys, not the root user's, not GetSessionToken
credentials. ``SessionDuration`` (how long the console session lasts) is only allowed for
AssumeRole credentials obtained with long-term keys: never for a chained role, a role assumed
through an MFA session, or from temporary source credentials.

Only the configured endpoint is contacted (the partition's, or ``TempCreds.signin_endpoint``),
with urllib and a timeout; redirects are not followed, since the request carries the secret key.
Imports nothing from IPython.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from ..base import redaction
from ..base.errors import Hint, InvalidInput, TempCredsError
from ..base.suggest import did_you_mean
from ..base.validation import DEFAULT_REGION_BY_PARTITION, SIGNIN_ENDPOINTS, check_region, check_signin_endpoint
from . import console_services

__all__ = ["ConsoleSigninError", "SigninUrl", "console_url", "check_service",
           "console_destination", "default_signin_endpoint"]

CONSOLE_HOSTS = {"aws": "console.aws.amazon.com", "aws-us-gov": "console.amazonaws-us-gov.com",
                 "aws-cn": "console.amazonaws.cn"}
TOKEN_LIFETIME = 15 * 60  # AWS: a sign-in token is valid for 15 minutes
ISSUER = "ipy_tempcreds"  # shown by AWS as the broker's name; aws-vault sends its own name the same way
MAX_ANSWER_BYTES = 64 * 1024  # a sign-in token is a few hundred characters; anything huge is not one
_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_PATH = re.compile(r"[a-z0-9][a-z0-9/-]{0,126}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,16384}")  # printable, no spaces: what goes into a URL safely
_REGION_PARTITION = (("us-gov-", "aws-us-gov"), ("cn-", "aws-cn"))
FEDERATION_HINT = "%federation_token NAME --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess"


class ConsoleSigninError(TempCredsError):
    """The console cannot be opened with these credentials, or the sign-in endpoint failed."""


class SigninUrl(str):
    """A console sign-in URL: a bearer secret for 15 minutes. ``str(url)`` is the URL itself;
    its repr (what a notebook would show and save) hides the token.

    ``identity`` (the ARN signed in), ``destination`` (the console page) and ``expires_at`` (epoch
    seconds, this machine's clock) are not secret.
    """

    identity: str
    destination: str
    expires_at: float

    def __new__(cls, url: str, *, identity: str, destination: str, expires_at: float):
        made = super().__new__(cls, url)
        made.identity, made.destination, made.expires_at = identity, destination, expires_at
        return made

    def __repr__(self) -> str:
        return (f"<console sign-in URL for {self.identity} to {self.destination} (a bearer secret: "
                "str(url) to use it)>")

    def _repr_pretty_(self, printer, cycle):  # IPython's display of a str subclass
        printer.text(repr(self))

    def __reduce__(self):  # no pickling into caches or cluster workers
        raise TypeError("a console sign-in URL is a bearer secret and is not pickled")


@dataclass(frozen=True)
class _Session:
    """What getSigninToken is given: the key set (secret), whose it is, and the console duration."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    identity: str
    session_duration: int | None

    def __repr__(self) -> str:
        return f"_Session(identity={self.identity!r}, <secrets hidden>)"


# -- validation (before anything is sent) -------------------------------------------------------------

def check_service(value: str | None) -> str | None:
    """The console path for a service name such as ``s3``, ``dynamodb`` or ``ssm`` (the list is
    direct/console_services.py, which says where it comes from); a path with a ``/`` is taken as
    typed (``quicksight/``); None for the console home. An unknown name is refused with the
    closest known one, rather than linking to a page that does not exist."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    word = value.strip().lower() if isinstance(value, str) else ""
    if "/" in word:
        if not _PATH.fullmatch(word) or "//" in word:
            raise InvalidInput(f"{value!r} is not a console path such as quicksight/ or codesuite/codecommit.")
        return word
    if not _SERVICE.fullmatch(word):
        raise InvalidInput(f"{value!r} is not a console service name such as s3, ec2, lambda or cloudwatch.")
    path = console_services.NAMES.get(word)
    if path is not None:
        return path
    guess = did_you_mean(word, console_services.NAMES)
    if guess:
        raise InvalidInput(f"unknown console service {word!r}: {guess}")
    raise InvalidInput(f"unknown console service {word!r} (known: s3, athena, glue, sagemaker, ec2, lambda, "
                       f"cloudwatch, iam, ...). A console page that is not listed opens as typed when its path "
                       f"ends with /: {word}/.")


def partition_of_region(region: str) -> str:
    return next((partition for prefix, partition in _REGION_PARTITION if region.startswith(prefix)), "aws")


def default_signin_endpoint(partition: str) -> str:
    """The partition's federation endpoint."""
    try:
        return SIGNIN_ENDPOINTS[partition]
    except KeyError:
        raise ConsoleSigninError(
            f"console sign-in is not available for the {partition} partition here (known: "
            f"{', '.join(SIGNIN_ENDPOINTS)}). Set TempCreds.signin_endpoint if your partition has one."
        ) from None


def console_destination(partition: str, service: str | None, region: str) -> str:
    """The console page to open: the service's page in ``region``, or the console home."""
    path = f"{service.rstrip('/')}/home" if service else "console/home"
    host = CONSOLE_HOSTS.get(partition)
    if host is None:
        default_signin_endpoint(partition)  # raises the explanation
    # The standard partition has regional console hosts; GovCloud and China use their one host.
    if partition == "aws":
        host = f"{region}.{host}"
    return f"https://{host}/{path}?region={region}"


def _region_for(partition: str, explicit: str | None, configured: str | None, environ) -> str:
    if explicit:
        region = check_region(explicit)
        if partition_of_region(region) != partition:
            example = DEFAULT_REGION_BY_PARTITION.get(partition, "")
            raise InvalidInput(f"{{hint}} is not a region of the {partition} partition of the active credentials; "
                               f"use one of its regions, such as {example}.", hint=Hint("region", region))
        return region
    for candidate in (configured, environ.get("AWS_REGION"), environ.get("AWS_DEFAULT_REGION")):
        # A region of another partition (a leftover AWS_REGION) would open a console that refuses
        # the session: the partition's main region is the better guess.
        if candidate and partition_of_region(candidate) == partition:
            return candidate
    return DEFAULT_REGION_BY_PARTITION.get(partition, "us-east-1")


# -- which credentials, and may they sign in -----------------------------------------------------------

def _identity_kind(operation: str | None, arn: str) -> str:
    """"role", "federated", "session-token" or "user" (an IAM user's or the root user's keys)."""
    if operation == "GetSessionToken":
        return "session-token"
    if operation == "GetFederationToken" or ":federated-user/" in arn:
        return "federated"
    if operation == "AssumeRole" or ":assumed-role/" in arn:
        return "role"
    return "user"


def _assumed_with_long_term_keys(manager, grant) -> bool:
    """True only for a role the manager assumed directly with long-term source keys: the one case
    where AWS accepts SessionDuration. Chained roles, roles assumed through an MFA session and roles
    assumed from temporary source credentials are role chaining to AWS."""
    request = grant.request
    if grant.parent is not None or getattr(request, "operation", None) != "AssumeRole" or request.chain:
        return False
    if request.mfa_serial and manager.settings.mfa_session_duration > 0:
        return False  # assumed from a GetSessionToken session first (issuer.Issuer._use_mfa_session)
    try:
        return not manager.sts.source_is_temporary(request)
    except TempCredsError:
        return False


def _session_from_grant(manager, grant) -> _Session:
    kind = _identity_kind(getattr(grant.request, "operation", None), grant.arn)
    if kind == "session-token":
        raise ConsoleSigninError(
            "the AWS console does not accept credentials from GetSessionToken (the active "
            f"{grant.arn}). Assume a role (`%assume_role ROLE`) or get a federated session with "
            f"`{FEDERATION_HINT}`, then open the console again."
        )
    if kind == "user":
        raise ConsoleSigninError(f"the AWS console does not accept the credentials of {grant.arn}; "
                                 "assume a role (`%assume_role ROLE`) and try again.")
    duration = None
    if kind == "role" and _assumed_with_long_term_keys(manager, grant):
        # The console session lasts as long as the role's credentials were asked to: the role's
        # MaxSessionDuration allowed that much already.
        duration = min(max(int(grant.request.duration), 900), 43200)
    held = grant.credentials
    return _Session(held.access_key_id, held.secret_access_key, held.session_token, grant.arn, duration)


def _session_from_kernel(manager) -> _Session:
    """The kernel's own credentials (no role active), if the console accepts them."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    found = boto3.DEFAULT_SESSION.get_credentials()
    frozen = found.get_frozen_credentials() if found is not None else None
    if frozen is None or not frozen.access_key:
        raise ConsoleSigninError("no credentials are active in the kernel: `%assume_role ROLE` first, then "
                                 "open the console.")
    if not frozen.token:
        # Long-term keys: an IAM user's (or root's). No request goes out: AWS would refuse it.
        raise ConsoleSigninError(
            "no role is active and the kernel's own credentials are an IAM user's access keys, which the "
            f"AWS console does not accept. Get a federated session from them first, as aws-vault does: "
            f"`{FEDERATION_HINT}` (the console may then do what both your user and the policies passed "
            "allow), or assume a role with `%assume_role ROLE`; then open the console again."
        )
    identity = manager.whoami()
    arn = identity.get("Arn", "")
    if _identity_kind(None, arn) == "user":
        raise ConsoleSigninError(
            f"no role is active and the kernel's own credentials ({arn}) are a GetSessionToken session, "
            "which the AWS console does not accept. Assume a role with `%assume_role ROLE`, then open the "
            "console again."
        )
    # Temporary credentials from outside (SSO, a role profile, an instance role): how they were
    # obtained is unknown here, so no SessionDuration (AWS refuses it for chained sessions).
    redaction.remember(frozen.secret_key, frozen.token)
    return _Session(frozen.access_key, frozen.secret_key, frozen.token, arn, None)


# -- the two requests ------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx becomes an HTTPError: credentials go to the configured endpoint only


def _fetch_token(endpoint: str, session: _Session, timeout: float) -> str:
    """getSigninToken; a failure becomes one line of advice that holds no token and no secret."""
    host = urllib.parse.urlsplit(endpoint).netloc
    query = {"Action": "getSigninToken"}
    if session.session_duration is not None:
        query["SessionDuration"] = str(session.session_duration)
    query["Session"] = json.dumps({"sessionId": session.access_key_id, "sessionKey": session.secret_access_key,
                                   "sessionToken": session.session_token})
    request = urllib.request.Request(f"{endpoint}?{urllib.parse.urlencode(query)}",
                                     headers={"Accept": "application/json", "User-Agent": ISSUER})
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if urllib.parse.urlsplit(endpoint).scheme == "http":
        # Plain http is loopback only: never hand that request (secret key in its query) to a proxy.
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    failure = body = None
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        failure = _http_failure(exc.code, session)
        exc.close()
    except urllib.error.URLError as exc:
        failure = _connection_failure(exc.reason, timeout)
    except OSError as exc:  # reset or closed before an answer (http.client.RemoteDisconnected)
        failure = _connection_failure(exc, timeout)
    except (ValueError, http.client.HTTPException) as exc:  # a broken answer; some of these quote the URL
        failure = f"its answer could not be read ({type(exc).__name__}). Try again, or check TempCreds.signin_endpoint"
    del request  # holds the secret key in its URL
    if failure is None:
        token = _token_in(body)
        if token is not None:
            redaction.remember(token)  # a bearer secret: no log record shows it (base/logs.py)
            return token
        failure = ("answered with something that is not a sign-in token. Check that TempCreds.signin_endpoint "
                   "is the federation endpoint and that no proxy or login page is in between")
    raise ConsoleSigninError(f"console sign-in at {host} failed: {failure}.")


def _http_failure(status: int, session: _Session) -> str:
    if 300 <= status < 400:
        return (f"it redirected the request (HTTP {status}), which is not followed since the request carries "
                "the credentials. Check TempCreds.signin_endpoint")
    if status >= 500:
        return f"HTTP {status}, a fault on the endpoint's side that is usually temporary. Try again in a minute"
    asked = f" with a console session of {session.session_duration} s" if session.session_duration else ""
    return (f"it refused the session of {session.identity}{asked} (HTTP {status}). Likely causes: the "
            "credentials expired or were revoked (`%assume_role --refresh`), or the endpoint is not the one "
            "of the credentials' partition (TempCreds.signin_endpoint)")


def _connection_failure(reason, timeout: float) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"did not answer within {timeout:g} s. Try again, or check the network and proxy"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused. Check the network, the proxy settings and TempCreds.signin_endpoint"
    if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, http.client.RemoteDisconnected)):
        return "the connection was closed without an answer. Check the network and proxy, then try again"
    return f"could not connect ({_reason_words(reason)}). Check the network, the proxy and TempCreds.signin_endpoint"


def _reason_words(reason) -> str:
    """Why a connection failed, from fields that never quote the request's URL (which holds the
    secret key, URL-encoded, so that scrub() would not recognise it)."""
    if isinstance(reason, ssl.SSLError):
        return f"TLS: {getattr(reason, 'verify_message', None) or reason.reason or 'handshake failed'}"
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return type(reason).__name__


def _token_in(body: bytes | None) -> str | None:
    if not body or len(body) > MAX_ANSWER_BYTES:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    token = answer.get("SigninToken") if isinstance(answer, dict) else None
    return token if isinstance(token, str) and _TOKEN.fullmatch(token) else None


def console_url(manager, service: str | None = None, region: str | None = None, *, environ=None) -> SigninUrl:
    """A sign-in URL for the AWS console as the credentials in force, opening ``service``'s page
    in ``region`` (the console home without a service).

    Everything is checked before any request: the service and region, the endpoint, and whether
    the console accepts these credentials (a message says what to do where it does not). The URL
    is valid for 15 minutes and signs in whoever opens it: use it, do not print or store it.
    """
    service = check_service(service)
    explicit_region = check_region(region) if region else None
    endpoint = check_signin_endpoint(manager.settings.signin_endpoint)
    grant = manager.current()
    session = _session_from_grant(manager, grant) if grant is not None else _session_from_kernel(manager)
    partition = session.identity.split(":")[1] if session.identity.count(":") >= 5 else "aws"
    endpoint = endpoint or default_signin_endpoint(partition)
    environ = os.environ if environ is None else environ
    destination = console_destination(partition, service,
                                      _region_for(partition, explicit_region, manager.settings.region, environ))
    token = _fetch_token(endpoint, session, manager.settings.sts_timeout)
    query = urllib.parse.urlencode({"Action": "login", "Issuer": ISSUER, "Destination": destination,
                                    "SigninToken": token})
    redaction.remember(f"{endpoint}?{query}")
    return SigninUrl(f"{endpoint}?{query}", identity=session.identity, destination=destination,
                     expires_at=time.time() + TOKEN_LIFETIME)
