"""Hold a KeyboardInterrupt off while a few steps must run to their end.

A cell run as another role (``%%as_role``) swaps the kernel's identity in, then back out: an
interrupt landing between the steps of a swap would leave the kernel half switched. Inside
:func:`interrupts_held`, SIGINT only records that it came; at the end the handler that was in force
gets it (IPython's and ipykernel's raise KeyboardInterrupt), so the interrupt is never lost, only
delayed by the few milliseconds the swap takes. Outside the main thread (where Python runs signal
handlers) nothing is held: the signal goes to the main thread anyway.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Held:
    """What :func:`interrupts_held` yields: ``interrupted`` once SIGINT arrived inside it."""

    def __init__(self):
        self.frames: list = []

    @property
    def interrupted(self) -> bool:
        return bool(self.frames)


@contextmanager
def interrupts_held() -> Iterator[Held]:
    held = Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, lambda signum, frame: held.frames.append(frame))
    except (ValueError, OSError):  # no signals here (an embedded interpreter)
        yield held
        return
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)
        if held.interrupted and callable(previous):
            previous(signal.SIGINT, held.frames[0])  # raises KeyboardInterrupt, as it would have
