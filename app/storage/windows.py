"""The SQL of a dyad's history as the model reads it (app.events.history holds what is done with the rows):
each dyad's last live event on or before a date and its first one, then its window's rows, for many dyads in
one statement; and the rows of events named by id, for the window cache's update. The one place these
statements and their per-dialect parts are written."""

import json
from collections.abc import Iterator, Sequence
from datetime import date

from sqlalchemy import bindparam, func, literal_column, or_, select, text, true, union_all
from sqlalchemy.orm import Session

from app.events.models import Dyad, Event, EventDyad
from app.risk.models import Assessment, DyadRisk
from app.storage import bulk


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
# each dyad's window, then its first event where that lies before the window. Unordered: the rows are
# put in (dyad, day, event id) order in numpy, where PostgreSQL sorted a dense batch's ~85,000 rows
# on disk past the default work_mem, a third of the statement's time (bench/RESULTS.md).
_WINDOWS = " UNION ALL ".join(_SELECT.replace("{which}", which) for which in (
    "ed.occurred_on BETWEEN w.lo AND w.hi", "ed.event_id = w.first AND ed.occurred_on < w.lo"))


_FIRST = (EventDyad.occurred_on, EventDyad.event_id)  # which of a dyad's events is its first
PROBES = (1, 16)  # links read at each end of a dyad's history, then again deeper where those were all retracted


_CHANGED = _SELECT.replace("{which}", "ed.event_id = w.first")


def heads(session: Session, dyad_ids: Sequence[str], until: date | None) -> dict[str, tuple[date | None, int | None]]:
    """Per dyad: the date of its last live event on or before `until`, and (where there is one) its first
    live event's id; (None, None) for a dyad with no live event by then.

    On PostgreSQL each end of the dyad's links is read by the (dyad_id, occurred_on) index, a few links deep,
    and their events' liveness tested after: a plan statistics cannot change. With the test inside the
    search and no statistics yet, the planner reads every link of the dyad (bench/RESULTS.md). Only a dyad
    whose end links were all retracted, PROBES[-1] deep, is asked with the test inside, as SQLite always is.
    """
    out: dict[str, tuple[date | None, int | None]] = {}
    asked = list(dyad_ids)
    if session.get_bind().dialect.name == "postgresql":
        for depth in PROBES:
            found = _probe(session, asked, until, depth)
            out.update(found)
            asked = [d for d in asked if d not in found]
            if not asked:
                break
    if asked:
        last_on = (_live_links(EventDyad.occurred_on, until=until)
                   .order_by(EventDyad.occurred_on.desc()).limit(1).scalar_subquery())
        first_id = _live_links(EventDyad.event_id).order_by(*_FIRST).limit(1).scalar_subquery()
        heads = select(Dyad.id, last_on, first_id).where(bulk.one_of(session, Dyad.id, asked))
        out.update({dyad_id: (last, first) for dyad_id, last, first in session.execute(heads)})
    return out


def _probe(session: Session, dyad_ids: list[str], until: date | None, depth: int) -> dict:
    """The heads of the dyads that `depth` links from each end answer: a live one at the last end (and at
    the first end), or fewer links than `depth` (a dyad with no link by `until` is answered (None, None))."""
    ends = []
    for last in (True, False):
        links = select(EventDyad.occurred_on, EventDyad.event_id).where(EventDyad.dyad_id == Dyad.id)
        if last and until is not None:
            links = links.where(EventDyad.occurred_on <= until)
        link = (links.order_by(*((EventDyad.occurred_on.desc(),) if last else _FIRST))  # the depth in the SQL text:
                .limit(bindparam("depth", depth, literal_execute=True))  # a generic plan knows it too
                .correlate(Dyad).lateral())
        ends.append(select(Dyad.id, literal_column(str(last).lower()), link.c.occurred_on, link.c.event_id,
                           Event.retracted_at.is_(None))
                    .select_from(Dyad).join(link, true()).join(Event, Event.id == link.c.event_id)
                    .where(bulk.one_of(session, Dyad.id, dyad_ids)))
    read: dict[tuple[str, bool], int] = {}
    live: dict[tuple[str, bool], list[tuple[date, int]]] = {}
    for dyad_id, last, day, event_id, is_live in session.execute(union_all(*ends)):
        read[dyad_id, last] = read.get((dyad_id, last), 0) + 1
        if is_live:
            live.setdefault((dyad_id, last), []).append((day, event_id))
    out = {}
    for d in dyad_ids:
        if (d, True) in live and (d, False) in live:  # the latest live date; the earliest live (date, id)
            out[d] = (max(live[d, True])[0], min(live[d, False])[1])
        elif (d, True) not in live and read.get((d, True), 0) < depth:  # no live event by `until`
            out[d] = (None, None)
    return out


def window_rows(session: Session, spec: Sequence[tuple[str, date, date, int | None]], chunk: int) -> Iterator[list]:
    """Per (dyad, lo, hi, first event id) at position i: rows (i, initiator, target, day ordinal, action, weapons JSON,
    fatalities, civilian fatalities, retaliation, actor1 country, location country, event id) of its live events
    dated lo..hi and of its first event where that lies before lo, unordered, `chunk` rows at a time."""
    parameter = json.dumps([{"i": i, "dyad_id": dyad_id, "lo": lo.isoformat(), "hi": hi.isoformat(), "first": first}
                            for i, (dyad_id, lo, hi, first) in enumerate(spec)])
    return session.execute(_statement(session, _WINDOWS), {"spec": parameter}).partitions(chunk)


def event_rows(session: Session, wanted: Sequence[tuple[int, str, int]]) -> list:
    """Per (i, dyad, event id): the event's row as `window_rows` gives it, if it is live and linked to the dyad."""
    parameter = json.dumps([{"i": i, "dyad_id": dyad_id, "first": event_id} for i, dyad_id, event_id in wanted])
    return session.execute(_statement(session, _CHANGED), {"spec": parameter}).all()


def _statement(session: Session, sql: str):
    dialect = session.get_bind().dialect.name
    return text(sql.replace("{spec}", _SPEC[dialect]).replace("{day}", _DAY[dialect]))


# The fronts' read: per (member, lo, hi), the live events dated (lo, hi] of the member's dyads, one statement for
# every range (a member's ranges disjoint): each side of `dyad` by its member index, then each dyad's links.
_FRONT_SPEC = {
    "postgresql": "jsonb_to_recordset(CAST(:spec AS jsonb)) AS w(member text, lo date, hi date)",
    "sqlite": "(SELECT json_extract(value, '$.member') AS member, json_extract(value, '$.lo') AS lo,"
              " json_extract(value, '$.hi') AS hi FROM json_each(:spec)) AS w",
}
_FRONTS = " UNION ALL ".join(
    "SELECT w.member, ed.dyad_id, {day}, e.fatalities, e.id FROM {spec} JOIN dyad d ON d." + side + " = w.member"
    " JOIN event_dyad ed ON ed.dyad_id = d.id AND ed.occurred_on > w.lo AND ed.occurred_on <= w.hi"
    " JOIN event e ON e.id = ed.event_id WHERE e.retracted_at IS NULL"
    " AND (e.hostility >= :hostility OR e.fatalities > 0)" for side in ("member_a", "member_b"))


def front_rows(session: Session, ranges: Sequence[tuple[str, date, date]], hostility: int) -> list:
    """The fronts' read (app.ml.fronts): per (member, after, until), every live event dated (after, until] of every
    dyad of the member that opens a front (`hostility` or more, or deaths), as (member, dyad id, day ordinal,
    fatalities, event id). A member's ranges must not overlap (an event would come twice)."""
    dialect = session.get_bind().dialect.name
    parameter = json.dumps([{"member": m, "lo": lo.isoformat(), "hi": hi.isoformat()} for m, lo, hi in ranges])
    sql = _FRONTS.replace("{spec}", _FRONT_SPEC[dialect]).replace("{day}", _DAY[dialect])
    return session.execute(text(sql), {"spec": parameter, "hostility": hostility}).all()

def front_markers(session: Session, members: Sequence[str]) -> dict[str, int]:
    """Per member: the newest latest-assessment id over its dyads. Every change to a dyad's history stores an
    assessment, so this moves whenever any front of the member may have: a cache key of the fronts."""
    out: dict[str, int] = {}
    for column in (Dyad.member_a, Dyad.member_b):
        for member, newest in session.execute(
                select(column, func.max(DyadRisk.assessment_id)).join(DyadRisk, DyadRisk.dyad_id == Dyad.id)
                .where(bulk.one_of(session, column, members)).group_by(column)):
            out[member] = max(newest, out.get(member, newest))
    return out


def front_neighbours(session: Session, members: Sequence[str], first: date, last: date) -> list:
    """The dyads of `members` whose latest assessment is as of a date from `first` to `last`: (dyad id, member a,
    member b, that date). Candidates for a new assessment when an event of another dyad of theirs lands
    within the 30 days before it."""
    return session.execute(
        select(DyadRisk.dyad_id, Dyad.member_a, Dyad.member_b, Assessment.as_of)
        .join(Dyad, Dyad.id == DyadRisk.dyad_id).join(Assessment, Assessment.id == DyadRisk.assessment_id)
        .where(or_(bulk.one_of(session, Dyad.member_a, members), bulk.one_of(session, Dyad.member_b, members)),
               Assessment.as_of >= first, Assessment.as_of <= last)).all()
