"""/dashboard: a page for analysts, served by the service; its data comes from the /v1 API with the reader's key."""

from datetime import timedelta
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app import errors
from app.auth.dependencies import require
from app.dashboard import chart
from app.dashboard.schemas import Ranking, RankingRow
from app.database import ReadSession
from app.dependencies import RiskCacheDep, ScorerDep
from app.events import service as event_service
from app.http import Country, iso3_param, utc_today
from app.ml.levels import Level
from app.risk import service as risk_service
from app.risk.schemas import DyadId

STATIC = Path(__file__).parent / "static"
# The page loads nothing from elsewhere; the chart is SVG markup from this service.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_RANKED = 5000  # dyads in one ranking
MAX_POINTS = 5000  # a dyad's assessments and events drawn at most
SAMPLES = 24  # dates between the first assessment and today scored for the line, so quiet periods show their decay

router = APIRouter(tags=["dashboard"], responses=errors.responses(*errors.COMMON))
static = StaticFiles(directory=STATIC)


@cache
def _page() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard() -> HTMLResponse:
    """The dashboard page; it asks for a key (kept in the browser session) when the service needs one."""
    return HTMLResponse(_page(), headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/dashboard/ranking", response_model=Ranking, dependencies=[Depends(require("read"))])
def ranking(
    session: ReadSession,
    scorer: ScorerDep,
    cache: RiskCacheDep,
    country: Country = None,
    min_level: Level | None = None,
) -> Ranking:
    """Every dyad by current risk, in the fields the ranking table shows (a /v1/dyads item also carries its drivers)."""
    today = utc_today()
    dyads = risk_service.ranked(session, scorer, cache, today, country=iso3_param(country), min_level=min_level,
                                offset=0, limit=MAX_RANKED + 1)
    rows = [RankingRow(id=d.id, members=d.members, kind=d.kind, level=d.current.level,
                       probability=d.current.probability, low=d.current.interval.low, high=d.current.interval.high,
                       last_event_on=d.current.last_event_on,
                       event_count=d.current.event_count) for d in dyads[:MAX_RANKED] if d.current]
    return Ranking(items=rows, truncated=len(dyads) > MAX_RANKED)


@router.get("/dashboard/dyads/{dyad_id}/chart.svg", dependencies=[Depends(require("read"))],
            responses={200: {"content": {"image/svg+xml": {}}}, **errors.responses(errors.NotFound)})
def dyad_chart(dyad_id: DyadId, session: ReadSession, scorer: ScorerDep, cache: RiskCacheDep) -> Response:
    """The dyad's risk over time (stored assessments, then today's) with its events on the time axis, as SVG."""
    dyad, marker = risk_service.get_dyad(session, dyad_id)
    rows = risk_service.series(session, dyad_id, include_superseded=False, after_id=0, limit=MAX_POINTS)
    points = {a.as_of: chart.Point(a.as_of, a.probability, a.level) for a in rows}
    today = utc_today()
    if points:
        first = min(points)
        step = max(1, (today - first).days // SAMPLES)
        for on in [*(first + timedelta(days=k * step) for k in range(1, SAMPLES)), today]:
            if on not in points and on <= today:
                now = risk_service.current(session, scorer, cache, dyad, on, marker)
                points[on] = chart.Point(on, now.probability, now.level, stored=on == today)
    events = event_service.search(session, dyad=dyad_id, country=None, since=None, until=None,
                                  include_retracted=False, after_id=0, limit=MAX_POINTS)
    marks = [chart.Mark(e.occurred_on, _describe(e), e.hostility) for e in events]
    svg = chart.render(sorted(points.values(), key=lambda p: p.on), marks, _cuts(scorer.card),
                       f"{dyad_id}: risk over time")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-cache", **SECURITY_HEADERS})


def _cuts(card: dict) -> dict[str, float | None]:
    """Each level's cut-off on the primary probability: a number, or `{"cut": number, ...}` in newer cards."""
    return {name: (t.get("cut") if isinstance(t, dict) else t) for name, t in card.get("thresholds", {}).items()}


def _describe(event) -> str:
    against = f" against {event.actor2_name}" if event.actor2_name else ""
    dead = f", {event.fatalities} killed" if event.fatalities else ""
    return f"{event.action.replace('_', ' ')} by {event.actor1_name}{against} in {event.location_country}{dead}"
