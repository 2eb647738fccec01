"""Small HTTP helpers shared by routers: content-type check, body limit, cursors."""

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app import errors


async def json_only(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise errors.UnsupportedMediaType(f"expected Content-Type application/json, got {ctype or 'none'!r}",
                                          field="content-type")


def cursor_after(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise errors.InvalidInput("cursor is not one this service issued", field="cursor")
    return int(cursor)


def next_cursor(rows: list, limit: int) -> str | None:
    return str(rows[-1].id) if len(rows) == limit else None


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413 before they are read into memory."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # a chunked body with no declared length
                raise HTTPException(413, f"request body exceeds {self.max_bytes} bytes")
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send) -> None:
        body = errors.PayloadTooLarge(f"request body exceeds {self.max_bytes} bytes", field="body").body()
        response = JSONResponse(body, status_code=413)
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
