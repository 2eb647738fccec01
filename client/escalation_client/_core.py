"""What the sync and async clients share: headers, error parsing, retry pauses, batch splitting."""

import random
import re
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from escalation_client.errors import EscalationError, Timeout, Unreachable, for_status

# The service's default ESCALATION_MAX_BATCH_ITEMS; a server configured lower answers 413 and the
# client halves its batches until they fit.
DEFAULT_BATCH = 5000
# Safe to retry: every call is a read, a what-if (stores nothing) or an idempotent event write.
RETRYABLE = {429, 502, 503, 504}


def headers(api_key: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {api_key}"} if api_key else {}


def error(response: httpx.Response) -> EscalationError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    kind = for_status(response.status_code)
    if not isinstance(body, dict) or "error" not in body:
        return kind(response.status_code, "http_error", response.text[:500] or response.reason_phrase)
    return kind(response.status_code, body["error"], body.get("detail", ""), body.get("field"),
                body.get("errors"), body.get("head"))


def unreachable(exc: Exception) -> EscalationError:
    """No answer: a Timeout when the client's timeout ran out, else Unreachable."""
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(None, "timeout", f"{type(exc).__name__}: {exc}")
    return Unreachable(None, "unreachable", f"{type(exc).__name__}: {exc}")


# "watch from now": a cursor past any head, which the service answers with 409 cursor_ahead and its head
PAST_ANY_HEAD = "9" * 18


def pause(attempt: int, retry_after: str | None = None, cap: float = 30.0) -> float:
    """Seconds before retry number `attempt` (0-based): Retry-After when given, else jittered backoff."""
    if retry_after:
        if retry_after.strip().isdigit():
            return min(float(retry_after), cap)
        try:
            from datetime import datetime, timezone
            return min(cap, max(0.0, (parsedate_to_datetime(retry_after) - datetime.now(timezone.utc)).total_seconds()))
        except (TypeError, ValueError):
            pass
    return random.uniform(0, min(cap, 0.5 * 2 ** attempt))


def rebase(exc: EscalationError, offset: int) -> EscalationError:
    """A batch error's `items.N` paths, renumbered to the caller's whole list."""
    if not offset:
        return exc

    def shift(path: str | None) -> str | None:
        return re.sub(r"^items\.(\d+)", lambda m: f"items.{int(m.group(1)) + offset}", path) if path else path

    errors = [{**e, "field": shift(e.get("field"))} for e in exc.errors]
    detail = re.sub(r"^items\.(\d+)", lambda m: f"items.{int(m.group(1)) + offset}", exc.detail)
    return EscalationError(exc.status, exc.error, detail, shift(exc.field), errors)


def risk_params(a: str, b: str, as_of: date | str | None) -> dict[str, str]:
    params = {"a": a, "b": b}
    if as_of is not None:
        params["as_of"] = str(as_of)
    return params


def what_if_body(a: str, b: str, events: list[dict[str, Any]], as_of: date | str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"a": a, "b": b, "events": events}
    if as_of is not None:
        body["as_of"] = str(as_of)
    return body


def series_params(start: date | str | None, end: date | str | None, step: int) -> dict[str, Any]:
    params: dict[str, Any] = {"step": step}
    for key, value in (("from", start), ("to", end)):
        if value is not None:
            params[key] = str(value)
    return params


def dyad_params(country: str | None, min_level: str | None, cursor: str | None, page_size: int) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": page_size}
    for key, value in (("country", country), ("min_level", min_level), ("cursor", cursor)):
        if value is not None:
            params[key] = value
    return params
