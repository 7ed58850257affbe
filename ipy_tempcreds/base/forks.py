"""A forked child gets fresh locks: each object that holds one asks for it here.

``os.fork()`` copies every lock as it was at that instant: a lock held by another thread (the
renewal thread waiting on STS, a writer mid-swap) stays held in the child forever, and the child's
next refresh or clear waits forever. Each class that owns locks defines ``_after_fork()``, which
replaces its own (never another object's), and calls :func:`renew_in_child` once, when created.
"""

from __future__ import annotations

import os
import weakref


def renew_in_child(owner) -> None:
    """Call ``owner._after_fork()`` in every child forked from now on, while ``owner`` lives.

    Weak: a fork handler cannot be unregistered, and it must not keep its owner alive. No-op where
    there is no fork (Windows).
    """
    if not hasattr(os, "register_at_fork"):
        return
    ref = weakref.ref(owner)

    def after_in_child() -> None:
        alive = ref()
        if alive is not None:
            alive._after_fork()

    os.register_at_fork(after_in_child=after_in_child)
