"""When to try a failed delivery again: the receiver's Retry-After, else exponential backoff with full jitter."""

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from itertools import islice

import backoff

from app.config import Settings


def delay(attempt: int, retry_after: float | None, settings: Settings) -> float:
    """Seconds before the attempt after `attempt` (1-based)."""
    if retry_after is not None:
        return min(retry_after, settings.webhooks_disable_after_seconds)
    schedule = backoff.expo(base=2, factor=settings.webhooks_retry_base_seconds,
                            max_value=settings.webhooks_retry_max_seconds)
    next(schedule)  # backoff's generators are primed with one send()
    return backoff.full_jitter(next(islice(schedule, attempt - 1, None)))


def after_header(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an offset or year past what datetime holds
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


