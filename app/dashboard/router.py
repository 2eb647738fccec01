"""/dashboard: a page for analysts, served by the service; its data comes from the API's services with the
reader's key, in the shapes the page draws."""

from datetime import date
from functools import cache
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from app import errors
from app.countries import CODES, is_iso3
from app.auth.dependencies import require
from app.dashboard import geometry, service
from app.dashboard.schemas import CountryView, DyadView, Ranking
from app.database import ReadSession
from app.dependencies import RiskCacheDep, ScorerDep
from app.http import DATE_PATTERN, Country, iso3_param, utc_today
from app.ml.levels import Level
from app.risk.schemas import DyadId, as_of_problem

STATIC = FilePath(__file__).parent / "static"
# The page loads nothing from elsewhere; charts and the map are drawn in the page from this service's data.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
read_scope = [Depends(require("read"))]
router = APIRouter(tags=["dashboard"], responses=errors.responses(*errors.COMMON))
static = StaticFiles(directory=STATIC)
Iso3 = Annotated[str, Path(min_length=3, max_length=3, json_schema_extra={"enum": CODES},
                           description="ISO 3166-1 alpha-3, e.g. IRN")]
AsOf = Annotated[date | None, Query(json_schema_extra={"pattern": f"^{DATE_PATTERN}$"},
                                    description="the date the view is as of (default: today, UTC)")]


@cache
def _page() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


def _as_of(value: date | None) -> date:
    today = utc_today()
    if value is not None and (problem := as_of_problem(value, today)):
        raise errors.InvalidInput(problem, field="as_of")
    return value or today


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard() -> HTMLResponse:
    """The dashboard page; it asks for a key (kept in the browser session) when the service needs one."""
    return HTMLResponse(_page(), headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/dashboard/ranking", response_model=Ranking, dependencies=read_scope)
def ranking(session: ReadSession, scorer: ScorerDep, cache: RiskCacheDep, as_of: AsOf = None,
            country: Country = None, min_level: Level | None = None) -> Ranking:
    """Every dyad with an event by `as_of`, by its risk as of that date, in the fields the ranking and the map show;
    with the level counts and the data's dates, so that an empty page can say why."""
    return service.ranking(session, scorer, cache, _as_of(as_of), country=iso3_param(country), min_level=min_level)


@router.get("/dashboard/dyads/{dyad_id}", response_model=DyadView, dependencies=read_scope,
            responses=errors.responses(errors.NotFound))
def dyad(dyad_id: DyadId, session: ReadSession, scorer: ScorerDep, cache: RiskCacheDep, as_of: AsOf = None) -> DyadView:
    """A dyad's workbench as of a date: its risk with drivers, the risk through time, what was said at the time,
    and its events."""
    return service.dyad_view(session, scorer, cache, dyad_id, _as_of(as_of))


@router.get("/dashboard/countries/{iso3}", response_model=CountryView, dependencies=read_scope)
def country(iso3: Iso3, session: ReadSession, scorer: ScorerDep, cache: RiskCacheDep, as_of: AsOf = None) -> CountryView:
    """Every dyad of one country's members (its state, its civilians) as of a date, ranked, with small charts."""
    code = iso3.strip().upper()
    if not is_iso3(code):
        raise errors.InvalidInput(f"unknown ISO 3166-1 alpha-3 country code: {iso3!r}", field="iso3")
    return service.country_view(session, scorer, cache, code, _as_of(as_of))


@router.get("/dashboard/world.json", include_in_schema=False)
def world() -> Response:
    """Country outlines for the map (world-atlas 110m, from Natural Earth; vendored with its licence), each keyed
    by ISO3. Served from this service: the page fetches nothing from elsewhere."""
    return Response(geometry.world(), media_type="application/json",
                    headers={"Cache-Control": "public, max-age=86400", **SECURITY_HEADERS})
