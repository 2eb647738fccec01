"""app.memory: the heap trim after writes runs on glibc, at most once per interval, one thread at a time; large
blocks stay mapped on their own once `map_large_blocks` ran."""

import ctypes
import os
import subprocess
import sys
import threading
from pathlib import Path

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


# In a fresh process: free a 4 MiB block (glibc then raises its mmap threshold to 4 MiB), then ask for 1 MiB
# and report whether the bytes in mapped blocks (mallinfo2, glibc >= 2.33) grew by it.
_PROBE = """
import ctypes, sys
from app.memory import map_large_blocks
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
if sys.argv[1] == "fixed":
    assert map_large_blocks()
libc.free(libc.malloc(4 << 20))
before = libc.mallinfo2().hblkhd
block = libc.malloc(1 << 20)
print(libc.mallinfo2().hblkhd - before >= 1 << 20)
"""


@pytest.mark.parametrize("mode, mapped", [("default", "False"), ("fixed", "True")])
def test_large_blocks_stay_mapped_after_a_larger_one_was_freed(mode, mapped):
    if not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("not glibc >= 2.33")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent, env=env)  # glibc's own defaults
    assert out.stdout.strip() == mapped  # default: the 1 MiB block came from the heap
