"""Writing the process environment: several variables as one step, for Python and C readers alike.

Both deliveries (delivery/environment.py, delivery/switch.py) write through :func:`apply_atomically`:

- the mapping behind ``os.environ`` is replaced in one assignment, so a thread that reads one
  variable, or copies that mapping (``os.environ._data.copy()``), sees the old set or the new one,
  never a mix. botocore's EnvProvider takes the variables one ``get()`` at a time; consistent_reads
  makes it read them from one snapshot of that mapping, installed before the first swap. Readers
  that copy key by key (``dict(os.environ)``, ``os.environ.copy()``) can still straddle a swap
  (measured in tests/core/test_races.py);
- the C-level environment (what getenv() in native threads and child processes read) changes in
  one step too, and frees nothing: compat.publish_c_environment stores a new ``environ`` array
  once, so a child started meanwhile inherits the old set or the new one, whole, and a native
  reader never walks freed memory (setenv adding a name moves the array; tests/delivery/test_native_threads.py).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from ..base import consistent_reads
from ..base.compat import environ_data, is_os_environ, publish_c_environment, swap_environ_data


def copy_of(environ: MutableMapping[str, str]) -> dict[str, str]:
    """A plain dict copy. os.environ is decoded straight from a copy of its data: ``dict(os.environ)``
    goes through the mapping protocol key by key (encode, look up, decode), and can straddle a swap."""
    if is_os_environ(environ):
        decode_key, decode_value = environ.decodekey, environ.decodevalue
        return {decode_key(k): decode_value(v) for k, v in environ_data(environ).copy().items()}
    return dict(environ)


def before_injection(environ: MutableMapping[str, str], saved: dict[str, str | None] | None) -> dict[str, str]:
    """A copy of ``environ`` with the ``saved`` values put back (None: the variable was absent):
    the environment as it was before an injection (both deliveries keep ``saved`` this way)."""
    current = copy_of(environ)
    for name, value in (saved or {}).items():
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value
    return current


def apply_atomically(environ: MutableMapping[str, str], changes: dict[str, str | None]) -> None:
    """Set (value) or remove (None) several variables so that readers see all changes or none."""
    if is_os_environ(environ):
        consistent_reads.install()  # before the swap: botocore's readers must not straddle it
        # Child processes inherit the C-level environment: update it first. Then swap the mapping
        # behind os.environ in one assignment. os.environ itself stays the same object (botocore
        # and subprocess hold it), and each single read sees the old dict or the new one (a copy
        # through the mapping protocol reads key by key: see the module docstring).
        write_c_environment(changes)
        data = dict(environ_data(environ))
        for name, value in changes.items():
            key = environ.encodekey(name)
            if value is None:
                data.pop(key, None)
            else:
                data[key] = environ.encodevalue(value)
        swap_environ_data(environ, data)
        return
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value


def write_c_environment(changes: dict[str, str | None]) -> None:
    """The C-level environment: one new array, nothing freed (compat.publish_c_environment).
    Where that is unavailable (Windows, whose C runtime locks its environment), os.putenv one
    variable at a time: there a child started meanwhile can inherit a mix."""
    if publish_c_environment(changes):
        return
    for name, value in changes.items():
        if value is None:
            os.unsetenv(name)
        else:
            os.putenv(name, value)
