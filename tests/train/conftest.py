"""Shared set-up of the training tests."""

import signal

import pytest


@pytest.fixture(autouse=True)
def ctrl_c_reaches_the_process():
    """Ctrl-C handled as in a terminal, even where the test runner started with SIGINT ignored
    (a command run in the background with ``&`` or ``nohup``). NOTE: training leaves an ignored
    SIGINT ignored, as Python does, so the tests that send one need it not to be."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
