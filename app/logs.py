"""One logging setup for the service and uvicorn: text or JSON lines (`ESCALATION_LOG_FORMAT`), every record
carrying the id of the request it belongs to, and one access line per request (`ESCALATION_ACCESS_LOG`).

The request id is the client's `X-Request-ID` when it is a plain token (so a proxy's id follows the request
through), else a new one; it is sent back in `X-Request-ID` and set in a context variable that the records of
the request's task and of the threads it hands work to (anyio copies the context) read.
"""

import contextvars
import logging
import re
import secrets
import time

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
HEADER = b"x-request-id"
_TOKEN = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")  # what is echoed: no spaces, quotes or control characters
access = logging.getLogger("escalation.access")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TEXT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


def request_id(headers) -> str:
    """The client's id if it is a plain token, else a new one (16 hex characters)."""
    for name, value in headers:
        if name == HEADER:
            return value.decode("ascii") if _TOKEN.fullmatch(value) else secrets.token_hex(8)
    return secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def config(log_format: str, level: str) -> dict:
    """A `logging.config.dictConfig` (also uvicorn's `log_config`): everything to standard error in one format.

    uvicorn's own access log stays off (the guard writes one line with the request id); httpx's line per
    webhook delivery is left out below warnings (the delivery worker logs what goes wrong)."""
    level = level.upper()
    formatter = ({"()": "pythonjsonlogger.json.JsonFormatter", "fmt": JSON_FIELDS,
                  "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}
                 if log_format == "json" else {"format": TEXT})
    quiet = {"level": "WARNING", "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["request_id"],
                                 "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {"uvicorn": {"level": level, "handlers": [], "propagate": True},
                    "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
                    "uvicorn.access": quiet, "httpx": quiet, "httpcore": quiet},
    }


def log_access(scope, status: int, started: float) -> None:
    """One line per request: who asked what, the answer's status and how long it took."""
    if not access.isEnabledFor(logging.INFO):
        return
    ms = (time.perf_counter() - started) * 1000
    client = scope.get("client")
    where = client[0] if client else "-"
    path = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
    path = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)  # a decoded %0a must not start a new log line
    access.info('%s "%s %s" %d %.1fms', where, scope["method"], path, status, ms,
                extra={"client": where, "method": scope["method"], "path": path, "status": status,
                       "duration_ms": round(ms, 2)})
