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

from sqlalchemy import Text, cast, column, select, text
from sqlalchemy.orm import Session

from app.events import dyads as dyad_rules
from app.events.facts import EventFact
from app.events.models import Dyad, Event, EventDyad

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


# The windows to read, as one JSON parameter expanded into rows by the database: one cached
# statement whatever the number of dyads (an OR of ranges would be compiled anew every time).
_SPEC = {
    "postgresql": "jsonb_to_recordset(CAST(:spec AS jsonb)) AS w(dyad_id text, lo date, hi date)",
    "sqlite": "(SELECT json_extract(value, '$.dyad_id') AS dyad_id, json_extract(value, '$.lo') AS lo,"
              " json_extract(value, '$.hi') AS hi FROM json_each(:spec)) AS w",
}
_COLUMNS = ("ed.dyad_id, ed.initiator, ed.target, e.occurred_on, e.action, CAST(e.weapons AS TEXT) AS weapons,"
            " e.fatalities, e.civilian_fatalities, e.retaliation, e.actor1_country, e.location_country, e.id")
_TYPED = (EventDyad.dyad_id, EventDyad.initiator, EventDyad.target, Event.occurred_on, Event.action,
          column("weapons", Text), Event.fatalities, Event.civilian_fatalities, Event.retaliation,
          Event.actor1_country, Event.location_country, Event.id)


def windows(session: Session, dyad_ids: Sequence[str], lookback_days: int,
            until: date | None = None) -> dict[str, Window]:
    """Each dyad's bounded live history as of `until` (default: all stored events)."""
    out = {d: Window() for d in dyad_ids}
    last_on = (_live_links(EventDyad.occurred_on, until=until)
               .order_by(EventDyad.occurred_on.desc()).limit(1).scalar_subquery())
    first_id = (_live_links(EventDyad.event_id)
                .order_by(EventDyad.occurred_on, EventDyad.event_id).limit(1).scalar_subquery())
    spec, firsts = [], {}
    for dyad_id, last, first in session.execute(select(Dyad.id, last_on, first_id).where(Dyad.id.in_(dyad_ids))):
        if last is not None:
            lo = last - timedelta(days=lookback_days)
            out[dyad_id].last_on = last
            spec.append({"dyad_id": dyad_id, "lo": lo.isoformat(), "hi": last.isoformat()})
            firsts[(dyad_id, first)] = lo
    if not spec:
        return out
    dialect = session.get_bind().dialect.name
    in_window = text(f"SELECT {_COLUMNS} FROM {_SPEC[dialect]}"
                     " JOIN event_dyad ed ON ed.dyad_id = w.dyad_id AND ed.occurred_on BETWEEN w.lo AND w.hi"
                     " JOIN event e ON e.id = ed.event_id WHERE e.retracted_at IS NULL").columns(*_TYPED)
    rows = list(session.execute(in_window, {"spec": json.dumps(spec)}))
    rows += [r for r in session.execute(
        select(*_TYPED[:5], cast(Event.weapons, Text).label("weapons"), *_TYPED[6:])
        .join(Event, Event.id == EventDyad.event_id).where(EventDyad.event_id.in_({e for _, e in firsts})))
        if (r.dyad_id, r.id) in firsts and r.occurred_on < firsts[(r.dyad_id, r.id)]]  # not already in its window
    rows.sort(key=lambda r: (r.occurred_on, r.id))
    for r in rows:
        window = out[r.dyad_id]
        window.in_window += r.occurred_on >= window.last_on - timedelta(days=lookback_days)
        window.facts.append(dyad_rules.make_fact(
            r.initiator, r.target, occurred_on=r.occurred_on, action=r.action, weapons=_weapons(r.weapons),
            fatalities=r.fatalities, civilian_fatalities=r.civilian_fatalities, retaliation=r.retaliation,
            actor1_country=r.actor1_country, location_country=r.location_country))
    return out
