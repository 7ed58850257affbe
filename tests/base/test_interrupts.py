"""A KeyboardInterrupt is held off while the kernel's identity is swapped (base/interrupts.py), and
delivered right after: never lost, never in the middle."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from ipy_tempcreds.base.interrupts import interrupts_held


def test_an_interrupt_inside_is_delivered_at_the_end():
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held() as held:
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("after the signal")  # still runs: the swap finishes
            assert held.interrupted
    assert steps == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nothing_held_nothing_raised_and_the_handler_is_back():
    with interrupts_held() as held:
        pass
    assert not held.interrupted and signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_outside_the_main_thread_it_holds_nothing():
    seen = []

    def run():
        with interrupts_held() as held:
            seen.append(held.interrupted)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [False]
