"""Give the heap's free pages back to the operating system after a write, and keep large blocks out of the heap.

A batch write reads and featurises tens of thousands of history rows; Python and numpy free them
when the request ends, but glibc's allocator keeps the freed pages in its arenas (the automatic
trim only releases the top of the main heap). In-process, after 60 dense batches, about 40% of the
RSS was such pages (bench/RESULTS.md); `malloc_trim(0)` (glibc >= 2.8) releases free pages
anywhere in every arena. (The chunked history read, app.events.history, lowers the high-water mark.)
Throttled: at most once per `interval` seconds per process, by one thread at a time, so that a
stream of small writes does not pay it each time. A no-op where the C library is not glibc.

Large blocks (a write's numpy arrays: a dense batch's window columns are ~700 kB each) are mapped on
their own and unmapped when freed (`map_large_blocks`): by default glibc raises its mmap threshold
each time such a block is freed, up to 32 MiB, after which they come from the heap and leave holes
there. In the 1,000,000-event backfill the worker ended smaller with it, at a similar run time
(bench/RESULTS.md, 26 Nov).
"""

import ctypes
import gc
import threading
import time


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
LARGE_BLOCK = 256 * 1024


def _libc(name: str, argtypes: list, restype=ctypes.c_int):
    try:
        function = getattr(ctypes.CDLL(None), name)  # the process's own C library: no `ldconfig` lookup
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to call
        return None
    function.argtypes, function.restype = argtypes, restype
    return function


def _malloc_trim():
    return _libc("malloc_trim", [ctypes.c_size_t])


def map_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Blocks of `threshold` bytes or more get their own mapping from now on, whatever was freed before
    (the threshold stops adapting); True where glibc took the setting."""
    mallopt = _libc("mallopt", [ctypes.c_int, ctypes.c_int])
    return mallopt is not None and mallopt(M_MMAP_THRESHOLD, threshold) == 1


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


def freeze_startup() -> None:
    """Keep what start-up built (the model, the context table, the app) out of the collector's sight for the
    process's life, so that each collection a write's many small objects trigger no longer walks it (a large
    share of a batch's Python time; bench/RESULTS.md). Start-up's garbage goes first: frozen, it would stay."""
    gc.collect()
    gc.freeze()
