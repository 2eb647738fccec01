"""/v1/risk, /v1/dyads, /v1/assessments, /v1/model: what pollers read."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app import errors
from app.auth.dependencies import require
from app.database import ReadSession
from app.http import cursor_after, iso3_param
from app.risk import service
from app.risk.schemas import AssessmentPage, DyadPage, DyadRead, RiskRead

router = APIRouter(prefix="/v1", tags=["risk"], dependencies=[Depends(require("read"))],
                   responses=errors.responses(*errors.COMMON))
# Clients may keep answers but must revalidate each time; a 304 costs no scoring.
REVALIDATE = "no-cache"
NOT_MODIFIED = {304: {"description": "unchanged since the ETag given in If-None-Match"}}
Level = Literal["low", "elevated", "high", "critical"]


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _etag(*parts) -> str:
    return '"' + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class Answer:
    """A poll answer serialised once, with the feed head it is valid at."""

    head: int
    etag: str
    body: bytes


def _reply(request: Request, answer: Answer) -> Response:
    headers = {"ETag": answer.etag, "Cache-Control": REVALIDATE}
    wanted = request.headers.get("if-none-match")
    if wanted and {answer.etag, "*"} & {t.strip().removeprefix("W/") for t in wanted.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


def _risk_answer(state, dyad_id: str, as_of: date, head: int, old: Answer | None) -> Answer:
    with state.sessionmaker() as session:
        dyad, marker = service.get_dyad(session, dyad_id)
        etag = _etag(dyad.id, as_of, marker, state.scorer.version)
        if old is not None and old.etag == etag:  # another dyad changed: this answer stands
            return Answer(head, etag, old.body)
        risk = service.current(session, state.scorer, state.risk_cache, dyad, as_of, marker)
    return Answer(head, etag, risk.model_dump_json().encode())


@router.get("/risk", response_model=RiskRead, responses={**NOT_MODIFIED, **errors.responses(errors.NotFound)})
async def get_risk(
    request: Request,
    a: str = Query(min_length=3, max_length=100, description="a member id: ISO3 for a state, e.g. PAK"),
    b: str = Query(min_length=3, max_length=100, description="the other member id, e.g. IRN"),
    as_of: date | None = Query(None, description="default: today (UTC)"),
):
    """The dyad's escalation risk as of a date (default today), with drivers; it falls as the dyad stays quiet."""
    # On the event loop: a poll whose answer is cached costs one read of the feed head and no thread.
    state = request.app.state
    key = ("risk", service.dyad_of(a, b), as_of or _today())
    head = await state.feed_head.read()
    answer = state.answers.get(key)
    if answer is None or answer.head != head:
        answer = await run_in_threadpool(_risk_answer, state, key[1], key[2], head, answer)
        state.answers.put(key, answer)
    return _reply(request, answer)


@router.get("/dyads", response_model=DyadPage)
def list_dyads(
    session: ReadSession,
    request: Request,
    country: str | None = Query(None, min_length=3, max_length=3, description="ISO3 of a member"),
    min_level: Level | None = None,
    cursor: str | None = Query(None, max_length=18),
    limit: int = Query(50, ge=1, le=500),
) -> DyadPage:
    """Dyads ranked by current risk, highest first."""
    offset = cursor_after(cursor)
    items = service.ranked(session, request.app.state.scorer, request.app.state.risk_cache, _today(),
                           country=iso3_param(country), min_level=min_level,
                           offset=offset, limit=limit)
    return DyadPage(items=items, next_cursor=str(offset + limit) if len(items) == limit else None)


@router.get("/dyads/{dyad_id}", response_model=DyadRead, responses=errors.responses(errors.NotFound))
def get_dyad(dyad_id: str, request: Request, session: ReadSession) -> DyadRead:
    """One dyad with its current risk."""
    dyad, marker = service.get_dyad(session, dyad_id)
    current = service.current(session, request.app.state.scorer, request.app.state.risk_cache, dyad, _today(),
                              marker)
    return DyadRead(id=dyad.id, members=(dyad.member_a, dyad.member_b), kind=dyad.kind, current=current)


@router.get("/dyads/{dyad_id}/assessments", response_model=AssessmentPage, responses=errors.responses(errors.NotFound))
def dyad_assessments(
    session: ReadSession,
    dyad_id: str,
    include_superseded: bool = Query(False, description="also assessments redone after a back-dated event"),
    cursor: str | None = Query(None, max_length=18),
    limit: int = Query(100, ge=1, le=1000),
) -> AssessmentPage:
    """The dyad's assessment time series, in the order they were made."""
    after = cursor_after(cursor)
    rows = service.series(session, dyad_id, include_superseded=include_superseded, after_id=after, limit=limit)
    return AssessmentPage(items=service.to_read(rows), next_cursor=str(rows[-1].id if rows else after))


def _feed_answer(state, start: int, limit: int, head: int) -> Answer:
    with state.sessionmaker() as session:
        rows = service.feed(session, start, limit)
    cursor = str(rows[-1].id if rows else start)
    page = AssessmentPage(items=service.to_read(rows), next_cursor=cursor)
    return Answer(head, _etag("feed", start, cursor, limit), page.model_dump_json().encode())


@router.get("/assessments", response_model=AssessmentPage, responses=NOT_MODIFIED)
async def assessment_feed(
    request: Request,
    after: str | None = Query(None, max_length=18, description="the next_cursor of the previous poll"),
    limit: int = Query(100, ge=1, le=1000),
):
    """Change feed: every assessment exactly once, in a strict, gap-free order; store `next_cursor`."""
    state = request.app.state
    start = cursor_after(after)
    head = await state.feed_head.read()
    if start >= head:  # nothing committed after the cursor: the empty page, without a query
        body = AssessmentPage(items=[], next_cursor=str(start)).model_dump_json().encode()
        return _reply(request, Answer(head, _etag("feed", start, start, limit), body))
    # A full page never changes (ids are taken in commit order), so it is cached whatever the head.
    key = ("feed", start, limit)
    answer = state.answers.get(key)
    if answer is None:
        answer = await run_in_threadpool(_feed_answer, state, start, limit, head)
        if answer.body.count(b'"id":') == limit:
            state.answers.put(key, answer)
    return _reply(request, answer)


@router.get("/model")
def model_card(request: Request) -> dict:
    """The loaded model's card: version, targets, metrics on the out-of-time test, thresholds, data."""
    return request.app.state.scorer.card
