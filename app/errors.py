"""One error shape for every failure: {"error": code, "detail": text, "field": path | null, "errors": [...]}."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("escalation.errors")


class ContractError(ValueError):
    """A rule spanning several fields, raised inside validation and reported against the field it names."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class FieldProblem(BaseModel):
    field: str
    detail: str
    type: str


class ErrorBody(BaseModel):
    error: str
    detail: str
    field: str | None = None
    errors: list[FieldProblem] | None = None


class CursorAheadBody(ErrorBody):
    head: str = Field(description="the feed's newest cursor on this database")


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None, errors: list[dict] | None = None):
        super().__init__(detail)
        self.detail, self.field, self.errors = detail, field, errors

    def body(self) -> dict:
        return ErrorBody(error=self.code, detail=self.detail, field=self.field, errors=self.errors).model_dump()


class NotFound(AppError):
    status, code = 404, "not_found"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class MalformedJSON(AppError):
    """A body that is not JSON (truncated, invalid UTF-8, a number too long, nesting too deep)."""

    status, code = 400, "malformed_json"


class UnsupportedMediaType(AppError):
    status, code = 415, "unsupported_media_type"


class Internal(AppError):
    """Anything unforeseen: logged with its traceback and request id; the client gets the error shape, no details."""

    status, code = 500, "internal_error"

    def __init__(self):
        super().__init__("internal server error")


class InvalidInput(AppError):
    status, code = 422, "validation_error"


class CursorAhead(AppError):
    """A feed or stream cursor past the newest assessment: it came from another database (a restore, a new
    deployment). The body's `head` is this database's newest cursor; start again from it or from 0."""

    status, code = 409, "cursor_ahead"

    def __init__(self, cursor: int, head: int):
        super().__init__(f"cursor {cursor} is beyond this feed's newest assessment ({head}): it was not given by this "
                         "database; start again from `head`, or from 0 to replay everything", field="after")
        self.head = head

    def body(self) -> dict:
        return CursorAheadBody(**super().body(), head=str(self.head)).model_dump()


class RequestTimeout(AppError):
    status, code = 408, "request_timeout"


class RateLimited(AppError):
    status, code = 429, "rate_limited"


class HeadersTooLarge(AppError):
    status, code = 431, "headers_too_large"


class Busy(AppError):
    """The service or the database is busy; the request was not applied and can be retried as is."""

    status, code = 503, "busy"


def responses(*errors: type[AppError]) -> dict[int | str, dict]:
    """OpenAPI `responses=` for a route, so the schema shows every error it can return."""
    return {e.status: {"model": ErrorBody, "description": e.code} for e in errors}


# Every /v1 router declares these, which also replaces FastAPI's default 422 schema with ours.
COMMON = (InvalidInput, Unauthorized, Forbidden)


def field_path(loc: tuple | list, error: dict | None = None) -> str:
    """The dotted path of the field a pydantic error is about, naming a cross-field rule's own field."""
    parts = [str(p) for p in loc if p not in ("body",)]
    ctx = (error or {}).get("ctx") or {}
    if isinstance(ctx.get("error"), ContractError):
        # A rule across fields names the field it is about, under the model it was raised in.
        parts = parts + [ctx["error"].field]
    return ".".join(parts) or "body"


class FastPathMismatch(AssertionError):
    """A fast path answered differently from the slow path it stands for (check mode, `check_fast_paths`): a bug,
    answered as one (500) rather than as a wrong answer."""


def problems(errors: list[dict], prefix: tuple = ()) -> list[dict]:
    out = []
    for e in errors:
        msg = e.get("msg", "invalid")
        out.append({"field": field_path((*prefix, *e.get("loc", ())), e), "detail": msg.removeprefix("Value error, "),
                    "type": e.get("type", "value_error")})
    return out


def _validation_error(errors: list[dict]) -> JSONResponse:
    items = problems(errors)
    kind = items[0]["type"] if items else ""
    if kind == "json_invalid":
        why = (errors[0].get("ctx") or {}).get("error")  # the parser's own words: "invalid UTF-8 at byte 5", ...
        err = MalformedJSON("malformed JSON body: " + (str(why) if why else items[0]["detail"]), field="body")
        return JSONResponse(err.body(), status_code=err.status)
    first = items[0] if items else {"field": "body", "detail": "invalid request"}
    err = InvalidInput(f"{first['field']}: {first['detail']}", field=first["field"], errors=items)
    return JSONResponse(err.body(), status_code=422)


def _is_lock_wait(exc: OperationalError) -> bool:
    """SQLite past its busy timeout, or a PostgreSQL lock timeout: the database is up but busy."""
    text = str(exc.orig).lower()
    return ("database is locked" in text or "database is busy" in text or "database table is locked" in text
            or getattr(exc.orig, "sqlstate", None) in ("55P03", "40P01", "57014"))


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_error(list(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or {404: "not_found", 405: "method_not_allowed",
                                               413: "payload_too_large"}.get(exc.status_code, "http_error")
        body = ErrorBody(error=code, detail=str(exc.detail)).model_dump()
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        if _is_lock_wait(exc):
            log.warning("database busy on %s %s: %s", request.method, request.url.path, exc.orig)
            why = ("a statement ran past the database's statement_timeout"
                   if getattr(exc.orig, "sqlstate", None) == "57014" else "the database is locked by other writers")
            body = ErrorBody(error="database_busy", detail=f"{why}; nothing was applied, retry").model_dump()
            return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        body = ErrorBody(error="database_unavailable", detail="the database cannot be reached; retry").model_dump()
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("no database connection free on %s %s", request.method, request.url.path)
        body = ErrorBody(error="database_busy", detail="every database connection is in use; nothing was applied, "
                         "retry").model_dump()
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(ErrorBody(error="internal_error", detail="internal server error").model_dump(), 500)


async def send_asgi(send, error: AppError, headers: dict[str, str] | None = None) -> None:
    """Answer from a pure ASGI middleware, before the app (and its exception handlers) runs."""
    response = JSONResponse(error.body(), status_code=error.status, headers=headers)
    await send({"type": "http.response.start", "status": error.status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
