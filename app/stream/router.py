"""/v1/stream: each new assessment as a Server-Sent Event whose id is its feed cursor."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import ValidationError
from sse_starlette import EventSourceResponse

from app import errors
from app.auth.dependencies import KeyRingDep, require
from app.countries import CODES
from app.events.members import DYAD_PATTERN
from app.auth.middleware import presented_key
from app.dependencies import FeedHeadDep, ReadSessionsDep, SettingsDep
from app.http import CURSOR_PATTERN, Cursor, cursor_after
from app.stream import service
from app.ml.levels import Level
from app.webhooks.schemas import Filters

router = APIRouter(prefix="/v1", tags=["stream"], dependencies=[Depends(require("read"))],
                   responses=errors.responses(*errors.COMMON))


@router.get("/stream", response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "events `assessment.created` / `risk.level_changed`, "
                                            "data `{type, timestamp, data}` as webhooks deliver it"},
                       409: {"model": errors.CursorAheadBody, "description": "cursor_ahead"}})
async def stream_assessments(
    request: Request,
    sessions: ReadSessionsDep,
    head: FeedHeadDep,
    ring: KeyRingDep,
    settings: SettingsDep,
    after: Cursor = None,
    last_event_id: Annotated[str | None, Header(max_length=18, json_schema_extra={"pattern": CURSOR_PATTERN},
                                                description="set by a reconnecting client; wins over `after`")] = None,
    dyad: list[str] | None = Query(None, description="dyad ids; repeat for several",
                                   json_schema_extra={"items": {"type": "string", "pattern": DYAD_PATTERN}}),
    country: list[str] | None = Query(None, description="ISO3 codes; repeat for several",
                                      json_schema_extra={"items": {"type": "string", "enum": CODES}}),
    min_level: Level | None = None,
    level_changes_only: bool = False,
) -> EventSourceResponse:
    """New assessments as they are made (SSE); reconnect with Last-Event-ID to resume exactly after the last one."""
    try:
        filters = Filters(dyads=dyad, countries=country, min_level=min_level, level_changes_only=level_changes_only)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = {"dyads": "dyad", "countries": "country"}.get(str(first["loc"][0]), str(first["loc"][0]))
        raise errors.InvalidInput(first["msg"].removeprefix("Value error, "), field=field) from None
    start = last_event_id if last_event_id is not None else after
    newest = await head.read()
    cursor = cursor_after(start) if start else newest
    if cursor > newest:  # a cursor this database never gave: waiting for it would wait forever
        raise errors.CursorAhead(cursor, newest)
    key = presented_key(request.scope["headers"])
    return EventSourceResponse(service.follow(sessions, head, cursor, filters, settings.stream_poll_seconds,
                                              allowed=lambda: ring.allows(key, "read")),
                               ping=settings.stream_ping_seconds)
