"""A bounded, thread-safe LRU of computed risk answers; keys carry the dyad's latest assessment and model version."""

import threading
from collections import OrderedDict


class RiskCache:
    def __init__(self, size: int = 50_000):
        self._size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)
