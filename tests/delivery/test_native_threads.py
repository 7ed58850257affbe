"""A credential change never crashes a native reader (issue 24).

pyarrow's S3 filesystem (the AWS C++ SDK), DuckDB's httpfs and polars call getenv() from threads
that do not hold the GIL. glibc's getenv() takes no lock, and a setenv() that adds a name may
realloc the ``environ`` array and free the old block under such a thread: a segmentation fault.
The product now publishes a new array in one pointer store and frees nothing
(compat.publish_c_environment); os.putenv, one variable at a time, is left only as the fallback
where that mechanism does not exist (Windows).

Here native threads (tests/native_support.py: C compiled at test time) call getenv() in a loop
while the public API assumes and clears hundreds of times, with the kernel's own credentials from a
profile, so every assume adds the four key variables. Each run is a fresh process; death by a
signal is the failure. The same run through the old write path dies, which shows the test can fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from ipy_tempcreds.base import compat
from native_support import GETENV_LOOP, compile_library
from support import role_arn

ROLE = role_arn("Native")

CYCLES = r'''
import ctypes, sys
library = ctypes.CDLL(sys.argv[1])
writer, cycles, role = sys.argv[2], int(sys.argv[3]), sys.argv[4]
import ipy_tempcreds
if writer == "os.putenv":
    # The write path before issue 24, still the fallback where the C environment cannot be
    # published (Windows): os.putenv/os.unsetenv, one variable at a time.
    from ipy_tempcreds.delivery import writes
    writes.publish_c_environment = lambda changes: False
ipy_tempcreds.assume_role(role, session_name="warm-up")  # imports and clients before the readers start
ipy_tempcreds.clear()
library.start_readers(2)
for cycle in range(cycles):
    ipy_tempcreds.assume_role(role, session_name=f"cycle-{cycle}")
    ipy_tempcreds.clear()
print("loops", library.stop_readers(), flush=True)
'''


@pytest.fixture(scope="module")
def getenv_loop(tmp_path_factory):
    return compile_library(tmp_path_factory.mktemp("native"), GETENV_LOOP, "getenv_loop")


@pytest.fixture
def own_profile(aws, isolated_environment):
    """The kernel's own credentials in a profile, none in the environment: every assume adds the
    key variables (an add is what moves the array) and every clear removes them."""
    base = aws.base_user
    aws.create_role("Native", [base.arn])
    (isolated_environment / "credentials").write_text(
        f"[own]\naws_access_key_id = {base.access_key_id}\naws_secret_access_key = {base.secret_access_key}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        del os.environ[name]
    os.environ["AWS_PROFILE"] = "own"
    return aws


def run_cycles(library, writer: str, cycles: int, padding: int) -> subprocess.CompletedProcess:
    """``cycles`` assume/clear cycles in a fresh process with native getenv() threads running.

    ``padding`` extra variables: whether glibc's realloc() can grow the array in place depends on
    its size (measured here: with one parity of the environment's size no add ever moved it, with
    the other the old write path died within a few cycles), and a kernel's environment has
    whatever size it has; so every run is made with both parities.
    """
    env = dict(os.environ, **{f"IPY_TEMPCREDS_PADDING_{i}": "x" for i in range(padding)})
    return subprocess.run([sys.executable, "-c", CYCLES, str(library), writer, str(cycles), ROLE],
                          capture_output=True, text=True, timeout=120, env=env)


def died_by_signal(done: subprocess.CompletedProcess) -> str | None:
    if done.returncode >= 0:
        return None
    return signal.Signals(-done.returncode).name


def test_assume_and_clear_never_crash_native_getenv_threads(own_profile, getenv_loop):
    started = time.monotonic()
    for padding in (0, 1, 0, 1):
        done = run_cycles(getenv_loop, "product", 150, padding)
        assert died_by_signal(done) is None, f"an assume/clear run died by {died_by_signal(done)}"
        assert done.returncode == 0, done.stderr[-2000:]
        assert int(done.stdout.split()[-1]) > 1000  # the readers really ran throughout
    print(f"600 assume/clear cycles with 2 native getenv() threads, 4 processes: {time.monotonic() - started:.1f} s")


def test_the_old_write_path_crashes_them(own_profile, getenv_loop):
    """The control: os.putenv one variable at a time, as before issue 24, under the same load."""
    deaths = [died_by_signal(run_cycles(getenv_loop, "os.putenv", 150, padding)) for padding in (0, 1)]
    print(f"old write path: {deaths}")
    assert any(deaths), "the old write path survived: this test could no longer tell"


# -- what each operation writes: observed on the environ pointer ----------------------------------


def c_arrays(writer) -> dict[int, list[bytes]]:
    """The array in force, as its address and the strings it holds."""
    import ctypes

    return {writer.pointer(): [ctypes.string_at(entry) for entry in writer.entries()]}


def still_whole(writer, arrays: dict[int, list[bytes]]) -> bool:
    """Every array published before still holds what it held: none was freed (glibc's free()
    would write its free-list links over the first slots) or changed in place."""
    import ctypes

    return all([ctypes.string_at(entry) for entry in writer.entries(address)] == strings
               for address, strings in arrays.items())


@pytest.mark.parametrize("delivery", ["endpoint", "environment"])
def test_each_write_publishes_one_new_array_and_frees_none(aws, timed, delivery):
    """Endpoint delivery writes the environment at activation and at clear only (switches and
    renewals change what is served), each one new array; environment delivery writes one at each
    assume, renewal and clear. No array in force before is freed or changed."""
    writer = compat.c_environment()
    if writer is None:
        pytest.skip(f"no C environment writer on {sys.platform}: os.putenv is the fallback there")
    manager, _gateway = timed
    manager.settings.delivery = delivery
    aws.create_role("Own", [aws.base_user.arn])
    own = role_arn("Own")
    arrays = c_arrays(writer)
    published = writer.published
    steps = [("assume", lambda: manager.activate(manager.role_request(own, session_name="one"))),
             ("switch", lambda: manager.activate(manager.role_request(own, session_name="two"))),
             ("renewal", manager.refresh),
             ("clear", manager.clear)]
    writes = {}
    for name, step in steps:
        before = writer.published
        step()
        writes[name] = writer.published - before
        arrays.update(c_arrays(writer))
        assert still_whole(writer, arrays), f"{name} freed or changed an array in force before"
    expected = ({"assume": 1, "switch": 0, "renewal": 0, "clear": 1} if delivery == "endpoint"
                else {"assume": 1, "switch": 1, "renewal": 1, "clear": 1})
    assert writes == expected
    assert writer.published - published == sum(expected.values()) and len(arrays) == 1 + sum(expected.values())
