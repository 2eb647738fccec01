"""Pure ASGI guards run before any route: header size, content encoding, writers in flight, response headers."""

import asyncio

from starlette.exceptions import HTTPException

from app import errors

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` on every answer, and no `server` header from the application."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                message = {**message, "headers": [*headers, (b"x-content-type-options", b"nosniff")]}
            await send(message)

        await self.app(scope, receive, with_headers)


class HeaderLimit:
    """431 when the request line's target and headers together exceed `max_bytes`, before any other work.

    `escalation serve` also stops reading such a request at the socket (app.server); this covers
    any other server that runs the app.
    """

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
            size += sum(len(k) + len(v) + 4 for k, v in scope["headers"])
            if size > self.max_bytes:
                return await errors.send_asgi(send, errors.HeadersTooLarge(
                    f"request headers exceed {self.max_bytes} bytes", field="headers"), {"Connection": "close"})
        await self.app(scope, receive, send)


class IdentityEncodingOnly:
    """415 for a compressed request body: decompressing would need its own size limit against zip bombs."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            encoding = dict(scope["headers"]).get(b"content-encoding", b"").strip().lower()
            if encoding not in (b"", b"identity"):
                return await errors.send_asgi(send, errors.UnsupportedMediaType(
                    f"Content-Encoding {encoding.decode('latin-1')!r} is not supported: send the body uncompressed",
                    field="content-encoding"))
        await self.app(scope, receive, send)


class WriteGate:
    """At most `slots` writes in flight; the others wait up to `wait` seconds, then get 503 + Retry-After.

    SQLite runs writers one at a time and PostgreSQL overlaps them only up to the pool's size (see
    app.database: writers on different dyads share just the short feed append lock), so more writers
    in flight would only hold pooled connections and worker threads that reads and probes need. The body is read
    before a slot is taken, within `body_seconds` (else 408), so a client sending its body slowly
    holds its own connection, not a slot.
    """

    def __init__(self, app, slots: int, wait: float, body_seconds: float):
        self.app, self.wait, self.body_seconds = app, wait, body_seconds
        self.slots = asyncio.Semaphore(slots)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
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
        try:
            if self.slots.locked():  # wait_for would time out even a free slot when `wait` is 0
                await asyncio.wait_for(self.slots.acquire(), self.wait)
            else:
                await self.slots.acquire()
        except TimeoutError:
            return await errors.send_asgi(send, errors.Busy("too many writes in progress; retry shortly"),
                                          {"Retry-After": "1"})
        replay = iter(messages)

        async def replayed():
            return next(replay, None) or await receive()

        try:
            await self.app(scope, replayed, send)
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
