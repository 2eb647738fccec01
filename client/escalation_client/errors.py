"""The one exception the client raises, carrying the service's error body."""

from typing import Any


class EscalationError(Exception):
    """A refused request (the service's `{error, detail, field, errors}`), or a service that stayed unreachable.

    `status` is the HTTP status, or None when no answer came (then `error` is "unreachable"). `head` is set on a
    409 `cursor_ahead`: the service's newest feed cursor, to start again from (the cursor came from another
    database, e.g. after a restore).
    """

    def __init__(self, status: int | None, error: str, detail: str, field: str | None = None,
                 errors: list[dict[str, Any]] | None = None, head: str | None = None):
        super().__init__(f"{error}: {detail}" + (f" (field {field})" if field else ""))
        self.status, self.error, self.detail, self.field = status, error, detail, field
        self.errors = errors or []
        self.head = head
