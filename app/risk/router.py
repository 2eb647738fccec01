"""/v1/risk, /v1/dyads, /v1/assessments, /v1/model: what pollers read."""

import hashlib
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app import errors
from app.auth.dependencies import require
from app.database import ReadSession
from app.dependencies import Polling, PollingDep, RiskCacheDep, ScorerDep
from app.http import (DATE_PATTERN, Country, Cursor, StrictJSONRoute, cursor_after, iso3_param, json_only, next_offset,
                      resume_cursor, utc_today)
from app.ml.levels import Level
from app.risk import service, whatif
from app.risk.cache import Answer
from app.risk.schemas import (MEMBER, AssessmentPage, DyadId, DyadPage, DyadRead,
                              ModelCard, RiskRead, RiskSeries, WhatIfRequest, WhatIfSeriesRequest, as_of_problem)

router = APIRouter(route_class=StrictJSONRoute, prefix="/v1", tags=["risk"],
                   dependencies=[Depends(require("read"))], responses=errors.responses(*errors.COMMON))
NOT_MODIFIED = {304: {"description": "unchanged since the ETag given in If-None-Match"}}


def _etag(*parts) -> str:
    return '"' + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32] + '"'


class _Stored(Response):
    """An `Answer` as it was serialised: its bytes and prebuilt headers, nothing encoded again."""

    def __init__(self, status_code: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...]):
        self.status_code, self.body, self.background = status_code, body, None
        self.raw_headers = list(headers)


def _reply(request: Request, answer: Answer) -> Response:
    if answer.matches(request.headers.get("if-none-match")):
        return _Stored(304, b"", answer.not_modified)
    return _Stored(200, answer.body, answer.ok)


def _risk_answer(poll: Polling, members: tuple[str, str], as_of: date, head: int, old: Answer | None) -> Answer:
    """The answer at this head: the old one when its ETag still holds, else scored and serialised once."""
    scorer = poll.scorer
    with poll.sessions() as session:
        fronts = service.fronts_markers(session, [members])  # the members' other dyads move their risk too
        try:
            dyad, marker = service.resolve_dyad(session, *members)
        except errors.NotFound:
            dyad, etag = None, _etag("prior", *sorted(members), as_of, *fronts, scorer.version)
        else:
            etag = _etag(dyad.id, as_of, marker, *fronts, scorer.version)
        if old is not None and old.etag == etag:  # an unrelated dyad changed: this answer stands
            return Answer(head, etag, old.body)
        risk = (whatif.prior(session, scorer, *members, as_of) if dyad is None
                else service.current(session, scorer, poll.cache, dyad, as_of, marker, fronts))
    return Answer(head, etag, risk.model_dump_json().encode())


@router.get("/risk", response_model=RiskRead, responses={**NOT_MODIFIED, **errors.responses(errors.InvalidInput)})
async def get_risk(
    poll: PollingDep,
    request: Request,
    a: Annotated[str, Query(min_length=3, max_length=100, json_schema_extra=MEMBER,
                            description="a member id: ISO3 for a state, e.g. PAK")],
    b: Annotated[str, Query(min_length=3, max_length=100, json_schema_extra=MEMBER,
                            description="the other member id, e.g. IRN")],
    as_of: Annotated[date | None, Query(json_schema_extra={"pattern": f"^{DATE_PATTERN}$"},
                                        description="default: today (UTC)")] = None,
):
    """The dyad's risk of serious violence as of a date (default today), with explanation and drivers; it falls
    as the dyad stays quiet. Two members with no recorded events get their structural prior (`event_count: 0`)."""
    # On the event loop: a poll whose answer is cached costs one shared read of the feed head, no thread.
    if as_of is not None and (problem := as_of_problem(as_of, utc_today())):
        raise errors.InvalidInput(problem, field="as_of")
    members = whatif.members(a, b)
    key = ("risk", members, as_of or utc_today())
    head = await poll.head.read()
    answer = poll.answers.get(key)
    if answer is None or answer.head != head:
        answer = await run_in_threadpool(_risk_answer, poll, members, key[2], head, answer)
        poll.answers.put(key, answer)
    poll.answers.remember(request.scope, key, dated=as_of is None)  # the guard may answer it next time
    return _reply(request, answer)


@router.post("/risk/what-if", response_model=RiskRead, dependencies=[Depends(json_only)],
             responses=errors.responses(errors.MalformedJSON, errors.InvalidInput, errors.UnsupportedMediaType))
def what_if(body: WhatIfRequest, session: ReadSession, scorer: ScorerDep) -> RiskRead:
    """The dyad's stored history plus hypothetical events, scored as of a date with explanation and drivers.
    Nothing is stored: no event, no assessment, no feed entry."""
    a, b = whatif.members(body.a, body.b)
    try:
        _, marker = service.resolve_dyad(session, a, b)
    except errors.NotFound:
        marker = None
    return whatif.what_if(session, scorer, a, b, body.as_of, body.events, marker)


@router.get("/dyads", response_model=DyadPage)
def list_dyads(
    session: ReadSession,
    scorer: ScorerDep,
    cache: RiskCacheDep,
    country: Country = None,
    min_level: Level | None = None,
    cursor: Cursor = None,
    limit: int = Query(50, ge=1, le=500),
) -> DyadPage:
    """Dyads ranked by current risk, highest first."""
    offset = cursor_after(cursor)
    items = service.ranked(session, scorer, cache, utc_today(),
                           country=iso3_param(country), min_level=min_level,
                           offset=offset, limit=limit)
    return DyadPage(items=items, next_cursor=next_offset(offset, len(items), limit))


@router.get("/dyads/{dyad_id}", response_model=DyadRead, responses=errors.responses(errors.NotFound))
def get_dyad(dyad_id: DyadId, session: ReadSession, scorer: ScorerDep, cache: RiskCacheDep) -> DyadRead:
    """One dyad with its current risk."""
    dyad, marker = service.get_dyad(session, dyad_id)
    current = service.current(session, scorer, cache, dyad, utc_today(), marker)
    return DyadRead(id=dyad.id, members=(dyad.member_a, dyad.member_b), kind=dyad.kind, current=current)


DateParam = Annotated[date | None, Query(json_schema_extra={"pattern": f"^{DATE_PATTERN}$"})]


@router.get("/dyads/{dyad_id}/series", response_model=RiskSeries,
            responses={**NOT_MODIFIED, **errors.responses(errors.NotFound)})
def dyad_series(
    request: Request,
    dyad_id: DyadId,
    session: ReadSession,
    scorer: ScorerDep,
    start: Annotated[DateParam, Query(alias="from", description="first date (default: a year before `to`)")] = None,
    end: Annotated[DateParam, Query(alias="to", description="last date (default: today, UTC)")] = None,
    step: Annotated[int, Query(ge=1, le=366, description="days between dates (7: weekly)")] = 7,
):
    """The dyad's risk through time: for each date from `from` every `step` days, and `to`, the answer
    `GET /v1/risk?as_of=` gives from the events known now (probability, interval, level, top drivers), computed
    in one pass over the history. Stored assessments (`/assessments`) stay the record of what was said at the time."""
    dates = service.series_between(start, end, step)
    dyad, marker = service.get_dyad(session, dyad_id)
    fronts, = service.fronts_markers(session, [(dyad.member_a, dyad.member_b)])
    etag = _etag("series", dyad.id, marker, fronts, scorer.version, dates[0], dates[-1], step)
    if (unchanged := Answer(None, etag, b"")).matches(request.headers.get("if-none-match")):
        return _reply(request, unchanged)  # a 304: nothing scored
    series = service.through_time(session, scorer, dyad, dates, step, marker)
    return _reply(request, Answer(None, etag, series.model_dump_json().encode()))


@router.post("/risk/what-if/series", response_model=RiskSeries, dependencies=[Depends(json_only)],
             responses=errors.responses(errors.MalformedJSON, errors.InvalidInput, errors.UnsupportedMediaType))
def what_if_series(body: WhatIfSeriesRequest, session: ReadSession, scorer: ScorerDep) -> RiskSeries:
    """`/dyads/{id}/series` for the stored history plus hypothetical events. Nothing is stored."""
    a, b = whatif.members(body.a, body.b)
    dates = service.series_between(body.start, body.end, body.step)
    try:
        _, marker = service.resolve_dyad(session, a, b)
    except errors.NotFound:
        marker = None
    return whatif.what_if_series(session, scorer, a, b, body.events, dates, body.step, marker)


@router.get("/dyads/{dyad_id}/assessments", response_model=AssessmentPage, responses=errors.responses(errors.NotFound))
def dyad_assessments(
    session: ReadSession,
    dyad_id: DyadId,
    include_superseded: bool = Query(False, description="also assessments redone for the same date (a back-dated "
                                                         "event, or another front of a member)"),
    cursor: Cursor = None,
    limit: int = Query(100, ge=1, le=1000),
) -> AssessmentPage:
    """The dyad's assessment time series, in the order they were made."""
    after = cursor_after(cursor)
    rows = service.series(session, dyad_id, include_superseded=include_superseded, after_id=after, limit=limit)
    return AssessmentPage(items=service.to_read(rows), next_cursor=resume_cursor(rows, after))


def _feed_answer(sessions, start: int, limit: int, head: int) -> Answer:
    with sessions() as session:
        rows = service.feed(session, start, limit)
    cursor = resume_cursor(rows, start)
    page = AssessmentPage(items=service.to_read(rows), next_cursor=cursor)
    # A full page never changes (ids are taken in commit order): valid at any head.
    return Answer(None if len(rows) == limit else head, _etag("feed", start, cursor, limit),
                  page.model_dump_json().encode())


@router.get("/assessments", response_model=AssessmentPage,
            responses={**NOT_MODIFIED, 409: {"model": errors.CursorAheadBody, "description": "cursor_ahead"}})
async def assessment_feed(
    poll: PollingDep,
    request: Request,
    after: Cursor = None,
    limit: int = Query(100, ge=1, le=1000),
):
    """Change feed: every assessment exactly once, in a strict, gap-free order; store `next_cursor`."""
    start = cursor_after(after)
    head = await poll.head.read()
    if start > head:  # a cursor this database never gave (a restore, another deployment): say so, with the head
        raise errors.CursorAhead(start, head)
    if start == head:  # nothing committed after the cursor: the empty page, without a query
        body = AssessmentPage(items=[], next_cursor=str(start)).model_dump_json().encode()
        return _reply(request, Answer(head, _etag("feed", start, start, limit), body))
    # A full page never changes (ids are taken in commit order), so it is cached whatever the head.
    key = ("feed", start, limit)
    answer = poll.answers.get(key)
    if answer is None:
        answer = await run_in_threadpool(_feed_answer, poll.sessions, start, limit, head)
        if answer.head is None:
            poll.answers.put(key, answer)
    if answer.head is None:
        poll.answers.remember(request.scope, key)  # the guard may answer it next time, without a head read
    return _reply(request, answer)


@router.get("/model", response_model=ModelCard)
def model_card(scorer: ScorerDep) -> dict:
    """The loaded model's card: version, targets, metrics on the out-of-time test, thresholds, data."""
    return scorer.card
