"""/v1/events: ingest, revise, retract and list conflict events."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app import errors
from app.auth.dependencies import require
from app.database import ReadSession, WriteSession
from app.dependencies import ScorerDep, SettingsDep, WindowCacheDep
from app.events import members, service, vocabulary
from app.events.schemas import (MAX_ID, BatchResult, EventBatch, EventCreate, EventPage, EventRead, RevisionRead,
                                Vocabulary)
from app.http import Country, Cursor, StrictJSONRoute, cursor_after, iso3_param, json_only, next_cursor
from app.risk import flow

router = APIRouter(route_class=StrictJSONRoute, prefix="/v1/events", tags=["events"],
                   responses=errors.responses(*errors.COMMON))
EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="the event's id")]
WRITE_ERRORS = errors.responses(errors.MalformedJSON, errors.PayloadTooLarge, errors.UnsupportedMediaType)


@router.post("", response_model=EventRead, status_code=201, responses={200: {"model": EventRead}, **WRITE_ERRORS},
             dependencies=[Depends(require("ingest")), Depends(json_only)])
def post_event(item: EventCreate, response: Response, session: WriteSession, scorer: ScorerDep,
               window_cache: WindowCacheDep) -> EventRead:
    """Store one event: 201 when new, 200 when re-sent unchanged or revised (see `status`)."""
    result = flow.ingest(session, scorer, [item], window_cache=window_cache).results[0]
    if result.status != "created":
        response.status_code = status.HTTP_200_OK
    return service.read(session, result.event_id, result.status)


@router.post("/batch", response_model=BatchResult, responses=WRITE_ERRORS,
             dependencies=[Depends(require("ingest")), Depends(json_only)])
def post_batch(batch: EventBatch, session: WriteSession, scorer: ScorerDep, settings: SettingsDep,
               window_cache: WindowCacheDep) -> BatchResult:
    """Store many events in one transaction; all or nothing, results in item order."""
    limit = settings.max_batch_items
    if len(batch.items) > limit:
        raise errors.PayloadTooLarge(f"batch of {len(batch.items)} items exceeds the limit of {limit}", field="items")
    results = flow.ingest(session, scorer, batch.items, field_prefix="items.",
                          window_cache=window_cache).results
    counts = {s: sum(r.status == s for r in results) for s in ("created", "revised", "unchanged")}
    return BatchResult(**counts, items=[{"index": n, "id": r.event_id, "status": r.status}
                                        for n, r in enumerate(results)])


@router.get("", response_model=EventPage, dependencies=[Depends(require("read"))])
def list_events(
    session: ReadSession,
    dyad: str | None = Query(None, max_length=210, description="dyad id, e.g. IRN--PAK",
                             json_schema_extra={"pattern": members.DYAD_PATTERN}),
    country: Country = None,
    since: date | None = None,
    until: date | None = None,
    include_retracted: bool = False,
    cursor: Cursor = None,
    limit: int = Query(50, ge=1, le=1000),
) -> EventPage:
    """Events in id order, filtered; follow `next_cursor` for more."""
    events = service.search(session, dyad=dyad, country=iso3_param(country), since=since,
                            until=until, include_retracted=include_retracted, after_id=cursor_after(cursor),
                            limit=limit)
    return EventPage(items=service.read_many(session, events), next_cursor=next_cursor(events, limit))


@router.get("/{event_id}", response_model=EventRead, responses=errors.responses(errors.NotFound),
            dependencies=[Depends(require("read"))])
def get_event(event_id: EventId, session: ReadSession) -> EventRead:
    """One event, retracted or not."""
    return service.read(session, event_id)


@router.get("/{event_id}/revisions", response_model=list[RevisionRead], responses=errors.responses(errors.NotFound),
            dependencies=[Depends(require("read"))])
def list_revisions(event_id: EventId, session: ReadSession) -> list[RevisionRead]:
    """Every accepted version of the event, oldest first."""
    return [RevisionRead.model_validate(r, from_attributes=True) for r in service.revisions(session, event_id)]


@router.delete("/{event_id}", response_model=EventRead, responses=errors.responses(errors.NotFound),
               dependencies=[Depends(require("ingest"))])
def retract_event(event_id: EventId, session: WriteSession, scorer: ScorerDep,
                  window_cache: WindowCacheDep) -> EventRead:
    """Retract an event: kept as a tombstone, dropped from its dyads' history, which is re-assessed."""
    result = flow.retract(session, scorer, event_id, window_cache).results[0]
    return service.read(session, event_id, result.status)


vocabulary_router = APIRouter(prefix="/v1", tags=["events"], dependencies=[Depends(require("read"))],
                              responses=errors.responses(*errors.COMMON))


@vocabulary_router.get("/vocabulary", response_model=Vocabulary)
def get_vocabulary() -> dict:
    """The canonical action ladder, weapons, and the ACLED and CAMEO mappings onto them."""
    return vocabulary.table()
