"""The dashboard's views, read from the same services as the API (so every number equals an API answer):
a ranking as of a date, a dyad's workbench, a country's fronts. Names are for reading; ids stay in the links."""

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import countries
from app.storage import bulk
from app.dashboard.schemas import (CountryRow, CountryView, DataRange, DayMark, DyadView, EventRow, Ranking,
                                   RankingRow, StoredMark)
from app.events import members as member_ids
from app.events.models import Dyad, Event, EventDyad
from app.ml import levels
from app.ml.scorer import Scorer
from app.risk import service as risk_service
from app.risk.cache import RiskCache
from app.risk.models import Assessment
from app.risk.schemas import EARLIEST_AS_OF, DyadRead

MAX_RANKED = 5000  # dyads in one ranking
MAX_EVENTS = 1000  # a dyad's events listed at most (newest first); the chart marks every day
MAX_STORED = 5000  # a dyad's stored assessments marked at most
CHART_POINTS = 400  # dates a dyad's series is scored on, at most, whatever its span
LEAD_DAYS = 60  # a dyad's chart starts this long before its first event, to show the rise
SPARK_DAYS, SPARK_STEP = 364, 14  # a country's small charts: the year to `as_of`, fortnightly
MAX_SPARKS = 40  # dyads of a country that get a small chart (the highest ranked)


def data_range(session: Session) -> DataRange:
    """The first and last live event's dates: each an index scan that stops at the first live row (no count)."""
    live = select(Event.occurred_on).where(Event.retracted_at.is_(None)).limit(1)
    return DataRange(first=session.scalar(live.order_by(Event.occurred_on)),
                     last=session.scalar(live.order_by(Event.occurred_on.desc())))


def names(session: Session, dyads: Iterable[tuple[str, tuple[str, str]]]) -> dict[str, str]:
    """A readable name per member of these (dyad id, members): a state's country name, "civilians in" one, and an
    armed group's name as its dyad's latest event gives it (read by the dyad's index, one link a dyad)."""
    dyads = list(dyads)
    members = {m for _, pair in dyads for m in pair}
    out = {m: countries.name(m) for m in members if member_ids.is_state(m)}
    out |= {m: f"civilians in {countries.name(member_ids.member_country(m) or '')}"
            for m in members if member_ids.is_civilians(m)}
    asked = [d for d, pair in dyads if any(member_ids.is_nonstate(m) for m in pair)]
    for chunk in (asked[k:k + 1000] for k in range(0, len(asked), 1000)):
        latest = (select(EventDyad.event_id).where(EventDyad.dyad_id == Dyad.id)
                  .order_by(EventDyad.occurred_on.desc()).limit(1).correlate(Dyad).scalar_subquery())
        ids = [i for (i,) in session.execute(select(latest).where(bulk.one_of(session, Dyad.id, chunk)))]
        for row in session.execute(select(Event.actor1_member, Event.actor1_name, Event.actor2_member,
                                          Event.actor2_name).where(bulk.one_of(session, Event.id, ids))):
            out.setdefault(row[0], row[1])
            if row[2]:
                out.setdefault(row[2], row[3])
    return out | {m: m.removeprefix(member_ids.NONSTATE).replace("-", " ") for m in members if m not in out}


def _row(d: DyadRead) -> dict:
    r = d.current
    return dict(id=d.id, members=d.members, kind=d.kind, level=r.level, probability=r.probability,
                low=r.interval.low, high=r.interval.high, last_event_on=r.last_event_on, event_count=r.event_count)


def _known(session: Session, scorer: Scorer, cache: RiskCache, as_of: date, country: str | None) -> list[DyadRead]:
    """Dyads with an event by `as_of`, ranked by their risk as of that date (the API's ranking, same order)."""
    ranked = risk_service.ranked(session, scorer, cache, as_of, country=country, min_level=None, offset=0,
                                 limit=10**9)
    return [d for d in ranked if d.current.last_event_on is not None]


def ranking(session: Session, scorer: Scorer, cache: RiskCache, as_of: date, *, country: str | None,
            min_level: str | None) -> Ranking:
    known = _known(session, scorer, cache, as_of, country)
    shown = [d for d in known if not min_level or levels.at_least(d.current.level, min_level)]
    rows = [RankingRow(**_row(d)) for d in shown[:MAX_RANKED]]
    return Ranking(as_of=as_of, items=rows, truncated=len(shown) > MAX_RANKED, total=len(known),
                   levels=Counter(d.current.level for d in known), data=data_range(session),
                   names=names(session, ((r.id, r.members) for r in rows)))


def dyad_view(session: Session, scorer: Scorer, cache: RiskCache, dyad_id: str, as_of: date) -> DyadView:
    dyad, marker = risk_service.get_dyad(session, dyad_id)
    current = risk_service.current(session, scorer, cache, dyad, as_of, marker)
    events, marks = _events(session, dyad_id, as_of), _marks(session, dyad_id, as_of)
    first = marks[0].on if marks else as_of
    start = max(min(first - timedelta(days=LEAD_DAYS), as_of), EARLIEST_AS_OF)
    step = max(1, -(-(as_of - start).days // CHART_POINTS))
    series = risk_service.through_time(session, scorer, dyad, risk_service.series_dates(start, as_of, step), step,
                                       marker)
    stored = _stored(session, dyad_id, as_of)
    members = (dyad.member_a, dyad.member_b)
    fronts = [f["dyad_id"] for d in current.drivers if d.theme == "contagion" for f in d.facts]  # named in "why"
    named = names(session, [(dyad.id, members), *((f, member_ids.dyad_members(f)) for f in fronts)])
    return DyadView(id=dyad.id, members=members, kind=dyad.kind, names=named, as_of=as_of,
                    current=current, series=series, stored=stored, marks=marks, events=events[:MAX_EVENTS],
                    events_truncated=len(events) > MAX_EVENTS, data=data_range(session))


def _stored(session: Session, dyad_id: str, as_of: date) -> list[StoredMark]:
    """What the service said at the time: the newest assessment of each date up to `as_of`, the newest MAX_STORED."""
    newest = (select(func.max(Assessment.id)).where(Assessment.dyad_id == dyad_id, Assessment.as_of <= as_of)
              .group_by(Assessment.as_of))
    rows = session.execute(select(Assessment.id, Assessment.as_of, Assessment.probability, Assessment.level,
                                  Assessment.reason).where(Assessment.id.in_(newest))
                           .order_by(Assessment.id.desc()).limit(MAX_STORED))
    return [StoredMark(id=i, as_of=on, probability=p, level=level, reason=reason) for i, on, p, level, reason in rows]


def _live(dyad_id: str, as_of: date):
    return (select(Event).join(EventDyad, EventDyad.event_id == Event.id)
            .where(EventDyad.dyad_id == dyad_id, EventDyad.occurred_on <= as_of, Event.retracted_at.is_(None)))


def _events(session: Session, dyad_id: str, as_of: date) -> list[EventRow]:
    """The dyad's newest live events up to `as_of`, newest first (one more than MAX_EVENTS, to say there are more)."""
    rows = session.scalars(_live(dyad_id, as_of).order_by(Event.occurred_on.desc(), Event.id.desc())
                           .limit(MAX_EVENTS + 1))
    return [EventRow(id=e.id, occurred_on=e.occurred_on, action=e.action, hostility=e.hostility,
                     retaliation=e.retaliation, by=e.actor1_name, against=e.actor2_name,
                     where=", ".join(filter(None, (e.location_admin1, countries.name(e.location_country)))),
                     country=e.location_country,
                     fatalities=e.fatalities, notes=e.notes) for e in rows]


def _marks(session: Session, dyad_id: str, as_of: date) -> list[DayMark]:
    """Per day with live events up to `as_of`: how many, their deaths and the most hostile act."""
    days = _live(dyad_id, as_of).with_only_columns(
        EventDyad.occurred_on, func.count(), func.coalesce(func.sum(Event.fatalities), 0), func.max(Event.hostility)
    ).group_by(EventDyad.occurred_on).order_by(EventDyad.occurred_on)
    return [DayMark(on=on, events=n, fatalities=dead, hostility=top) for on, n, dead, top in session.execute(days)]


def country_view(session: Session, scorer: Scorer, cache: RiskCache, iso3: str, as_of: date) -> CountryView:
    """Every dyad of one country's members as of a date, ranked, the highest with the year before as a small chart."""
    known = _known(session, scorer, cache, as_of, iso3)
    dates = risk_service.series_dates(max(as_of - timedelta(days=SPARK_DAYS), EARLIEST_AS_OF), as_of,
                                      SPARK_STEP)
    sparks = risk_service.probabilities_through_time(session, scorer, known[:MAX_SPARKS], dates)
    items = [CountryRow(**_row(d), spark=sparks[n] if n < len(sparks) else []) for n, d in enumerate(known)]
    return CountryView(country=iso3, name=countries.name(iso3), as_of=as_of, items=items, spark_dates=dates,
                       names=names(session, ((r.id, r.members) for r in items)), data=data_range(session))
