"""Give the heap's free pages back to the operating system after a write.

A batch write reads and featurises tens of thousands of history rows; Python and numpy free them
when the request ends, but glibc's allocator keeps the freed pages in its arenas (the automatic
trim only releases the top of the main heap). In-process, after 60 dense batches, 223 of 541 MiB
of RSS were such pages (bench/RESULTS.md); `malloc_trim(0)` (glibc >= 2.8) releases free pages
anywhere in every arena. (The chunked history read, app.events.history, lowers the high-water mark.) Throttled: at most once per `interval` seconds per process, by one thread at a time, so
that a stream of small writes does not pay it each time. A no-op where the C library is not glibc.
"""

import ctypes
import threading
import time


def _malloc_trim():
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library: no `ldconfig` lookup
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


class Trimmer:
    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self._trim = _malloc_trim()
        self._lock = threading.Lock()
        self._last = float("-inf")

    def __call__(self) -> bool:
        """Trim unless another thread is trimming or the last trim was under `interval` ago; True if it did."""
        if self._trim is None or time.monotonic() - self._last < self.interval:
            return False
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if time.monotonic() - self._last < self.interval:  # another thread trimmed meanwhile
                return False
            self._trim(0)
            self._last = time.monotonic()
            return True
        finally:
            self._lock.release()


release_free_memory = Trimmer()
