"""The one pure ASGI layer in front of the routes: response headers, header size, authentication and rate
limits, content encoding, URL and body size, writers in flight, metrics, and poll answers from the cache.

Each of these used to be its own middleware (seven layers, each awaiting the next, three wrapping
`send`); `Guard` runs the same checks in the same order (a refusal has the same status, body and
headers) in one call, and answers a repeated poll without FastAPI's routing and dependency
solving, which cost a cached poll more than everything else in the application (bench/RESULTS.md).
"""

import asyncio
import logging
import time

from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from app import errors, logs, tracing
from app.auth.middleware import Authenticate, may
from app.dependencies import UNCACHED
from app.http import BodyLimit, route_path, utc_today
from app.observability import RequestMetrics
from app.risk.cache import PollAnswers

log = logging.getLogger("escalation.errors")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Reads that take a body, so a POST: their body has the writes' deadline, but they take no write slot (they store
# nothing, and a read holds a pooled connection as a GET does, or none: the extraction reads no database).
READS_BY_POST = frozenset({"/v1/risk/what-if", "/v1/risk/what-if/series", "/v1/extract"})
NOSNIFF = (b"x-content-type-options", b"nosniff")
# Routes the guard may answer from `PollAnswers`: GET, read scope, no path parameters (the path is the label).
POLLS = frozenset({"/v1/risk", "/v1/assessments"})


# Liveness, answered here: that this layer runs shows the process and its event loop serve requests, and
# nothing after it would add to that. The same bytes and headers as the route (`app.health.router.live`).
LIVE = "/health/live"
_LIVE = JSONResponse({"status": "ok"})
LIVE_HEADERS, LIVE_BODY = tuple(_LIVE.raw_headers), _LIVE.body


class Guard:
    """Every request, in this order: `X-Content-Type-Options: nosniff` and no `server` header on whatever
    answer goes out; 431 for oversize headers (`escalation serve` also stops them at the socket, see
    app.server; this covers any other server); authentication and rate limits (`app.auth.middleware`);
    415 for a compressed body (decompressing would need its own size limit against zip bombs); 422 for
    NUL in the URL and 413 for a declared body over the limit (`app.http.BodyLimit`); a write slot for
    writes (`WriteGate`; the reads by POST in READS_BY_POST, what-if and extraction, have the body deadline but
    take no slot). Then the request is counted and timed (`app.observability`) and answered:
    liveness here, a poll whose answer is cached and still valid from `PollAnswers`, anything else by
    the routes.
    """

    def __init__(self, app, *, authenticate: Authenticate, body: BodyLimit, writes: "WriteGate",
                 max_header_bytes: int, check: bool = False, access_log: bool = False):
        self.app, self.authenticate, self.body, self.writes = app, authenticate, body, writes
        self.max_header_bytes, self.access_log = max_header_bytes, access_log
        # Check mode (`check_fast_paths`, on in tests): a poll answered from the cache is routed as well, and a
        # different status, ETag or body fails it (errors.FastPathMismatch) instead of going out.
        self.check = check
        self.metrics = RequestMetrics()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status, started, answered = 500, time.perf_counter(), False
        rid = logs.request_id(scope["headers"])
        token = logs.REQUEST_ID.set(rid)  # the request's records carry it (app.logs), and its span (app.tracing)
        tracing.tag_request(rid)
        echoed = (logs.HEADER, rid.encode("ascii"))

        async def respond(message):
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                headers = message.get("headers", ())
                message = {**message, "headers": [*(h for h in headers if h[0].lower() != b"server"), NOSNIFF,
                                                  echoed]}
            await send(message)

        try:
            refusal = (self._header_refusal(scope) or self.authenticate.check(scope) or _encoding_refusal(scope)
                       or self.body.check(scope))
            if refusal is not None:
                return await errors.send_asgi(respond, *refusal)
            receive = self.body.counted(receive)
            path = route_path(scope)
            if scope["method"] in WRITE_METHODS and path.startswith("/v1/"):
                return await self.writes.run(self._answer, scope, receive, respond, lambda: status,
                                             slot=path not in READS_BY_POST)
            await self._answer(scope, receive, respond, lambda: status)
        except Exception:
            # Logged here, where the request id is still set (Starlette's last handler runs after this layer), and
            # answered with the error shape and this layer's headers. An answer already begun can only be cut.
            if answered:
                raise
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            await errors.send_asgi(respond, errors.Internal())
        finally:
            if self.access_log:
                logs.log_access(scope, status, started)
            logs.REQUEST_ID.reset(token)

    async def _answer(self, scope, receive, send, status):
        start = time.perf_counter()
        route, path = None, route_path(scope)
        try:
            if scope["method"] == "GET" and path == LIVE:
                route = LIVE
                await send({"type": "http.response.start", "status": 200, "headers": list(LIVE_HEADERS)})
                await send({"type": "http.response.body", "body": LIVE_BODY})
            elif scope["method"] == "GET" and path in POLLS and (
                    cached := await self._from_cache(scope)) is not None:
                route = path
                if self.check:
                    await self._check(scope, receive, cached)
                for message in cached:
                    await send(message)
            else:
                await self.app(scope, receive, send)
        finally:
            if route is None:
                route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.record(scope["method"], route, status(), time.perf_counter() - start)

    async def _from_cache(self, scope) -> list[dict] | None:
        """The messages answering a poll the route answered before, if its stored answer holds at the feed head
        read now; None: the route answers."""
        state = scope["app"].state
        answers: PollAnswers = state.answers
        key = answers.known(scope, utc_today)
        answer = answers.get(key) if key is not None else None
        if answer is None or not may(scope, "read"):
            return None  # the route answers, or refuses (401, 403)
        if answer.head is not None:
            try:
                if answer.head != await state.feed_head.read():
                    return None
            except OperationalError:  # the route reads it again, and its handler answers 503
                return None
        wanted = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                wanted = value.decode("latin-1")
                break
        if answer.matches(wanted):
            return [{"type": "http.response.start", "status": 304, "headers": list(answer.not_modified)},
                    {"type": "http.response.body", "body": b""}]
        return [{"type": "http.response.start", "status": 200, "headers": list(answer.ok)},
                {"type": "http.response.body", "body": answer.body}]

    async def _check(self, scope, receive, cached: list[dict]) -> None:
        """Route the poll too, past every cache, and compare: status, ETag and body (check mode)."""
        routed: list[dict] = []

        async def keep(message):
            routed.append(message)

        await self.app({**scope, UNCACHED: True}, receive, keep)

        def seen(messages):
            start = messages[0]
            etag = next((v for k, v in start["headers"] if k.lower() == b"etag"), None)
            return start["status"], etag, b"".join(m.get("body", b"") for m in messages[1:])

        if seen(routed) != seen(cached):
            raise errors.FastPathMismatch(f"poll shortcut: {scope['path']}?{scope['query_string'].decode()} "
                                          f"answered {seen(cached)[:2]} from the cache, {seen(routed)[:2]} routed")

    def _header_refusal(self, scope):
        size = len(scope.get("raw_path") or b"") + len(scope["query_string"])
        size += sum(len(k) + len(v) + 4 for k, v in scope["headers"])
        if size > self.max_header_bytes:
            return errors.HeadersTooLarge(f"request headers exceed {self.max_header_bytes} bytes",
                                          field="headers"), {"Connection": "close"}
        return None


def _encoding_refusal(scope):
    """415 for a compressed request body: decompressing would need its own size limit against zip bombs."""
    encoding = b""
    for name, value in scope["headers"]:
        if name == b"content-encoding":
            encoding = value  # the last one counts, as dict(headers) had it
    encoding = encoding.strip().lower()
    if encoding not in (b"", b"identity"):
        return errors.UnsupportedMediaType(
            f"Content-Encoding {encoding.decode('latin-1')!r} is not supported: send the body uncompressed",
            field="content-encoding"), None
    return None


class WriteGate:
    """At most `slots` writes in flight; the others wait up to `wait` seconds, then get 503 + Retry-After.

    SQLite runs writers one at a time and PostgreSQL overlaps them only up to the pool's size (see
    app.database: writers whose dyads share no member, or share one with no front opened, take turns only
    at the short feed append lock), so more writers
    in flight would only hold pooled connections and worker threads that reads and probes need. The body is read
    before a slot is taken, within `body_seconds` (else 408), so a client sending its body slowly
    holds its own connection, not a slot.
    """

    def __init__(self, slots: int, wait: float, body_seconds: float):
        self.wait, self.body_seconds = wait, body_seconds
        self.slots = asyncio.Semaphore(slots)

    async def run(self, answer, scope, receive, send, status, slot: bool = True):
        """Read the body, take a slot (unless `slot` is False: a read by POST), then `answer` the request with the
        body replayed."""
        try:
            async with asyncio.timeout(self.body_seconds):
                messages = await _whole_body(receive)
        except TimeoutError:
            return await errors.send_asgi(send, errors.RequestTimeout(
                f"the request body did not arrive within {self.body_seconds:g} s", field="body"), {"Connection": "close"})
        except HTTPException as exc:  # app.http.BodyLimit: a chunked body past the limit
            return await errors.send_asgi(send, errors.PayloadTooLarge(str(exc.detail), field="body"))
        if messages is None:
            return  # the client went away
        replay = iter(messages)

        async def replayed():
            return next(replay, None) or await receive()

        if not slot:
            return await answer(scope, replayed, send, status)
        try:
            if self.slots.locked():  # wait_for would time out even a free slot when `wait` is 0
                await asyncio.wait_for(self.slots.acquire(), self.wait)
            else:
                await self.slots.acquire()
        except TimeoutError:
            return await errors.send_asgi(send, errors.Busy("too many writes in progress; retry shortly"),
                                          {"Retry-After": "1"})
        try:
            await answer(scope, replayed, send, status)
        finally:
            self.slots.release()


async def _whole_body(receive) -> list[dict] | None:
    """Every body message of the request, or None if the client disconnected first."""
    messages = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        messages.append(message)
        if not message.get("more_body", False):
            return messages
