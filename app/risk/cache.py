"""A bounded, thread-safe LRU of computed risk answers (keys carry the dyad's latest assessment and model
version), and the serialised poll answers the guard can send before routing."""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field


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


@dataclass(frozen=True, slots=True)
class Answer:
    """A poll answer serialised once, with its headers built once: the 200 and the 304 go out as stored bytes.

    `head` is the feed head the answer was computed at (None: valid at any head, e.g. a full page
    of the change feed, which never changes).
    """

    head: int | None
    etag: str
    body: bytes
    ok: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False)
    not_modified: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # As Starlette's Response(body, media_type="application/json", headers=...) and Response(status_code=304,
        # headers=...) lay them out.
        validators = ((b"etag", self.etag.encode("latin-1")), (b"cache-control", REVALIDATE))
        object.__setattr__(self, "not_modified", validators)
        object.__setattr__(self, "ok", (*validators, (b"content-length", str(len(self.body)).encode()),
                                        (b"content-type", b"application/json")))

    def matches(self, if_none_match: str | None) -> bool:
        """Whether a request's If-None-Match names this answer (or `*`): then a 304 is the answer."""
        if not if_none_match:
            return False
        return any(t.strip().removeprefix("W/") in (self.etag, "*") for t in if_none_match.split(","))


# Clients may keep answers but must revalidate each time; a 304 costs no scoring.
REVALIDATE = b"no-cache"
MAX_QUERY_BYTES = 200


class PollAnswers(RiskCache):
    """Serialised poll answers by key, and the requests (path and query string) already known to name a key.

    A route that validated a request's parameters and stored its answer calls `remember`; the same
    request again can then be answered by `app.guards.Guard` from here, before routing and
    dependency solving, after authentication, the rate limits and one read of the feed head (the
    cross-process check, see `app.storage.feed`). Anything else (an unknown request, a missing or
    outdated answer, a key without the scope) goes on to the route, which answers, or refuses, as
    it always did.
    """

    def __init__(self, size: int = 50_000):
        super().__init__(size)
        self._requests = RiskCache(size)

    def remember(self, scope, key: tuple, dated: bool = False) -> None:
        """This request (by path and raw query string) names `key`; `dated`: the key's last part is today's date.

        Long query strings are not kept (a poll's is a few dozen bytes): ignored extra parameters must
        not let one client fill memory with distinct requests for the same answer.
        """
        if len(scope["query_string"]) > MAX_QUERY_BYTES:
            return
        self._requests.put((scope["path"], scope["query_string"]), (key[:-1], True) if dated else (key, False))

    def known(self, scope, today) -> tuple | None:
        """The key a request was found to name before, or None."""
        found = self._requests.get((scope["path"], scope["query_string"]))
        if found is None:
            return None
        key, dated = found
        return (*key, today()) if dated else key
