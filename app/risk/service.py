"""Assessing dyads when their history changes, and answering risk questions. Services flush, never commit."""

from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone

import numpy as np

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from app import errors, tracing
from app.events import history as event_history
from app.events import members as member_ids
from app.events import service as event_service
from app.events.facts import FactColumns
from app.events.models import Dyad
from app.ml import fronts, levels
from app.ml.fronts import NO_ACTIVITY, Activity
from app.ml.features import LOOKBACK_DAYS
from app.ml.scorer import Score, Scorer
from app.observability import ASSESSMENTS, SCORING_SECONDS
from app.risk import outbox
from app.risk.cache import RiskCache
from app.risk.models import PUBLISHED, Assessment, DyadRisk
from app.http import utc_today
from app.risk.schemas import (EARLIEST_AS_OF, SERIES_DEFAULT_DAYS, AssessmentRead, DyadRead, RiskRead, RiskSeries,
                              SeriesPoint, as_of_problem)
from app.storage import bulk, locks
from app.storage import windows as storage_windows
from app.storage.feed import feed_lock


def activity(session: Session, asked: Iterable[tuple[Sequence[str], date, date]]) -> Activity:
    """What the fronts (app.ml.fronts) of dyads read: per (members, first, last), the events of the members' dyads
    in the FRONT_WINDOW days before each date from `first` to `last`; one read of each member's merged ranges,
    however scattered the dates (a backfill's batch spans years, its fronts a few months)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for members, first, last in asked:
        for member in fronts.acting(members):
            spans.setdefault(member, []).append((first.toordinal() - fronts.FRONT_WINDOW, last.toordinal()))
    ranges = []
    for member, found in spans.items():  # (lo, hi] ranges, overlapping ones merged: no event read twice
        found.sort()
        lo, hi = found[0]
        for a, b in found[1:]:
            if a > hi:
                ranges.append((member, date.fromordinal(lo), date.fromordinal(hi)))
                lo = a
            hi = max(hi, b)
        ranges.append((member, date.fromordinal(lo), date.fromordinal(hi)))
    if not ranges:
        return NO_ACTIVITY
    return Activity((member, day, dyad_id, deaths or 0, event_id)
                    for member, dyad_id, day, deaths, event_id in
                    storage_windows.front_rows(session, ranges, fronts.FRONT_HOSTILITY))


def fronts_markers(session: Session, dyads: Iterable[tuple[str, str]]) -> list[int | None]:
    """Per (member a, member b): the version of its fronts, the newest latest assessment over the members' dyads
    (None: no member that opens fronts). A cache key of a risk answer carries it beside the dyad's own."""
    dyads = list(dyads)
    asked = sorted({m for pair in dyads for m in fronts.acting(pair)})
    newest = storage_windows.front_markers(session, asked) if asked else {}
    return [max((newest[m] for m in fronts.acting(pair) if m in newest), default=None) for pair in dyads]


def reassess(session: Session, scorer: Scorer, results: Sequence[event_service.Ingested],
             window_cache: event_history.WindowCache | None = None) -> int:
    """Store one assessment per dyad whose history the results changed, and one per other dyad of their members
    whose stored answer reads a changed event as a front (`reason: contagion`), in the caller's transaction.

    Each is the dyad's current answer: as of its last live event, from the events known now.
    Stored assessments are never redone (they are what the service said at the time); a late
    report, correction or retraction that reaches behind the stored answer yields a new one with
    `reason: backdated`, and any past date is computed on demand (`GET /v1/risk?as_of=`). So one
    request stores at most one row per touched dyad and reads a bounded window of each history,
    or, from `window_cache`, only the events it changed (a window cached at the dyad's latest assessment).
    """
    since: dict[str, date] = {}
    trigger: dict[str, tuple[int, str]] = {}
    changed: dict[str, set[int]] = {}
    for r in results:
        for dyad_id, day in r.touched.items():
            since[dyad_id] = min(day, since.get(dyad_id, day))
            trigger[dyad_id] = (r.event_id, r.status)
            changed.setdefault(dyad_id, set()).add(r.event_id)
    if not since:
        return 0
    created = {r.event_id for r in results if r.status == "created"}
    # The members first (locks.lock_members): a concurrent writer on another dyad of one of them has committed, or
    # waits for this one, before the fronts are read and the neighbours looked for.
    # (talks or a threat, before and after the change, open no front: app.ml.fronts)
    opening = [r for r in results if r.acts is None or fronts.opens_front(*r.acts)]
    front = {d for r in opening for d in r.touched}
    locks.lock_members(session, exclusive=_acting(front), shared=_acting(since.keys() - front))
    # The other dyads of the members whose latest answer reads a changed event as a front get a new one too.
    neighbours = _front_neighbours(session, opening, since.keys())
    locked = sorted(since.keys() | neighbours.keys())
    locks.lock_dyads(session, locked)
    # Read under the dyads' locks: each one's latest assessment, which every change to its history replaces.
    stored = {d: (as_of, latest) for d, as_of, latest in session.execute(
        select(DyadRisk.dyad_id, Assessment.as_of, DyadRisk.assessment_id)
        .join(Assessment, Assessment.id == DyadRisk.assessment_id)
        .where(bulk.one_of(session, DyadRisk.dyad_id, locked)))}
    for dyad_id, event_id in neighbours.items():  # (a neighbour's history is unchanged: no event is its own)
        if dyad_id in stored:
            since[dyad_id], trigger[dyad_id], changed[dyad_id] = stored[dyad_id][0], (event_id, CONTAGION), set()
    dyad_ids = sorted(since)
    windows = {} if window_cache is None else _cached_windows(
        session, window_cache, {d: latest for d, (_, latest) in stored.items()}, changed, created)
    if windows and window_cache.check:
        event_history.check_windows(session, windows, LOOKBACK_DAYS)
    if unread := [d for d in dyad_ids if d not in windows]:
        windows.update(event_history.windows(session, unread, LOOKBACK_DAYS))
    plan = [(d, windows[d].last_on or since[d]) for d in dyad_ids]
    read = activity(session, [(member_ids.dyad_members(d), as_of, as_of) for d, as_of in plan])
    with SCORING_SECONDS.time(), tracing.span("escalation.score", dyads=len(plan)):
        scores = scorer.score_many([
            (windows[d].facts, as_of, scorer.context_for(*member_ids.dyad_members(d), as_of, read))
            for d, as_of in plan
        ])
    now = datetime.now(timezone.utc)
    rows = []
    for (dyad_id, as_of), score in zip(plan, scores):
        event_id, status = trigger[dyad_id]
        behind = dyad_id in stored and since[dyad_id] < stored[dyad_id][0]
        rows.append(_assessment_row(dyad_id, as_of, score, scorer, event_id, "backdated" if behind else status,
                                    windows[dyad_id], sorted(changed[dyad_id]), now))
    # Feed positions in commit order: only the holder of this lock takes assessment ids, and holds it
    # until its commit, so a poller never sees an id above one that is still uncommitted.
    feed_lock(session)
    ids = bulk.insert_numbered(session, Assessment, rows)
    outbox.enqueue(session, ids)  # webhook deliveries commit with the assessments that cause them
    if window_cache is not None:  # kept if this transaction commits, under the assessment replacing the dyad's latest
        window_cache.stage(session, {r["dyad_id"]: (i, windows[r["dyad_id"]]) for r, i in zip(rows, ids)})
    bulk.upsert(session, DyadRisk, [
        {"dyad_id": r["dyad_id"], "assessment_id": i, "probability": r["probability"], "level": r["level"],
         "last_event_on": r["last_event_on"], "updated_at": now} for r, i in zip(rows, ids)], key="dyad_id")
    ASSESSMENTS.inc(len(rows))
    return len(rows)


CONTAGION = "contagion"  # the reason of an assessment redone because another dyad of a member changed


def _acting(dyad_ids: Iterable[str]) -> set[str]:
    """The members of these dyads that have fronts (not civilians)."""
    return {m for d in dyad_ids for m in fronts.acting(member_ids.dyad_members(d))}


def _front_neighbours(session: Session, opening: Sequence[event_service.Ingested],
                      touched: Collection[str]) -> dict[str, int]:
    """The dyads, not among those `touched`, whose latest assessment reads a changed event that opens a front
    (`opening`) as one: another dyad of one of its dyads' members (not civilians), assessed as of a date within
    FRONT_WINDOW days from the change's day. Per such dyad, the changing event's id. Read under the members' locks
    (reassess): a concurrent writer on a dyad of one of them has committed first, or waits for this one to."""
    days: dict[str, list[tuple[int, int]]] = {}
    for r in opening:
        for dyad_id, day in r.touched.items():
            for member in fronts.acting(member_ids.dyad_members(dyad_id)):
                for on in (day, r.moved[dyad_id]) if dyad_id in r.moved else (day,):  # where it was and is now
                    days.setdefault(member, []).append((on.toordinal(), r.event_id))
    if not days:
        return {}
    for found in days.values():
        found.sort()
    first = min(found[0][0] for found in days.values())
    last = max(found[-1][0] for found in days.values()) + fronts.FRONT_WINDOW - 1
    out: dict[str, int] = {}
    for dyad_id, a, b, as_of in storage_windows.front_neighbours(
            session, sorted(days), date.fromordinal(first), date.fromordinal(last)):
        if dyad_id in touched:
            continue
        t = as_of.toordinal()
        for member in (a, b):  # a change dated in (t - FRONT_WINDOW, t]
            found = days.get(member, ())
            k = bisect_right(found, (t, float("inf")))
            if k and found[k - 1][0] > t - fronts.FRONT_WINDOW:
                out[dyad_id] = found[k - 1][1]
                break
    return out


# A cached window behind its dyad's latest assessment is caught up from the assessments in between while it is
# within this many assessment ids of the newest (a bounded read), and while those name at most CATCH_UP_EVENTS
# events (each looked up); otherwise it is read whole.
CATCH_UP_IDS = 16_384
CATCH_UP_EVENTS = 2_048


def _cached_windows(session: Session, cache: event_history.WindowCache, latest: dict[str, int],
                    changed: dict[str, set[int]], created: set[int]) -> dict[str, event_history.Window]:
    """The windows of the changed dyads that the cache can answer, brought up to date (read under the dyads' locks).

    An entry holding at the dyad's latest assessment needs only this transaction's changes. One holding at
    an earlier assessment (the dyad was since written by another worker, or by this one in a transaction
    whose entry did not keep) also needs the changes of every assessment in between: each records the
    events its transaction changed in the dyad's history, and every such change stores one. So with
    several workers each one's cache still answers, instead of reading whole every dyad another wrote.
    """
    versions, changes = dict(latest), dict(changed)
    held = cache.versions(d for d in changed if d in latest)
    behind = {d: v for d, v in held.items() if v < latest[d]}
    if behind:
        newest = max(latest[d] for d in behind)
        behind = {d: v for d, v in behind.items() if v >= newest - CATCH_UP_IDS}
    if behind:
        missed: dict[str, set[int]] = {d: set() for d in behind}
        unknown = set()  # an assessment from before changes were recorded: read whole
        for dyad_id, assessment_id, ids in session.execute(
                select(Assessment.dyad_id, Assessment.id, Assessment.changed_event_ids)
                .where(bulk.one_of(session, Assessment.dyad_id, behind), Assessment.id > min(behind.values()))):
            if assessment_id > behind[dyad_id]:
                if ids is None:
                    unknown.add(dyad_id)
                else:
                    missed[dyad_id].update(ids)
        unknown.update(d for d, ids in missed.items() if len(ids) > CATCH_UP_EVENTS)
        for dyad_id in behind.keys() - unknown:
            versions[dyad_id] = behind[dyad_id]
            changes[dyad_id] = changed[dyad_id] | missed[dyad_id]
    return event_history.updated(session, cache, versions, changes, LOOKBACK_DAYS, created)


def _assessment_row(dyad_id, as_of, score: Score, scorer: Scorer, event_id, reason, window, changed_ids, now) -> dict:
    return {
        "dyad_id": dyad_id, "as_of": as_of, "probability": score.probabilities[scorer.primary],
        # serialised here, once: the rows go to the database as they are
        "probabilities": bulk.dumps(score.probabilities), "interval": bulk.dumps(score.interval), "level": score.level,
        "drivers": bulk.dumps(score.drivers), "explanation": bulk.dumps(score.explanation),
        "features": bulk.dumps(score.features),
        "model_version": scorer.version,
        "trigger_event_id": event_id, "reason": reason,
        "last_event_on": window.last_on, "event_count": window.in_window,
        "changed_event_ids": bulk.dumps(changed_ids), "created_at": now,
    }


def resolve_dyad(session: Session, a: str, b: str) -> tuple[Row, int | None]:
    """The dyad of two distinct member ids as stored, in either order (`whatif.members` checks what clients send)."""
    return get_dyad(session, member_ids.dyad_id(a, b))


def get_dyad(session: Session, dyad_id: str) -> tuple[Row, int | None]:
    """The dyad and its latest assessment's id (which changes whenever its history does), in one query."""
    # Core on the session's connection, not an ORM query: this runs on every poll, and a plain
    # row is all a poll needs.
    row = session.connection().execute(
        select(Dyad.id, Dyad.member_a, Dyad.member_b, Dyad.kind, DyadRisk.assessment_id)
        .outerjoin(DyadRisk, DyadRisk.dyad_id == Dyad.id).where(Dyad.id == dyad_id)).first()
    if row is None:
        raise errors.NotFound(f"no events recorded for dyad {dyad_id!r}", field="dyad_id")
    return row, row.assessment_id


def current(session: Session, scorer: Scorer, cache: RiskCache, dyad: Dyad | Row, as_of: date,
            marker: int | None, fronts_marker: tuple[int | None] | None = None) -> RiskRead:
    """Risk as of a date from the dyad's stored history; cached until the history, its members' fronts or the model
    change (`fronts_marker`: the 1-tuple `fronts_markers` gave, where the caller read it already)."""
    return _current_many(session, scorer, cache, [(dyad, marker)], as_of, fronts_marker)[0]


def _current_many(session: Session, scorer: Scorer, cache: RiskCache, dyads: list[tuple[Dyad | Row, int | None]],
                  as_of: date, markers: Sequence[int | None] | None = None) -> list[RiskRead]:
    """Risk of many dyads as of a date: cached answers where the key (history version, fronts version, model)
    matches, the rest scored in one batch."""
    if markers is None:
        markers = fronts_markers(session, [(d.member_a, d.member_b) for d, _ in dyads])
    keys = {d.id: (d.id, as_of, m, f, scorer.version) for (d, m), f in zip(dyads, markers, strict=True)}
    known = {d.id: cache.get(keys[d.id]) for d, _ in dyads}
    missing = [(d, m) for d, m in dyads if known[d.id] is None]
    if missing:
        windows = event_history.windows(session, [d.id for d, _ in missing], LOOKBACK_DAYS, until=as_of)
        read = activity(session, [((d.member_a, d.member_b), as_of, as_of) for d, _ in missing])
        items = [(windows[d.id].facts, as_of, scorer.context_for(d.member_a, d.member_b, as_of, read))
                 for d, _ in missing]
        with SCORING_SECONDS.time(), tracing.span("escalation.score", dyads=len(items)):
            scores = scorer.score_many(items)
        for (d, m), score in zip(missing, scores):
            known[d.id] = _risk_read(d, as_of, score, scorer, windows[d.id], m)
            cache.put(keys[d.id], known[d.id])
    return [known[d.id] for d, _ in dyads]


def _risk_read(dyad: Dyad | Row, as_of: date, score: Score, scorer: Scorer, window, marker) -> RiskRead:
    return RiskRead.of(score, scorer, dyad_id=dyad.id, members=(dyad.member_a, dyad.member_b), kind=dyad.kind,
                       as_of=as_of, last_event_on=window.last_on, event_count=window.in_window, marker=marker)


def ranked(session: Session, scorer: Scorer, cache: RiskCache, as_of: date, *, country: str | None,
           min_level: str | None, offset: int, limit: int) -> list[DyadRead]:
    """Dyads by current risk, highest first. Scores missing from the cache are computed in one batch."""
    # plain rows, not ORM objects: a ranking reads every dyad
    stmt = (select(Dyad.id, Dyad.member_a, Dyad.member_b, Dyad.kind, DyadRisk.assessment_id)
            .join(DyadRisk, DyadRisk.dyad_id == Dyad.id))
    if country:
        ids = member_ids.of_country(country)
        stmt = stmt.where(Dyad.member_a.in_(ids) | Dyad.member_b.in_(ids))
    rows = [(d, d.assessment_id) for d in session.execute(stmt)]
    risks = list(zip((d for d, _ in rows), _current_many(session, scorer, cache, rows, as_of)))
    if min_level:
        risks = [(d, r) for d, r in risks if levels.at_least(r.level, min_level)]
    risks.sort(key=lambda dr: (-dr[1].probability, dr[0].id))
    return [DyadRead(id=d.id, members=(d.member_a, d.member_b), kind=d.kind, current=r)
            for d, r in risks[offset:offset + limit]]


MAX_SERIES_POINTS = 4_000  # dates in one series: ten years daily
# Facts laid out for one scoring batch of a series (each date's window is its own): ~25 MB of columns and the
# batch's work arrays, whatever the series' length or the dyad's density (one day's window can hold more).
SERIES_BATCH_FACTS = 250_000


def checked_day(day: date | None, field: str) -> date | None:
    """A date parameter as given, or a 422 naming it: a risk is asked of a date from 1800 to today."""
    if day is not None and (problem := as_of_problem(day, utc_today())):
        raise errors.InvalidInput(problem.replace("as_of", field), field=field)
    return day


def series_between(start: date | None, end: date | None, step_days: int) -> list[date]:
    """A series' dates as every caller asks for them: `to` (default today) and `from` (default a year before it)
    checked, then `series_dates`."""
    end = checked_day(end, "to") or utc_today()
    start = checked_day(start, "from") or max(end - timedelta(days=SERIES_DEFAULT_DAYS), EARLIEST_AS_OF)
    return series_dates(start, end, step_days)


def series_dates(start: date, end: date, step_days: int) -> list[date]:
    """`start`, then every `step_days` days up to `end`, and `end` itself; a 422 for a reversed or oversized range."""
    if start > end:
        raise errors.InvalidInput("from must be on or before to", field="from")
    count = (end - start).days // step_days + 1
    count += start + timedelta(days=(count - 1) * step_days) != end  # `end` itself, when the steps miss it
    if count > MAX_SERIES_POINTS:
        raise errors.InvalidInput(f"{count} dates from {start} to {end} by {step_days} days; at most "
                                  f"{MAX_SERIES_POINTS}: take a longer step or a shorter range", field="step")
    dates = [start + timedelta(days=k * step_days) for k in range((end - start).days // step_days + 1)]
    return dates if dates[-1] == end else [*dates, end]


def through_time(session: Session, scorer: Scorer, dyad: Row, dates: list[date], step_days: int,
                 marker: int | None) -> RiskSeries:
    """The dyad's risk on each date from the events known now, from one read of its history and one scoring batch:
    each point equals `current` as of its date."""
    read = event_history.span(session, dyad.id, dates[0], dates[-1], LOOKBACK_DAYS)
    members = (dyad.member_a, dyad.member_b)
    return series_of(scorer, dyad.id, members, dyad.kind, read.facts, read.event_ids, dates, step_days, marker,
                     activity(session, [(members, d, d) for d in dates]))


def probabilities_through_time(session: Session, scorer: Scorer, dyads: Sequence[DyadRead],
                               dates: list[date]) -> list[list[float]]:
    """Each dyad's probability on each date (a few dates: small charts), from one read and one scoring batch."""
    reads = event_history.spans(session, [d.id for d in dyads], dates[0], dates[-1], LOOKBACK_DAYS)
    fronts_read = activity(session, [(d.members, day, day) for d in dyads for day in dates])
    items = [(w.facts, day, scorer.context_for(*d.members, day, fronts_read)) for d in dyads
             for w, day in zip(event_history.as_of_each(reads[d.id].facts, reads[d.id].event_ids, dates,
                                                        LOOKBACK_DAYS), dates)]
    with SCORING_SECONDS.time():
        scores = scorer.score_many(items)
    p = [s.probabilities[scorer.primary] for s in scores]
    return [p[k * len(dates):(k + 1) * len(dates)] for k in range(len(dyads))]


def series_of(scorer: Scorer, dyad_id: str, members: tuple[str, str], kind: str, facts: FactColumns,
              event_ids: np.ndarray, dates: list[date], step_days: int, marker: int | None,
              fronts_read: Activity) -> RiskSeries:
    """A series scored from a history that holds every date's window (`history.span`'s read, or a what-if's), a run
    of dates at a time so that memory stays bounded however long and dense the series; the members' other fronts
    from `fronts_read` (`activity` over the series' dates)."""
    points = []
    for run, windows in event_history.in_batches(facts, event_ids, dates, LOOKBACK_DAYS, SERIES_BATCH_FACTS):
        with SCORING_SECONDS.time():
            scores = scorer.score_many([(w.facts, d, scorer.context_for(*members, d, fronts_read))
                                        for w, d in zip(windows, run)])
        points += [SeriesPoint.of(score, scorer, d, w.last_on, w.in_window)
                   for score, d, w in zip(scores, run, windows)]
    return RiskSeries(dyad_id=dyad_id, members=members, kind=kind, model_version=scorer.version, step_days=step_days,
                      points=points, latest_assessment_id=marker)


def series(session: Session, dyad_id: str, *, include_superseded: bool, after_id: int, limit: int) -> list[Assessment]:
    """A dyad's assessments by as_of; by default only the newest assessment for each date."""
    get_dyad(session, dyad_id)  # 404 for an unknown dyad
    stmt = select(Assessment).where(Assessment.dyad_id == dyad_id, Assessment.id > after_id)
    if not include_superseded:
        newest = (select(func.max(Assessment.id)).where(Assessment.dyad_id == dyad_id)
                  .group_by(Assessment.as_of))
        stmt = stmt.where(Assessment.id.in_(newest))
    return list(session.scalars(stmt.order_by(Assessment.id).limit(limit)))


def feed(session: Session, after: int, limit: int) -> list[Row]:
    """Assessments after a cursor in id order: assessment ids are taken in commit order (see reassess).

    Plain rows on the session's connection: pollers read this often, and ORM objects would only
    be copied into the response schema.
    """
    table = Assessment.__table__
    return list(session.connection().execute(
        select(*PUBLISHED).where(table.c.id > after).order_by(table.c.id).limit(limit)))


def to_read(rows: list[Assessment] | list[Row]) -> list[AssessmentRead]:
    return [AssessmentRead.model_validate(r._mapping if isinstance(r, Row) else r) for r in rows]
