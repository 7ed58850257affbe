"""Native threads for the tests: a few lines of C, compiled at test time with the system compiler
(``cc -shared -fPIC``) and loaded with ctypes, that call getenv() in a loop without the GIL, as the
AWS C++ SDK, DuckDB's httpfs and polars' runtime do. Tests that need them skip, saying why, when
there is no compiler (.ci/run installs one)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

# The names the readers look up, absent ones included: getenv() of an absent name walks the whole
# array, the widest window for an array freed under it.
GETENV_LOOP = r"""
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *names[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_NOT_SET_ANYWHERE", 0};
static atomic_int running;
static atomic_long loops;
static pthread_t threads[16];
static int started;

static void *read_forever(void *unused) {
    size_t total = 0;
    (void)unused;
    while (atomic_load_explicit(&running, memory_order_relaxed)) {
        for (const char **name = names; *name; name++) {
            const char *value = getenv(*name);
            if (value) total += strlen(value);  /* touch the string too */
        }
        atomic_fetch_add_explicit(&loops, 1, memory_order_relaxed);
    }
    return (void *)total;
}

int start_readers(int count) {
    atomic_store(&running, 1);
    for (started = 0; started < count && started < 16; started++)
        if (pthread_create(&threads[started], 0, read_forever, 0)) return -1;
    return started;
}

long stop_readers(void) {
    atomic_store(&running, 0);
    for (int i = 0; i < started; i++) pthread_join(threads[i], 0);
    started = 0;
    return atomic_load(&loops);
}

long reader_loops(void) { return atomic_load(&loops); }
"""


def compile_library(directory: Path, source: str, name: str) -> Path:
    """Compile ``source`` into ``directory/name.so``; skip the test if there is no C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler (cc): the native-thread tests compile a few lines of C")
    c_file, library = directory / f"{name}.c", directory / f"{name}.so"
    c_file.write_text(source)
    done = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-pthread", "-o", str(library), str(c_file)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return library


# A library with an ``environ`` variable of its own: stands in for a C library whose environment
# is found by that symbol (glibc and musl), without touching the process's.
# (It calls malloc so that the C library is among its dependencies, where malloc and free are found.)
OWN_ENVIRON = "#include <stdlib.h>\nchar **environ = 0;\nvoid *own_malloc(size_t n) { return malloc(n); }\n"
