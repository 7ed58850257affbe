"""A successful STS answer damaged on the way (issue 12, item 1; and the empty key of item 12).

STS (moto, IAM auth on) issues real credentials; the loopback proxy (tests/faultproxy.py) cuts the
answer in half, breaks its XML, drops its Expiration or SessionToken, replaces it with a captive
portal's HTML page, moves its Expiration into the past or empties its AccessKeyId. Through every
way credentials are obtained (``%assume_role``, ``--refresh``, ``%session_token``,
``%federation_token``, ``session(ROLE)`` and a background renewal), the user must get one line that
says what failed, the previous credentials must stay in force, and none of the secrets in the
damaged answer (recorded by the proxy) may reach any output, log record, exception message or
saved notebook, not even a piece of one.
"""

from __future__ import annotations

import json
import logging
import os
import time
from types import SimpleNamespace

import pytest
from IPython.core.error import UsageError

import ipy_tempcreds
from faultproxy import FaultProxy
from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds import api
from ipy_tempcreds.base.errors import TempCredsError
from ipy_tempcreds.core.manager import CredentialManager
from support import (
    RestampingGateway,
    SecretWatch,
    kernel_environment,
    loaded_behind_proxy,
    new_notebook,
    proxied_environ,
    role_arn,
)

READER = role_arn("Reader")
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
FRAGMENT = 20  # no run of this many characters of any secret may appear anywhere

# (id, proxy.corrupt arguments, words the message must contain)
DAMAGE = [
    ("cut", {"kind": "cut"}, "could not be read"),
    ("malformed-xml", {"kind": "malformed"}, "could not be read"),
    ("no-expiration", {"kind": "drop", "field": "Expiration"}, "has no Expiration"),
    ("no-session-token", {"kind": "drop", "field": "SessionToken"}, "has no SessionToken"),
    ("captive-portal-html", {"kind": "html"}, "could not be read"),
    ("already-expired", {"kind": "expired"}, "credentials that expired at"),
    ("empty-access-key-id", {"kind": "empty_key"}, "has no AccessKeyId"),
]


@pytest.fixture(scope="module")
def world(local_aws, tmp_path_factory):
    local_aws.reset()
    alice = local_aws.create_user("alice")
    local_aws.create_role("Reader", [alice.arn])
    proxy = FaultProxy(local_aws.url).start()
    environ = proxied_environ(local_aws, alice, proxy.url, tmp_path_factory.mktemp("answers"))
    yield SimpleNamespace(aws=local_aws, alice=alice, proxy=proxy, environ=environ)
    proxy.stop()


@pytest.fixture
def damaged(world, isolated_environment, caplog, capsys):
    """The extension loaded, STS through the proxy, IAM auth on; ``check(text)`` fails on any
    secret (or piece of one) in ``text``, the captured log or stderr."""
    caplog.set_level(logging.DEBUG, logger="ipy_tempcreds")
    with loaded_behind_proxy(world, sts_timeout=2) as (ip, watch):

        def check(text: str, where: str) -> None:
            captured = capsys.readouterr()
            everything = f"{text}\n{captured.out}\n{captured.err}\n{caplog.text}"
            secrets = watch.values | world.proxy.secrets
            assert secrets, "nothing to look for: the test would prove nothing"
            for secret in secrets:
                pieces = {secret[i:i + FRAGMENT] for i in range(max(len(secret) - FRAGMENT, 0) + 1)}
                leaked = any(piece in everything for piece in pieces)
                assert not leaked, f"a secret (or part of one) leaked from {where}"

        def run(line: str) -> str:
            """The one-line message of a magic that must fail."""
            name, _, rest = line.lstrip("%").partition(" ")
            with pytest.raises(UsageError) as caught:
                ip.run_line_magic(name, rest)
            return str(caught.value)

        yield SimpleNamespace(shell=ip, proxy=world.proxy, check=check, run=run, secrets=watch, world=world)


def aws_bytes() -> dict[bytes, bytes]:
    return {k: v for k, v in os.environ._data.items() if k.startswith(b"AWS_")}


def assert_one_line(message: str, phrase: str, what: str) -> None:
    assert "\n" not in message.strip(), message
    assert message.startswith(what) and phrase in message, message
    assert "Traceback" not in message and "<" not in message  # no XML, no HTML, no repr


@pytest.mark.parametrize("damage, phrase", [(d, p) for _, d, p in DAMAGE], ids=[i for i, _, _ in DAMAGE])
def test_assume_role(damaged, damage, phrase):
    before = aws_bytes()
    damaged.proxy.corrupt(**damage, times=1, action="AssumeRole")
    message = damaged.run(f"%assume_role {READER} --session-name damaged")
    assert_one_line(message, phrase, f"AssumeRole {READER} failed: ")
    damaged.check(message, "%assume_role")
    assert aws_bytes() == before and api.current() is None


@pytest.mark.parametrize("damage, phrase", [(d, p) for _, d, p in DAMAGE], ids=[i for i, _, _ in DAMAGE])
def test_refresh(damaged, damage, phrase):
    fails_under_a_role(damaged, damage, "AssumeRole", "%assume_role --refresh", phrase, f"AssumeRole {READER} failed: ")


@pytest.mark.parametrize("damage, phrase", [(d, p) for _, d, p in DAMAGE], ids=[i for i, _, _ in DAMAGE])
def test_session_token(damaged, damage, phrase):
    fails_under_a_role(damaged, damage, "GetSessionToken", "%session_token --duration 1h", phrase,
                       "GetSessionToken session token failed: ")


def fails_under_a_role(damaged, damage, action: str, line: str, phrase: str, what: str) -> None:
    """With a role active, ``line`` meets a damaged ``action`` answer: one clean line, no secret,
    the role and the environment as they were."""
    damaged.shell.run_line_magic("assume_role", f"{READER} --session-name kept")
    grant, before = api.current(), aws_bytes()
    damaged.proxy.corrupt(**damage, times=1, action=action)
    message = damaged.run(line)
    assert_one_line(message, phrase, what)
    damaged.check(message, line)
    assert api.current() is grant and aws_bytes() == before


@pytest.mark.parametrize("damage, phrase", [(d, p) for _, d, p in DAMAGE], ids=[i for i, _, _ in DAMAGE])
def test_federation_token(damaged, damage, phrase):
    before = aws_bytes()
    damaged.proxy.corrupt(**damage, times=1, action="GetFederationToken")
    message = damaged.run(f"%federation_token bob --policy '{POLICY}'")
    assert_one_line(message, phrase, "GetFederationToken federated user bob failed: ")
    damaged.check(message, "%federation_token")
    assert aws_bytes() == before and api.current() is None


@pytest.mark.parametrize("damage, phrase", [(d, p) for _, d, p in DAMAGE], ids=[i for i, _, _ in DAMAGE])
def test_named_session(damaged, damage, phrase):
    before = aws_bytes()
    damaged.proxy.corrupt(**damage, times=1, action="AssumeRole")
    with pytest.raises(TempCredsError) as caught:
        api.session(READER, session_name="named")
    message = str(caught.value)
    assert_one_line(message, phrase, f"AssumeRole {READER} failed: ")
    damaged.check(message, "session(ROLE)")
    assert aws_bytes() == before and api.get_manager().named_sessions() == []


@pytest.mark.parametrize("damage, phrase", [(d, p) for _, d, p in DAMAGE], ids=[i for i, _, _ in DAMAGE])
def test_background_renewal(damaged, clock, damage, phrase):
    """The renewal path on a fake clock (renew_if_due() is what the renewal thread calls)."""
    manager = CredentialManager(clock=clock, background=False)
    manager.settings.sts_timeout = 2
    gateway = manager.sts = RestampingGateway(manager.sts, clock)
    kernel_state.install(manager)
    watch = SecretWatch(manager)
    try:
        grant = manager.activate(manager.role_request(READER, duration="1h", session_name="renewing"))
        before = aws_bytes()
        clock.advance(40 * 60)  # due: 20 minutes before expiry
        damaged.proxy.corrupt(**damage, action="AssumeRole")
        assert manager.renew_if_due() is False
        problem = manager.problem
        assert problem.startswith(f"Renewing {grant.arn} failed: AssumeRole {READER} failed: ") and phrase in problem
        assert "\n" not in problem and "<" not in problem
        notice = manager.before_cell()
        damaged.check(problem + (notice or ""), "a background renewal")
        for secret in watch.values:
            assert secret not in problem
        assert manager.current() is grant and aws_bytes() == before
        # Backing off, not looping: the next attempt waits (an expired answer is not "due now").
        calls = len(gateway.calls)
        assert manager.renew_if_due() is False and len(gateway.calls) == calls
    finally:
        watch.close()
        manager.clear()


def test_a_cut_answer_in_the_real_renewal_thread_logs_no_secret(damaged, caplog):
    """The real thread: 15-minute credentials renewed 899 s before expiry are due at once."""
    damaged.shell.run_line_magic("config", "TempCreds.refresh_margin = 899")
    damaged.proxy.corrupt("cut", action="AssumeRole", after=1)
    damaged.shell.run_line_magic("assume_role", f"{READER} --duration 15m --session-name threaded --quiet")
    grant, before = api.current(), aws_bytes()
    manager = api.get_manager()
    deadline = time.monotonic() + 10
    while manager.problem is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "could not be read" in (manager.problem or "")
    assert damaged.proxy.actions("cut"), "the renewal never reached the proxy"
    damaged.check(manager.problem, "the renewal thread")
    assert "could not be read" in caplog.text  # the warning was logged, scrubbed
    assert api.current() is grant and aws_bytes() == before


@pytest.mark.kernel
def test_nothing_of_a_damaged_answer_reaches_the_saved_notebook(damaged, tmp_path):
    """A real kernel: a cut answer at assume time, then during the background renewal of a role."""
    import nbformat
    from nbclient import NotebookClient

    damaged.proxy.corrupt("cut", action="AssumeRole", after=1)
    nb = new_notebook([
        "%load_ext ipy_tempcreds",
        "%config TempCreds.refresh_margin = 899",
        f"%assume_role {READER} --duration 15m --session-name nb",  # forwarded: due in 1 s
        ("import time, logging\nlogging.getLogger('ipy_tempcreds').addHandler(logging.StreamHandler())\n"
         "from ipy_tempcreds import api\nm = api.get_manager()\n"
         "for _ in range(200):\n    if m.problem: break\n    time.sleep(0.05)\nprint(m.problem)"),
        "%assume_role",
        f"%assume_role {READER} --session-name nb-again",  # cut
    ], raising={5})
    NotebookClient(nb, kernel_name="python3", timeout=60,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=kernel_environment(tmp_path / "ipy"))
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = path.read_text()
    assert "could not be read" in saved and damaged.proxy.actions("cut")
    renewal = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    assert renewal.startswith("Renewing arn:aws:sts::123456789012:assumed-role/Reader/nb failed: ")
    refused = "".join(o.get("text", "") for o in nb.cells[5].outputs)  # IPython shows a UsageError on stderr
    assert refused.startswith(f"UsageError: AssumeRole {READER} failed: STS's answer could not be read")
    assert refused.count("\n") == 1
    damaged.check(saved, "the saved notebook")


@pytest.mark.parametrize("damage, phrase", [(d, p) for _, d, p in DAMAGE[:2]], ids=[i for i, _, _ in DAMAGE[:2]])
def test_the_panel_shows_one_line_and_saves_no_secret(damaged, damage, phrase):
    panel = ipy_tempcreds.panel()
    try:
        damaged.proxy.corrupt(**damage, times=1, action="AssumeRole")
        panel._handle_custom_msg({"action": "assume", "role": READER, "duration": 3600, "seq": "v:1"}, [])
        assert panel.error.startswith(f"AssumeRole {READER} failed: ") and phrase in panel.error
        assert "\n" not in panel.error and api.current() is None
        damaged.check(json.dumps(panel.get_state()), "the panel's state")
    finally:
        panel.close()


def test_aws_whoami(damaged):
    damaged.shell.run_line_magic("assume_role", f"{READER} --session-name kept")
    damaged.proxy.corrupt("cut", times=1, action="GetCallerIdentity")
    message = damaged.run("%aws_whoami")
    assert_one_line(message, "could not be read", "GetCallerIdentity failed: ")
    damaged.check(message, "%aws_whoami")
