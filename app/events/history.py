"""A dyad's stored history as the model sees it: rows through the same rules (`make_columns`) that training uses.

Only a bounded window is read: the events within `lookback_days` of the dyad's last event (on or
before a date), plus its first event. That is everything the features look at (windows of at
most a year, the last event, the history's length), so the rows one assessment reads do not grow
with the dyad's history. Both reads are range scans of the (dyad_id, occurred_on) index.

The rows of all the dyads asked for come back as plain tuples from one statement, in order, and
become one `FactColumns` (column arrays, no object per event); each dyad's window is a slice of it.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import bulk
from app.events import dyads as dyad_rules
from app.events.facts import FactColumns
from app.events.models import Dyad, Event, EventDyad

NONE = FactColumns.of([])


@dataclass
class Window:
    """A dyad's facts as of a date: the look-back window up to its last event, and its first event."""

    last_on: date | None = None  # the last live event on or before the date asked for
    facts: FactColumns = field(default=NONE)  # oldest first, (day, event id) order
    in_window: int = 0  # events within the look-back window (what `event_count` reports)


def _live_links(*columns, dyad=Dyad.id, until: date | None = None):
    stmt = (select(*columns).join(Event, Event.id == EventDyad.event_id)
            .where(EventDyad.dyad_id == dyad, Event.retracted_at.is_(None)))
    return stmt.where(EventDyad.occurred_on <= until) if until else stmt


# The windows to read, as one JSON parameter expanded into rows by the database: one cached
# statement whatever the number of dyads (an OR of ranges would be compiled anew every time).
_SPEC = {
    "postgresql": "jsonb_to_recordset(CAST(:spec AS jsonb)) AS w(i int, dyad_id text, lo date, hi date, first bigint)",
    "sqlite": "(SELECT json_extract(value, '$.i') AS i, json_extract(value, '$.dyad_id') AS dyad_id,"
              " json_extract(value, '$.lo') AS lo, json_extract(value, '$.hi') AS hi,"
              " json_extract(value, '$.first') AS first FROM json_each(:spec)) AS w",
}
_DAY = {  # the day ordinal (date.toordinal) of e.occurred_on
    "postgresql": "e.occurred_on - DATE '0001-01-01' + 1",
    "sqlite": "CAST(julianday(e.occurred_on) - 1721424.5 AS INTEGER)",
}
_SELECT = ("SELECT w.i, ed.initiator, ed.target, {day}, e.action, CAST(e.weapons AS TEXT), e.fatalities,"
           " e.civilian_fatalities, e.retaliation, e.actor1_country, e.location_country, e.id FROM {spec}"
           " JOIN event_dyad ed ON ed.dyad_id = w.dyad_id AND {which} JOIN event e ON e.id = ed.event_id"
           " WHERE e.retracted_at IS NULL")
# each dyad's window, then its first event where that lies before the window; by dyad, day, event id
_WINDOWS = " UNION ALL ".join(_SELECT.replace("{which}", which) for which in (
    "ed.occurred_on BETWEEN w.lo AND w.hi", "ed.event_id = w.first AND ed.occurred_on < w.lo")) + " ORDER BY 1, 4, 12"


READ_CHUNK = 10_000  # window rows turned into arrays at a time


def _columns(rows) -> tuple[np.ndarray, FactColumns]:
    """One chunk of window rows as (which window, facts)."""
    which, initiators, targets, days, actions, weapons, fatalities, civilian, retaliation, actor1, where, _ = zip(*rows)
    return np.array(which, dtype=np.int64), dyad_rules.make_columns(
        initiators, targets, days=days, actions=actions, weapons_json=weapons, fatalities=fatalities,
        civilian_fatalities=civilian, retaliation=retaliation, actor1_country=actor1, location_country=where)


def windows(session: Session, dyad_ids: Sequence[str], lookback_days: int,
            until: date | None = None) -> dict[str, Window]:
    """Each dyad's bounded live history as of `until` (default: all stored events)."""
    out = {d: Window() for d in dyad_ids}
    last_on = (_live_links(EventDyad.occurred_on, until=until)
               .order_by(EventDyad.occurred_on.desc()).limit(1).scalar_subquery())
    first_id = (_live_links(EventDyad.event_id)
                .order_by(EventDyad.occurred_on, EventDyad.event_id).limit(1).scalar_subquery())
    spec, read = [], []
    heads = select(Dyad.id, last_on, first_id).where(bulk.one_of(session, Dyad.id, dyad_ids))
    for dyad_id, last, first in session.execute(heads):
        if last is not None:
            lo = last - timedelta(days=lookback_days)
            out[dyad_id].last_on = last
            spec.append({"i": len(spec), "dyad_id": dyad_id, "lo": lo.isoformat(), "hi": last.isoformat(),
                         "first": first})
            read.append((dyad_id, lo.toordinal()))
    if not spec:
        return out
    dialect = session.get_bind().dialect.name
    statement = text(_WINDOWS.replace("{spec}", _SPEC[dialect]).replace("{day}", _DAY[dialect]))
    # Turned into Python rows 10,000 at a time, each chunk into arrays before the next (the driver still
    # holds the whole result in C): a dense batch reads ~100,000 rows, and as Python tuples all at once
    # they set the worker's memory high-water mark.
    chunks = [_columns(rows) for rows in session.execute(statement, {"spec": json.dumps(spec)}).partitions(READ_CHUNK)]
    if not chunks:
        return out
    facts, which = FactColumns.concat([c for _, c in chunks]), np.concatenate([w for w, _ in chunks])
    bounds = np.searchsorted(which, np.arange(len(spec) + 1)).tolist()
    lo = np.array([day for _, day in read], dtype=np.int64)
    in_window = np.bincount(which, weights=facts.day >= lo[which], minlength=len(spec)).astype(np.int64).tolist()
    for i, (dyad_id, _) in enumerate(read):
        window = out[dyad_id]
        window.facts, window.in_window = facts.slice(bounds[i], bounds[i + 1]), in_window[i]
    return out
