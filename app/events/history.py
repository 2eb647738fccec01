"""A dyad's stored history as the model sees it: rows through the same make_fact that training uses.

Only a bounded window is read: the events within `lookback_days` of the dyad's last event (on or
before a date), plus its first event. That is everything the features look at (windows of at
most a year, the last event, the history's length), so the rows one assessment reads do not grow
with the dyad's history. Both reads are range scans of the (dyad_id, occurred_on) index.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import Text, and_, cast, or_, select
from sqlalchemy.orm import Session

from app.events import dyads as dyad_rules
from app.events.facts import EventFact
from app.events.models import Dyad, Event, EventDyad

_CHUNK = 400  # dyads per statement: keeps the OR list of index ranges a size planners handle well


@dataclass
class Window:
    """A dyad's facts as of a date: the look-back window up to its last event, and its first event."""

    last_on: date | None = None  # the last live event on or before the date asked for
    facts: list[EventFact] = field(default_factory=list)  # oldest first
    in_window: int = 0  # events within the look-back window (what `event_count` reports)


@lru_cache(maxsize=4096)
def _weapons(stored: str) -> tuple[str, ...]:
    # Histories repeat a handful of weapon lists; decoding each distinct JSON text once saves a
    # json.loads per event on every re-assessment.
    return tuple(json.loads(stored))


def _live_links(*columns, dyad=Dyad.id, until: date | None = None):
    stmt = (select(*columns).join(Event, Event.id == EventDyad.event_id)
            .where(EventDyad.dyad_id == dyad, Event.retracted_at.is_(None)))
    return stmt.where(EventDyad.occurred_on <= until) if until else stmt


def windows(session: Session, dyad_ids: Sequence[str], lookback_days: int,
            until: date | None = None) -> dict[str, Window]:
    """Each dyad's bounded live history as of `until` (default: all stored events)."""
    out = {d: Window() for d in dyad_ids}
    for start in range(0, len(dyad_ids), _CHUNK):
        chunk = list(dyad_ids[start:start + _CHUNK])
        last_on = (_live_links(EventDyad.occurred_on, until=until)
                   .order_by(EventDyad.occurred_on.desc()).limit(1).scalar_subquery())
        first_id = (_live_links(EventDyad.event_id)
                    .order_by(EventDyad.occurred_on, EventDyad.event_id).limit(1).scalar_subquery())
        anchors = {r[0]: (r[1], r[2]) for r in session.execute(
            select(Dyad.id, last_on, first_id).where(Dyad.id.in_(chunk)))}
        ranges, lows = [], {}
        for dyad_id, (last, first) in anchors.items():
            if last is None:
                continue
            lows[dyad_id] = last - timedelta(days=lookback_days)
            out[dyad_id].last_on = last
            ranges.append(and_(EventDyad.dyad_id == dyad_id,
                               or_(EventDyad.occurred_on.between(lows[dyad_id], last), EventDyad.event_id == first)))
        if ranges:
            _read(session, or_(*ranges), out, lows)
    return out


def _read(session: Session, where, out: dict[str, Window], lows: dict[str, date]) -> None:
    stmt = (
        select(EventDyad.dyad_id, EventDyad.initiator, EventDyad.target, Event.occurred_on, Event.action,
               cast(Event.weapons, Text).label("weapons"), Event.fatalities, Event.civilian_fatalities,
               Event.retaliation, Event.actor1_country, Event.location_country)
        .join(Event, Event.id == EventDyad.event_id)
        .where(where, Event.retracted_at.is_(None))
        .order_by(Event.occurred_on, Event.id)
    )
    for r in session.execute(stmt):
        window = out[r.dyad_id]
        if r.occurred_on > window.last_on:
            continue  # the first event is fetched regardless of date; it may lie after `until`
        window.in_window += r.occurred_on >= lows[r.dyad_id]
        window.facts.append(dyad_rules.make_fact(
            r.initiator, r.target, occurred_on=r.occurred_on, action=r.action, weapons=_weapons(r.weapons),
            fatalities=r.fatalities, civilian_fatalities=r.civilian_fatalities, retaliation=r.retaliation,
            actor1_country=r.actor1_country, location_country=r.location_country))
