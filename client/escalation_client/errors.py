"""The client's exceptions: one base, `EscalationError`, carrying the service's error body, and a subclass for
each kind of failure, so that a caller catches what it can handle and lets the rest go up."""

from typing import Any


class EscalationError(Exception):
    """A refused request (the service's `{error, detail, field, errors}`), or a service that gave no answer.

    `status` is the HTTP status, or None when no answer came (then `error` is "unreachable" or "timeout"). `head`
    is set on a 409 `cursor_ahead`: the service's newest feed cursor, to start again from (the cursor came from
    another database, e.g. after a restore).
    """

    def __init__(self, status: int | None, error: str, detail: str, field: str | None = None,
                 errors: list[dict[str, Any]] | None = None, head: str | None = None):
        super().__init__(f"{error}: {detail}" + (f" (field {field})" if field else ""))
        self.status, self.error, self.detail, self.field = status, error, detail, field
        self.errors = errors or []
        self.head = head


class Unreachable(EscalationError):
    """No connection to the service after the retries (refused, reset, name not found)."""


class Timeout(Unreachable):
    """Connected, or trying to, but no answer within the client's timeout after the retries."""


class InvalidRequest(EscalationError):
    """400, 413, 415 or 422: the request itself is wrong (`field` and `errors` say where); sending it again fails."""


class Unauthorized(EscalationError):
    """401: no key, or a key the service does not know."""


class Forbidden(EscalationError):
    """403: the key lacks the scope."""


class NotFound(EscalationError):
    """404: no such event, dyad or webhook."""


class Conflict(EscalationError):
    """409: e.g. `cursor_ahead` (see `head`)."""


class RateLimited(EscalationError):
    """429 after the retries."""


class ServerError(EscalationError):
    """5xx after the retries (503: the database is busy or unreachable)."""


def for_status(status: int) -> type[EscalationError]:
    """The exception class of an HTTP error status."""
    if status in (400, 413, 415, 422):
        return InvalidRequest
    return {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 429: RateLimited}.get(
        status, ServerError if status >= 500 else EscalationError)
