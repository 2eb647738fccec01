"""Questions the stored history cannot answer alone: the prior of a dyad with no events, and what-if.

Neither writes anything: no event, no assessment, no feed entry. Both score through the same
features, model and explanation as a stored assessment.
"""

from collections.abc import Sequence
from datetime import date

import numpy as np
from sqlalchemy.orm import Session

from app import errors
from app.countries import is_iso3
from app.events import dyads as dyad_rules
from app.events import history as event_history
from app.events import members as member_ids
from app.events import service as event_service
from app.events.facts import EventFact, FactColumns
from app.events.schemas import EventCreate
from app.ml.features import LOOKBACK_DAYS
from app.ml.fronts import Activity
from app.ml.scorer import Scorer
from app.observability import SCORING_SECONDS
from app.risk import service as risk_service
from app.risk.schemas import RiskRead, RiskSeries


def member(text: str, field: str) -> str:
    """A member id as stored (ISO3 upper-case, `nsa:` slug, `civ:` + ISO3), or a 422 for one that cannot exist."""
    out = member_ids.normalise(text)
    if member_ids.is_nonstate(out):
        slug = out.removeprefix(member_ids.NONSTATE)
        valid = bool(slug) and member_ids.slug(slug) == slug
    else:
        valid = is_iso3(member_ids.member_country(out) or "")
    if not valid:
        raise errors.InvalidInput(f"{text!r} is not a member id (ISO3, nsa:<slug> or civ:<ISO3>)", field=field)
    return out


def members(a: str, b: str) -> tuple[str, str]:
    ma, mb = member(a, "a"), member(b, "b")
    if ma == mb:
        raise errors.InvalidInput("a and b must differ", field="b")
    return ma, mb


def _read(scorer: Scorer, a: str, b: str, window: event_history.Window, as_of: date, marker: int | None,
          fronts_read: Activity) -> RiskRead:
    with SCORING_SECONDS.time():
        score = scorer.score(window.facts, as_of, scorer.context_for(a, b, as_of, fronts_read))
    first, second = sorted((a, b))
    return RiskRead.of(score, scorer, dyad_id=member_ids.dyad_id(a, b), members=(first, second),
                       kind=member_ids.dyad_kind(a, b), as_of=as_of, last_event_on=window.last_on,
                       event_count=window.in_window, marker=marker)


def prior(session: Session, scorer: Scorer, a: str, b: str, as_of: date) -> RiskRead:
    """The risk of two members with no recorded events: structural context and their other fronts (`event_count: 0`)."""
    fronts_read = risk_service.activity(session, [((a, b), as_of, as_of)])
    return _read(scorer, a, b, event_history.Window(), as_of, None, fronts_read)


def what_if(session: Session, scorer: Scorer, a: str, b: str, as_of: date | None,
            events: Sequence[EventCreate], marker: int | None) -> RiskRead:
    """The dyad's stored history plus hypothetical events, scored as of `as_of` (default: the last
    hypothetical event's day) as if they had been stored. Each event must affect this dyad, as an ingested
    one would."""
    added = _hypothetical(member_ids.dyad_id(a, b), events)
    as_of = as_of or max(f.occurred_on for f in added)
    facts, ids = _with(session, a, b, events, added, as_of, as_of)
    window, = event_history.as_of_each(facts, ids, [as_of], LOOKBACK_DAYS)
    return _read(scorer, a, b, window, as_of, marker, risk_service.activity(session, [((a, b), as_of, as_of)]))


def what_if_series(session: Session, scorer: Scorer, a: str, b: str, events: Sequence[EventCreate],
                   dates: list[date], step_days: int, marker: int | None) -> RiskSeries:
    """`what_if` on each date: the series the dyad would have if the hypothetical events had been stored."""
    facts, ids = _with(session, a, b, events, _hypothetical(member_ids.dyad_id(a, b), events), dates[0], dates[-1])
    first, second = sorted((a, b))
    return risk_service.series_of(scorer, member_ids.dyad_id(a, b), (first, second), member_ids.dyad_kind(a, b),
                                  facts, ids, dates, step_days, marker,
                                  risk_service.activity(session, [((a, b), d, d) for d in dates]))


def _hypothetical(dyad: str, events: Sequence[EventCreate]) -> list[EventFact]:
    added: list[EventFact] = []
    for n, event in enumerate(events):
        facts = [f for link, f in dyad_rules.facts_for(event) if link.dyad_id == dyad]
        if not facts:
            raise errors.InvalidInput(f"events.{n} does not affect dyad {dyad!r}", field=f"events.{n}")
        added.extend(facts)
    return added


def _with(session: Session, a: str, b: str, events: Sequence[EventCreate], added: list[EventFact], start: date,
          end: date) -> tuple[FactColumns, np.ndarray]:
    """The stored history the windows of `start`..`end` read, plus the hypothetical facts (event id -1), by day
    (a hypothetical event after the stored ones of its day, as a new event would be). A hypothetical event with a
    stored event's (source, source_event_id) stands for a revision of it: the stored one is left out."""
    stored = event_history.span(session, member_ids.dyad_id(a, b), start, end, LOOKBACK_DAYS)
    facts, ids = stored.facts, stored.event_ids
    if replaced := event_service.stored_ids(session, {(e.source, e.source_event_id) for e in events}):
        kept = ~np.isin(ids, list(replaced))
        facts, ids = facts.take(np.flatnonzero(kept)), ids[kept]
    facts = FactColumns.concat([facts, FactColumns.of(added)])
    order = np.argsort(facts.day, kind="stable")
    return facts.take(order), np.concatenate([ids, np.full(len(added), -1, dtype=np.int64)])[order]
