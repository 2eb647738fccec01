"""Small HTTP helpers shared by routers and the guard: content-type check, strict JSON bodies, body limit, cursors."""

import json
import re
from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import Query, Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from app import errors
from app.countries import CODES, is_iso3


def route_path(scope) -> str:
    """The path the routes match: `scope["path"]` without the `root_path` a server run behind a path prefix puts
    in front of it (uvicorn --root-path). What the guard and authentication check, as the router does."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root):]
    return path


def utc_today() -> date:
    """Today, as the service dates every answer: the UTC day."""
    return datetime.now(timezone.utc).date()


async def json_only(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise errors.UnsupportedMediaType(f"expected Content-Type application/json, got {ctype or 'none'!r}",
                                          field="content-type")


def iso3_param(country: str | None) -> str | None:
    """A country filter as stored (upper-case ISO3), or a 422: never a LIKE pattern or an unknown code."""
    if country is None:
        return None
    code = country.strip().upper()
    if not is_iso3(code):
        raise errors.InvalidInput(f"unknown ISO 3166-1 alpha-3 country code: {country!r}", field="country")
    return code


# Cursors are decimal numbers this service issued: the last id seen, or a ranking offset.
_CURSOR = re.compile(r"[0-9]{1,18}")
CURSOR_PATTERN = f"^{_CURSOR.pattern}$"
Cursor = Annotated[str | None, Query(max_length=18, json_schema_extra={"pattern": CURSOR_PATTERN},
                                     description="the `next_cursor` of the previous page")]
Country = Annotated[str | None, Query(min_length=3, max_length=3, json_schema_extra={"enum": CODES},
                                      description="ISO 3166-1 alpha-3")]


# ISO dates from 1800 to 2099, for the OpenAPI document (JSON Schema cannot say "not after today": docs/api.md
# lists that among the rules it cannot state).
DATE_PATTERN = "(?:1[89][0-9]{2}|20[0-9]{2})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"


def cursor_after(cursor: str | None) -> int:
    """The number in a cursor (0 when absent), or a 422. ASCII digits only: `str.isdigit` takes `²` and `①`."""
    if cursor is None or cursor == "":
        return 0
    if _CURSOR.fullmatch(cursor) is None:
        raise errors.InvalidInput("cursor is not one this service issued", field="cursor")
    return int(cursor)


def next_cursor(rows: list, limit: int) -> str | None:
    """After a full page of rows with ids, the cursor of the next page; None at the end."""
    return str(rows[-1].id) if len(rows) == limit else None


def next_offset(offset: int, count: int, limit: int) -> str | None:
    """After a full page of a ranking, the cursor of the next page; None at the end."""
    return str(offset + limit) if count == limit else None


def resume_cursor(rows: list, after: int) -> str:
    """The cursor to poll from next: the last id returned, or the same one when nothing was new."""
    return str(rows[-1].id if rows else after)


class BodyLimit:
    """Refuse bodies over `max_bytes` (413) before they are read, and NUL bytes in the URL (422).

    `check` looks at the scope (`app.guards.Guard` runs it before the route), `counted` wraps the
    request's `receive` for a chunked body with no declared length.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes

    def check(self, scope) -> tuple[errors.AppError, None] | None:
        if b"%00" in scope["query_string"] or "\x00" in scope["path"]:
            return errors.InvalidInput("NUL characters are not allowed in URLs", field="query"), None
        length = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value  # the last one counts, as dict(headers) had it
        if length is None:
            return None
        if not length.isdigit() or int(length) > self.max_bytes:
            return errors.PayloadTooLarge(f"request body exceeds {self.max_bytes} bytes", field="body"), None
        return None

    def counted(self, receive):
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # a chunked body with no declared length
                raise HTTPException(413, f"request body exceeds {self.max_bytes} bytes")
            return message

        return counted


class JSONProblem(HTTPException):
    """A body FastAPI would parse but that means nothing or something else: its own error code (app.errors)."""

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(status, detail)
        self.code = code


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise JSONProblem(422, "duplicate_key", f"the key {repeated!r} appears twice in one object: which one is "
                          "meant? (JSON parsers disagree: some keep the first, some the last)")
    return out


def parse_json(body: bytes):
    """A request body as JSON, strictly: UTF-8 only (RFC 8259), no key twice in an object. Anything that is not
    valid JSON (invalid UTF-8, a number too long to read, nesting too deep) is a JSONDecodeError, which the app
    answers as every malformed body: 400 `malformed_json`."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(body) > 1 and (body[0] == 0 or body[1] == 0)):
        raise JSONProblem(415, "unsupported_media_type", "JSON bodies must be UTF-8 (RFC 8259); this looks like "
                          "UTF-16 or UTF-32")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"invalid UTF-8 at byte {exc.start}", "", 0) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise json.JSONDecodeError(str(exc), "", 0) from None


class StrictJSONRequest(Request):
    async def json(self):
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """Routes whose JSON bodies are read by `parse_json` instead of Starlette's lenient `json.loads`."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict(request: Request):
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict
