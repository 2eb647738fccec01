"""/v1/export: events, assessments, the ranking and a dyad's series as CSV (default) or Parquet, chosen by
`?format=` or the Accept header; columns in docs/api.md ("Export")."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from app import errors
from app.auth.dependencies import require
from app.database import ReadSession
from app.dependencies import ReadSessionsDep, RiskCacheDep, ScorerDep
from app.events.members import DYAD_PATTERN
from app.export import service
from app.http import DATE_PATTERN, Country, iso3_param, utc_today
from app.ml.levels import Level
from app.risk import service as risk_service
from app.risk.schemas import DyadId

router = APIRouter(prefix="/v1/export", tags=["export"], dependencies=[Depends(require("read"))],
                   responses={**errors.responses(*errors.COMMON),
                              200: {"content": {media: {} for media in service.FORMATS.values()},
                                    "description": "the table, CSV with a header row or Parquet"}})
Format = Annotated[Literal["csv", "parquet"] | None, Query(description="csv (default) or parquet; or an Accept "
                                                           "header of text/csv or application/vnd.apache.parquet")]
DateParam = Annotated[date | None, Query(json_schema_extra={"pattern": f"^{DATE_PATTERN}$"})]


def _format(request: Request, given: str | None) -> str:
    if given:
        return given
    return "parquet" if "parquet" in request.headers.get("accept", "") else "csv"


def _answer(table: service.Table, rows, fmt: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{table.name}.{fmt}"'}
    if fmt == "parquet":
        return Response(service.parquet_bytes(table, rows), media_type=service.FORMATS[fmt], headers=headers)
    return StreamingResponse(service.csv_chunks(table, rows), media_type=service.FORMATS[fmt], headers=headers)


@router.get("/events")
def export_events(request: Request, sessions: ReadSessionsDep, format: Format = None,
                  dyad: Annotated[str | None, Query(json_schema_extra={"pattern": DYAD_PATTERN})] = None,
                  country: Country = None, since: DateParam = None, until: DateParam = None,
                  include_retracted: bool = False) -> Response:
    """Every event (filtered as `GET /v1/events` is), in id order; CSV streams, a page at a time."""
    rows = service.events(sessions, dyad=dyad, country=iso3_param(country),
                          since=risk_service.checked_day(since, "since"),
                          until=risk_service.checked_day(until, "until"), include_retracted=include_retracted)
    return _answer(service.EVENTS, rows, _format(request, format))


@router.get("/assessments")
def export_assessments(request: Request, sessions: ReadSessionsDep, format: Format = None,
                       after: Annotated[int, Query(ge=0, le=2**53 - 1, description="a feed cursor")] = 0,
                       dyad: Annotated[str | None, Query(json_schema_extra={"pattern": DYAD_PATTERN})] = None
                       ) -> Response:
    """The change feed after a cursor (default: everything), in id order; one dyad's with `dyad`."""
    return _answer(service.ASSESSMENTS, service.assessments(sessions, after=after, dyad=dyad),
                   _format(request, format))


@router.get("/ranking")
def export_ranking(request: Request, session: ReadSession, scorer: ScorerDep, cache: RiskCacheDep,
                   format: Format = None, as_of: DateParam = None, country: Country = None,
                   min_level: Level | None = None) -> Response:
    """Every dyad by its risk as of a date (default today), as `GET /v1/dyads` ranks them."""
    rows = list(service.ranking(session, scorer, cache, risk_service.checked_day(as_of, "as_of") or utc_today(),
                                country=iso3_param(country), min_level=min_level))
    return _answer(service.RANKING, iter(rows), _format(request, format))


@router.get("/series/{dyad_id}", responses=errors.responses(errors.NotFound))
def export_series(request: Request, dyad_id: DyadId, session: ReadSession, scorer: ScorerDep, format: Format = None,
                  start: Annotated[DateParam, Query(alias="from")] = None,
                  end: Annotated[DateParam, Query(alias="to")] = None,
                  step: Annotated[int, Query(ge=1, le=366)] = 7) -> Response:
    """A dyad's risk through time, as `GET /v1/dyads/{id}/series` gives it."""
    dates = risk_service.series_between(start, end, step)
    rows = list(service.series(session, scorer, dyad_id, dates, step))
    return _answer(service.SERIES, iter(rows), _format(request, format))
