"""Races: renewals in background threads against clear and switch from the main thread, while other
threads read the environment the way botocore and user code do.

What must hold (docs/ARCHITECTURE.md): a set is installed as one step, and botocore (which reads a set one
variable at a time) never combines two; a renewal is never installed after a clear (once clear()
returns, the environment is the original until the next assume), a renewal of the old role never
lands over a switch, and the end state is consistent.

Every set ever issued is recorded as key id -> (secret, token), from manager.subscribe and from the
gateway (listeners get the grant current when they are called, so two installs in quick succession
can reach them as one: the gateway sees every set). A reader's observation is *mixed* if its key id
belongs to one set and its secret or token to another.

The 1,000-cycle runs use a stub StsGateway that mints unique credentials instantly: mocked only
because moto (~5-10 ms per call) would make them take minutes. One smaller run goes through moto.
"""

from __future__ import annotations

import itertools
import os
import secrets
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from botocore.credentials import EnvProvider

from ipy_tempcreds import _kernel as kernel_state
from ipy_tempcreds.base.errors import NotActive, StsError
from ipy_tempcreds.core.manager import CredentialManager
from ipy_tempcreds.model.credentials import Issued, TemporaryCredentials
from ipy_tempcreds.sources.sts import StsGateway
from support import FakeClock, RestampingGateway, role_arn

ROLE_A, ROLE_B = role_arn("RaceA"), role_arn("RaceB")
CREDENTIAL_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class InstantGateway:
    """Mints a unique set per call, at once. A stand-in for STS only for speed (see module doc)."""

    service, mfa_note = StsGateway.service, StsGateway.mfa_note
    describe = staticmethod(StsGateway.describe)

    def __init__(self, clock):
        self.clock = clock
        self.numbers = itertools.count()

    def obtain(self, request, **_):
        number = next(self.numbers)
        credentials = TemporaryCredentials(f"ASIARACE{number:012d}", secrets.token_urlsafe(30),
                                           secrets.token_urlsafe(90), self.clock() + timedelta(seconds=request.duration))
        if request.operation != "AssumeRole":
            return Issued(credentials, "arn:aws:iam::123456789012:user/alice", "123456789012", "AIDARACE")
        return Issued(credentials, f"arn:aws:sts::123456789012:assumed-role/{request.role_arn.rsplit('/', 1)[1]}/"
                         f"{request.session_name}", "123456789012", "AROARACE")


class CountingGateway:
    """Counts the STS calls made from the product's renewal thread and from other threads, and
    hands every issued set to ``observed``."""

    def __init__(self, gateway, observed=None):
        self.gateway, self.observed = gateway, observed
        self.background = self.other = 0

    def obtain(self, request, **kwargs):
        result = self.gateway.obtain(request, **kwargs)
        if self.observed is not None:
            credentials = result.credentials
            self.observed.issued[credentials.access_key_id] = (credentials.secret_access_key, credentials.session_token)
        if threading.current_thread().name == "ipy_tempcreds-renewal":
            self.background += 1
        else:
            self.other += 1
        return result

    def __getattr__(self, name):
        return getattr(self.gateway, name)

    def source_is_temporary(self, _request) -> bool:
        return False


class LeapingClock:
    """Each reading is an hour after the previous one: every renewal is due as soon as it is
    scheduled, so the product's own RenewalThread renews as fast as it can."""

    def __init__(self):
        self._now = datetime(2030, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self._now += timedelta(hours=1)
            return self._now


class Observations:
    """What readers saw, classified once every issued set is known."""

    def __init__(self, original: dict[str, str]):
        self.issued: dict[str, tuple[str, str | None]] = {
            original["AWS_ACCESS_KEY_ID"]: (original["AWS_SECRET_ACCESS_KEY"], original.get("AWS_SESSION_TOKEN"))}
        self.seen: dict[str, list[tuple]] = {"botocore EnvProvider": [], "dict(os.environ)": [], "os.environ._data copy": []}
        self.key_errors = 0

    def listener(self, change) -> None:
        grant = change.grant
        while grant is not None:  # a chained grant's parents were issued too
            self.issued[grant.access_key_id] = (grant.credentials.secret_access_key, grant.credentials.session_token)
            grant = grant.parent

    def mixed(self, kind: str) -> list[tuple]:
        return [seen for seen in self.seen[kind] if self.issued.get(seen[0]) != tuple(seen[1:])]


def read_like_botocore(observed: Observations) -> None:
    credentials = EnvProvider(environ=os.environ).load()
    frozen = credentials.get_frozen_credentials()
    observed.seen["botocore EnvProvider"].append((frozen.access_key, frozen.secret_key, frozen.token))


def read_a_copy(observed: Observations) -> None:
    try:
        copy = dict(os.environ)  # what os.environ.copy() and subprocess env building do
    except KeyError:  # a key listed, then gone before its value was read (a clear removed it)
        observed.key_errors += 1
        return
    observed.seen["dict(os.environ)"].append(tuple(copy.get(k) for k in CREDENTIAL_KEYS))


def read_atomically(observed: Observations) -> None:
    # One C-level dict copy of the mapping os.environ wraps: what delivery/environment.py swaps in one step.
    data = os.environ._data.copy()
    observed.seen["os.environ._data copy"].append(
        tuple(data[k.encode()].decode() if k.encode() in data else None for k in CREDENTIAL_KEYS))


@contextmanager
def running(*loops):
    """Run each loop(stop_event) in its own thread until the block ends; re-raise their errors."""
    stop, errors = threading.Event(), []

    def guard(loop):
        try:
            while not stop.is_set():
                loop()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(loop,), name=f"race-{loop.__name__}", daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert not errors, errors


def credential_environment() -> dict[str, str | None]:
    return {k: os.environ.get(k) for k in CREDENTIAL_KEYS + ("AWS_CREDENTIAL_EXPIRATION", "AWS_SECURITY_TOKEN", "AWS_ACCOUNT_ID")}


def race(manager: CredentialManager, cycles: int, observed: Observations, original_bytes: dict) -> dict:
    """Switch A -> B -> clear, `cycles` times, while a thread refreshes, the manager's own renewal
    thread renews and three readers read. Returns counts; asserts the hard rules as it goes."""
    counts = {"refreshes": 0, "refused": 0, "clears": 0, "reads": 0}

    def refresher():
        try:
            manager.refresh()
            counts["refreshes"] += 1
        except NotActive:  # nothing active, or cleared/switched while renewing: refused, correctly
            counts["refused"] += 1
        time.sleep(0)

    def reader():
        read_like_botocore(observed)
        read_a_copy(observed)
        read_atomically(observed)
        counts["reads"] += 1
        time.sleep(0)

    with running(refresher, reader, reader):
        for cycle in range(cycles):
            step = cycle % 3
            if step < 2:
                manager.activate(manager.role_request(ROLE_B if step else ROLE_A, session_name=f"race-{step}"))
            else:
                manager.clear()
                counts["clears"] += 1
                # From the moment clear() returns until the next assume, the environment is the
                # original, whatever the renewers are doing.
                for _ in range(3):
                    assert dict(os.environ._data) == original_bytes, f"cycle {cycle}: something was installed after clear"
                    assert manager.current() is None
                    time.sleep(0.0002)
    return counts


def assert_consistent_end(manager: CredentialManager, original_bytes: dict) -> None:
    grant = manager.current()
    if grant is None:
        assert dict(os.environ._data) == original_bytes
        return
    assert credential_environment() == {
        "AWS_ACCESS_KEY_ID": grant.access_key_id, "AWS_SECRET_ACCESS_KEY": grant.credentials.secret_access_key,
        "AWS_SESSION_TOKEN": grant.credentials.session_token,
        "AWS_CREDENTIAL_EXPIRATION": grant.credentials.environment()["AWS_CREDENTIAL_EXPIRATION"],
        "AWS_SECURITY_TOKEN": None, "AWS_ACCOUNT_ID": None,
    }


def report(observed: Observations, label: str) -> None:
    """A copy taken key by key (dict(os.environ)) can straddle a swap: a known limit of such readers
    (delivery/environment.py), measured and said in every run, not a failure."""
    mixed = observed.mixed("dict(os.environ)")
    if mixed or observed.key_errors:
        warnings.warn(f"{label}: {len(mixed)} of {len(observed.seen['dict(os.environ)'])} dict(os.environ) copies "
                      f"saw a mixed credential set; {observed.key_errors} raised KeyError (known limit of "
                      "key-by-key copies: delivery/environment.py)", stacklevel=2)


@pytest.fixture
def base_keys():
    """The kernel's own credentials (never sent anywhere here: the gateway is the stub)."""
    os.environ.update(AWS_ACCESS_KEY_ID="AKIA_RACE_BASE_0000", AWS_SECRET_ACCESS_KEY="race-base-secret-" + "x" * 23)


@pytest.fixture
def racing(base_keys):
    """A manager with the real renewal thread on a leaping clock, over the instant gateway."""
    clock = LeapingClock()
    observed = Observations(dict(os.environ))
    manager = CredentialManager(clock=clock, gateway=CountingGateway(InstantGateway(clock), observed), background=True)
    manager.settings.recent_roles_limit = 0  # no file writes in the loop
    kernel_state.install(manager)
    manager.subscribe(observed.listener)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # switch threads 50x more often than by default: more interleavings
    yield manager, observed
    sys.setswitchinterval(interval)
    manager.clear()


def renewal_threads():
    return [t for t in threading.enumerate() if t.name.startswith("ipy_tempcreds")]


def test_1000_cycles_of_renewal_against_clear_and_switch(racing):
    manager, observed = racing
    original_bytes = dict(os.environ._data)
    counts = race(manager, 1000, observed, original_bytes)
    manager.activate(manager.role_request(ROLE_A, session_name="last"))
    assert_consistent_end(manager, original_bytes)
    manager.clear()
    assert dict(os.environ._data) == original_bytes and renewal_threads() == []

    # The renewers really raced: the background thread and the refresher renewed hundreds of times.
    print("1000 cycles:", counts, "background renewals:", manager.sts.background)
    assert counts["clears"] == 333 and counts["refreshes"] > 20 and manager.sts.background > 50, (
        counts, manager.sts.background)
    assert counts["reads"] > 300
    # A reader taking the environment in one step never sees a mix: the swap is atomic. botocore's
    # EnvProvider, which takes it in four steps, reads them from one snapshot (consistent_reads).
    assert observed.mixed("os.environ._data copy") == []
    assert observed.mixed("botocore EnvProvider") == [] and len(observed.seen["botocore EnvProvider"]) > 300
    report(observed, "1000 cycles")


def test_100_cycles_against_moto(aws):
    """The same race with real STS calls (moto over HTTP, IAM auth off), fewer cycles."""
    clock = LeapingClock()
    observed = Observations(dict(os.environ))
    manager = CredentialManager(clock=clock, background=True)
    manager.sts = CountingGateway(RestampingGateway(manager.sts, clock), observed)
    manager.settings.recent_roles_limit = 0
    kernel_state.install(manager)
    manager.subscribe(observed.listener)
    original_bytes = dict(os.environ._data)

    counts = race(manager, 100, observed, original_bytes)

    assert_consistent_end(manager, original_bytes)
    # Through moto a refresh takes as long as a switch, so most refreshes are overtaken (refused).
    assert counts["clears"] == 33 and counts["refreshes"] >= 1 and manager.sts.background > 10, (
        counts, manager.sts.background)
    assert observed.mixed("os.environ._data copy") == []
    assert observed.mixed("botocore EnvProvider") == []
    report(observed, "100 cycles against moto")


# -- the interleavings, one at a time -------------------------------------------------------------------

class InterleavingManager(CredentialManager):
    """Runs ``between()`` once, in the thread calling ``refresh()``, right after it has read the
    active grant: the point where another thread's clear() or switch can land."""

    between = None

    @property
    def _grant(self):
        grant = self.__dict__.get("_grant_value")
        hook = self.__dict__.get("between")
        if hook is not None and sys._getframe(1).f_code.co_name == "refresh":
            self.__dict__["between"] = None
            hook()
        return grant

    @_grant.setter
    def _grant(self, value):
        self.__dict__["_grant_value"] = value


@pytest.mark.parametrize("other_thread_does", ["clear", "switch"])
def test_a_refresh_overtaken_by_clear_or_switch_installs_nothing(base_keys, other_thread_does):
    clock = FakeClock()
    manager = InterleavingManager(clock=clock, gateway=InstantGateway(clock), background=False)
    kernel_state.install(manager)
    original = dict(os.environ._data)
    manager.activate(manager.role_request(ROLE_A, session_name="first"))
    switched = []

    def other_thread():
        worker = threading.Thread(target=lambda: manager.clear() if other_thread_does == "clear" else switched.append(
            manager.activate(manager.role_request(ROLE_B, session_name="second"))))
        worker.start()
        worker.join()

    manager.between = other_thread
    with pytest.raises(NotActive, match="cleared or replaced while renewing"):
        manager.refresh()

    if other_thread_does == "clear":
        assert manager.current() is None and dict(os.environ._data) == original
    else:
        assert manager.current() is switched[0]
        assert os.environ["AWS_ACCESS_KEY_ID"] == switched[0].access_key_id


class GatedGateway(InstantGateway):
    """Holds the renewal of session "first" (in source_is_temporary for an MFA role, in obtain
    otherwise) until released, then fails it; everything else is answered at once."""

    def __init__(self, clock, failure):
        super().__init__(clock)
        self.entered, self.release, self.failure = threading.Event(), threading.Event(), failure
        self.first_done = False

    def _gate(self, request):
        if getattr(request, "session_name", "") == "first" and self.first_done:
            self.entered.set()
            assert self.release.wait(10)
            return True
        return False

    def source_is_temporary(self, request) -> bool:
        self._gate(request)
        return False

    def obtain(self, request, **kwargs):
        if request.operation == "AssumeRole" and self._gate(request):
            raise self.failure
        result = super().obtain(request, **kwargs)
        if getattr(request, "session_name", "") == "first":
            self.first_done = True
        return result


@pytest.mark.parametrize("failure", ["sts-error", "needs-mfa-code"])
def test_a_renewal_failing_after_a_switch_does_not_mark_the_new_role(base_keys, failure):
    """The background renewal of role A is in flight when the user switches to B; then A's renewal
    fails. B must not inherit A's failure: no warning about B, no early retry, no MFA prompt."""
    clock = FakeClock()
    gateway = GatedGateway(clock, StsError("AssumeRole failed: STS is throttling requests.", "Throttling"))
    manager = CredentialManager(clock=clock, gateway=gateway, background=False)
    kernel_state.install(manager)
    if failure == "needs-mfa-code":
        manager.settings.mfa_session_duration = 900  # ends before the renewal: a new code is needed
        manager.activate(manager.role_request(ROLE_A, session_name="first", mfa_serial="arn:aws:iam::123456789012:mfa/alice"),
                         mfa_code="123456")
    else:
        manager.activate(manager.role_request(ROLE_A, session_name="first"))
    clock.advance(41 * 60)
    renewal = threading.Thread(target=manager.renew_if_due)
    renewal.start()
    assert gateway.entered.wait(10)

    switched = manager.activate(manager.role_request(ROLE_B, session_name="second"))
    gateway.release.set()
    renewal.join(10)

    assert manager.current() is switched and os.environ["AWS_ACCESS_KEY_ID"] == switched.access_key_id
    assert manager.problem is None and manager.before_cell() is None and not manager.needs_mfa_code
    assert manager.renewal_due() == switched.expiration - timedelta(minutes=20)


def role_a_observed():
    """The kernel's manager on an instant gateway with role A active, every set it installs
    recorded; for the deterministic interleavings below."""
    clock = FakeClock()
    manager = CredentialManager(clock=clock, gateway=InstantGateway(clock), background=False)
    kernel_state.install(manager)
    observed = Observations(dict(os.environ))
    manager.subscribe(observed.listener)
    manager.activate(manager.role_request(ROLE_A, session_name="first"))
    return manager, observed


class RenewOnRead(dict):
    """The mapping behind os.environ, renewing the credentials (a real swap through the manager)
    right after the ``after``-th read of the key id: the moment a reader has the key id of one set
    and not yet the secret."""

    def __init__(self, data, renew, after):
        super().__init__(data)
        self.renew, self.after, self.reads = renew, after, 0

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if key == b"AWS_ACCESS_KEY_ID":
            self.reads += 1
            if self.reads == self.after:
                self.renew()
        return value


@contextmanager
def renewal_during_the_read(manager, after):
    """os.environ renews its credentials in the middle of the next botocore read; yields the
    access key id in force before it."""
    before = os.environ["AWS_ACCESS_KEY_ID"]
    os.environ._data = RenewOnRead(os.environ._data, manager.refresh, after)
    try:
        yield before
    finally:
        os.environ._data = dict(os.environ._data)
    assert os.environ["AWS_ACCESS_KEY_ID"] != before, "no renewal happened during the read: the test tested nothing"


def botocore_load():
    """What boto3.client() does: botocore's own EnvProvider on os.environ. The key fields are read
    as load() stored them: the public properties may refresh, reading the environment again."""
    credentials = EnvProvider().load()
    return credentials._access_key, credentials._secret_key, credentials._token


def aiobotocore_load():
    """What s3fs does: aiobotocore's EnvProvider (botocore's fetcher, an async load)."""
    import asyncio

    aiocredentials = pytest.importorskip("aiobotocore.credentials")
    credentials = asyncio.run(aiocredentials.AioEnvProvider().load())
    return credentials._access_key, credentials._secret_key, credentials._token


def botocore_refresh():
    """What a long-lived client does near expiry: its RefreshableCredentials call the fetcher."""
    credentials = EnvProvider().load()
    fetched = credentials._refresh_using()
    return fetched["access_key"], fetched["secret_key"], fetched["token"]


# The read of the key id after which the renewal lands. load() reads the key id once to see whether
# there are credentials, then its fetcher reads the set (the 2nd); botocore_refresh loads first, so
# its refresh's fetch is the 3rd.
READS = {botocore_load: 2, aiobotocore_load: 2, botocore_refresh: 3}


@pytest.mark.parametrize("read", list(READS), ids=lambda read: read.__name__)
def test_a_renewal_in_the_middle_of_a_botocore_read_gives_it_one_whole_set(base_keys, read):
    """botocore reads the key id, the secret and the token with separate os.environ.get() calls;
    consistent_reads makes it take them from one snapshot (here the renewal lands after its
    first read of the key id). The set read is the old one, whole; the next read gets the new."""
    manager, observed = role_a_observed()
    with renewal_during_the_read(manager, READS[read]) as before:
        seen = read()
    assert seen[0] == before
    observed.seen["botocore EnvProvider"].append(seen)
    assert observed.mixed("botocore EnvProvider") == []
    assert read()[0] == os.environ["AWS_ACCESS_KEY_ID"] != before


def test_without_the_snapshot_the_same_read_is_mixed(base_keys, monkeypatch):
    """The control: botocore's fetcher as shipped, under the same interleaving, combines the key
    id of the old set with the secret of the new one (what consistent_reads exists for)."""
    manager, observed = role_a_observed()
    monkeypatch.setattr(EnvProvider, "_create_credentials_fetcher", EnvProvider._create_credentials_fetcher.__wrapped__)
    with renewal_during_the_read(manager, 2):
        observed.seen["botocore EnvProvider"].append(botocore_load())
    assert len(observed.mixed("botocore EnvProvider")) == 1


def test_a_provider_given_its_own_mapping_reads_that_mapping(base_keys):
    """Only providers reading os.environ get the snapshot: one given another mapping (the STS
    gateway pins the pre-injection environment this way) reads exactly what it was given."""
    role_a_observed()  # role A in force; this test reads another mapping beside it
    given = {"AWS_ACCESS_KEY_ID": "AKIA_GIVEN_0000", "AWS_SECRET_ACCESS_KEY": "given-secret"}
    credentials = EnvProvider(environ=given).load()
    assert (credentials.access_key, credentials.secret_key) == ("AKIA_GIVEN_0000", "given-secret")
    assert os.environ["AWS_ACCESS_KEY_ID"] != "AKIA_GIVEN_0000"


def test_botocore_imported_after_loading_reads_whole_sets_from_the_first_assume(aws):
    """In a fresh interpreter that imports boto3 only after the manager exists (no botocore at load),
    the first assume installs the snapshot reads before it injects anything."""
    import subprocess

    script = f"""
import sys
from ipy_tempcreds import api
manager = api.get_manager()
assert "botocore" not in sys.modules, "loading imported botocore"
import boto3
from botocore.credentials import EnvProvider
assert not hasattr(EnvProvider._create_credentials_fetcher, "_ipy_tempcreds")
manager.activate(manager.role_request("{ROLE_A}"))
print(getattr(EnvProvider._create_credentials_fetcher, "_ipy_tempcreds", False))
manager.clear()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"


CHILD = 'printf "%s %s %s" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"'


def spawn_child() -> tuple[str, ...]:
    """What a child process started now inherits: the key id, the secret and the token."""
    import subprocess

    return tuple(subprocess.run(["/bin/sh", "-c", CHILD], capture_output=True, text=True).stdout.split(" "))


@pytest.mark.parametrize("writer", ["product", "os.putenv"])
def test_a_child_process_started_during_a_swap_inherits_one_whole_set(base_keys, monkeypatch, writer):
    """Deterministic: a child starts at each step of a renewal's write of the C environment (once
    the new block is allocated, and once the array and the new "NAME=value" strings are written,
    before the pointer is stored): each inherits the old set or the new one, whole
    (compat.publish_c_environment).

    The control, ``os.putenv``: the write path before issue 24, still the fallback where the C
    environment cannot be published (Windows); a child started after it wrote the key id and
    before the secret inherits a mix (the xfail this test replaces measured 25 of 643 children
    mixed against continuous renewals)."""
    from ipy_tempcreds.base import compat
    from ipy_tempcreds.delivery import writes as environ_writes

    manager, observed = role_a_observed()
    children: list[tuple[str, ...]] = []
    if writer == "product":
        if compat.c_environment() is None:
            pytest.skip(f"no C environment writer on {sys.platform}: os.putenv is the fallback there")
        for step in ("_allocate", "_order_stores"):
            real = getattr(compat.CEnvironment, step)

            def then_spawn(*args, _real=real):
                result = _real(*args)
                children.append(spawn_child())
                return result

            monkeypatch.setattr(compat.CEnvironment, step, then_spawn)
    else:
        monkeypatch.setattr(environ_writes, "publish_c_environment", lambda changes: False)
        putenv = os.putenv

        def putenv_then_spawn(name, value):
            putenv(name, value)
            children.append(spawn_child())

        monkeypatch.setattr(os, "putenv", putenv_then_spawn)
    before = manager.current().access_key_id
    manager.refresh()
    monkeypatch.undo()

    observed.seen["child process"] = children
    mixed = observed.mixed("child process")
    if writer == "product":
        # Both children see role A's set as it was.
        assert len(children) == 2 and not mixed and {child[0] for child in children} == {before}, \
            f"{len(mixed)} of {len(children)} children inherited a mixed set"
        assert spawn_child()[0] == manager.current().access_key_id != before  # and after: the new set
    else:
        # After the key id, and after the secret, not yet the token (counts: no secret shown).
        assert len(mixed) == 2, f"{len(mixed)} of {len(children)} children inherited a mixed set"


def test_children_started_from_another_thread_during_renewals_never_inherit_a_mix(racing):
    """Statistical: the product's renewal thread renews as fast as it can (the leaping clock makes
    every renewal due at once) while another thread starts child processes."""
    manager, observed = racing
    manager.activate(manager.role_request(ROLE_A, session_name="children"))
    children: list[tuple[str, ...]] = []

    def spawner():
        children.append(spawn_child())

    started = time.monotonic()
    with running(spawner):
        while time.monotonic() - started < 10 and len(children) < 150:
            time.sleep(0.05)
    renewals = manager.sts.background
    manager.clear()
    observed.seen["child process"] = children
    mixed = observed.mixed("child process")
    print(f"{len(children)} children during {renewals} background renewals, {len(mixed)} mixed")
    assert len(children) >= 30 and renewals >= 30, (len(children), renewals)
    assert not mixed, f"{len(mixed)} of {len(children)} children inherited a mixed set"  # counts: no secret shown
