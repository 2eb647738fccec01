"""app.memory: the heap trim after writes runs on glibc, at most once per interval, one thread at a time."""

import threading

import pytest

from app.memory import Trimmer


@pytest.fixture
def trimmer() -> Trimmer:
    t = Trimmer(interval=3600)
    if t._trim is None:
        pytest.skip("not glibc: trimming is a no-op here")
    return t


def test_trims_then_waits_for_the_interval(trimmer):
    assert trimmer() is True
    assert trimmer() is False  # within the interval
    trimmer.interval = 0
    assert trimmer() is True


def test_a_second_thread_does_not_wait_for_a_trim_in_progress(trimmer):
    trimmer.interval = 0
    with trimmer._lock:  # another thread is trimming
        result = []
        t = threading.Thread(target=lambda: result.append(trimmer()))
        t.start()
        t.join(timeout=5)
    assert result == [False]
